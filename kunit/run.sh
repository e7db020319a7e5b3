#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Runs GPUvm's KUnit suites under User Mode Linux, in Debian's
# linux-source-6.1 tree (installed on demand, unpacked once into
# $BUILD/kunit).  GPUvm's sources are copied into drivers/gpuvm/.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/kunit/linux-source-6.1

if [ ! -f "$SRC/.gpuvm-unpacked" ]; then
	if [ ! -f /usr/src/linux-source-6.1.tar.xz ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-source-6.1 >/dev/null
	fi
	rm -rf "$SRC"
	mkdir -p "$BUILD/kunit"
	echo "kunit: unpacking linux-source-6.1"
	tar -C "$BUILD/kunit" -xf /usr/src/linux-source-6.1.tar.xz
	touch "$SRC/.gpuvm-unpacked"
fi

G=$SRC/drivers/gpuvm
rm -rf "$G"
mkdir -p "$G"
cp -r "$TOP/common" "$TOP/backend" "$TOP/uengine" "$TOP/kunit" "$TOP/include" "$G/"
cp "$TOP/kunit/Kconfig" "$G/Kconfig"
cp "$TOP/kunit/Makefile.tree" "$G/Makefile"
cp "$TOP/kunit/.kunitconfig" "$G/.kunitconfig"
grep -q 'drivers/gpuvm/Kconfig' "$SRC/drivers/Kconfig" ||
	sed -i '$ s|^endmenu$|source "drivers/gpuvm/Kconfig"\n\nendmenu|' "$SRC/drivers/Kconfig"
grep -q 'gpuvm/' "$SRC/drivers/Makefile" ||
	echo 'obj-$(CONFIG_GPUVM_KUNIT_TEST) += gpuvm/' >> "$SRC/drivers/Makefile"

cd "$SRC"
python3 tools/testing/kunit/kunit.py run --kunitconfig=drivers/gpuvm/.kunitconfig \
	--build_dir="$BUILD/kunit/uml" --jobs="$(nproc)" --timeout=600
