// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_runner_fail - a guest check that always fails.  Run only with
 * `run.sh --inject-failure`, to show that a failing check fails the run.
 */
#include "kselftest_harness.h"

TEST(deliberate_failure_fails_the_run)
{
	ASSERT_EQ(0, 1);
}

TEST_HARNESS_MAIN
