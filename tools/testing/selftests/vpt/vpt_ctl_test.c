// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_ctl_test - the operator tool vptctl, run as an operator runs it:
 * exit codes, the IOMMU width and MSI hole `info` reports, the exact
 * windows `plan` computes for edu + ivshmem and its verdict at the edge
 * of the IOMMU's width, and bind/unbind round trips on the group behind
 * the pcie-pci-bridge (unbound at boot).  The refusals that need a
 * machine without an IOMMU or without vpt-pci run against a fake sysfs.
 *
 * vptctl is taken from $VPTCTL, else /tests/vptctl (the VM runner copies
 * it there).
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define CTL_BRIDGE_BDF	"0000:00:08.0"
#define CTL_NO_BDF	"0000:7f:1f.7"	/* no such device in the VM */
#define CTL_STATE_DIR	"/run/vpt"
/* The x86 MSI window, a hole in every IOVA map, and sysfs's name for it. */
#define CTL_MSI_HOLE	"0x00000000fee00000-0x00000000feefffff  hole    1 MiB"
#define CTL_MSI_RESV	"reserved: msi 0xfee00000-0xfeefffff"

/**
 * struct ctl_out - what one vptctl run printed and returned
 * @rc: exit status, or 128 + signal.
 * @out: stdout.
 * @err: stderr.
 */
struct ctl_out {
	int rc;
	char out[32768];
	char err[4096];
};

static const char *ctl_path(void)
{
	const char *p = getenv("VPTCTL");

	return p && *p ? p : "/tests/vptctl";
}

/* The whole of a file written by the child into buf; 0 or -errno. */
static int slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Run vptctl with args (NULL-terminated); 0 or -errno. */
static int ctl_run(struct ctl_out *o, const char *const *args)
{
	char outp[] = "/tmp/vptctl-out-XXXXXX", errp[] = "/tmp/vptctl-err-XXXXXX";
	const char *argv[32] = { ctl_path() };
	int out, err, status, i, ret = -EIO;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	out = mkstemp(outp);
	err = mkstemp(errp);
	if (out < 0 || err < 0)
		goto close;
	pid = fork();
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		goto close;
	o->rc = WIFEXITED(status) ? WEXITSTATUS(status) :
		128 + WTERMSIG(status);
	ret = slurp(out, o->out, sizeof(o->out)) ?:
	      slurp(err, o->err, sizeof(o->err));
close:
	if (out >= 0) {
		close(out);
		unlink(outp);
	}
	if (err >= 0) {
		close(err);
		unlink(errp);
	}
	return ret;
}

#define CTL(o, ...) ctl_run(o, (const char *const[]){ __VA_ARGS__, NULL })

static bool have_ctl(void)
{
	return !access(ctl_path(), X_OK);
}

TEST(help_exits_0_with_usage)
{
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	ASSERT_EQ(0, CTL(&o, "--help"));
	EXPECT_EQ(0, o.rc);
	EXPECT_NE(NULL, strstr(o.out, "usage: vptctl"));
}

TEST(usage_errors_exit_2)
{
	static const char *const cases[][4] = {
		{ NULL },
		{ "frobnicate" },
		{ "--no-such-option", "list" },
		{ "info" },
		{ "list", "extra" },
		{ "--group", "list" },
		{ "--above", "12qq", "plan", VPT_EDU_BDF },
		{ "--width", "99", "plan", VPT_EDU_BDF },
		{ "bind", "1:2" },
		{ "plan", VPT_EDU_BDF, VPT_EDU_BDF },
	};
	struct ctl_out o;
	size_t i;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, ctl_run(&o, cases[i]));
		EXPECT_EQ(2, o.rc) TH_LOG("case %zu: %s", i, o.err);
		EXPECT_NE(NULL, strstr(o.err, "usage: vptctl")) TH_LOG("case %zu", i);
	}
}

TEST(nonexistent_bdf_exits_1_with_message)
{
	static const char *const cmds[] = { "bind", "unbind", "info", "plan" };
	struct ctl_out o;
	size_t i;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		ASSERT_EQ(0, CTL(&o, cmds[i], CTL_NO_BDF));
		EXPECT_EQ(1, o.rc) TH_LOG("%s", cmds[i]);
		EXPECT_NE(NULL, strstr(o.err, CTL_NO_BDF ": no such PCI device"))
			TH_LOG("%s: %s", cmds[i], o.err);
	}
}

