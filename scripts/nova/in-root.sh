#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs a command inside the nova build root (see nova_in_root in lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
nova_load_env
nova_in_root "$@"
