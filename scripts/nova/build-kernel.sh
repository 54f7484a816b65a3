#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the nova test kernel: the base kernel tree with this repository's
# nova directories laid over it, configured from scripts/nova/guest.config.
#
#   build-kernel.sh            configure (if needed) and build bzImage
#   build-kernel.sh --lint     also write the compiler and clippy warnings
#                              of nova's sources to $NOVA_LOGS/kernel-lint.log
#   build-kernel.sh --rustdoc  also run `make LLVM=1 rustdoc` (the kernel
#                              crate's documentation, with our rust/ files)
#                              and write the rustdoc warnings from our rust/
#                              files to $NOVA_LOGS/kernel-rustdoc.log
#                              (options combine)
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
#
# With NOVA_VARIANT=upstream the unmodified base tree (upstream nova-core
# and nova-drm, no overlay) is built with the same configuration into
# $NOVA_CACHE/obj-upstream: the peer driver of the side-by-side comparison.
# Its warnings are upstream's, so they are neither linted nor kept.
#
# Parallel work (several checkouts, one cache):
#   NOVA_KTREE=<name>      a separate source and object tree
#                          ($NOVA_CACHE/src-<name>, obj-<name>); the default
#                          tree is shared, and builds in one tree are
#                          serialised with a lock, each overlaying its own
#                          checkout ($NOVA_TOP) first.
#   NOVA_KERNEL_OUT=<path> copy the bzImage there before the lock is
#                          released (guest.py boots NOVA_KERNEL=<path>).

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

LINT=0
RUSTDOC=0
for arg in "$@"; do
	case $arg in
	--lint) LINT=1 ;;
	--rustdoc) RUSTDOC=1 ;;
	*) nova_die "stage 'kernel': unknown option '$arg' (--lint, --rustdoc)" ;;
	esac
done

VARIANT=${NOVA_VARIANT:-nova}
if [ "$VARIANT" = upstream ]; then
	[ -z "${KDIR:-}" ] || nova_die "stage 'kernel': NOVA_VARIANT=upstream builds the base tree; unset KDIR"
	SRC=$NOVA_KSRC_PRISTINE
	OBJ=$NOVA_CACHE/obj-upstream
	nova_stage kernel "building the unmodified base tree (upstream nova) of linux $NOVA_KVER"
elif [ "$VARIANT" != nova ]; then
	nova_die "stage 'kernel': unknown NOVA_VARIANT '$VARIANT' (nova or upstream)"
elif [ -n "${KDIR:-}" ]; then
	SRC=$KDIR
	OBJ=$NOVA_CACHE/obj-kdir
else
	KTREE=${NOVA_KTREE:-nova}
	case $KTREE in
	nova)
		SRC=$NOVA_CACHE/src-$(basename "$NOVA_KSRC_PRISTINE")
		OBJ=$NOVA_CACHE/obj-nova ;;
	upstream | kdir | *[!a-z0-9-]*)
		nova_die "stage 'kernel': NOVA_KTREE must be a plain name (a-z, 0-9, -), not '$KTREE'" ;;
	*)
		SRC=$NOVA_CACHE/src-$KTREE-$(basename "$NOVA_KSRC_PRISTINE")
		OBJ=$NOVA_CACHE/obj-$KTREE ;;
	esac
fi

# One build at a time per object tree, from the overlay to the copy of the
# bzImage (the lock is released when this script exits).
mkdir -p "$OBJ"
exec 9>"$OBJ.lock"
if ! flock -n 9; then
	nova_stage kernel "waiting for another build of $OBJ"
	flock 9
fi

if [ "$VARIANT" = nova ] && [ -z "${KDIR:-}" ]; then
	nova_overlay kernel "$SRC" "$OBJ.rust-staging"
fi