TEST(info_reports_iommu_width_of_the_run)
{
	unsigned int aw;
	struct ctl_out o;
	char want[128];

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	ASSERT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	if (vpt_stack_is_upstream())
		snprintf(want, sizeof(want), "IOMMU width: not reported");
	else
		snprintf(want, sizeof(want),
			 "IOMMU width: %u bits, max IOVA 0x%llx (", aw,
			 (unsigned long long)vpt_aw_max_iova(aw));
	EXPECT_NE(NULL, strstr(o.out, want)) TH_LOG("%s", o.out);
}

TEST(info_compares_group_node_before_attach_with_get_info)
{
	struct ctl_out o;
	char want[160];
	unsigned int aw;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	ASSERT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	if (vpt_stack_is_upstream()) {
		EXPECT_NE(NULL, strstr(o.out, "before attach: not stated"))
			TH_LOG("%s", o.out);
		return;
	}
	snprintf(want, sizeof(want),
		 "before attach (group node iova/): width %u bits, max IOVA 0x%llx, ",
		 aw, (unsigned long long)vpt_aw_max_iova(aw));
	EXPECT_NE(NULL, strstr(o.out, want)) TH_LOG("%s", o.out);
	EXPECT_NE(NULL, strstr(o.out, "usable ranges: as VFIO_IOMMU_GET_INFO reports"))
		TH_LOG("%s", o.out);
}

TEST(plan_with_group_held_by_a_vmm_uses_the_group_nodes)
{
	struct ctl_out o;
	char want[128];
	unsigned int aw;
	int held;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw || vpt_stack_is_upstream())
		SKIP(return, "no %s or VPT_AW_BITS, or " VPT_ONLY_REASON,
		     ctl_path());
	/* The node is exclusive: vptctl cannot open it while this does. */
	held = vpt_open_group(vpt_iommu_group(VPT_EDU_BDF));
	ASSERT_LE(0, held);
	EXPECT_EQ(0, CTL(&o, "plan", VPT_EDU_BDF, VPT_IVSHMEM_BDF));
	close(held);
	EXPECT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	snprintf(want, sizeof(want),
		 "IOMMU width %u bits, from the group nodes (before attach)", aw);
	EXPECT_NE(NULL, strstr(o.out, want)) TH_LOG("%s%s", o.out, o.err);
	EXPECT_NE(NULL, strstr(o.out, "64-bit window at 0x1000000000-0x10003fffff: fits"))
		TH_LOG("%s", o.out);
}

TEST(info_shows_skip_above_width_policy)
{
	static const char *param = "/sys/module/vpt/parameters/skip_above_width";
	char saved[8] = "";
	struct ctl_out o;

	if (!have_ctl() || vpt_stack_is_upstream())
		SKIP(return, "no %s, or " VPT_ONLY_REASON, ctl_path());
	ASSERT_EQ(0, vpt_read_file(param, saved, sizeof(saved)));
	/* No ASSERT from here on: the setting must be put back. */
	EXPECT_EQ(0, vpt_sysfs_write(param, "Y"));
	EXPECT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	EXPECT_NE(NULL, strstr(o.out, "skip_above_width: on ("))
		TH_LOG("%s", o.out);
	EXPECT_EQ(0, vpt_sysfs_write(param, "N"));
	EXPECT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	EXPECT_NE(NULL, strstr(o.out, "skip_above_width: off ("))
		TH_LOG("%s", o.out);
	vpt_sysfs_write(param, saved);
}

TEST(info_map_shows_msi_hole_and_top_hole)
{
	unsigned int aw;
	struct ctl_out o;
	char top[128];

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	ASSERT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	EXPECT_NE(NULL, strstr(o.out, CTL_MSI_HOLE)) TH_LOG("%s", o.out);
	EXPECT_NE(NULL, strstr(o.out, CTL_MSI_RESV))
		TH_LOG("%s", o.out);
	if (aw >= 64) {
		/* Nothing above the width: the map ends with a usable range. */
		EXPECT_NE(NULL, strstr(o.out, "-0xffffffffffffffff  usable"))
			TH_LOG("%s", o.out);
		return;
	}
	snprintf(top, sizeof(top), "0x%016llx-0xffffffffffffffff  hole",
		 1ULL << aw);
	EXPECT_NE(NULL, strstr(o.out, top)) TH_LOG("%s", o.out);
}

