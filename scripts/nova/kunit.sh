#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs nova-core's KUnit suites with the kernel's own runner, as a kernel
# developer would:
#
#   tools/testing/kunit/kunit.py run --kunitconfig=drivers/gpu/nova-core \
#       --make_options LLVM=1 [--arch=x86_64]
#
# in a source tree made of the base kernel with this checkout laid over it
# ($NOVA_CACHE/kunitpy-src-<base>), inside the build root (its rustc,
# bindgen and QEMU), and under the kernel-build lock. It is a kernel build
# of its own (drivers/gpu/nova-core/.kunitconfig on the architecture's
# defaults; about 6 minutes cold on 2 cores for UML), so `make check` does
# not run it: the test guest runs the same suites at every boot.
#
#   kunit.sh [more kunit.py run options]
#
# Environment: NOVA_KUNIT_ARCH (default um, the runner's own default; or
# x86_64, in QEMU with TCG), NOVA_KUNIT_BUILD_DIR (default
# $NOVA_CACHE/kunit-<arch>), NOVA_KUNIT_JOBS (default: the CPUs).
#
# KVM does not work on these machines, and kunit.py asks QEMU for it first
# (-accel kvm -accel hvf -accel tcg): a qemu-system-x86_64 first on PATH
# drops the first two, so that QEMU runs with TCG.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env

ARCH=${NOVA_KUNIT_ARCH:-um}
BUILD=${NOVA_KUNIT_BUILD_DIR:-$NOVA_CACHE/kunit-$ARCH}
JOBS=${NOVA_KUNIT_JOBS:-$(nproc)}
# Not src-<name>-<base>: that is NOVA_KTREE=<name>'s tree (build-kernel.sh).
SRC=$NOVA_CACHE/kunitpy-src-$(basename "$NOVA_KSRC_PRISTINE")
BIN=$NOVA_CACHE/kunit-bin

case $ARCH in
x86_64 | um) ;;
*) nova_die "stage 'kunit': NOVA_KUNIT_ARCH=$ARCH: x86_64 or um" ;;
esac

mkdir -p "$BIN" "$BUILD"
cat >"$BIN/qemu-system-x86_64.tmp" <<'WRAPPER'
#!/bin/sh
# kunit.py's QEMU, without the accelerators these machines cannot use.
for a in "$@"; do
	shift
	case $a in
	-accel) skip=1; set -- "$@" "$a" ;;
	kvm | hvf) if [ "${skip:-0}" = 1 ]; then set -- "$@" tcg; else set -- "$@" "$a"; fi; skip=0 ;;
	*) skip=0; set -- "$@" "$a" ;;
	esac
done
exec /usr/bin/qemu-system-x86_64 "$@"
WRAPPER
chmod +x "$BIN/qemu-system-x86_64.tmp"
mv "$BIN/qemu-system-x86_64.tmp" "$BIN/qemu-system-x86_64"

# The same lock as the test kernel's builds: one kernel build at a time on
# the machine, whichever tree it is for.
exec 9>"$NOVA_CACHE/obj-nova.lock"
if ! flock -n 9; then
	nova_stage kunit "waiting for another kernel build"
	flock 9
fi
nova_overlay kunit "$SRC" "$BUILD.rust-staging"

nova_stage kunit "kunit.py run --kunitconfig=drivers/gpu/nova-core --arch=$ARCH (build dir $BUILD, $JOBS jobs)"
start=$(date +%s)
rc=0
nova_in_root env PATH="$BIN:/usr/sbin:/usr/bin:/sbin:/bin" \
	python3 "$SRC/tools/testing/kunit/kunit.py" run \
	--kunitconfig=drivers/gpu/nova-core --arch="$ARCH" --make_options LLVM=1 \
	--build_dir="$BUILD" --jobs="$JOBS" "$@" || rc=$?
nova_stage kunit "kunit.py exited with $rc after $(($(date +%s) - start)) s"
exit $rc
