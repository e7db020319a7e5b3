#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# deb.sh: make deb.  Builds GPUvm's Debian packages (gpuvm-dkms,
# gpuvm-tools, libvgpu0, libvgpu-dev, gpuvm-cuda) with Debian's own
# tooling from a copy of the tree's files, then checks them with lintian
# and gpuvm-cuda's contents with deb-cuda.sh (DEB_BUILD_PROFILES=nocuda
# builds them without gpuvm-cuda where the CUDA toolkit is missing).  The
# .debs and lintian's report go to build/deb/.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILD:-$TOP/build}/deb
tools=(dpkg-dev debhelper dh-dkms dkms fakeroot lintian)
missing=()
for p in "${tools[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deb: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
# The source is the tree's files (tracked, or new and not ignored), never
# its build outputs.
rm -rf "$out"
mkdir -p "$out/src"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$out/src"
cd "$out/src"
dpkg-checkbuilddeps || { echo "deb: run 'make deps' or install the packages above"; exit 1; }
echo "deb: building (dpkg-buildpackage; log in $out/build.log)"
dpkg-buildpackage -b -us -uc > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; exit 1; }
cd "$out"
ls -1 ./*.deb
# Errors fail the build; warnings are listed.
lintian --fail-on error --info ./*.changes | tee lintian.log
echo "deb: lintian: $(grep -c '^E:' lintian.log || true) errors, $(grep -c '^W:' lintian.log || true) warnings"
# gpuvm-cuda (left out by the nocuda build profile): its files, and a
# CUDA program run through it.
if ls ./gpuvm-cuda_*.deb >/dev/null 2>&1; then
	bash "$TOP/tests/deb-cuda.sh" "$out"
fi
