#!/usr/bin/env bash
# Build the Linux guest used by the end-to-end tests (tests/e2e):
#   OUTDIR/vmlinuz        a Debian cloud kernel, unpacked from its .deb
#                         (dpkg-deb -x, never installed on the host)
#   OUTDIR/initramfs.gz   busybox-static + the virtio-net modules + /init
#   OUTDIR/kit.env        what was built (kernel version, module order)
#
# The guest's /init mounts proc/sys/dev, loads the modules, brings up lo and
# eth0, puts the address given as `vdp.ip=A.B.C.D/N` on the kernel command
# line on eth0, prints VDP-GUEST-READY on the serial console and then runs an
# interactive busybox shell on ttyS0 (prompt "vdp-guest# ").
#
# usage: ci/guest-kit.sh [OUTDIR]        (default: tests/e2e/.guest)
#        VDP_GUEST_KIT_FORCE=1 ci/guest-kit.sh   rebuild even if up to date
#
# Idempotent: when OUTDIR already holds a kit for the newest cloud kernel the
# apt metadata knows, built by this very script, it does nothing. Needs root
# only for what is missing (apt-get install / apt-get update).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/tests/e2e/.guest}
me="guest-kit"
die() { echo "$me: error: $*" >&2; exit 1; }
say() { echo "$me: $*"; }

# Modules the guest needs for a virtio-net PCI device; their dependencies are
# resolved from the .ko files themselves, so this list names only the roots.
root_modules="virtio_pci virtio_net"

is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	is_root || die "apt metadata is needed but apt-get update needs root"
	say "apt-get update"
	apt-get update -qq || die "apt-get update failed"
	apt_updated=1
}

# ---- 1. host tools -------------------------------------------------------
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	need_pkgs+=(busybox-static)
/usr/bin/python3 -c 'import pexpect' >/dev/null 2>&1 || need_pkgs+=(python3-pexpect)
# copied into the guest: the multi-queue test changes its queue pairs
[ -x /usr/sbin/ethtool ] || need_pkgs+=(ethtool)
for tool in cpio gzip xz; do
	command -v $tool >/dev/null 2>&1 && continue
	case $tool in
	xz) need_pkgs+=(xz-utils) ;;
	*) need_pkgs+=($tool) ;;
	esac
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
	is_root || die "missing packages (${need_pkgs[*]}); installing them needs root"
	say "installing ${need_pkgs[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need_pkgs[@]}" >/dev/null; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${need_pkgs[@]}" >/dev/null || die "apt-get install ${need_pkgs[*]} failed"
	fi
fi
busybox=/bin/busybox
[ -x $busybox ] || die "$busybox not found after installing busybox-static"
# a dynamically linked busybox would not run inside the initramfs
if command -v file >/dev/null 2>&1 && file -L $busybox | grep -q 'dynamically linked'; then
	die "$busybox is dynamically linked; the busybox-static package is needed"
fi

# ---- 2. which kernel -----------------------------------------------------
meta=linux-image-cloud-amd64
candidate() { apt-cache policy $meta 2>/dev/null | sed -n 's/^ *Candidate: *//p'; }
cand=$(candidate)
if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
	apt_update
	cand=$(candidate)
fi
[ -n "$cand" ] && [ "$cand" != "(none)" ] ||
	die "apt knows no $meta package (is a Debian amd64 archive in the apt sources?)"
# the versioned image package, from the candidate metapackage's Depends
kpkg=$(apt-cache show "$meta=$cand" 2>/dev/null | sed -n 's/^Depends: *//p' | head -n1 |
	tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*-cloud-amd64\).*/\1/p' | head -n1)
[ -n "$kpkg" ] || die "cannot resolve the kernel package from $meta=$cand's Depends"

selfsum=$(sha256sum "$0" | cut -d' ' -f1)
stamp="kernel_package=$kpkg meta_version=$cand script=$selfsum"
if [ "${VDP_GUEST_KIT_FORCE:-0}" != 1 ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.gz" ] &&
	[ -f "$out/kit.env" ] && grep -qxF "STAMP='$stamp'" "$out/kit.env"; then
	say "kit for $kpkg already in $out"
	exit 0
fi

# ---- 3. fetch and unpack the kernel package ------------------------------
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "downloading $kpkg ($meta $cand)"
# apt-get download drops privileges to _apt when it can; give it a directory
# it can write to
chmod 0755 "$work"
mkdir "$work/deb" && chmod 0777 "$work/deb"
if ! (cd "$work/deb" && apt-get download -qq "$kpkg" >/dev/null 2>&1); then
	apt_update
	(cd "$work/deb" && apt-get download -qq "$kpkg") || die "apt-get download $kpkg failed"
fi
deb=$(ls "$work"/deb/*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || die "apt-get download $kpkg produced no .deb"
dpkg-deb -x "$deb" "$work/root" || die "dpkg-deb -x $deb failed"

vmlinuz=$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kpkg"
kver=${vmlinuz##*/vmlinuz-}
moddir="$work/root/lib/modules/$kver"
[ -d "$moddir" ] || die "no lib/modules/$kver in $kpkg"

# ---- 4. resolve the modules and their load order ------------------------
find_ko() { # name -> path of its .ko / .ko.xz / .ko.zst ('-' and '_' are one)
	local n=$1 alt
	alt=$(echo "$n" | tr '_' '-')
	find "$moddir/kernel" \( -name "$n.ko" -o -name "$n.ko.xz" -o -name "$n.ko.zst" \
		-o -name "$alt.ko" -o -name "$alt.ko.xz" -o -name "$alt.ko.zst" \) | head -n1
}
is_builtin() {
	[ -f "$moddir/modules.builtin" ] || return 1
	local n
	n=$(echo "$1" | tr '-' '_')
	tr '-' '_' < "$moddir/modules.builtin" | grep -q "/$n\.ko$"
}
mkdir -p "$work/ko"
unpack_ko() { # path -> plain .ko in $work/ko/<name>.ko
	local src=$1 name=$2
	case $src in
	*.ko.xz) xz -dc "$src" > "$work/ko/$name.ko" || die "xz -d $src failed" ;;
	*.ko.zst)
		command -v zstd >/dev/null 2>&1 || die "$src is zstd-compressed and zstd is missing"
		zstd -qdc "$src" > "$work/ko/$name.ko" || die "zstd -d $src failed" ;;
	*) cp "$src" "$work/ko/$name.ko" ;;
	esac
}
mod_depends() { # plain .ko -> its depends= list from .modinfo, space separated
	tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}
