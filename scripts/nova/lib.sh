# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the nova developer scripts. Sourced, not run.

NOVA_TOP=${NOVA_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NOVA_CACHE=${NOVA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nova}
NOVA_LOGS=${NOVA_LOGS:-$NOVA_CACHE/logs}
export NOVA_TOP NOVA_CACHE NOVA_LOGS
mkdir -p "$NOVA_CACHE" "$NOVA_LOGS"

# Prints a stage banner (on stderr, so that stdout stays for data).
nova_stage() {
	printf '==> [%s] %s\n' "$1" "$2" >&2
}

# Runs a command with its output in a log file. On failure names the
# stage and the log, prints the log's tail and exits.
#   nova_run STAGE LOGNAME CMD...
nova_run() {
	local stage=$1 log=$NOVA_LOGS/$2.log
	shift 2
	if ! "$@" >"$log" 2>&1; then
		echo "FAILED: stage '$stage'; full log: $log" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

nova_die() {
	echo "nova: $*" >&2
	exit 1
}

# The hash of the files that define a cached artifact: a changed recipe
# rebuilds it.
nova_recipe_hash() {
	cat "$@" | sha256sum | cut -c1-12
}

# Creates (once) a Debian root with mmdebstrap (minbase, main, no recommends),
# under $NOVA_CACHE/<name>-<hash of the recipe>, and prints its directory on
# stdout:
#   nova_debian_root NAME RECIPE PREFIX WHAT
# The recipe sets <PREFIX>_SUITE and <PREFIX>_PKGS. WHAT says what the root
# holds and how long it takes, for the progress line. A root is made in
# <dir>.tmp and renamed when whole, so an interrupted run leaves no half root.
nova_debian_root() {
	local name=$1 recipe=$2 prefix=$3 what=$4 root mirror tmp t0 suite_var pkgs_var
	root=$NOVA_CACHE/$name-$(nova_recipe_hash "$recipe")
	if [ ! -d "$root" ]; then
		command -v mmdebstrap >/dev/null ||
			nova_die "stage '$name': mmdebstrap is missing (apt-get install mmdebstrap)"
		. "$recipe"
		suite_var=${prefix}_SUITE pkgs_var=${prefix}_PKGS
		local SUITE=${!suite_var} PKGS=${!pkgs_var}
		mirror=$(nova_debian_mirror)
		tmp=$root.tmp
		rm -rf "$tmp"
		nova_stage "$name" "creating the Debian $SUITE $what in $root"
		t0=$SECONDS
		# sid's Release file can look expired to a machine whose clock is off.
		nova_run "$name" "$name-mmdebstrap" \
			mmdebstrap --variant=minbase --mode=root --components=main \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--aptopt='APT::Install-Recommends "false"' \
			--include="$(echo $PKGS | tr ' ' ,)" \
			"$SUITE" "$tmp" "deb $mirror $SUITE main" >&2
		mv "$tmp" "$root"
		nova_stage "$name" "$(du -sh "$root" | cut -f1) in $((SECONDS - t0)) s"
	fi
	echo "$root"
}

# The Debian mirror for mmdebstrap: NOVA_DEBIAN_MIRROR, or the host's own
# apt source for the main archive (so that no mirror is written into a file).
nova_debian_mirror() {
	if [ -n "${NOVA_DEBIAN_MIRROR:-}" ]; then
		echo "$NOVA_DEBIAN_MIRROR"
		return
	fi
	local uri
	uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list 2>/dev/null |
		grep -o -E 'https?://[^ ]+/debian/?' | grep -v security | head -n1)
	[ -n "$uri" ] || nova_die "no Debian mirror found in the host's apt sources; set NOVA_DEBIAN_MIRROR"
	echo "${uri%/}"
}

# Loads the environment made by env.sh (NOVA_ROOT, NOVA_KSRC_PRISTINE, ...).
nova_load_env() {
	local out
	out=$(bash "$NOVA_TOP/scripts/nova/env.sh") || nova_die "stage 'env' failed (logs in $NOVA_LOGS)"
	eval "$out"
	export NOVA_ROOT NOVA_KSRC_PRISTINE NOVA_KVER NOVA_FIRMWARE
}

# The paths this repository owns in the kernel tree. Directories replace
# upstream's whole (files not in the repository are deleted).
NOVA_OVERLAY_DIRS="drivers/gpu/nova-core drivers/gpu/drm/nova Documentation/gpu/nova"
NOVA_OVERLAY_FILES="include/uapi/drm/nova_drm.h"

# Makes SRC the base kernel tree with this checkout laid over it: hard links
# to the base tree (made once), our directories and files on top, and the
# kernel crate (rust/) as the base's with ours on top, staged in STAGING.
# The caller holds the lock of the object tree SRC is built into.
#   nova_overlay STAGE SRC STAGING
nova_overlay() {
	local stage=$1 src=$2 staging=$3 d f
	if [ ! -f "$src/.nova-src" ]; then
		nova_stage "$stage" "preparing the source tree $src (hard links to $NOVA_KSRC_PRISTINE)"
		rm -rf "$src"
		cp -al "$NOVA_KSRC_PRISTINE" "$src"
		touch "$src/.nova-src"
	fi
	nova_stage "$stage" "overlaying the nova tree on linux $NOVA_KVER"
	# --checksum without --times: a file whose content changed gets a new
	# mtime, an unchanged one keeps its old one, so kbuild rebuilds only
	# what depends on real changes. rsync replaces files by rename, so the
	# hard links into the pristine tree are never written through.
	for d in $NOVA_OVERLAY_DIRS; do
		mkdir -p "$src/$d"
		nova_run "$stage" overlay nova_in_root rsync -r --checksum --delete \
			"$NOVA_TOP/$d/" "$src/$d/"
	done
	for f in $NOVA_OVERLAY_FILES; do
		nova_run "$stage" overlay nova_in_root rsync --checksum "$NOVA_TOP/$f" "$src/$f"
	done
	# Our additions to the kernel crate (rust/): base rust/ with ours on
	# top, staged first so that a file another checkout changed earlier
	# goes back to the base content, and only real changes get a new mtime.
	rm -rf "$staging"
	cp -al "$NOVA_KSRC_PRISTINE/rust" "$staging"
	if [ -d "$NOVA_TOP/rust" ]; then
		# rsync replaces by rename: the links into the base tree stay intact.
		nova_run "$stage" overlay nova_in_root rsync -r "$NOVA_TOP/rust/" "$staging/"
	fi
	nova_run "$stage" overlay nova_in_root rsync -r --checksum --delete "$staging/" "$src/rust/"
	rm -rf "$staging"
}

# Runs a command inside the Debian root ROOT, with the repository, the cache,
# /dev, /proc, /sys and /tmp visible at the same paths as outside, and the
# directories NOVA_CHROOT_BINDS lists (space-separated) as well.
#   nova_chroot ROOT CMD...
nova_chroot() {
	local userns=
	[ "$(id -u)" = 0 ] || userns=-r
	unshare $userns -m --propagation private -- bash -c '
		set -e
		root=$1; shift
		for p in /dev /proc /sys /tmp "$NOVA_TOP" "$NOVA_CACHE" ${NOVA_CHROOT_BINDS:-}; do
			mkdir -p "$root$p"
			mount --rbind "$p" "$root$p"
		done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb \
			LIBCLANG_PATH=/usr/lib/llvm-19/lib "$@"
	' nova-chroot "$@"
}

# Runs a command inside the build root (see nova_chroot). Without a root
# (NOVA_HOST_TOOLS=1) it runs the command on the host.
nova_in_root() {
	if [ -z "${NOVA_ROOT:-}" ]; then
		"$@"
		return
	fi
	nova_chroot "$NOVA_ROOT" "$@"
}

# Runs cargo (in the current directory) inside the build root, with the
# host's Rust toolchain: rustup's CARGO_HOME and RUSTUP_HOME are bound into
# the root at the same paths. nova-test's build script runs bindgen, which
# loads libclang: the root's clang 19 (LIBCLANG_PATH, see nova_chroot); the
# host has none, and the root's libclang needs the root's C library. Crates
# must have been fetched on the host first (cargo runs offline here).
# Without a root (NOVA_HOST_TOOLS=1) this is the host's cargo, and the host
# needs libclang (Debian: libclang-dev).
#   nova_cargo_in_root CARGO-ARGS...
nova_cargo_in_root() {
	if [ -z "${NOVA_ROOT:-}" ]; then
		cargo "$@"
		return
	fi
	local cargo_home=${CARGO_HOME:-$HOME/.cargo} rustup_home=${RUSTUP_HOME:-$HOME/.rustup} v
	[ -x "$cargo_home/bin/cargo" ] && [ -d "$rustup_home/toolchains" ] ||
		nova_die "nova-test is built in the build root with rustup's toolchain, and there is no" \
			"$cargo_home/bin/cargo or $rustup_home/toolchains (set CARGO_HOME and RUSTUP_HOME)"
	cargo_home=$(realpath "$cargo_home")
	rustup_home=$(realpath "$rustup_home")
	local env=(PATH="$cargo_home/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" CARGO_NET_OFFLINE=true)
	for v in RUSTFLAGS RUSTDOCFLAGS CARGO_BUILD_JOBS CARGO_TERM_COLOR RUSTUP_TOOLCHAIN \
		NOVA_UAPI_INCLUDE; do
		[ -z "${!v:-}" ] || env+=("$v=${!v}")
	done
	NOVA_CHROOT_BINDS="$cargo_home $rustup_home" nova_chroot "$NOVA_ROOT" \
		env -C "$PWD" "${env[@]}" cargo "$@"
}
