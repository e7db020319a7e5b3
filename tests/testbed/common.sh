# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared settings of the QEMU/Xen test bed (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
TB=$BUILD/testbed

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

# The ABI of Debian's current default kernel (e.g. 6.1.0-56), resolved from
# the dependencies of linux-image-amd64: the archive moves on.
kernel_abi() {
	if [ -n "${KABI:-}" ]; then echo "$KABI"; return; fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -n1
}