order=()
declare -A state=()
visit() { # depth-first: dependencies first
	local n
	n=$(echo "$1" | tr '-' '_')
	[ "${state[$n]:-}" = done ] && return 0
	[ "${state[$n]:-}" = busy ] && die "module dependency loop at $n"
	state[$n]=busy
	local ko
	ko=$(find_ko "$n")
	if [ -z "$ko" ]; then
		is_builtin "$n" || die "module $n is neither in $kpkg nor built into $kver"
		state[$n]=done
		return 0
	fi
	unpack_ko "$ko" "$n"
	local d
	for d in $(mod_depends "$work/ko/$n.ko"); do visit "$d"; done
	order+=("$n")
	state[$n]=done
}
for m in $root_modules; do visit "$m"; done
say "kernel $kver, modules: ${order[*]}"

# ---- 5. the initramfs ----------------------------------------------------
ird="$work/initramfs"
mkdir -p "$ird"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,lib/modules}
cp $busybox "$ird/bin/busybox"
for n in "${order[@]}"; do cp "$work/ko/$n.ko" "$ird/lib/modules/"; done
# a host binary with the shared libraries (and loader) it needs
copy_with_libs() {
	local bin=$1 lib
	install -D -m 0755 "$bin" "$ird$bin"
	for lib in $(ldd "$bin" | sed -n 's|.*=> \(/[^ ]*\).*|\1|p; s|^[[:space:]]*\(/[^ ]*\) (.*|\1|p'); do
		install -D -m 0755 "$lib" "$ird$lib"
	done
}
copy_with_libs /usr/sbin/ethtool
printf '%s\n' "${order[@]}" > "$ird/lib/modules/load-order"
echo "root:x:0:0:root:/root:/bin/sh" > "$ird/etc/passwd"
echo "root:x:0:" > "$ird/etc/group"
# a few device nodes for the moments before devtmpfs is mounted
mknod -m 600 "$ird/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ird/dev/null" c 1 3 2>/dev/null || true

cat > "$ird/init" <<'EOF'
#!/bin/busybox sh
# dpdk-vdevpeer e2e guest init (generated by ci/guest-kit.sh)
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /tmp
mount -t devpts devpts /dev/pts
# keep kernel messages off the console the tests parse
echo 1 > /proc/sys/kernel/printk

fail() { echo "VDP-GUEST-ERROR: $*"; exec sh; }

for m in $(cat /lib/modules/load-order); do
	insmod /lib/modules/$m.ko || fail "insmod $m failed"
done

ip=""
for arg in $(cat /proc/cmdline); do
	case $arg in
	vdp.ip=*) ip=${arg#vdp.ip=} ;;
	esac
done

ip link set lo up
n=0
while [ ! -e /sys/class/net/eth0 ]; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "no eth0 after 10 s"
	sleep 0.1
done
ip link set eth0 up || fail "ip link set eth0 up failed"
if [ -n "$ip" ]; then
	ip addr add "$ip" dev eth0 || fail "ip addr add $ip failed"
fi
echo "VDP-GUEST-READY ip=${ip:-none} mac=$(cat /sys/class/net/eth0/address)"

export PS1='vdp-guest# '
# a session and a controlling tty, so that the shell gets job control and ^C
exec setsid cttyhack sh -i
EOF
chmod 0755 "$ird/init"

(cd "$ird" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --owner=0:0) | gzip -9 > "$work/initramfs.gz" ||
	die "building the initramfs failed"

cp "$vmlinuz" "$work/vmlinuz"
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/initramfs.gz" "$out/initramfs.gz"
cat > "$out/kit.env" <<EOF
KERNEL_VERSION='$kver'
KERNEL_PACKAGE='$kpkg'
MODULES='${order[*]}'
STAMP='$stamp'
EOF
say "kit ready in $out (kernel $kver, initramfs $(du -k "$out/initramfs.gz" | cut -f1) KiB)"
