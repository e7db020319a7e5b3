#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# deb-cuda.sh DIR: checks the gpuvm-cuda package in DIR (make deb runs
# it on build/deb/): GPUvm's CUDA libraries in their own directory and
# no library in the dynamic linker's path (dom0's NVIDIA libraries stay
# what its programs load), no shlibs file and no ldconfig trigger, the
# gpuvm-cuda command and its man page; then unpacks it into a scratch
# root and runs a CUDA program of the tree (make userspace built it in
# build/user/gpuvm-cuda/programs/; skipped without it) through that copy
# of the command on the interpreter: it must load the package's
# libraries and pass.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-${BUILD:-$TOP/build}/deb}
fail() { echo "deb-cuda: $*"; exit 1; }
pkg=$(ls "$deb"/gpuvm-cuda_*.deb 2>/dev/null | head -n 1) || true
[ -n "$pkg" ] || fail "no gpuvm-cuda package in $deb"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
dir=usr/lib/$ma/gpuvm-cuda

files=$(dpkg-deb -c "$pkg" | awk '{print $6}' | sed 's|^\./||')
for f in "$dir/libcudart.so.13" "$dir/libcuda.so.1" usr/bin/gpuvm-cuda \
	usr/share/man/man1/gpuvm-cuda.1.gz; do
	grep -qx "$f" <<<"$files" || fail "$pkg lacks /$f"
done
stray=$(grep -E '\.so($|\.)' <<<"$files" | grep -v "^$dir/" || true)
[ -z "$stray" ] || fail "libraries outside /$dir: $stray"
ctrl=$(dpkg-deb --ctrl-tarfile "$pkg" | tar -t | sed 's|^\./||')
! grep -qxE 'shlibs|triggers|symbols' <<<"$ctrl" || fail "$pkg has a shlibs, symbols or triggers file"
echo "deb-cuda: $(basename "$pkg"): $(grep -c "^$dir/lib" <<<"$files") library files in /$dir, nothing in the linker's path"
echo "deb-cuda: $(dpkg-deb -f "$pkg" Depends | sed 's/^/Depends: /')"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$pkg" "$root"
wrapper=$root/usr/bin/gpuvm-cuda
[ "$("$wrapper" --print-libdir)" = "/$dir" ] || fail "gpuvm-cuda --print-libdir is not /$dir"
# libcudart finds libcuda beside it without LD_LIBRARY_PATH (RUNPATH
# $ORIGIN survived the install). ldd's output is read whole first: under
# pipefail, "ldd | grep -q" fails when grep exits before ldd has written
# its last line (SIGPIPE), as it once did in CI.
deps=$(ldd "$root/$dir/libcudart.so.13") || fail "ldd libcudart.so.13 failed: $deps"
grep -q "libcuda.so.1 => $root/$dir/libcuda.so.1" <<<"$deps" ||
	fail "libcudart.so.13 does not find libcuda.so.1 beside it: $deps"
prog=${BUILD:-$TOP/build}/user/gpuvm-cuda/programs/grid_stride
if [ ! -x "$prog" ]; then
	echo "deb-cuda: no $prog (make userspace builds it): not run"
	exit 0
fi
export GPUVM_CUDA_LIBDIR=$root/$dir
"$wrapper" --check "$prog" | sed 's/^/deb-cuda: /'
out=$("$wrapper" --backend interp "$prog" 2>&1) || fail "grid_stride through the package's gpuvm-cuda: $out"
grep -qx 'PASS grid_stride' <<<"$out" || fail "grid_stride through the package's gpuvm-cuda: $out"
echo "deb-cuda: grid_stride through the package's gpuvm-cuda (interpreter): PASS"
