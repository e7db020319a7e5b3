#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Prepares the test bed: Debian's kernel and Xen hypervisor (downloaded,
# not installed), GPUvm's modules built against that kernel, userspace
# built, and dom0's initramfs packed.  Idempotent: reruns rebuild what
# changed.  Output in $BUILD/testbed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

ABI=$(kernel_abi)
[ -n "$ABI" ] || die "cannot resolve the kernel ABI (apt-get update first?)"
log "kernel ABI $ABI"
mkdir -p "$TB/debs"

# Packages the test bed needs on this machine.
need=()
for p in qemu-system-x86 busybox-static cpio kmod "linux-headers-$ABI-amd64"; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Kernel image and hypervisor: downloaded and unpacked, never installed.
cd "$TB/debs"
for p in "linux-image-$ABI-amd64" xen-hypervisor-4.17-amd64; do
	ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null 2>&1 ||
		die "apt-get download $p failed"
done
if [ ! -f "$TB/kimage/boot/vmlinuz-$ABI-amd64" ]; then
	rm -rf "$TB/kimage"
	dpkg -x linux-image-"$ABI"-amd64_*.deb "$TB/kimage"
fi
if [ ! -f "$TB/xen.elf" ]; then
	rm -rf "$TB/xen"
	dpkg -x xen-hypervisor-4.17-amd64_*.deb "$TB/xen"
	zcat "$TB"/xen/boot/xen-4.17-amd64.gz > "$TB/xen.elf"
fi

# GPUvm modules against the test bed's kernel, and userspace.
make -C "$TOP" modules KDIR="/usr/src/linux-headers-$ABI-amd64" >/dev/null
make -C "$TOP" userspace >/dev/null

# dom0's initramfs.
ROOT=$TB/dom0-root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,var/log,lib/modules,opt/gpuvm/bin/kernels}
cp /bin/busybox "$ROOT/bin/busybox"
for t in sh mount umount mkdir cat echo sleep poweroff grep sed awk ls dmesg \
	 test true false timeout date head tail wc cut tr uname ps kill seq sync; do
	ln -sf busybox "$ROOT/bin/$t"
done

# Our modules, placed with the kernel's, and the closure of their
# dependencies according to modprobe.
KVER=$ABI-amd64
KM=$TB/kimage/lib/modules/$KVER
rm -rf "$TB/kimage/lib/modules/$ABI"
mkdir -p "$KM/extra"
cp "$TOP"/vgpu-back.ko "$TOP"/vgpu-sim.ko "$KM/extra/"
depmod -b "$TB/kimage" "$KVER"
for m in $(modprobe -d "$TB/kimage" -S "$KVER" --show-depends vgpu-sim vgpu-back |
	   awk '$1 == "insmod" { print $2 }' | sort -u); do
	rel=${m#"$TB/kimage"}
	mkdir -p "$ROOT/$(dirname "$rel")"
	cp "$m" "$ROOT/$rel"
done
cp "$KM"/modules.order "$KM"/modules.builtin* "$ROOT/lib/modules/$KVER/"
# Newer kernels ship .ko.xz; load them uncompressed, as the kernel may not
# decompress by itself.
find "$ROOT/lib/modules" -name '*.ko.xz' -exec xz -d {} +
depmod -b "$ROOT" "$KVER"

# Programs, with the libraries they load.
copy_bin() {
	local src=$1 dst=$2 lib
	cp "$src" "$ROOT/$dst"
	for lib in $(ldd "$src" | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
		[ -f "$ROOT/$lib" ] && continue
		mkdir -p "$ROOT/$(dirname "$lib")"
		cp -L "$lib" "$ROOT/$lib"
	done
}
copy_bin "$(command -v kmod)" sbin/kmod
for t in modprobe insmod rmmod lsmod modinfo; do ln -sf kmod "$ROOT/sbin/$t"; done
U=$BUILD/user
for p in vecadd saxpy matmul reduction vgpu-selftest vgpu-as vgpu-bench; do
	copy_bin "$U/$p" "opt/gpuvm/bin/$p"
done
cp "$U"/kernels/*.vgpu "$ROOT/opt/gpuvm/bin/kernels/"
gcc_s=$(gcc -print-file-name=libgcc_s.so.1)
mkdir -p "$ROOT/lib/x86_64-linux-gnu"
cp -L "$gcc_s" "$ROOT/lib/x86_64-linux-gnu/"
[ -e "$ROOT/lib64" ] || ln -s lib "$ROOT/lib64" 2>/dev/null || true
mkdir -p "$ROOT/lib64"
cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/" 2>/dev/null || true

cp "$TOP"/tests/scenarios/*.sh "$ROOT/opt/gpuvm/"
cp "$TOP/tests/testbed/dom0-init" "$ROOT/init"
chmod +x "$ROOT/init" "$ROOT"/opt/gpuvm/*.sh
echo "$ABI" > "$ROOT/etc/kernel-abi"

(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$TB/dom0-initrd.gz"
cp "$TB/kimage/boot/vmlinuz-$ABI-amd64" "$TB/vmlinuz"
echo "$ABI" > "$TB/kernel-abi"
log "ready: $(du -h "$TB/dom0-initrd.gz" | cut -f1) initramfs, kernel $ABI, Xen 4.17"
