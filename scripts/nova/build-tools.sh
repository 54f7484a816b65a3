#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the user-space tools: the simulated GPU (nova-sim, for the host)
# and the guest's test client (nova-test, linked statically so that it runs
# in the guest with no libraries). Uses the host's cargo.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null || nova_die "stage 'tools': cargo is not installed"
cd "$NOVA_TOP/tools"
nova_stage tools "building nova-sim, nova-tlv and nova-fwfuzz (log: $NOVA_LOGS/tools-build.log)"
nova_run tools tools-build cargo build --release --locked -p nova-sim -p nova-tlv -p nova-fwfuzz
nova_stage tools "building nova-test, static (log: $NOVA_LOGS/tools-guest-build.log)"
RUSTFLAGS="-C target-feature=+crt-static" nova_run tools tools-guest-build \
	cargo build --release --locked -p nova-test --target-dir target/guest
