# SPDX-License-Identifier: GPL-2.0
#
# iketcp - IKE over TCP for unmodified IKE daemons.
#
#   make                 module (for KDIR), iketcpd, iketcpctl, selftests
#   make check           setup + everything below, on both Debian kernels
#   make check-vm-full   every VM selftest on every kernel (make check runs
#                        the kernel-independent suites on the newest only)
#   make check-debug     the kernel-facing VM selftests under a KASAN/lockdep/
#                        kmemleak kernel
#   make check-e2e-full  the full end-to-end matrix (charon/pluto x topologies)
#   make check-interop   RFC 9329 against libreswan's own TCP (espintcp kernel)
#   make check-sanitize  iketcpd/iketcpctl under ASan+UBSan through the suites
#                        that drive them, in the VM
#   make demo            the end-to-end scenario, readable, in the VM
#   make bench           benchmarks (long; results in bench/)
#   make install         module + helper on this machine (see README)
#   make deb             Debian packages iketcp-dkms and iketcpd in build/deb/
#   make check-deb       make deb, then their contents and lintian
#
# KDIR defaults to the running kernel's build tree, else the newest Debian
# headers installed. Objects go to build/<kernel release>/, so one tree
# builds for several kernels.

KDIR ?= $(shell scripts/kdir.sh)
KVER = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
BUILD = build/$(KVER)
IKETCP_DEBUG ?= y
KCFLAGS_EXTRA ?=
SERIES = 6.1 6.12
# make check: every selftest on the newest kernel, the kernel-dependent ones
# (selftests/run.sh --kernel-suites) on the others; check-vm-full: all on all
NEWEST = $(lastword $(SERIES))
CHECK_VM ?= $(NEWEST) $(addsuffix :kernel,$(filter-out $(NEWEST),$(SERIES)))
FUZZ_TIME ?= 60
# check-debug: every suite that exercises the module's own code (framing,
# ESP, shim, lifetimes, netlink, a hostile peer, xfrm and netfilter with real
# charons: e2e/iketcp.sh's short matrix); the suites of iketcpd's decisions
# run on the stock kernels (DEBUG_SUITES="..." for others)
DEBUG_SUITES ?= module.sh ulp rfc9329 shim churn nlfuzz hostile.sh e2e/iketcp.sh

.PHONY: all module modules-all userspace selftests check check-host check-vm \
	checkpatch kernel-doc setup demo bench clean install install-module check-vm-full \
	install-userspace dkms-install test-vmrun fuzz fuzz-smoke fuzz-campaign \
	check-debug check-e2e-full check-sanitize userspace-san check-interop \
	deb check-deb check-version check-spec

all: module userspace selftests

setup:
	@scripts/setup.sh

# Out-of-tree build in a tree of symlinks per kernel release
module:
	@test -n "$(KVER)" || { echo "no kernel build tree at KDIR=$(KDIR)"; exit 1; }
	@mkdir -p $(BUILD)
	@cp -rsf $(CURDIR)/kernel $(BUILD)/
	@ln -sf $(CURDIR)/Kbuild $(BUILD)/Kbuild
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD) W=1 IKETCP_VERSION=$(shell cat VERSION) \
		IKETCP_DEBUG=$(IKETCP_DEBUG) KCFLAGS="$(KCFLAGS_EXTRA)" modules

modules-all:
	@for s in $(SERIES); do \
		$(MAKE) --no-print-directory module \
			KDIR=$$(scripts/kdir.sh $$s) KCFLAGS_EXTRA=-Werror || exit 1; \
	done

userspace:
	$(MAKE) -C userspace

selftests: userspace
	$(MAKE) -C selftests
	$(MAKE) -C bench progs
	@selftests/e2e/pki.sh

checkpatch:
	@scripts/checkpatch.sh

kernel-doc:
	@scripts/kernel-doc-check.sh

check-host: userspace selftests check-version check-spec
	@$(MAKE) -C userspace test

# VERSION is the one version (dkms.conf, debian/changelog, --version)
check-version:
	@scripts/check-version.sh

# the netlink spec against the kernel's schema and the uapi header (1 s)
check-spec:
	@scripts/check-spec.sh

check-vm:
	@scripts/check-vm.sh $(CHECK_VM)

check-vm-full:
	@scripts/check-vm.sh $(SERIES)

test-vmrun:
	@scripts/test-vmrun.sh

# The VM runs use the ASan+UBSan build of iketcpd and iketcpctl for the
# suites that drive them (selftests/run.sh, IKETCP_SANITIZE=1).
check: setup modules-all userspace selftests checkpatch kernel-doc
	@$(MAKE) --no-print-directory check-host
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory test-vmrun
	@$(MAKE) --no-print-directory userspace-san
	@IKETCP_SANITIZE=1 $(MAKE) --no-print-directory check-vm

