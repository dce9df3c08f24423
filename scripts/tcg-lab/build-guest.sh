#!/usr/bin/env bash
# build-guest.sh CACHE_DIR -- build (once, cached) the tiny guest used by the tcg-lab recordings.
#
# Produces in CACHE_DIR:
#   vmlinuz             kernel from a Debian linux-image-6.1.0-*-amd64 package (apt-get download)
#   vmlinux             the same kernel decompressed (ELF with a PVH entry note, CONFIG_PVH=y): qemu
#                       -kernel boots it directly, which saves the guest's xz decompression -- seconds
#                       under TCG (GUEST_KERNEL points to it when it could be made, else to vmlinuz)
#   initrd.cpio         busybox-static initramfs (uncompressed: nothing to inflate under TCG):
#                       /init + the virtio modules of that kernel
#   guest.env           shell-sourceable summary (GUEST_KERNEL=..., GUEST_INITRD=..., ...)
#
# The guest's /init reads its job from the kernel command line, runs it, then `poweroff -f`:
#   vmtrace_wl=cpu|disk|net|idle|mixed|ipi   workload (default idle)
#   vmtrace_dur=SECONDS            how long the workload runs (default 5)
#   vmtrace_ip=10.x.y.z/NN         net: guest address on eth0 (default 10.77.0.2/24)
#   vmtrace_peer=10.x.y.z          net: host side of the tap (default 10.77.0.1), which must serve
#                                  http://PEER:8000/blob (downloaded) and a TCP sink on PEER:9000
#   vmtrace_mib=N                  net: MiB uploaded per round (default 1)
#   vmtrace_pause=SECONDS          disk/net: sleep between rounds, to thin the I/O (default 0)
#   cpu  = one busy shell loop per vCPU;
#   disk = 64 KiB O_DIRECT dd writes (conv=fsync) and reads over /dev/vda (first virtio disk);
#   net  = wget the blob from the peer, then nc N MiB of zeros to the peer, in rounds;
#   idle = sleep;
#   mixed = one busy shell loop beside the disk rounds;
#   ipi = two shells pinned to vCPUs 0 and 1 passing a token back and forth through two FIFOs (each wakes the
#         other on the other vCPU: reschedule IPIs between the vCPUs).
# The console (ttyS0) shows "VMTRACE_WL start ...", "VMTRACE_WL end ..." around the workload.
#
# Env: KERNEL_PKG=linux-image-6.1.0-NN-amd64 to pin the kernel (default: newest that apt-cache lists).
# Idempotent: the kernel is fetched once; the initramfs is rebuilt only when this script changes.
# Needs root for apt-get install of busybox-static/cpio when they are missing.
set -euo pipefail
export LC_ALL=C

CACHE=${1:?usage: $0 CACHE_DIR}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
SELF=$(readlink -f "${BASH_SOURCE[0]}")
say() { echo "[build-guest] $*" >&2; }

# ------------------------------------------------------------------ host tools
need=""
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx nc && dpkg -s busybox-static >/dev/null 2>&1 \
  || need="$need busybox-static"
command -v cpio >/dev/null || need="$need cpio"
if [ -n "$need" ]; then
  say "installing:$need"
  apt-get install -y $need >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1; apt-get install -y $need >/dev/null; }
fi
BUSYBOX=/bin/busybox
file -b "$BUSYBOX" 2>/dev/null | grep -q 'dynamically' && { say "$BUSYBOX is not static"; exit 1; }

