#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Creates (once) the docs root, a Debian trixie root (mmdebstrap, minbase)
# with Sphinx from Debian's packages, in which scripts/nova/docs.sh runs the
# kernel's `make htmldocs`. Prints the shell assignment NOVA_DOCS_ROOT=<dir>.
#
# It lives under $NOVA_CACHE, keyed by the hash of docs-root.recipe, like the
# guest root of guest-root.sh. NOVA_DEBIAN_MIRROR overrides the Debian mirror
# (default: the host's apt source).

set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCS_RECIPE=$NOVA_TOP/scripts/nova/docs-root.recipe

make_docs_root() {
	local root=$1 mirror tmp t0
	command -v mmdebstrap >/dev/null ||
		nova_die "stage 'docs-root': mmdebstrap is missing (apt-get install mmdebstrap)"
	. "$DOCS_RECIPE"
	mirror=$(nova_debian_mirror)
	tmp=$root.tmp
	rm -rf "$tmp"
	nova_stage docs-root "creating the Debian $DOCS_SUITE docs root (Sphinx) in $root (about a minute)"
	t0=$SECONDS
	nova_run docs-root docs-root-mmdebstrap \
		mmdebstrap --variant=minbase --mode=root --components=main \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$(echo $DOCS_PKGS | tr ' ' ,)" \
		"$DOCS_SUITE" "$tmp" "deb $mirror $DOCS_SUITE main"
	mv "$tmp" "$root"
	nova_stage docs-root "$(du -sh "$root" | cut -f1) in $((SECONDS - t0)) s"
}

root=$NOVA_CACHE/docs-root-$(nova_recipe_hash "$DOCS_RECIPE")
[ -d "$root" ] || make_docs_root "$root"
echo "NOVA_DOCS_ROOT=$root"
