#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the test guest's initramfs: busybox, drm_info, libdrm's drmdevice
# and the IGT tests listed in igt.tests, with their shared libraries, all
# from the guest root (guest-root.sh: Debian sid, so one libc serves every
# program); the static nova-test client; and /init (scripts/nova/guest/init).
# Output: $NOVA_CACHE/initramfs.cpio (NOVA_INITRAMFS overrides the path).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

NOVA_TEST=${NOVA_TEST_BIN:-$NOVA_TOP/tools/target/guest/x86_64-unknown-linux-gnu/release/nova-test}
OUT=${NOVA_INITRAMFS:-$NOVA_CACHE/initramfs.cpio}
STAGE=$NOVA_CACHE/$(basename "${OUT%.cpio}").d
IGT_TESTS=$NOVA_TOP/scripts/nova/igt.tests
IGT_DIR=/usr/libexec/igt-gpu-tools

[ -x "$NOVA_TEST" ] || nova_die "stage 'initramfs': $NOVA_TEST is missing (build tools/ first)"

out=$(bash "$NOVA_TOP/scripts/nova/guest-root.sh") ||
	nova_die "stage 'guest-root' failed (logs in $NOVA_LOGS)"
eval "$out"
. "$NOVA_TOP/scripts/nova/guest-root.sh"   # nova_in_guest_root
export NOVA_GUEST_ROOT

nova_stage initramfs "assembling the guest userspace"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,etc,root,lib/firmware}

install -m 0755 "$NOVA_GUEST_ROOT/usr/bin/busybox" "$STAGE/bin/busybox"
for applet in $(nova_in_guest_root busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$STAGE/bin/$applet"
done
install -m 0755 "$NOVA_TEST" "$STAGE/bin/nova-test"
install -m 0755 "$NOVA_TOP/scripts/nova/guest/init" "$STAGE/init"

# Dynamically linked programs from the guest root, at their paths there:
# drm_info, libdrm's drmdevice (which prints what drmGetDevices2() finds;
# drm_info needs KMS for most of its output), the IGT tests, and coreutils'
# stdbuf with its preload library (IGT's stdout is line-buffered through it).
progs="/usr/bin/drm_info /usr/bin/drmdevice /usr/bin/stdbuf /usr/libexec/coreutils/libstdbuf.so"
igt_list=$(sed -e 's/#.*//' "$IGT_TESTS" | awk 'NF >= 2 { print $1, $2 }')
for t in $(echo "$igt_list" | awk '{ print $1 }'); do
	[ -x "$NOVA_GUEST_ROOT$IGT_DIR/$t" ] ||
		nova_die "stage 'initramfs': IGT test $t is not in the guest root"
	progs="$progs $IGT_DIR/$t"
done
mkdir -p "$STAGE$IGT_DIR"
for prog in $progs; do
	mkdir -p "$STAGE$(dirname "$prog")"
	install -m 0755 "$NOVA_GUEST_ROOT$prog" "$STAGE$prog"
done
# Their shared libraries, as the guest root's loader resolves them.
# shellcheck disable=SC2016
nova_in_guest_root sh -c 'for p; do ldd "$p" || exit 1; done' sh $progs >"$STAGE.ldd" ||
	nova_die "stage 'initramfs': ldd failed in the guest root"
awk '/=>/ && $3 ~ /^\// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }' "$STAGE.ldd" |
	sort -u | while read -r lib; do
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$NOVA_GUEST_ROOT$lib" "$STAGE$lib"
	done
rm -f "$STAGE.ldd"
# The list guest/init runs in nova.mode=igt: "test timeout" lines.
echo "$igt_list" >"$STAGE/etc/igt.tests"
# core_setmaster drops root to a user; name the usual ones.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
	>"$STAGE/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$STAGE/etc/group"
# drm_info reads pci.ids to name devices, when present.
if [ -f "$NOVA_GUEST_ROOT/usr/share/misc/pci.ids" ]; then
	mkdir -p "$STAGE/usr/share/misc"
	cp "$NOVA_GUEST_ROOT/usr/share/misc/pci.ids" "$STAGE/usr/share/misc/"
fi

# The guest root's cpio, run in the staging directory (under the cache, so at
# the same path inside the root).
# shellcheck disable=SC2016
nova_in_guest_root sh -c \
	'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet' \
	sh "$STAGE" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
nova_stage initramfs "$(du -h "$OUT" | cut -f1) in $OUT"
