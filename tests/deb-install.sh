#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# deb-install.sh: installs the packages make deb built (build/deb/) as a
# host owner would, with apt: gpuvm-dkms (DKMS builds the modules for
# every kernel whose headers are installed, and for each one installed
# later), gpuvm-tools, libvgpu0 and gpuvm-cuda (then runs a CUDA program
# of the tree through the installed gpuvm-cuda command, on the
# interpreter).  A previous install is purged first,
# so that DKMS builds these sources and not an older build of the same
# version (and apt does not skip packages of the same version).  make check runs it; the test bed then takes DKMS's modules
# (GPUVM_MODULES=dkms).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
deb=${BUILD:-$TOP/build}/deb
ls "$deb"/gpuvm-dkms_*.deb >/dev/null 2>&1 || { echo "deb-install: no packages: run make deb"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
old=()
for p in gpuvm-dkms gpuvm-tools libvgpu0 gpuvm-cuda; do dpkg -s "$p" >/dev/null 2>&1 && old+=("$p"); done
if [ ${#old[@]} -gt 0 ]; then
	echo "deb-install: purging the installed ${old[*]}"
	apt-get purge -y -qq "${old[@]}" >/dev/null
fi
# gpuvm-cuda: not built with the nocuda profile.
cuda=()
if ls "$deb"/gpuvm-cuda_*.deb >/dev/null 2>&1; then cuda=("$deb"/gpuvm-cuda_*.deb); fi
echo "deb-install: apt install gpuvm-dkms gpuvm-tools libvgpu0${cuda[*]:+ gpuvm-cuda} (DKMS builds the modules)"
apt-get install -y -qq --no-install-recommends "$deb"/gpuvm-dkms_*.deb \
	"$deb"/gpuvm-tools_*.deb "$deb"/libvgpu0_*.deb "${cuda[@]}" > "$deb/install.log" 2>&1 ||
	{ tail -n 30 "$deb/install.log"; exit 1; }
st=$(dkms status gpuvm 2>/dev/null)
echo "$st" | sed 's/^/deb-install: /'
case "$st" in *": installed"*) ;; *) echo "deb-install: DKMS built nothing"; exit 1 ;; esac
prog=${BUILD:-$TOP/build}/user/gpuvm-cuda/programs/grid_stride
if [ ${#cuda[@]} -gt 0 ] && [ -x "$prog" ]; then
	gpuvm-cuda --check "$prog" | sed 's/^/deb-install: /'
	out=$(gpuvm-cuda --backend interp "$prog" 2>&1) || true
	grep -qx 'PASS grid_stride' <<<"$out" ||
		{ echo "deb-install: grid_stride through gpuvm-cuda: $out"; exit 1; }
	echo "deb-install: grid_stride through the installed gpuvm-cuda (interpreter): PASS"
fi
