#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Creates (once) the build and test environment for the nova tree and
# prints the shell assignments that describe it:
#
#   - a Debian trixie root (mmdebstrap) with the kernel toolchain, QEMU
#     from trixie-backports, the base kernel source and the GSP firmware;
#   - the extracted base kernel tree (Debian's linux-source-7.3).
#
# Everything lives under $NOVA_CACHE (default ~/.cache/nova), keyed by
# the hash of this recipe, so a changed recipe builds a new root.
#
# Overrides:
#   NOVA_HOST_TOOLS=1  use the host's toolchain and QEMU (no root is made)
#   KDIR=/path         use this kernel tree instead of linux-source-7.3
#   NOVA_FIRMWARE=/p   directory holding nvidia/<chip>/gsp/ (default: root's)
#   NOVA_DEBIAN_MIRROR the Debian mirror (default: the host's apt source)

set -euo pipefail
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/env.recipe"

HASH=$(nova_recipe_hash "$(dirname "$0")/env.recipe")
ROOT=$NOVA_CACHE/root-$HASH
ENVFILE=$NOVA_CACHE/env-$HASH.sh

make_root() {
	local mirror tmp
	if ! command -v mmdebstrap >/dev/null; then
		# The one host package the environment needs; installed when we can.
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			nova_stage env "installing mmdebstrap on the host"
			nova_run env host-apt sh -c 'apt-get update && apt-get install -y mmdebstrap'
		else
			nova_die "mmdebstrap is missing: apt-get install mmdebstrap (or set NOVA_HOST_TOOLS=1)"
		fi
	fi
	mirror=$(nova_debian_mirror)
	tmp=$ROOT.tmp
	rm -rf "$tmp"
	nova_stage env "creating the Debian trixie root in $ROOT (about 2-4 minutes)"
	nova_run env mmdebstrap \
		mmdebstrap --variant=minbase --mode=root \
		--components=main,non-free-firmware \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$(echo $BASE_PKGS | tr ' ' ,)" \
		--customize-hook="chroot \"\$1\" apt-get -y -t trixie-backports install $(echo $BACKPORTS_PKGS)" \
		trixie "$tmp" \
		"deb $mirror trixie main non-free-firmware" \
		"deb $mirror trixie-backports main non-free-firmware"
	mv "$tmp" "$ROOT"
}

extract_kernel() {
	local tarball ver dir
	tarball=$(ls "$ROOT"/usr/src/linux-source-7.3*.tar.* 2>/dev/null | head -n1)
	[ -n "$tarball" ] || nova_die "linux-source-7.3 tarball not found in $ROOT/usr/src"
	ver=$(sed -n '/^Package: linux-source-7.3$/,/^$/s/^Version: //p' "$ROOT/var/lib/dpkg/status")
	dir=$NOVA_CACHE/linux-$(echo "$ver" | tr "~+:" "___")
	if [ ! -f "$dir/.nova-extracted" ]; then
		nova_stage env "extracting linux-source-7.3 $ver"
		rm -rf "$dir" && mkdir -p "$dir"
		nova_run env extract tar -xf "$tarball" -C "$dir" --strip-components=1
		touch "$dir/.nova-extracted"
	fi
	echo "$dir $ver"
}

if [ "${NOVA_HOST_TOOLS:-0}" = 1 ]; then
	[ -n "${KDIR:-}" ] || nova_die "NOVA_HOST_TOOLS=1 needs KDIR=<your kernel tree>"
	cat <<-EOF
	NOVA_ROOT=
	NOVA_KSRC_PRISTINE=$KDIR
	NOVA_KVER=$(make -s -C "$KDIR" kernelversion 2>/dev/null || echo unknown)
	NOVA_FIRMWARE=${NOVA_FIRMWARE:-/lib/firmware}
	EOF
	exit 0
fi

if [ ! -d "$ROOT" ]; then
	make_root
fi
if [ ! -f "$ENVFILE" ] || [ -n "${KDIR:-}" ]; then
	if [ -n "${KDIR:-}" ]; then
		ksrc=$KDIR
		kver=$(make -s -C "$KDIR" kernelversion 2>/dev/null || echo unknown)
	else
		read -r ksrc kver < <(extract_kernel)
	fi
	cat >"$ENVFILE.tmp" <<-EOF
	NOVA_ROOT=$ROOT
	NOVA_KSRC_PRISTINE=$ksrc
	NOVA_KVER=$kver
	NOVA_FIRMWARE=${NOVA_FIRMWARE:-$ROOT/usr/lib/firmware}
	EOF
	if [ -n "${KDIR:-}" ]; then
		cat "$ENVFILE.tmp" && rm -f "$ENVFILE.tmp"
		exit 0
	fi
	mv "$ENVFILE.tmp" "$ENVFILE"
fi
cat "$ENVFILE"