# Every VM selftest under the debug kernel (KASAN, lockdep, kmemleak, KFENCE;
# scripts/debug-kernel.sh builds it once): any kernel report fails it.
check-debug: setup userspace selftests
	@scripts/debug-kernel.sh
	@$(MAKE) --no-print-directory module KCFLAGS_EXTRA=-Werror \
		KDIR=$${IKETCP_CACHE:-$(CURDIR)/.cache}/kernels/debug/build
	@echo "==== selftests on the debug kernel: $(DEBUG_SUITES) ===="; start=$$(date +%s); \
	scripts/vmrun.sh --kernel debug --mem 3072 \
		--timeout $${IKETCP_DEBUG_TIMEOUT:-7200} -- \
		selftests/run.sh --kernel-suites $(DEBUG_SUITES); rc=$$?; \
	echo "check-debug: $$(( $$(date +%s) - start ))s, vmrun status $$rc"; exit $$rc

# RFC 9329 interoperability with libreswan's own TCP (Linux espintcp), on
# the espintcp test kernel (scripts/debug-kernel.sh espintcp, cached)
check-interop: setup userspace selftests
	@scripts/debug-kernel.sh espintcp
	@$(MAKE) --no-print-directory module KCFLAGS_EXTRA=-Werror \
		KDIR=$${IKETCP_CACHE:-$(CURDIR)/.cache}/kernels/espintcp/build
	@echo "==== RFC 9329 interoperability on the espintcp kernel ===="; start=$$(date +%s); \
	scripts/vmrun.sh --kernel espintcp --mem 2048 \
		--timeout $${IKETCP_INTEROP_TIMEOUT:-3600} -- selftests/e2e/interop.sh; rc=$$?; \
	echo "check-interop: $$(( $$(date +%s) - start ))s, vmrun status $$rc"; exit $$rc

# iketcpd and iketcpctl built with AddressSanitizer and UBSan
userspace-san:
	$(MAKE) -C userspace SAN=1 O=../build/userspace-san

# The suites that drive iketcpd (bridge, hostile, channels, daemon, e2e and
# the core matrix) with the sanitized build, on the newest kernel: a failed
# test or any sanitizer report fails it (selftests/sanitize.sh).
check-sanitize: setup modules-all userspace selftests userspace-san
	@echo "==== sanitized iketcpd on Debian $(NEWEST) ===="; start=$$(date +%s); \
	scripts/vmrun.sh --kernel $(NEWEST) --timeout $${IKETCP_SAN_TIMEOUT:-3600} \
		-- selftests/sanitize.sh; rc=$$?; \
	echo "check-sanitize: $$(( $$(date +%s) - start ))s, vmrun status $$rc"; exit $$rc

# The full tier of the end-to-end matrix (selftests/e2e/matrix.sh --tier
# full; the core tier is part of selftests/run.sh), one VM boot per kernel.
check-e2e-full: setup modules-all userspace selftests
	@rc=0; for s in $(SERIES); do \
		echo "==== e2e matrix, full tier, Debian $$s kernel ===="; start=$$(date +%s); \
		scripts/vmrun.sh --kernel $$s --timeout $${IKETCP_E2E_TIMEOUT:-10800} \
			-- selftests/e2e/matrix.sh --tier full || rc=1; \
		echo "check-e2e-full on $$s: $$(( $$(date +%s) - start ))s"; \
	done; exit $$rc

demo: setup modules-all userspace selftests
	@scripts/demo.sh

bench: setup modules-all userspace selftests
	@$(MAKE) -C bench

install: install-module install-userspace

install-module:
	$(MAKE) module IKETCP_DEBUG=
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD) modules_install
	depmod -a $(KVER)

install-userspace: userspace
	$(MAKE) -C userspace install

dkms-install:
	scripts/dkms-install.sh

# Debian packages (debhelper, dh-dkms): build/deb/*.deb, not as root
deb:
	@scripts/deb.sh

# the packages built, their contents checked, lintian clean (not in make check)
check-deb:
	@scripts/test-deb.sh

# libFuzzer on the parsers (host only, clang): FUZZ_TIME seconds each
fuzz:
	$(MAKE) -C fuzz run FUZZ_TIME=$(FUZZ_TIME)

fuzz-smoke:
	$(MAKE) -C fuzz smoke

# the long run: CAMPAIGN_TIME seconds in all, one fuzzer at a time, niced
fuzz-campaign:
	$(MAKE) -C fuzz campaign

clean:
	rm -rf build
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
