#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Creates (once) the guest root, a Debian sid root (mmdebstrap, minbase)
# holding the programs the test guest runs: IGT's tests (igt-gpu-tools),
# drm_info, libdrm's drmdevice and busybox. Prints the shell assignment
# NOVA_GUEST_ROOT=<dir>.
#
# It lives under $NOVA_CACHE, keyed by the hash of guest-root.recipe, like
# the build root of env.sh. NOVA_DEBIAN_MIRROR overrides the Debian mirror
# (default: the host's apt source).
#
# As a library (sourced with NOVA_GUEST_ROOT set), nova_in_guest_root runs
# a command inside it.

set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GUEST_RECIPE=$NOVA_TOP/scripts/nova/guest-root.recipe

# Runs a command inside the guest root (see nova_chroot in lib.sh).
nova_in_guest_root() {
	nova_chroot "$NOVA_GUEST_ROOT" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	root=$(nova_debian_root guest-root "$GUEST_RECIPE" GUEST "guest root (IGT; about 30 s)")
	echo "NOVA_GUEST_ROOT=$root"
fi