TEST(info_lists_edu_bar0_region)
{
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	ASSERT_EQ(0, CTL(&o, "info", VPT_EDU_BDF));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	EXPECT_NE(NULL, strstr(o.out, "device " VPT_EDU_BDF " [1234:11e8]"));
	EXPECT_NE(NULL, strstr(o.out, " 0 BAR0    size 0x100000 (1 MiB), offset 0x0, rwm"))
		TH_LOG("%s", o.out);
}

TEST(info_by_group_number_names_the_group)
{
	struct ctl_out o;
	char group[16], want[64];

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	ASSERT_LE(0, vpt_iommu_group(VPT_EDU_BDF));
	snprintf(group, sizeof(group), "%d", vpt_iommu_group(VPT_EDU_BDF));
	ASSERT_EQ(0, CTL(&o, "info", group));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	snprintf(want, sizeof(want), "IOMMU group %s, node ", group);
	EXPECT_NE(NULL, strstr(o.out, want));
	EXPECT_NE(NULL, strstr(o.out, "device " VPT_EDU_BDF));
}

TEST(plan_edu_ivshmem_gives_exact_windows)
{
	static const char *const want[] = {
		"    BAR0 mem32           size 0x100000 (1 MiB)\n",
		"    BAR0 mem32           size 0x100 (256 B)\n",
		"    BAR2 mem64 prefetch  size 0x400000 (4 MiB)\n",
		"32-bit window: 0x100100 bytes (1 MiB + 256 B), aligned to 0x100000;",
		"  +0x0000000000  " VPT_EDU_BDF " BAR0 size 0x100000\n",
		"  +0x0000100000  " VPT_IVSHMEM_BDF " BAR0 size 0x100\n",
		"64-bit window: 0x400000 bytes (4 MiB), aligned to 0x400000;",
		"  +0x0000000000  " VPT_IVSHMEM_BDF " BAR2 size 0x400000\n",
		"I/O window: none\n",
		"32-bit window at 0xc0000000-0xc01000ff: fits",
		"64-bit window at 0x1000000000-0x10003fffff: fits",
	};
	unsigned int aw;
	struct ctl_out o;
	char best[64];
	size_t i;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	ASSERT_EQ(0, CTL(&o, "plan", VPT_EDU_BDF, VPT_IVSHMEM_BDF));
	EXPECT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		EXPECT_NE(NULL, strstr(o.out, want[i]))
			TH_LOG("line %zu missing in:\n%s", i, o.out);
	snprintf(best, sizeof(best), "highest 64-bit base that fits: 0x%llx\n",
		 (unsigned long long)vpt_aw_max_iova(aw) - 0x3fffff);
	EXPECT_NE(NULL, strstr(o.out, best)) TH_LOG("%s", o.out);
}

/* plan edu + ivshmem with the 64-bit window at base; the exit code. */
static int plan_at(struct ctl_out *o, unsigned long long base)
{
	char arg[32];

	snprintf(arg, sizeof(arg), "0x%llx", base);
	if (CTL(o, "plan", "--above", arg, VPT_EDU_BDF, VPT_IVSHMEM_BDF))
		return -1;
	return o->rc;
}

TEST(plan_window_above_the_width_does_not_fit)
{
	unsigned int aw;
	struct ctl_out o;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	if (aw >= 64)
		SKIP(return, VPT_NO_ABOVE_REASON);
	EXPECT_EQ(1, plan_at(&o, 1ULL << aw));
	EXPECT_NE(NULL, strstr(o.out, ": does not fit")) TH_LOG("%s", o.out);
}

TEST(plan_window_ending_at_max_iova_fits)
{
	unsigned int aw;
	struct ctl_out o;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	EXPECT_EQ(0, plan_at(&o, vpt_aw_max_iova(aw) - 0x3fffff))
		TH_LOG("%s", o.out);
}

