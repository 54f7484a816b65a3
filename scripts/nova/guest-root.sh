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

make_guest_root() {
	local root=$1 mirror tmp t0
	command -v mmdebstrap >/dev/null ||
		nova_die "stage 'guest-root': mmdebstrap is missing (apt-get install mmdebstrap)"
	. "$GUEST_RECIPE"
	mirror=$(nova_debian_mirror)
	tmp=$root.tmp
	rm -rf "$tmp"
	nova_stage guest-root "creating the Debian $GUEST_SUITE guest root (IGT) in $root (about 30 s)"
	t0=$SECONDS
	# sid's Release file can look expired to a machine whose clock is off.
	nova_run guest-root guest-root-mmdebstrap \
		mmdebstrap --variant=minbase --mode=root --components=main \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$(echo $GUEST_PKGS | tr ' ' ,)" \
		"$GUEST_SUITE" "$tmp" "deb $mirror $GUEST_SUITE main"
	mv "$tmp" "$root"
	nova_stage guest-root "$(du -sh "$root" | cut -f1) in $((SECONDS - t0)) s"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	root=$NOVA_CACHE/guest-root-$(nova_recipe_hash "$GUEST_RECIPE")
	[ -d "$root" ] || make_guest_root "$root"
	echo "NOVA_GUEST_ROOT=$root"
fi
