#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs cargo in the current directory inside the nova build root, with the
# host's Rust toolchain (see nova_cargo_in_root in lib.sh). nova-test is
# built this way: its build script needs the root's libclang.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env
nova_cargo_in_root "$@"
