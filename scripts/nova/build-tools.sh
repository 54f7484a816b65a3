#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the user-space tools: the simulated GPU (nova-sim, for the host)
# and the guest's test client (nova-test, linked statically so that it runs
# in the guest with no libraries). Uses the host's cargo.
#
# nova-test's bindings are generated from the installed nova_drm.h
# (tools-uapi.sh installs it) by bindgen, which needs libclang: nova-test is
# built inside the build root, which has it (nova_cargo_in_root in lib.sh).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null || nova_die "stage 'tools': cargo is not installed"
nova_load_env
cd "$NOVA_TOP/tools"
# On the host, which has the network: the root's cargo runs offline.
nova_run tools tools-fetch cargo fetch --locked
nova_stage tools "building nova-sim, nova-tlv and nova-fwfuzz (log: $NOVA_LOGS/tools-build.log)"
nova_run tools tools-build cargo build --release --locked -p nova-sim -p nova-tlv -p nova-fwfuzz
bash "$NOVA_TOP/scripts/nova/tools-uapi.sh"
nova_stage tools "building nova-test, static (log: $NOVA_LOGS/tools-guest-build.log)"
# With --target, RUSTFLAGS reach only the target's code: the build script
# (which loads libclang) and proc-macros stay dynamic host programs.
RUSTFLAGS="-C target-feature=+crt-static" nova_run tools tools-guest-build \
	nova_cargo_in_root build --release --locked -p nova-test --target-dir target/guest \
	--target x86_64-unknown-linux-gnu
