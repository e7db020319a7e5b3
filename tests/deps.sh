#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Installs every Debian package GPUvm's build, tests and test bed need, on
# a fresh Debian 12 machine.  Safe to rerun.
set -euo pipefail
pkgs=(
	build-essential cmake pkg-config libdrm-dev libgtest-dev libzstd-dev liblz4-dev	# userspace
	libxen-dev xen-utils-4.17 xenstore-utils			# vgpuctl, test bed guests
	linux-headers-amd64 kmod					# modules
	libelf-dev							# the newest kernel (tests/kbuild-newest.sh)
	linux-source-6.1 bc flex bison python3 xz-utils			# KUnit on UML
	clang libclang-rt-14-dev					# the fuzzer
	qemu-system-x86 busybox-static cpio gzip			# test bed
	dpkg-dev debhelper dh-dkms dkms fakeroot lintian		# make deb
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]} (a few minutes)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 ||
	{ cat "$log"; rm -f "$log"; echo "deps: apt-get failed" >&2; exit 1; }
rm -f "$log"