TEST(plan_window_straddling_the_width_does_not_fit)
{
	unsigned int aw;
	struct ctl_out o;

	aw = vpt_aw_bits();
	if (!have_ctl() || !aw)
		SKIP(return, "no %s or VPT_AW_BITS", ctl_path());
	if (aw >= 64)
		SKIP(return, VPT_NO_ABOVE_REASON);
	/* 2 MiB below the top: rounded up to the 4 MiB alignment, at 2^aw. */
	EXPECT_EQ(1, plan_at(&o, (1ULL << aw) - 0x200000)) TH_LOG("%s", o.out);
	EXPECT_NE(NULL, strstr(o.out, "rounded up to its alignment 0x400000"));
}

TEST(plan_with_width_option_needs_no_iommu)
{
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	ASSERT_EQ(0, CTL(&o, "plan", "--width", "39", "--node-dir",
			 "/nonexistent", VPT_EDU_BDF, VPT_IVSHMEM_BDF));
	EXPECT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	EXPECT_NE(NULL, strstr(o.out, "IOMMU width 39 bits, from --width"));
}

TEST(list_shows_groups_drivers_and_viability)
{
	struct ctl_out o;
	char want[128];

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_EQ(0, CTL(&o, "list"));
	ASSERT_EQ(0, o.rc) TH_LOG("%s", o.err);
	snprintf(want, sizeof(want), "group %d: viable, bound to vpt-pci\n  "
		 VPT_EDU_BDF "  1234:11e8  class 00ff00  vpt-pci",
		 vpt_iommu_group(VPT_EDU_BDF));
	EXPECT_NE(NULL, strstr(o.out, want)) TH_LOG("%s", o.out);
	EXPECT_NE(NULL, strstr(o.out, "  " CTL_BRIDGE_BDF
			       "  1b36:000e  class 060400  -             bridge\n"))
		TH_LOG("%s", o.out);
}

/*
 * The devices behind the pcie-pci-bridge, with the drivers they had at
 * the start; the teardown puts them back whatever the test did.
 */
FIXTURE(bridged) {
	bool skip;
	char edu[NAME_MAX + 1];
	char net[NAME_MAX + 1];
	char edu_driver[64];
	char net_driver[64];
	char bridge_driver[64];
};

/* 6.1's harness runs the test after a SKIP in setup: tests check skip. */
FIXTURE_SETUP(bridged)
{
	self->skip = true;
	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	if (vpt_find_other(0x1234, 0x11e8, VPT_EDU_BDF, self->edu,
			   sizeof(self->edu)) ||
	    vpt_find_other(0x1af4, 0x1000, VPT_VIRTIO_NET_BDF, self->net,
			   sizeof(self->net)))
		SKIP(return, "%s", VPT_NO_BRIDGE_DEVS_REASON);
	if (vpt_iommu_group(self->edu) < 0)
		SKIP(return, "%s: %s", self->edu, VPT_NO_BRIDGE_GROUP_REASON);
	self->skip = false;
	ASSERT_EQ(vpt_iommu_group(self->edu), vpt_iommu_group(self->net));
	ASSERT_EQ(0, vpt_driver_of(self->edu, self->edu_driver,
				   sizeof(self->edu_driver)));
	ASSERT_EQ(0, vpt_driver_of(self->net, self->net_driver,
				   sizeof(self->net_driver)));
	ASSERT_EQ(0, vpt_driver_of(CTL_BRIDGE_BDF, self->bridge_driver,
				   sizeof(self->bridge_driver)));
	ASSERT_STRNE("vpt-pci", self->edu_driver);
}

FIXTURE_TEARDOWN(bridged)
{
	if (self->skip)
		return;
	vpt_put_back(self->edu, self->edu_driver);
	vpt_put_back(self->net, self->net_driver);
}

static bool state_file_exists(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), CTL_STATE_DIR "/%s.driver", bdf);
	return !access(path, F_OK);
}

static void expect_driver(struct __test_metadata *_metadata, const char *bdf,
			  const char *want)
{
	char now[64];

	ASSERT_EQ(0, vpt_driver_of(bdf, now, sizeof(now)));
	EXPECT_STREQ(want, now) TH_LOG("%s", bdf);
}

TEST_F(bridged, bind_unbind_round_trip_restores_previous_driver)
{
	struct ctl_out o;
	char ovr[64];

	if (self->skip)
		return;
	ASSERT_EQ(0, CTL(&o, "bind", self->edu));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	expect_driver(_metadata, self->edu, "vpt-pci");
	EXPECT_TRUE(state_file_exists(self->edu));

	ASSERT_EQ(0, CTL(&o, "unbind", self->edu));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	expect_driver(_metadata, self->edu, self->edu_driver);
	EXPECT_FALSE(state_file_exists(self->edu));
	ASSERT_EQ(0, vpt_sysfs_read(self->edu, "driver_override", ovr,
				    sizeof(ovr)));
	EXPECT_STREQ("(null)\n", ovr);
}

