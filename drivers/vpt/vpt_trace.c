// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_trace.c - the one place vpt.ko's tracepoints are defined; see
 * vpt_trace.h for the events.
 */
#define CREATE_TRACE_POINTS
#include "vpt_trace.h"
