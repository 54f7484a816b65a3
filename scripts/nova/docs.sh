#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks the documentation as the kernel builds it:
#
#   docs.sh kernel-doc   scripts/kernel-doc -Wall -none on the uAPI header and
#                        every C file and header of ours (in the build root)
#   docs.sh htmldocs [TREE]
#                        `make SPHINXDIRS=gpu htmldocs` with Sphinx from
#                        Debian's packages (the docs root of docs-root.sh), of
#                        a kernel tree that holds this tree's nova: by default
#                        the end state of the patch series (scripts/nova/
#                        series.py leaves it checked out in its repository;
#                        `series.py --htmldocs` runs this while it holds the
#                        repository's lock)
#   docs.sh rustdoc      reports the warnings from our rust/ files of the
#                        last `make LLVM=1 rustdoc`, which runs in the
#                        kernel's object tree (build-kernel.sh --rustdoc)
#   docs.sh              kernel-doc and htmldocs
#
# Output: $NOVA_CACHE/obj-docs/Documentation/output/gpu/ (incremental: Sphinx
# reads again only the pages, and the sources of their kernel-doc
# directives, that changed). The log is $NOVA_LOGS/docs-htmldocs.log; the
# warnings from nova's pages and files go to $NOVA_LOGS/docs-warnings.log,
# and the script fails if there is any.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

what=${1:-all}
if [ "$what" = rustdoc ]; then
	log=$NOVA_LOGS/kernel-rustdoc.log
	[ -f "$log" ] || nova_die "stage 'docs': no rustdoc run yet (build-kernel.sh --rustdoc)"
	if [ -s "$log" ]; then
		cat "$log" >&2
		nova_die "stage 'docs': rustdoc warns about our rust/ files; see $log"
	fi
	nova_stage docs "rustdoc: no warning from our rust/ files"
	exit 0
fi
if [ "$what" = kernel-doc ] || [ "$what" = all ]; then
	mapfile -t files < <(cd "$NOVA_TOP" && git ls-files drivers include rust | grep -E '\.[ch]$')
	nova_stage docs "scripts/kernel-doc -Wall -none on ${#files[@]} files (log: $NOVA_LOGS/docs-kernel-doc.log)"
	nova_run docs docs-kernel-doc nova_in_root "$NOVA_KSRC_PRISTINE/scripts/kernel-doc" -Wall -none \
		"${files[@]/#/$NOVA_TOP/}"
	if grep -qiE 'warning|error' "$NOVA_LOGS/docs-kernel-doc.log"; then
		cat "$NOVA_LOGS/docs-kernel-doc.log" >&2
		nova_die "stage 'docs': kernel-doc warns; see $NOVA_LOGS/docs-kernel-doc.log"
	fi
	nova_stage docs "kernel-doc: no warning"
fi
[ "$what" = htmldocs ] || [ "$what" = all ] || exit 0

SRC=${2:-$NOVA_CACHE/series-git/$(basename "$NOVA_KSRC_PRISTINE")}
[ -f "$SRC/Documentation/gpu/nova/index.rst" ] ||
	nova_die "stage 'docs': no nova documentation in $SRC (run scripts/nova/series.py first)"
if [ -z "${2:-}" ] && [ -z "${NOVA_SERIES_LOCKED:-}" ]; then
	# The series' repository is shared: hold its lock, and build only if it holds this
	# checkout's pages (series.py --htmldocs builds them while it still has the lock).
	exec 8>"$SRC.lock"
	flock 8
	diff -r -q "$NOVA_TOP/Documentation/gpu/nova" "$SRC/Documentation/gpu/nova" >/dev/null &&
		cmp -s "$NOVA_TOP/include/uapi/drm/nova_drm.h" "$SRC/include/uapi/drm/nova_drm.h" ||
		nova_die "stage 'docs': $SRC holds another checkout's series (run make series first)"
fi
eval "$(bash "$NOVA_TOP/scripts/nova/docs-root.sh")"
OBJ=$NOVA_CACHE/obj-docs
mkdir -p "$OBJ"
exec 9>"$OBJ.lock"
flock 9
nova_stage docs "make SPHINXDIRS=gpu htmldocs of $SRC (log: $NOVA_LOGS/docs-htmldocs.log)"
t0=$SECONDS
# Sphinx's own -j is not used: the machine's cores are shared with the builds.
nova_run docs docs-htmldocs nova_chroot "$NOVA_DOCS_ROOT" \
	make -C "$SRC" O="$OBJ" SPHINXDIRS=gpu htmldocs
# Warnings (Sphinx's and kernel-doc's) that name a nova page or file.
grep -E '(WARNING|ERROR|CRITICAL|warning|error):' "$NOVA_LOGS/docs-htmldocs.log" |
	grep -E 'Documentation/gpu/nova/|nova_drm\.h|drivers/gpu/(nova-core|drm/nova)/' \
	>"$NOVA_LOGS/docs-warnings.log" || true
n=$(wc -l <"$NOVA_LOGS/docs-warnings.log")
all=$(grep -cE '(WARNING|ERROR|CRITICAL):' "$NOVA_LOGS/docs-htmldocs.log" || true)
nova_stage docs "built in $((SECONDS - t0)) s: $OBJ/Documentation/output/gpu/nova/index.html; $n warnings from nova's pages ($all in all of gpu/)"
if [ "$n" != 0 ]; then
	cat "$NOVA_LOGS/docs-warnings.log" >&2
	exit 1
fi