# ------------------------------------------------------------------ kernel (Debian .deb)
if [ ! -s "$CACHE/vmlinuz" ] || [ ! -d "$CACHE/modules" ]; then
  pkg=${KERNEL_PKG:-}
  if [ -z "$pkg" ]; then
    pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    if [ -z "$pkg" ]; then
      apt-get update >/dev/null 2>&1 || true
      pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    fi
  fi
  [ -n "$pkg" ] || { say "no linux-image-6.1.0-*-amd64 package known to apt"; exit 1; }
  say "guest kernel package: $pkg"
  tmp="$CACHE/kernel.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { say "apt-get download $pkg failed"; exit 1; }
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  kver=$(ls "$tmp/x/lib/modules" | head -1)
  K="$tmp/x/lib/modules/$kver/kernel"
  rm -rf "$CACHE/modules"; mkdir -p "$CACHE/modules"
  # the virtio drivers + their dependencies (read from each module's .modinfo "depends=")
  want="virtio_pci virtio_blk virtio_net"
  order=""
  add_mod() {   # depth-first: dependencies first
    local m=$1 f d
    case " $order " in *" $m "*) return ;; esac
    f=$(find "$K" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$f" ] || { say "module $m not found in $pkg"; exit 1; }
    case "$f" in
      *.xz) xz -dc "$f" > "$CACHE/modules/$m.ko" ;;
      *)    cp "$f" "$CACHE/modules/$m.ko" ;;
    esac
    for d in $(tr '\0' '\n' < "$CACHE/modules/$m.ko" | grep -a '^depends=' | head -1 | cut -d= -f2 | tr ',' ' '); do
      add_mod "$d"
    done
    order="$order $m"
  }
  for m in $want; do add_mod "$m"; done
  echo $order > "$CACHE/modules/load-order.txt"
  cp "$tmp"/x/boot/vmlinuz-* "$CACHE/vmlinuz.new" && mv "$CACHE/vmlinuz.new" "$CACHE/vmlinuz"
  rm -f "$CACHE/vmlinux"
  # PVH-bootable vmlinux: the bzImage payload is an xz stream (CONFIG_KERNEL_XZ on Debian)
  if grep -q '^CONFIG_PVH=y' "$tmp"/x/boot/config-* && grep -q '^CONFIG_KERNEL_XZ=y' "$tmp"/x/boot/config-*; then
    off=$(grep -abo $'\xfd7zXZ\x00' "$CACHE/vmlinuz" | head -1 | cut -d: -f1 || true)
    if [ -n "$off" ] && tail -c +$((off + 1)) "$CACHE/vmlinuz" > "$tmp/payload.xz" \
       && xz -dc --single-stream "$tmp/payload.xz" > "$CACHE/vmlinux.new" 2>/dev/null \
       && [ "$(od -An -c -N4 "$CACHE/vmlinux.new" | tr -d ' ')" = 177ELF ]; then
      mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"
    else
      rm -f "$CACHE/vmlinux.new"; say "could not extract a vmlinux: booting the bzImage"
    fi
  fi
  echo "$pkg $(dpkg-deb -f "$tmp"/*.deb Version) $kver" > "$CACHE/kernel-package.txt"
  rm -rf "$tmp"
  rm -f "$CACHE/initrd.cpio"
fi

# ------------------------------------------------------------------ initramfs
write_init() {
cat <<'EOF'
#!/bin/sh
# vmtrace tcg-lab guest /init (busybox)
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
vmtrace_wl=idle vmtrace_dur=5 vmtrace_ip=10.77.0.2/24 vmtrace_peer=10.77.0.1 vmtrace_mib=1 vmtrace_pause=0
for kv in $(cat /proc/cmdline); do
  case "$kv" in vmtrace_*=*) eval "${kv%%=*}='${kv#*=}'" ;; esac
