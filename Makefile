# SPDX-License-Identifier: GPL-2.0 OR MIT
# GPUvm: top-level build.  `make help` lists the targets.

TOP := $(abspath .)
SHELL := /bin/bash
BUILD ?= $(TOP)/build
JOBS ?= $(shell nproc)

# Kernel to build the modules for: the running one where its build tree
# exists, else the test bed's (Debian's default kernel, headers installed
# on demand).
kabi = $(shell bash -c '. $(TOP)/tests/testbed/common.sh; kernel_abi')
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),/usr/src/linux-headers-$(kabi)-amd64)

.PHONY: all modules userspace test-user kunit kbuild-newest fuzz e2e check demo bench clean help deps \
	install uninstall deb

all: modules userspace

help:
	@echo "make            modules + userspace"
	@echo "make modules    vgpu-back.ko, vgpu-sim.ko, vgpu-uengine.ko, vgpu-front.ko (KDIR=$(KDIR))"
	@echo "make userspace  libvgpu, vgpu-as, vgpu-bench, samples, tests (CMake)"
	@echo "make test-user  GoogleTest suites (ctest)"
	@echo "make kunit      KUnit suites under User Mode Linux"
	@echo "make kbuild-newest  the modules compiled against the newest kernel in Debian's archive"
	@echo "make fuzz       the dispatcher fuzzer for FUZZ_SECONDS (default $(FUZZ_SECONDS)), vgpu-engined's for FUZZ_ENGINED_SECONDS ($(FUZZ_ENGINED_SECONDS))"
	@echo "make e2e        every test-bed scenario on each kernel (SCENARIO=, KERNELS=)"
	@echo "make check      test-user + kunit + fuzz + deb (installed with apt) + e2e"
	@echo "make demo       boot the test bed: native, naive and hp side by side (short)"
	@echo "make bench      the full benchmark and the fairness scenario: build/bench/results.{json,md}, plots"
	@echo "make deps       install the Debian packages the build needs"
	@echo "make install    modules to /lib/modules/<kernel>/updates, tools and libvgpu to PREFIX ($(PREFIX))"
	@echo "make uninstall  remove what make install put"
	@echo "make deb        Debian packages (DKMS, tools, libvgpu, CUDA libraries) in build/deb, checked by lintian"

deps:
	bash tests/deps.sh

modules:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "kernel headers missing at $(KDIR): installing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-headers-$(kabi)-amd64 >/dev/null; \
	fi
	$(MAKE) -C $(KDIR) M=$(TOP) modules

userspace:
	cmake -S tools -B $(BUILD)/user -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/user -j $(JOBS)

test-user: userspace
	ctest --test-dir $(BUILD)/user --output-on-failure -j $(JOBS)

kunit:
	bash kunit/run.sh

# The modules compiled (W=1) against the newest kernel in Debian's archive.
kbuild-newest:
	bash tests/kbuild-newest.sh

# The fuzzer (clang's libFuzzer): the request checks and the dispatcher
# with the core and a fake engine in userspace, from the seed corpus in
# fuzz/corpus (copied: the tree is not written to).
FUZZ_SECONDS ?= 60
FUZZ_ENGINED_SECONDS ?= 30
FUZZ_PTX_SECONDS ?= 30
fuzz:
	$(MAKE) -j $(JOBS) -f fuzz/Makefile OUT=$(BUILD)/fuzz
	$(MAKE) -j $(JOBS) -f fuzz/engined.mk OUT=$(BUILD)/fuzz
	$(MAKE) -j $(JOBS) -f fuzz/ptx.mk OUT=$(BUILD)/fuzz
	bash fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_ENGINED_SECONDS) $(FUZZ_PTX_SECONDS)

SCENARIOS ?= native naive hp hostile@default fairness@default engines@default uengine@default cuda@default \
	migrate@default
SCENARIO ?=
# Kernel series the scenarios run on: Debian 12's default (6.1) and 6.12;
# SCENARIO@SERIES runs on that one only.
KERNELS ?= default 6.12
GPUVM_MODULES ?= tree
e2e:
	GPUVM_MODULES=$(GPUVM_MODULES) KERNELS="$(KERNELS)" bash tests/e2e.sh $(or $(SCENARIO),$(SCENARIOS))

# The scenarios load the modules DKMS built from the packages (make deb,
# then installed with apt), with modprobe.  ctest ran already: the
# package build skips it.
check: deps
	$(MAKE) test-user kunit fuzz kbuild-newest
	$(MAKE) deb DEB_BUILD_OPTIONS="nocheck parallel=$$(nproc)"
	bash tests/deb-install.sh
	$(MAKE) e2e GPUVM_MODULES=dkms

# One boot of the test bed measures native (dom0), naive and hp (a guest)
# with the same engine and workloads, interleaved and repeated; the
# console goes to build/<target>/console.log.
demo: deps
	bash tests/bench.sh demo

bench: deps
	bash tests/bench.sh bench

# Installs the modules (into the kernel's updates/, then depmod) and the
# userspace (under PREFIX, DESTDIR honoured); the list of installed files
# (without DESTDIR) goes to $(BUILD)/install_manifest.txt for make
# uninstall, which takes the same DESTDIR.
PREFIX ?= /usr/local
KVER = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h)
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates
install: modules userspace
	install -d $(MODDIR)
	install -m 644 $$(ls vgpu-back.ko vgpu-sim.ko vgpu-uengine.ko vgpu-front.ko 2>/dev/null) $(MODDIR)/
	$(if $(DESTDIR),,depmod -a $(KVER))
	cmake -S tools -B $(BUILD)/user -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/user
	cp $(BUILD)/user/install_manifest.txt $(BUILD)/install_manifest.txt

uninstall:
	rm -fv $(foreach m,vgpu-back vgpu-sim vgpu-uengine vgpu-front,$(MODDIR)/$(m).ko)
	$(if $(DESTDIR),,depmod -a $(KVER))
	@if [ -f $(BUILD)/install_manifest.txt ]; then \
		sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt | xargs -r rm -fv; \
	else \
		echo "no $(BUILD)/install_manifest.txt: nothing of the userspace to remove"; \
	fi

deb:
	bash tests/deb.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)
