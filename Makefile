# SPDX-License-Identifier: GPL-2.0
#
# vpt: out-of-tree build.  `make` builds both modules against KDIR;
# `make KVER=K` against the cached headers of one kernel of the matrix
# (6.1, 6.12, deb13, deb13-bpo: see tools/deps.sh), with the compiler that
# kernel was built with (tools/kbuild.sh).  `make run` is the demo in a
# VM, `make check` every check and test (see README.md).

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
DEPS := $(TOP)/tools/deps.sh
KVER ?=
# The flavour: vpt (vpt.ko, vpt-pci.ko, beside the in-tree vfio) or vfio
# (vfio.ko, vfio-pci.ko: in its place).  See drivers/vpt/Kbuild.
VPT_AS ?= vpt

ifeq ($(KVER),)
KDIR ?= $(wildcard /lib/modules/$(shell uname -r)/build)
endif
ifeq ($(KDIR),)
KDIR = $(shell $(DEPS) | sed -n 's/^KDIR_$(subst -,_,$(subst .,_,$(or $(KVER),6.1)))=//p')
endif

.PHONY: all modules clean selftests check run bench install install-dkms uninstall

all: modules

modules:
	$(TOP)/tools/kbuild.sh $(KDIR) M=$(TOP) W=$(W) C=$(C) VPT_AS=$(VPT_AS) modules

clean:
	-$(TOP)/tools/kbuild.sh $(KDIR) M=$(TOP) clean
	$(MAKE) -C tools/testing/selftests/vpt clean
	$(MAKE) -C tools/vptctl clean
	rm -rf $(TOP)/out

selftests:
	$(MAKE) -C tools/testing/selftests/vpt

# Install into DESTDIR (empty: this machine): both modules into
# /lib/modules/<kver>/extra, depmod, <linux/vpt.h>, vptctl into
# $(PREFIX)/sbin and the udev rule (group nodes to $(VPT_GROUP), 0660).
# `make install-dkms` registers the sources with DKMS instead.
PREFIX ?= /usr
VPT_GROUP ?= vfio
INSTALL_ENV = KDIR=$(KDIR) DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) \
	      VPT_GROUP=$(VPT_GROUP) VPT_AS=$(VPT_AS)

install:
	$(INSTALL_ENV) $(TOP)/tools/install.sh install

install-dkms:
	$(INSTALL_ENV) $(TOP)/tools/install.sh dkms

uninstall:
	$(INSTALL_ENV) $(TOP)/tools/install.sh uninstall

# Every kernel with W=1 and sparse, checkpatch, install and DKMS, then the
# VM matrix.
check:
	$(TOP)/tools/testing/check.sh

# The whole kselftest suite (with a million fuzzer operations and the
# fault-injection passes) on the KASAN/UBSAN/lockdep/kmemleak kernel that
# tools/debug-kernel.sh builds once per source (an hour or more on 2
# cores, then cached): from the newest kernel's source, or
# DEBUG_KVER=6.1 from 6.1's.  Fails on any failed test or any KASAN,
# UBSAN, lockdep, kmemleak or WARN report (the guest runs with
# panic_on_warn=1).
.PHONY: check-debug
FUZZ_OPS ?= 1000000
DEBUG_KVER ?=
check-debug:
	$(TOP)/tools/debug-kernel.sh $(DEBUG_KVER) >/dev/null
	VPT_FUZZ_OPS=$(FUZZ_OPS) $(TOP)/tools/testing/vm/run.sh \
		--kver debug$(if $(DEBUG_KVER),-$(DEBUG_KVER)) --timeout 14400
	$(TOP)/tools/testing/vm/run.sh --sriov --tests vpt_pci_sriov_test \
		--kver debug$(if $(DEBUG_KVER),-$(DEBUG_KVER))

run:
	$(TOP)/tools/testing/vm/run.sh --demo $(if $(KVER),--kver $(KVER)) \
		$(if $(AW),--aw $(AW))

# Benchmarks: in-tree vfio against vpt, same VM, every kernel of the
# matrix (or KVER=K for one).
BENCH_KERNELS = $(or $(KVER),6.1 6.12 deb13 deb13-bpo)
bench:
	for k in $(BENCH_KERNELS); do \
		$(TOP)/tools/testing/vm/run.sh --bench --kver $$k \
			$(if $(AW),--aw $(AW)) || exit 1; \
	done
