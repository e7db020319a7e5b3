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
install_missing "$TB/apt.log" qemu-system-x86 busybox-static cpio kmod xen-utils-4.17 "linux-headers-$ABI-amd64"

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

# GPUvm modules against the test bed's kernel: built from the tree, or
# (GPUVM_MODULES=dkms, as make check does) the ones DKMS built from the
# installed gpuvm-dkms package.  And the userspace.
KVER=$ABI-amd64
# The modules and the test-only programs are built from a copy ($TB/src)
# of the tree, or of the tree named by GPUVM_SRC (a snapshot: others may
# edit this one meanwhile); never in the tree itself.  tar keeps the files' times, so an unchanged
# file is not rebuilt; build products are not copied.
SRC=$TB/src
mkdir -p "$SRC"
tar -C "${GPUVM_SRC:-$TOP}" -cf - --exclude=./build --exclude=./.git --exclude='*.o' \
	--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
	--exclude=Module.symvers --exclude=modules.order --exclude='*.d' . |
	tar -C "$SRC" -xf -
KM=$TB/kimage/lib/modules/$KVER
rm -rf "$TB/kimage/lib/modules/$ABI" "$KM/extra" "$KM/updates"
if [ "${GPUVM_MODULES:-tree}" = dkms ]; then
	# The headers were installed above: DKMS's kernel hook built the
	# modules then, unless the package came later.
	case "$(dkms status -k "$KVER" gpuvm 2>/dev/null)" in
	*": installed"*) ;;
	*)	dkms autoinstall -k "$KVER" >/dev/null 2>&1 ||
			die "DKMS did not build gpuvm for $KVER (is gpuvm-dkms installed?)" ;;
	esac
	mkdir -p "$KM/updates/dkms"
	for m in vgpu-back vgpu-sim vgpu-uengine vgpu-front; do
		cp /lib/modules/"$KVER"/updates/dkms/$m.ko* "$KM/updates/dkms/" ||
			die "no $m from DKMS for $KVER"
	done
	log "modules: DKMS's build of $(dkms status -k "$KVER" gpuvm 2>/dev/null | cut -d, -f1)"
else
	log "building the modules for $ABI"
	make -C "$SRC" modules KDIR="/usr/src/linux-headers-$ABI-amd64" >"$TB/modules.log" 2>&1 ||
		{ cat "$TB/modules.log"; die "the modules do not build"; }
	mkdir -p "$KM/extra"
	cp "$SRC"/vgpu-back.ko "$SRC"/vgpu-sim.ko "$SRC"/vgpu-uengine.ko "$SRC"/vgpu-front.ko "$KM/extra/"
fi
depmod -b "$TB/kimage" "$KVER"
# The userspace does not depend on the kernel: it is the tree's own
# build ($BUILD/user, which make test-user made already), or the
# snapshot's when GPUVM_SRC names one; one build serves every series.
log "building the userspace (minutes the first time; log in $TB/userspace.log)"
if [ -n "${GPUVM_SRC:-}" ]; then
	make -C "$SRC" userspace >"$TB/userspace.log" 2>&1 || { tail -n 30 "$TB/userspace.log"; die "userspace"; }
	U=$SRC/build/user
else
	make -C "$TOP" userspace BUILD="$BUILD" >"$TB/userspace.log" 2>&1 ||
		{ tail -n 30 "$TB/userspace.log"; die "userspace"; }
	U=$BUILD/user
fi

# Copies a program and the libraries it loads into root $1 at path $3.
# Never NVIDIA's libcudart or libcuda, which ldd finds for the CUDA
# programs on a machine with the toolkit: the test bed's programs use
# GPUvm's.
copy_bin() {
	local root=$1 src=$2 dst=$3 lib
	mkdir -p "$root/$(dirname "$dst")"
	cp "$src" "$root/$dst"
	for lib in $(ldd "$src" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		case "$lib" in */libcudart.so* | */libcuda.so*) continue ;; esac
		[ -f "$root/$lib" ] && continue
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
}

