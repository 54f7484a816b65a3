#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the test guest's initramfs: busybox, drm_info and drmdevice with
# their libraries (from the build root), the static nova-test client and /init
# (scripts/nova/guest/init). Output: $NOVA_CACHE/initramfs.cpio.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

NOVA_TEST=${NOVA_TEST_BIN:-$NOVA_TOP/tools/target/guest/release/nova-test}
OUT=$NOVA_CACHE/initramfs.cpio
STAGE=$NOVA_CACHE/initramfs.d

[ -x "$NOVA_TEST" ] || nova_die "stage 'initramfs': $NOVA_TEST is missing (build tools/ first)"
[ -n "$NOVA_ROOT" ] || nova_die "stage 'initramfs': needs the build root (drm_info and busybox come from it)"

nova_stage initramfs "assembling the guest userspace"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,etc,lib/firmware}

install -m 0755 "$NOVA_ROOT/usr/bin/busybox" "$STAGE/bin/busybox"
for applet in $(nova_in_root busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$STAGE/bin/$applet"
done
install -m 0755 "$NOVA_TEST" "$STAGE/bin/nova-test"
install -m 0755 "$NOVA_TOP/scripts/nova/guest/init" "$STAGE/init"

# DRM clients from the root, with the shared libraries they load, at the
# paths the loader expects: drm_info, and libdrm's drmdevice (which prints
# what drmGetDevices2() finds; drm_info needs KMS for most of its output).
for prog in /usr/bin/drm_info /usr/bin/drmdevice; do
	install -m 0755 "$NOVA_ROOT$prog" "$STAGE/bin/$(basename "$prog")"
	nova_in_root ldd "$prog" | awk '/=>/ { print $3 } /^[ \t]*\/lib/ { print $1 }' |
		while read -r lib; do
			[ -n "$lib" ] || continue
			mkdir -p "$STAGE$(dirname "$lib")"
			cp -L "$NOVA_ROOT$lib" "$STAGE$lib"
		done
done
# drm_info reads pci.ids to name devices, when present.
if [ -f "$NOVA_ROOT/usr/share/misc/pci.ids" ]; then
	mkdir -p "$STAGE/usr/share/misc"
	cp "$NOVA_ROOT/usr/share/misc/pci.ids" "$STAGE/usr/share/misc/"
fi

# The root's cpio, run in the staging directory (the cache has the same path inside the root).
nova_in_root sh -c 'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet' \
	sh "$STAGE" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
nova_stage initramfs "$(du -h "$OUT" | cut -f1) in $OUT"