TEST_F(bridged, bind_group_binds_all_but_the_bridge)
{
	struct ctl_out o;

	if (self->skip)
		return;
	ASSERT_EQ(0, CTL(&o, "bind", "--group", self->edu));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	expect_driver(_metadata, self->edu, "vpt-pci");
	expect_driver(_metadata, self->net, "vpt-pci");
	expect_driver(_metadata, CTL_BRIDGE_BDF, self->bridge_driver);
	EXPECT_NE(NULL, strstr(o.out, CTL_BRIDGE_BDF ": bridge, left alone"))
		TH_LOG("%s", o.out);

	ASSERT_EQ(0, CTL(&o, "unbind", "--group", self->net));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	expect_driver(_metadata, self->edu, self->edu_driver);
	expect_driver(_metadata, self->net, self->net_driver);
}

TEST_F(bridged, unbind_refuses_while_the_group_is_open)
{
	struct ctl_out o;
	int group;

	if (self->skip)
		return;
	ASSERT_EQ(0, CTL(&o, "bind", self->edu));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	group = vpt_open_group(vpt_iommu_group(self->edu));
	ASSERT_LE(0, group);
	ASSERT_EQ(0, CTL(&o, "unbind", self->edu));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "is open in another process"))
		TH_LOG("%s", o.err);
	expect_driver(_metadata, self->edu, "vpt-pci");
	close(group);
	ASSERT_EQ(0, CTL(&o, "unbind", self->edu));
	EXPECT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
}

TEST_F(bridged, bind_refuses_a_bridge)
{
	struct ctl_out o;

	if (self->skip)
		return;
	ASSERT_EQ(0, CTL(&o, "bind", CTL_BRIDGE_BDF));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "is a bridge"));
	expect_driver(_metadata, CTL_BRIDGE_BDF, self->bridge_driver);
}

TEST_F(bridged, info_refuses_a_group_with_no_device_bound)
{
	struct ctl_out o;

	if (self->skip)
		return;
	ASSERT_EQ(0, CTL(&o, "info", self->edu));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, " is bound to vpt-pci (vptctl bind)"))
		TH_LOG("%s", o.err);
}

TEST_F(bridged, info_names_the_driver_that_blocks_the_group)
{
	struct ctl_out o;
	char want[2 * NAME_MAX + 64];

	if (self->skip)
		return;
	/* 6.12 builds virtio-pci in: it holds the net device at boot. */
	if (!strcmp(self->net_driver, "none"))
		SKIP(return, "%s has no driver to block its group", self->net);
	ASSERT_EQ(0, CTL(&o, "bind", self->edu));
	ASSERT_EQ(0, o.rc) TH_LOG("%s%s", o.out, o.err);
	snprintf(want, sizeof(want), "not viable yet: blocked by %s (%s)",
		 self->net, self->net_driver);
	EXPECT_NE(NULL, strstr(o.out, want)) TH_LOG("%s", o.out);

	ASSERT_EQ(0, CTL(&o, "info", self->edu));
	EXPECT_EQ(1, o.rc);
	snprintf(want, sizeof(want), "is not viable: blocked by %s (%s)",
		 self->net, self->net_driver);
	EXPECT_NE(NULL, strstr(o.err, want)) TH_LOG("%s", o.err);
}

/*
 * A fake sysfs with one edu-like device in IOMMU group 3, for the
 * refusals a machine with an IOMMU and vpt-pci cannot show.
 */
FIXTURE(fake) {
	char root[64];
};

static int put(const char *root, const char *rel, const char *val)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int get(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return vpt_read_file(path, buf, len);
}

static int mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

static int link_at(const char *root, const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return symlink(target, path) ? -errno : 0;
}

#define FAKE_DEV	"devices/pci0000:00/0000:00:04.0"

