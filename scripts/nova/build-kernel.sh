#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the nova test kernel: the base kernel tree with this repository's
# nova directories laid over it, configured from scripts/nova/guest.config.
#
#   build-kernel.sh            configure (if needed) and build bzImage
#   build-kernel.sh --lint     also write the compiler and clippy warnings
#                              of nova's sources to $NOVA_LOGS/kernel-lint.log
#
# The kernel is always built with CLIPPY=1 (clippy-driver compiles as rustc
# does, and lints on the way). Warnings only change when a crate is
# compiled, so each nova crate's warnings are kept from its last
# compilation ($OBJ/.nova-lint-*) and nothing is compiled twice.
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

CLIPPY=(CLIPPY=1)

nova_stage kernel "building bzImage with $(nproc) jobs (log: $NOVA_LOGS/kernel-build.log)"
start=$(date +%s)
nova_run kernel kernel-build nova_in_root "${MAKE[@]}" "${CLIPPY[@]}" bzImage
nova_stage kernel "bzImage ready in $(($(date +%s) - start)) s: $OBJ/arch/x86/boot/bzImage"

# Keep each nova crate's warnings (compiler, clippy, rustdoc lints) from the
# build that compiled it.
for crate in nova-core:drivers/gpu/nova-core drm-nova:drivers/gpu/drm/nova; do
	name=${crate%%:*}
	dir=${crate#*:}
	obj=$dir/$([ "$name" = nova-core ] && echo nova_core.o || echo nova.o)
	if grep -q "CLIPPY.* $obj\$" "$NOVA_LOGS/kernel-build.log"; then
		# rustc's diagnostics: from a "warning"/"error" line to the blank line
		# that ends it; keep those that point into the crate.
		awk -v dir="$dir/" '
			/^(warning|error)/ { block = $0; inblk = 1; next }
			inblk && /^$/ { if (index(block, dir)) print block "\n"; inblk = 0; next }
			inblk { block = block "\n" $0 }
		' "$NOVA_LOGS/kernel-build.log" >"$OBJ/.nova-lint-$name"
	fi
done
if [ "$LINT" = 1 ]; then
	cat "$OBJ"/.nova-lint-* >"$NOVA_LOGS/kernel-lint.log" 2>/dev/null || : >"$NOVA_LOGS/kernel-lint.log"
	if [ ! -f "$OBJ/.nova-lint-nova-core" ] || [ ! -f "$OBJ/.nova-lint-drm-nova" ]; then
		# No record of a compilation through clippy (an older build): compile again.
		rm -f "$OBJ"/drivers/gpu/nova-core/nova_core.o "$OBJ"/drivers/gpu/drm/nova/nova.o
		exec "$0" --lint
	fi
fi
