#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# kbuild-newest.sh: compile-tests the modules against the newest kernel
# release in Debian's archive (linux-source-X.Y from trixie-backports or
# sid, whichever is newer), W=1, with the kernel's own configuration
# tools: defconfig plus Xen, its backends and DRM.  Debian 12 cannot run
# that kernel's prebuilt headers (their tools need a newer C library), so
# the tree is prepared from source (modules_prepare) and kept in
# build/knewest for the next run.  Modules are linked without the
# kernel's symbol versions (KBUILD_MODPOST_WARN): this tests the
# interfaces, not a kernel to load them in.  Any compiler warning fails.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
W=$BUILD/knewest
SUITES=${KNEWEST_SUITES:-trixie-backports sid}
mkdir -p "$W/apt/lists/partial" "$W/apt/cache/archives/partial"
for s in $SUITES; do echo "deb http://deb.debian.org/debian $s main"; done > "$W/apt/sources.list"
APT=(-o Dir::Etc::sourcelist="$W/apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
     -o Dir::State::Lists="$W/apt/lists" -o Dir::Cache="$W/apt/cache" -o APT::Sandbox::User=root)
apt-get "${APT[@]}" -qq update
pkg=$(apt-cache "${APT[@]}" pkgnames linux-source- | grep -E '^linux-source-[0-9]+\.[0-9]+$' | sort -V | tail -n1)
[ -n "$pkg" ] || { echo "kbuild-newest: no linux-source in $SUITES" >&2; exit 1; }
ver=$(apt-cache "${APT[@]}" policy "$pkg" | sed -n 's/^  Candidate: //p')
series=${pkg#linux-source-}
K=$W/linux-source-$series
echo "kbuild-newest: $pkg $ver"
if [ ! -f "$K/.prepared-$ver" ]; then
	rm -rf "$K" "$W"/*.deb "$W/pkg"
	(cd "$W" && apt-get "${APT[@]}" -qq download "$pkg=$ver")
	dpkg-deb -x "$W"/"${pkg}"_*.deb "$W/pkg"
	tar -C "$W" -xf "$W/pkg/usr/src/$pkg.tar.xz"
	rm -rf "$W/pkg" "$W"/*.deb
	make -s -C "$K" defconfig >/dev/null
	"$K/scripts/config" --file "$K/.config" -e XEN -e XEN_PV -e XEN_DOM0 -e XEN_BACKEND \
		-e XEN_XENBUS_FRONTEND -m DRM -m DRM_VGEM -e DRM_GEM_SHMEM_HELPER -e MODULES \
		-d DEBUG_INFO_BTF -d WERROR
	make -s -C "$K" olddefconfig >/dev/null
	for c in XEN_BACKEND DRM DRM_GEM_SHMEM_HELPER; do
		grep -qE "^CONFIG_$c=[ym]" "$K/.config" || { echo "kbuild-newest: CONFIG_$c not set" >&2; exit 1; }
	done
	make -s -C "$K" -j "$(nproc)" modules_prepare
	touch "$K/.prepared-$ver"
fi
# A copy of the sources: the tree's own objects belong to the kernel it runs.
rm -rf "$W/src"
mkdir -p "$W/src"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$W/src")
make -C "$K" M="$W/src" W=1 KBUILD_MODPOST_WARN=1 -j "$(nproc)" modules > "$W/build.log" 2>&1 ||
	{ cat "$W/build.log"; echo "kbuild-newest: the modules do not build on $series" >&2; exit 1; }
if grep -E "(warning|error):" "$W/build.log" | grep -v "modpost:"; then
	echo "kbuild-newest: compiler warnings on $series (W=1)" >&2
	exit 1
fi
n=$(ls "$W/src"/*.ko | wc -l)
[ "$n" = 4 ] || { echo "kbuild-newest: $n modules built, expected 4" >&2; exit 1; }
echo "kbuild-newest: PASS: 4 modules build on $series ($ver), W=1 clean"
