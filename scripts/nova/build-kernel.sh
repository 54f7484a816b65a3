#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the nova test kernel: the base kernel tree with this repository's
# nova directories laid over it, configured from scripts/nova/guest.config.
#
#   build-kernel.sh            configure (if needed) and build bzImage
#   build-kernel.sh --lint     also rebuild nova's crates with CLIPPY=1 and
#                              collect the compiler and clippy warnings
#
# Output: $NOVA_CACHE/obj-nova/arch/x86/boot/bzImage. Incremental: only
# the overlay files whose content changed get a new timestamp.
#
# With KDIR=<tree> the tree is built as it is (a drm-rust checkout already
# holds the nova sources), into $NOVA_CACHE/obj-kdir.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

LINT=0
[ "${1:-}" = --lint ] && LINT=1

# The paths this repository owns in the kernel tree. Directories replace
# upstream's whole (files not in the repository are deleted).
OVERLAY_DIRS="drivers/gpu/nova-core drivers/gpu/drm/nova Documentation/gpu/nova"
OVERLAY_FILES="include/uapi/drm/nova_drm.h"

if [ -n "${KDIR:-}" ]; then
	SRC=$KDIR
	OBJ=$NOVA_CACHE/obj-kdir
else
	SRC=$NOVA_CACHE/src-$(basename "$NOVA_KSRC_PRISTINE")
	OBJ=$NOVA_CACHE/obj-nova
	if [ ! -f "$SRC/.nova-src" ]; then
		nova_stage kernel "preparing the source tree $SRC (hard links to $NOVA_KSRC_PRISTINE)"
		rm -rf "$SRC"
		cp -al "$NOVA_KSRC_PRISTINE" "$SRC"
		touch "$SRC/.nova-src"
	fi
	nova_stage kernel "overlaying the nova tree on linux $NOVA_KVER"
	# --checksum without --times: a file whose content changed gets a new
	# mtime, an unchanged one keeps its old one, so kbuild rebuilds only
	# what depends on real changes. rsync replaces files by rename, so the
	# hard links into the pristine tree are never written through.
	for d in $OVERLAY_DIRS; do
		mkdir -p "$SRC/$d"
		nova_run kernel overlay nova_in_root rsync -r --checksum --delete \
			"$NOVA_TOP/$d/" "$SRC/$d/"
	done
	for f in $OVERLAY_FILES; do
		nova_run kernel overlay nova_in_root rsync --checksum "$NOVA_TOP/$f" "$SRC/$f"
	done
	# Our additions to the kernel crate (rust/), if any.
	if [ -d "$NOVA_TOP/rust" ]; then
		nova_run kernel overlay nova_in_root rsync -r --checksum "$NOVA_TOP/rust/" "$SRC/rust/"
	fi
fi

MAKE=(make -C "$SRC" O="$OBJ" LLVM=1 -j"$(nproc)")
mkdir -p "$OBJ"

FRAGMENT=$NOVA_TOP/scripts/nova/guest.config
STAMP=$OBJ/.nova-config-$(nova_recipe_hash "$FRAGMENT")
if [ ! -f "$STAMP" ] || [ ! -f "$OBJ/.config" ]; then
	nova_stage kernel "configuring (allnoconfig + scripts/nova/guest.config)"
	nova_run kernel rustavailable nova_in_root "${MAKE[@]}" rustavailable
	nova_run kernel config nova_in_root "${MAKE[@]}" KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig
	# Every option the fragment asks for must have survived.
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=[ym]$' "$FRAGMENT" | while read -r opt; do
		grep -qx "$opt" "$OBJ/.config" || echo "$opt"
	done)
	[ -z "$missing" ] || nova_die "stage 'kernel': Kconfig dropped: $missing (see $OBJ/.config)"
	rm -f "$OBJ"/.nova-config-*
	touch "$STAMP"
fi

if [ "$LINT" = 1 ]; then
	# Force nova's crates to be compiled again, through clippy.
	rm -f "$OBJ"/drivers/gpu/nova-core/nova_core.o "$OBJ"/drivers/gpu/drm/nova/nova.o
	CLIPPY=(CLIPPY=1)
else
	CLIPPY=()
fi

nova_stage kernel "building bzImage with $(nproc) jobs (log: $NOVA_LOGS/kernel-build.log)"
start=$(date +%s)
nova_run kernel kernel-build nova_in_root "${MAKE[@]}" "${CLIPPY[@]}" bzImage
nova_stage kernel "bzImage ready in $(($(date +%s) - start)) s: $OBJ/arch/x86/boot/bzImage"

if [ "$LINT" = 1 ]; then
	# Warnings from nova's sources (compiler, clippy, rustdoc lints).
	grep -E -A6 '^(warning|error)' "$NOVA_LOGS/kernel-build.log" |
		grep -E -B2 -A4 'drivers/gpu/(nova-core|drm/nova)/|nova_drm\.h' \
			>"$NOVA_LOGS/kernel-lint.log" || true
fi
