// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_trace.c - the one place vpt-pci.ko's tracepoints are defined;
 * see vpt_pci_trace.h for the events.
 */
#define CREATE_TRACE_POINTS
#include "vpt_pci_trace.h"
