#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs the kernel's uAPI headers (make headers_install) from the
# overlaid tree and compiles scripts/nova/uapi/nova_drm_test.c against them
# with -Werror, as user space (Mesa, libdrm) would include nova_drm.h.
# GNU C: the ioctl numbers are enumerators (so that bindgen sees them, as
# in panthor_drm.h), and ISO C before C23 limits enumerators to int.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

# The tree build-kernel.sh overlaid (NOVA_KTREE as there).
case ${NOVA_KTREE:-nova} in
nova) SRC=$NOVA_CACHE/src-$(basename "$NOVA_KSRC_PRISTINE") ;;
*) SRC=$NOVA_CACHE/src-$NOVA_KTREE-$(basename "$NOVA_KSRC_PRISTINE") ;;
esac
SRC=${KDIR:-$SRC}
[ -f "$SRC/include/uapi/drm/nova_drm.h" ] || nova_die "stage 'uapi': no overlaid tree at $SRC (build the kernel first)"
[ -n "${KDIR:-}" ] || cmp -s "$NOVA_TOP/include/uapi/drm/nova_drm.h" "$SRC/include/uapi/drm/nova_drm.h" ||
	nova_die "stage 'uapi': $SRC holds another checkout's nova_drm.h (build the kernel first)"
HDR=$NOVA_CACHE/uapi-headers
nova_stage uapi "make headers_install into $HDR"
rm -rf "$HDR"
nova_run uapi uapi-headers-install nova_in_root make -C "$SRC" O="$NOVA_CACHE/obj-headers" \
	ARCH=x86 INSTALL_HDR_PATH="$HDR" headers_install
[ -f "$HDR/include/drm/nova_drm.h" ] || nova_die "stage 'uapi': nova_drm.h was not installed"
nova_stage uapi "compiling the uAPI test against the installed headers"
nova_run uapi uapi-compile nova_in_root gcc -std=gnu11 -Wall -Wextra -Werror \
	-I"$HDR/include" -o "$NOVA_CACHE/nova_drm_test" "$NOVA_TOP/scripts/nova/uapi/nova_drm_test.c"
nova_in_root "$NOVA_CACHE/nova_drm_test"
