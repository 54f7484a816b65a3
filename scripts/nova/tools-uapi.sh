#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs the uAPI headers that nova-test's bindings are generated from
# (tools/nova-test/build.rs) into tools/target/uapi/include: the base
# kernel's `make headers` output (what `make headers_install` copies), with
# this checkout's include/uapi/drm/nova_drm.h put through the same
# scripts/headers_install.sh. The tools are built before the kernel stage
# overlays the tree, so they cannot use the uapi stage's headers_install of
# the overlaid tree (check-uapi.sh), which may also hold another checkout's
# header. With KDIR=<tree>, that tree's headers, its nova_drm.h included.
#
# Only files whose content changed are rewritten, so that cargo regenerates
# the bindings only when a header really changed.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

DEST=$NOVA_TOP/tools/target/uapi/include
if [ -n "${KDIR:-}" ]; then
	BASE=$KDIR
	OBJ=$NOVA_CACHE/obj-uapi-kdir
else
	BASE=$NOVA_KSRC_PRISTINE
	OBJ=$NOVA_CACHE/obj-uapi-$(basename "$NOVA_KSRC_PRISTINE")
fi

# One `make headers` at a time per object tree. The base tree never changes,
# so its headers are made once; a KDIR tree's each time (make is incremental).
mkdir -p "$OBJ"
exec 9>"$OBJ.lock"
flock 9
if [ -n "${KDIR:-}" ] || [ ! -f "$OBJ/.nova-headers" ]; then
	nova_stage tools "make headers of $BASE (log: $NOVA_LOGS/tools-uapi-headers.log)"
	nova_run tools tools-uapi-headers nova_in_root make -C "$BASE" O="$OBJ" ARCH=x86 headers
	touch "$OBJ/.nova-headers"
fi

mkdir -p "$DEST"
if [ -n "${KDIR:-}" ]; then
	nova_run tools tools-uapi-install nova_in_root rsync -rl --checksum --delete \
		"$OBJ/usr/include/" "$DEST/"
else
	# The base tree's nova_drm.h is upstream's: ours replaces it.
	nova_run tools tools-uapi-install nova_in_root rsync -rl --checksum --delete \
		--exclude=/drm/nova_drm.h "$OBJ/usr/include/" "$DEST/"
	NEW=$DEST/../nova_drm.h.new
	# headers_install.sh runs scripts/unifdef from the object tree.
	nova_run tools tools-uapi-install nova_in_root sh -c 'cd "$1" && sh "$2/scripts/headers_install.sh" "$3" "$4"' \
		headers-install "$OBJ" "$BASE" "$NOVA_TOP/include/uapi/drm/nova_drm.h" "$NEW"
	if cmp -s "$NEW" "$DEST/drm/nova_drm.h"; then
		rm -f "$NEW"
	else
		mv "$NEW" "$DEST/drm/nova_drm.h"
	fi
fi
[ -f "$DEST/drm/nova_drm.h" ] || nova_die "stage 'tools': nova_drm.h was not installed in $DEST"