# A root with busybox, kmod, the named kernel modules with the closure of
# their dependencies (uncompressed: the kernel may not decompress), the
# GPUvm programs and kernels, and the scenarios.
stage_root() {
	local root=$1 m rel t
	shift
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,var/log,lib/modules/"$KVER",opt/gpuvm/bin/kernels}
	cp /bin/busybox "$root/bin/busybox"
	for t in sh mount umount mkdir cat echo sleep poweroff grep sed awk ls dmesg \
		 test true false timeout date head tail wc cut tr uname ps kill seq sync \
		 rm cp ln expr basename reboot tee sort; do
		ln -sf busybox "$root/bin/$t"
	done
	for m in $(modprobe -a -d "$TB/kimage" -S "$KVER" --show-depends "$@" |
		   awk '$1 == "insmod" { print $2 }' | sort -u); do
		rel=${m#"$TB/kimage"}
		mkdir -p "$root/$(dirname "$rel")"
		cp "$m" "$root/$rel"
	done
	cp "$KM"/modules.order "$KM"/modules.builtin* "$root/lib/modules/$KVER/"
	find "$root/lib/modules" -name '*.ko.xz' -exec xz -d {} +
	depmod -b "$root" "$KVER"
	copy_bin "$root" "$(command -v kmod)" sbin/kmod
	for t in modprobe insmod rmmod lsmod modinfo; do ln -sf kmod "$root/sbin/$t"; done
	for t in vecadd saxpy matmul reduction vgpu-selftest vgpu-as vgpu-bench; do
		copy_bin "$root" "$U/$t" "opt/gpuvm/bin/$t"
	done
	cp "$U"/kernels/*.vgpu "$root/opt/gpuvm/bin/kernels/"
	mkdir -p "$root/lib/x86_64-linux-gnu"
	cp -L "$(gcc -print-file-name=libgcc_s.so.1)" "$root/lib/x86_64-linux-gnu/"
	cp "$SRC"/tests/scenarios/*.sh "$root/opt/gpuvm/"
	chmod +x "$root"/opt/gpuvm/*.sh
	echo "$ABI" > "$root/etc/kernel-abi"
	stage_cuda "$root"
}

# The CUDA programs (built by make when nvcc is there) for the cuda
# scenario, with GPUvm's libcudart.so.13 (debug info stripped) in
# /opt/gpuvm/cuda/lib, and their manifest (cuda-list.sh).
stage_cuda() {
	local C=$1/opt/gpuvm/cuda G=$U/gpuvm-cuda suite name lib
	if [ ! -f "$G/lib/libcudart.so.13" ]; then
		log "no GPUvm libcudart.so.13 in $G: the cuda scenario will fail"
		return 0
	fi
	mkdir -p "$C/lib"
	for lib in libcudart.so.13 libcuda.so.1; do
		copy_bin "$1" "$G/lib/$lib" "opt/gpuvm/cuda/lib/$lib"
		strip --strip-debug "$C/lib/$lib"
	done
	# The lists of the tree the programs were built from.
	bash "$SRC/tests/testbed/cuda-list.sh" "${GPUVM_SRC:+$SRC}${GPUVM_SRC:-$TOP}" "$G" > "$C/list" ||
		die "the CUDA programs' manifest"
	while IFS='|' read -r suite name _; do
		copy_bin "$1" "$G/$suite/$name" "opt/gpuvm/cuda/$suite/$name"
	done < "$C/list"
	# The driver-API samples' kernels, loaded from their directory.
	cp "$G"/samples/*.fatbin "$C/samples/" 2>/dev/null || true
}

pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) > "$2"
}

# The guest: vgpu-front and the programs, and the test-only hostile
# frontend and handle-race program (tests/hostile, never installed).
log "building the guest's and dom0's root file systems"
make -C "/usr/src/linux-headers-$ABI-amd64" M="$SRC/tests/hostile" modules >"$TB/hostile.log" 2>&1 ||
	{ cat "$TB/hostile.log"; die "tests/hostile does not build"; }
gcc -O2 -Wall -Wextra -Werror -pthread -I"$SRC/include/uapi/drm" $(pkg-config --cflags libdrm) \
	"$SRC/tests/hostile/vgpu_race.c" -o "$TB/vgpu-race"
stage_root "$TB/domu-root" vgpu-front
cp "$SRC/tests/hostile/vgpu-hostile.ko" "$TB/domu-root/opt/gpuvm/"
copy_bin "$TB/domu-root" "$TB/vgpu-race" opt/gpuvm/bin/vgpu-race
cp "$SRC/tests/testbed/domu-init" "$TB/domu-root/init"
chmod +x "$TB/domu-root/init"
pack "$TB/domu-root" "$TB/domu-initrd.gz"

# dom0: vgpu-back, vgpu-sim, vgpu-uengine and vgpu-engined, Xen's toolstack, the guest's kernel and root.
ROOT=$TB/dom0-root
stage_root "$ROOT" vgpu-sim vgpu-uengine vgpu-back xen-evtchn xen-gntdev xen-gntalloc \
	xen-privcmd xenfs
XB=/usr/lib/xen-4.17/bin
for t in xenstored xenconsoled xen-init-dom0 xl xenstore-control libxl-save-helper; do
	copy_bin "$ROOT" "$XB/$t" "$XB/$t"
done
copy_bin "$ROOT" "$U/vgpuctl" opt/gpuvm/bin/vgpuctl
copy_bin "$ROOT" "$U/vgpu-engined" opt/gpuvm/bin/vgpu-engined
for t in xenstore-read xenstore-write; do
	copy_bin "$ROOT" "$(command -v $t)" opt/gpuvm/bin/$t
done
mkdir -p "$ROOT"/etc/xen "$ROOT"/var/lib/xen "$ROOT"/var/log/xen/console \
	"$ROOT"/var/lock "$ROOT"/var/run/xen "$ROOT"/boot "$ROOT"/proc/xen
: > "$ROOT/etc/xen/xl.conf"
cp "$TB/kimage/boot/vmlinuz-$ABI-amd64" "$ROOT/boot/vmlinuz"
cp "$TB/domu-initrd.gz" "$ROOT/boot/domu-initrd.gz"
cp "$SRC/tests/testbed/dom0-init" "$ROOT/init"
chmod +x "$ROOT/init"
pack "$ROOT" "$TB/dom0-initrd.gz"
cp "$TB/kimage/boot/vmlinuz-$ABI-amd64" "$TB/vmlinuz"
echo "$ABI" > "$TB/kernel-abi"
log "ready: $(du -h "$TB/dom0-initrd.gz" | cut -f1) initramfs, kernel $ABI, Xen 4.17"
