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

root=$(nova_debian_root docs-root "$DOCS_RECIPE" DOCS "docs root (Sphinx; about a minute)")
echo "NOVA_DOCS_ROOT=$root"