FIXTURE_SETUP(fake)
{
	const char *r = self->root;

	snprintf(self->root, sizeof(self->root), "/tmp/vptctl-fake-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	ASSERT_EQ(0, mkdirs(r, FAKE_DEV));
	ASSERT_EQ(0, mkdirs(r, "bus/pci/devices"));
	ASSERT_EQ(0, mkdirs(r, "bus/pci/drivers/vpt-pci"));
	ASSERT_EQ(0, mkdirs(r, "kernel/iommu_groups/3/devices"));
	ASSERT_EQ(0, put(r, FAKE_DEV "/vendor", "0x1234\n"));
	ASSERT_EQ(0, put(r, FAKE_DEV "/device", "0x11e8\n"));
	ASSERT_EQ(0, put(r, FAKE_DEV "/class", "0x00ff00\n"));
	ASSERT_EQ(0, put(r, FAKE_DEV "/driver_override", "(null)\n"));
	ASSERT_EQ(0, link_at(r, "../../../" FAKE_DEV,
			     "bus/pci/devices/0000:00:04.0"));
	ASSERT_EQ(0, link_at(r, "../../../../kernel/iommu_groups/3",
			     FAKE_DEV "/iommu_group"));
}

FIXTURE_TEARDOWN(fake)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->root);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->root);
}

TEST_F(fake, bind_refuses_without_an_iommu)
{
	char path[PATH_MAX];
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/3/devices",
		 self->root);
	ASSERT_EQ(0, rmdir(path));
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/3", self->root);
	ASSERT_EQ(0, rmdir(path));
	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "bind", "00:04.0"));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "no IOMMU")) TH_LOG("%s", o.err);
}

TEST_F(fake, list_warns_without_an_iommu_and_shows_the_device)
{
	char path[PATH_MAX];
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	snprintf(path, sizeof(path), "%s/" FAKE_DEV "/iommu_group", self->root);
	ASSERT_EQ(0, unlink(path));
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/3/devices",
		 self->root);
	ASSERT_EQ(0, rmdir(path));
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/3", self->root);
	ASSERT_EQ(0, rmdir(path));
	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "list"));
	EXPECT_EQ(0, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "no IOMMU groups")) TH_LOG("%s", o.err);
	EXPECT_NE(NULL, strstr(o.out, "no IOMMU group:\n  0000:00:04.0  1234:11e8"))
		TH_LOG("%s", o.out);
}

TEST_F(fake, bind_refuses_without_vpt_pci_loaded)
{
	char path[PATH_MAX];
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vpt-pci", self->root);
	ASSERT_EQ(0, rmdir(path));
	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "bind", "00:04.0"));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "vpt-pci is not loaded"))
		TH_LOG("%s", o.err);
}

TEST_F(fake, node_dir_follows_the_vpt_module_parameter)
{
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	ASSERT_EQ(0, mkdirs(self->root, "module/vpt/parameters"));
	ASSERT_EQ(0, put(self->root, "module/vpt/parameters/node_dir",
			 "vpt-moved\n"));
	/* The harness runs each test in its own process: no restore. */
	ASSERT_EQ(0, unsetenv("VPT_NODE_DIR"));
	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "info", "00:04.0"));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "no container node /dev/vpt-moved/vfio"))
		TH_LOG("%s", o.err);

	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "--node-dir",
			 "/dev/elsewhere", "info", "00:04.0"));
	EXPECT_EQ(1, o.rc);
	EXPECT_NE(NULL, strstr(o.err, "no container node /dev/elsewhere/vfio"))
		TH_LOG("%s", o.err);
}

TEST_F(fake, refused_bind_touches_nothing)
{
	char path[PATH_MAX], buf[64];
	struct ctl_out o;

	if (!have_ctl())
		SKIP(return, "no %s (set VPTCTL)", ctl_path());
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vpt-pci", self->root);
	ASSERT_EQ(0, rmdir(path));
	ASSERT_EQ(0, CTL(&o, "--sysfs-root", self->root, "--state-dir",
			 self->root, "bind", "00:04.0"));
	EXPECT_EQ(1, o.rc);
	ASSERT_EQ(0, get(self->root, FAKE_DEV "/driver_override", buf,
			 sizeof(buf)));
	EXPECT_STREQ("(null)\n", buf);
	EXPECT_EQ(-ENOENT, get(self->root, "0000:00:04.0.driver", buf,
			       sizeof(buf)));
}

TEST_HARNESS_MAIN
