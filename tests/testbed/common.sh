# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared settings of the QEMU/Xen test bed (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
# KSERIES empty: Debian's default kernel (linux-image-amd64); else a series
# such as 6.12, whose newest amd64 image in the archive is used.
KSERIES=${KSERIES:-}
TB=$BUILD/testbed${KSERIES:+-$KSERIES}

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

# install_missing LOG PACKAGE...: apt-get installs the packages that are
# not installed (its output in LOG, shown if it fails).
install_missing() {
	local out=$1 p need=()
	shift
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
	done
	[ ${#need[@]} -gt 0 ] || return 0
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$out" 2>&1 ||
		{ cat "$out"; die "apt-get install ${need[*]} failed"; }
}

# The ABI of the kernel to test (e.g. 6.1.0-56 or 6.12.115+deb12), resolved
# from the archive at run time: the archive moves on.
kernel_abi() {
	if [ -n "${KABI:-}" ]; then echo "$KABI"; return; fi
	if [ -z "$KSERIES" ]; then
		apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -n1
	else
		apt-cache pkgnames "linux-image-$KSERIES." 2>/dev/null |
			sed -n "s/^linux-image-\($KSERIES\.[0-9]*+deb[0-9]*\)-amd64\$/\1/p" |
			sort -V | tail -n1
	fi
}