MAKE=(make -C "$SRC" O="$OBJ" LLVM=1 -j"$(nproc)")
LOG=kernel-build
[ "$VARIANT" = nova ] || LOG=kernel-build-$VARIANT
FRAGMENT=$NOVA_TOP/scripts/nova/guest.config
STAMP=$OBJ/.nova-config-$(nova_recipe_hash "$FRAGMENT")
if [ ! -f "$STAMP" ] || [ ! -f "$OBJ/.config" ]; then
	nova_stage kernel "configuring (allnoconfig + scripts/nova/guest.config)"
	nova_run kernel "$LOG-rustavailable" nova_in_root "${MAKE[@]}" rustavailable
	nova_run kernel "$LOG-config" nova_in_root "${MAKE[@]}" KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig
	# Every option the fragment asks for must have survived. The unmodified
	# base tree lacks the options our overlay adds (NOVA_CORE_KUNIT_TEST):
	# for it, an option no Kconfig file of the tree defines is not asked for.
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=[ym]$' "$FRAGMENT" | while read -r opt; do
		grep -qx "$opt" "$OBJ/.config" && continue
		sym=${opt%%=*}
		if [ "$VARIANT" = upstream ] &&
			! grep -rqx --include='Kconfig*' "config ${sym#CONFIG_}" "$SRC"; then
			continue
		fi
		echo "$opt"
	done)
	[ -z "$missing" ] || nova_die "stage 'kernel': Kconfig dropped: $missing (see $OBJ/.config)"
	rm -f "$OBJ"/.nova-config-*
	touch "$STAMP"
fi

CLIPPY=(CLIPPY=1)
[ "$VARIANT" = nova ] || CLIPPY=()

nova_stage kernel "building bzImage with $(nproc) jobs (log: $NOVA_LOGS/$LOG.log)"
start=$(date +%s)
nova_run kernel "$LOG" nova_in_root "${MAKE[@]}" "${CLIPPY[@]}" bzImage
nova_stage kernel "bzImage ready in $(($(date +%s) - start)) s: $OBJ/arch/x86/boot/bzImage"
if [ -n "${NOVA_KERNEL_OUT:-}" ]; then
	mkdir -p "$(dirname "$NOVA_KERNEL_OUT")"
	cp "$OBJ/arch/x86/boot/bzImage" "$NOVA_KERNEL_OUT.tmp"
	mv "$NOVA_KERNEL_OUT.tmp" "$NOVA_KERNEL_OUT"
	nova_stage kernel "copied to $NOVA_KERNEL_OUT"
fi
[ "$VARIANT" = nova ] || exit 0

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
		exec "$0" "$@"
	fi
fi

# The kernel crate's documentation. rustdoc's targets always run from scratch (the
# output is removed first), so they run again only when what they read changed: the
# kernel crate's sources (the base's with ours on top) and the configuration.
if [ "$RUSTDOC" = 1 ]; then
	key=$({
		cat "$OBJ/.config"
		(cd "$SRC/rust" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16)
	if [ -f "$OBJ/.nova-rustdoc-$key" ]; then
		nova_stage kernel "rustdoc: the kernel crate and the configuration are unchanged since its last run"
	else
		nova_stage kernel "make LLVM=1 rustdoc (log: $NOVA_LOGS/kernel-rustdoc-build.log)"
		start=$(date +%s)
		nova_run kernel kernel-rustdoc-build nova_in_root "${MAKE[@]}" rustdoc
		# rustdoc's warnings: from a "warning"/"error" line to the blank line that
		# ends it; keep those that point into one of our rust/ files.
		ours=$(cd "$NOVA_TOP" && find rust -type f -name '*.rs' 2>/dev/null | tr '\n' ' ')
		awk -v ours="$ours" '
			BEGIN { n = split(ours, f, " ") }
			/^(warning|error)/ { block = $0; inblk = 1; next }
			inblk && /^$/ {
				for (i = 1; i <= n; i++) if (index(block, f[i])) { print block "\n"; break }
				inblk = 0; next
			}
			inblk { block = block "\n" $0 }
		' "$NOVA_LOGS/kernel-rustdoc-build.log" >"$OBJ/.nova-rustdoc.log"
		rm -f "$OBJ"/.nova-rustdoc-*
		touch "$OBJ/.nova-rustdoc-$key"
		nova_stage kernel "rustdoc in $(($(date +%s) - start)) s: $OBJ/Documentation/output/rust/rustdoc/kernel/index.html"
	fi
	cp "$OBJ/.nova-rustdoc.log" "$NOVA_LOGS/kernel-rustdoc.log"
fi