done
for m in $(cat /lib/modules/load-order.txt); do insmod /lib/modules/$m.ko 2>/dev/null; done
ncpu=$(grep -c ^processor /proc/cpuinfo)
wl=$vmtrace_wl dur=$vmtrace_dur
up() { cut -d' ' -f1 /proc/uptime; }
echo "VMTRACE_WL start wl=$wl dur=$dur ncpu=$ncpu uptime=$(up)"
end=$(( $(date +%s) + dur ))
case "$wl" in
  cpu)
    pids=""
    i=0
    while [ $i -lt $ncpu ]; do ( while :; do :; done ) & pids="$pids $!"; i=$((i+1)); done
    sleep "$dur"
    kill $pids ;;
  disk|mixed)
    hog=""
    if [ "$wl" = mixed ]; then ( while :; do :; done ) & hog=$!; fi
    [ -b /dev/vda ] || { echo "VMTRACE_WL error: no /dev/vda"; }
    n=0
    while [ $(date +%s) -lt $end ]; do
      r=$(( (n % 4) * 64 ))
      dd if=/dev/zero of=/dev/vda bs=64k count=64 seek=$r oflag=direct conv=notrunc,fsync 2>/dev/null
      dd if=/dev/vda of=/dev/null bs=64k count=64 skip=$r iflag=direct 2>/dev/null
      n=$((n+1))
      [ "$vmtrace_pause" = 0 ] || sleep "$vmtrace_pause"
    done
    [ -z "$hog" ] || kill $hog
    echo "VMTRACE_WL disk rounds=$n (4 MiB O_DIRECT write + 4 MiB O_DIRECT read each)" ;;
  ipi)
    mkfifo /tmp/ping /tmp/pong
    peer=$(( ncpu > 1 ? 2 : 1 ))
    taskset $peer sh -c 'while :; do read x < /tmp/ping; echo "$x" > /tmp/pong; done' & pp=$!
    endup=$(( ${vmtrace_dur%%.*} + $(up | cut -d. -f1) ))
    taskset 1 sh -c 'n=0; while :; do read u _ < /proc/uptime; [ ${u%%.*} -lt '"$endup"' ] || break
      echo $n > /tmp/ping; read x < /tmp/pong; n=$((n+1)); done; echo "VMTRACE_WL ipi rounds=$n"'
    kill $pp ;;
  net)
    ifconfig lo 127.0.0.1 up
    ifconfig eth0 "${vmtrace_ip%/*}" netmask 255.255.255.0 up
    ping -c 2 -W 2 "$vmtrace_peer" >/dev/null 2>&1 && echo "VMTRACE_WL ping ok" || echo "VMTRACE_WL ping failed"
    n=0
    while [ $(date +%s) -lt $end ]; do
      wget -q -O /dev/null "http://$vmtrace_peer:8000/blob" || echo "VMTRACE_WL wget failed"
      dd if=/dev/zero bs=64k count=$((vmtrace_mib * 16)) 2>/dev/null | nc -w 2 "$vmtrace_peer" 9000 \
        || echo "VMTRACE_WL nc failed"
      n=$((n+1))
      [ "$vmtrace_pause" = 0 ] || sleep "$vmtrace_pause"
    done
    echo "VMTRACE_WL net rounds=$n (download blob + upload ${vmtrace_mib} MiB each)" ;;
  *) sleep "$dur" ;;
esac
echo "VMTRACE_WL end uptime=$(up)"
sync
poweroff -f
EOF
}

stamp=$( { sha256sum "$SELF" | cut -d' ' -f1; sha256sum "$BUSYBOX" | cut -d' ' -f1; cat "$CACHE/kernel-package.txt"; } | sha256sum | cut -c1-16)
if [ ! -s "$CACHE/initrd.cpio" ] || [ "$(cat "$CACHE/initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
  say "building initramfs"
  R="$CACHE/rootfs"; rm -rf "$R"; mkdir -p "$R"/{bin,proc,sys,dev,tmp,lib/modules}
  cp "$BUSYBOX" "$R/bin/busybox"
  for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
  cp "$CACHE"/modules/*.ko "$CACHE/modules/load-order.txt" "$R/lib/modules/"
  write_init > "$R/init"; chmod 755 "$R/init"
  (cd "$R" && find . | sort | cpio -o -H newc --quiet > "$CACHE/initrd.cpio.new")
  mv "$CACHE/initrd.cpio.new" "$CACHE/initrd.cpio"
  echo "$stamp" > "$CACHE/initrd.stamp"
  rm -rf "$R"
else
  say "cached: $CACHE/initrd.cpio"
fi

kernel=$CACHE/vmlinuz; [ -s "$CACHE/vmlinux" ] && kernel=$CACHE/vmlinux
cat > "$CACHE/guest.env" <<EOF
GUEST_KERNEL=$kernel
GUEST_INITRD=$CACHE/initrd.cpio
GUEST_KERNEL_PACKAGE="$(cat "$CACHE/kernel-package.txt")"
GUEST_MODULES="$(cat "$CACHE/modules/load-order.txt")"
GUEST_APPEND_HINT="console=ttyS0 quiet panic=-1 vmtrace_wl=cpu|disk|net|idle|mixed|ipi vmtrace_dur=SECONDS [vmtrace_ip=10.x.y.z/24 vmtrace_peer=10.x.y.1 vmtrace_mib=N] [vmtrace_pause=SECONDS]"
EOF
say "kernel:    $kernel ($(cat "$CACHE/kernel-package.txt"))"
say "initramfs: $CACHE/initrd.cpio ($(stat -c %s "$CACHE/initrd.cpio") bytes; modules: $(cat "$CACHE/modules/load-order.txt"))"
cat "$CACHE/guest.env"
