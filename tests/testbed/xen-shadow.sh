#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# xen-shadow.sh DEBIAN_CONFIG: makes $BUILD/xen-shadow/xen.elf, a Debian
# Xen 4.17 hypervisor with shadow paging (CONFIG_SHADOW_PAGING).
#
# Why: `xl migrate` tracks the pages a running guest dirties (log-dirty
# mode), which Xen offers a PV guest only through shadow paging, and the
# test bed can run PV guests only (QEMU's TCG offers no HVM).  Debian 12's
# security update of Xen (4.17.7+13-g2445b30a44-0+deb12u1, the test bed's
# hypervisor) is built without shadow paging, so xl migrate stops at
# "Failed to enable logdirty: 95"; the point release before it
# (4.17.5+72-g01140da4e8-1) has it, and its configuration differs from
# the update's in that one line.  The scenario "migrate" boots this one.
#
# First choice: a xen-hypervisor-4.17-amd64 package of the archive whose
# configuration has shadow paging, newest first, as Debian built it.
# Failing that (the archive moved on): Debian's source package of the
# newest Xen in the release, built with DEBIAN_CONFIG (the test bed's
# hypervisor's) and shadow paging on, the source fetched through a
# source list of its own ($BUILD/xen-shadow/apt): the machine's apt
# configuration is left as it is (about 2 minutes on 2 cores).
# Idempotent: a xen.elf made before is kept ($BUILD/xen-shadow/version
# says which).
set -euo pipefail
. "$(dirname "$0")/common.sh"

config=${1:?usage: xen-shadow.sh DEBIAN_CONFIG}
XS=$BUILD/xen-shadow
[ -f "$XS/xen.elf" ] && exit 0
[ -f "$config" ] || die "no Debian Xen configuration at $config"
rm -rf "$XS"
mkdir -p "$XS/dl"

pkg=xen-hypervisor-4.17-amd64
for v in $(apt-cache madison "$pkg" 2>/dev/null | awk '{ print $3 }'); do
	rm -rf "$XS/pkg" "$XS"/dl/*.deb
	(cd "$XS/dl" && apt-get download -q "$pkg=$v") >/dev/null 2>&1 || continue
	dpkg -x "$XS"/dl/*.deb "$XS/pkg" || continue
	grep -qx CONFIG_SHADOW_PAGING=y "$XS"/pkg/boot/xen-4.17-amd64.config 2>/dev/null || continue
	zcat "$XS"/pkg/boot/xen-4.17-amd64.gz > "$XS/xen.elf.new"
	mv "$XS/xen.elf.new" "$XS/xen.elf"
	echo "Debian's $pkg $v" > "$XS/version"
	rm -rf "$XS/pkg" "$XS/dl"
	log "Xen with shadow paging: Debian's $v ($XS/xen.elf)"
	exit 0
done
log "no $pkg in the archive has shadow paging: building Xen from Debian's source with it"

install_missing "$XS/apt.log" dpkg-dev build-essential bison flex python3

mkdir -p "$XS/apt/lists/partial" "$XS/apt/cache/archives/partial"
# The Debian archive and release apt fetches Debian's binaries from.
read -r uri suite < <(apt-get indextargets --format '$(ORIGIN) $(REPO_URI) $(RELEASE)' 2>/dev/null |
	awk '$1 == "Debian" && $3 !~ /-(security|updates)$/ { print $2, $3 }' | sort -u | head -n1) ||
	die "apt knows no Debian archive (apt-get update first?)"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
	> "$XS/apt/sources.list"
apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$XS/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists="$XS/apt/lists" -o Dir::Cache="$XS/apt/cache" \
		-o APT::Sandbox::User=root "$@"
}
log "fetching Debian's Xen source ($uri $suite) to build it with shadow paging"
apt_private update >"$XS/apt.log" 2>&1 || { cat "$XS/apt.log"; die "apt-get update (deb-src) failed"; }
(cd "$XS/dl" && apt_private source --download-only xen) >>"$XS/apt.log" 2>&1 ||
	{ cat "$XS/apt.log"; die "apt-get source xen failed"; }
# apt checked the files against the archive's signed index: no keyring
# needed here.
dpkg-source --no-check -x "$XS"/dl/xen_*.dsc "$XS/src" >>"$XS/apt.log" 2>&1 ||
	{ cat "$XS/apt.log"; die "dpkg-source -x failed"; }

cp "$config" "$XS/src/xen/.config"
sed -i 's/^# CONFIG_SHADOW_PAGING is not set$/CONFIG_SHADOW_PAGING=y/' "$XS/src/xen/.config"
log "building Xen $(sed -n 's/^Version: //p' "$XS"/dl/xen_*.dsc) with shadow paging (log in $XS/build.log)"
{ make -C "$XS/src/xen" olddefconfig && make -C "$XS/src/xen" -j"$(nproc)"; } >"$XS/build.log" 2>&1 ||
	{ tail -n 40 "$XS/build.log"; die "building Xen failed"; }
grep -qx CONFIG_SHADOW_PAGING=y "$XS/src/xen/.config" || die "the build turned shadow paging off"
cp "$XS/src/xen/xen" "$XS/xen.elf.new"
mv "$XS/xen.elf.new" "$XS/xen.elf"
echo "Debian's source xen $(sed -n 's/^Version: //p' "$XS"/dl/xen_*.dsc), built with shadow paging" > "$XS/version"
rm -rf "$XS/src" "$XS/apt/cache" "$XS/dl" "$XS"/xen_*
log "Xen with shadow paging: $(cat "$XS/version") ($XS/xen.elf)"
