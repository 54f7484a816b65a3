#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Side by side: our nova and the base tree's upstream nova on the same simulated GPUs.

For each chip, boots two guests on the simulator, one with our kernel (Debian's .bin firmware
files) and one with the unmodified base tree's kernel (the same files converted to TLV by
nova-tlv), both in the guest's `ready` mode, and prints for each driver how far it got, the
probe-to-ready time (guest clock, from the nova-core initcall to DRM registration or to the
probe's failure), the simulator's BAR0 access count and its violation count.

    compare.py [--chips ga102,ad102] [--json FILE]

Needs both kernels (build-kernel.sh, and NOVA_VARIANT=upstream build-kernel.sh), the tools
and the initramfs; `make compare` builds them first. TCG times: only the ratio between the
two drivers, measured in the same run, means anything.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

# How far a driver got, from the kernel log lines each driver prints on the way. The first
# column names the stage; a driver has reached it when one of its patterns appears.
STAGES = [
    ("identified", [r"nova-core \S+: NVIDIA"]),
    ("wpr2", [r"nova-core \S+: WPR2"]),
    ("gsp-started", [r"nova-core \S+: RISC-V active", r"nova-core \S+: GSP: LibOS"]),
    ("static-info", [r"nova-core \S+: GPU name:", r"nova-core \S+: GSP-RM \S+ running: "]),
    # Our DRM driver is "nova", upstream's 7.3 one "nova-drm".
    ("drm", [r"\[drm\] Initialized nova(-drm)? "]),
]

TS_RE = re.compile(r"^nova-ready: log: \[\s*(\d+\.\d+)\] (.*)$")


def judge(b):
    """What a `ready` boot shows: (stage reached, state, probe-to-ready seconds, error lines)."""
    lines = []
    state = "no-result"
    for line in b.console:
        line = line.rstrip("\n")
        m = TS_RE.match(line)
        if m:
            lines.append((float(m.group(1)), m.group(2)))
        m = re.match(r"nova-ready: state (\S+)", line)
        if m:
            state = m.group(1)
    reached = "none"
    for stage, pats in STAGES:
        if any(re.search(p, text) for _, text in lines for p in pats):
            reached = stage
    start = next((t for t, text in lines if re.search(r"calling\s+\S*nova_core", text)), None)
    if start is None:
        start = next((t for t, text in lines if "nova-core" in text), None)
    end = None
    if state == "ready":
        end = next((t for t, text in lines if re.search(r"Initialized nova(-drm)? ", text)),
                   None)
    else:
        # initcall_debug's "probe of DEV with driver nova-core returned N after U usecs".
        end = next((t for t, text in lines
                    if re.search(r"probe of \S+ with driver nova-core returned|"
                                 r"nova-core.*probe.*failed", text)), None)
    elapsed = end - start if start is not None and end is not None else None
    errors = [text for _, text in lines
              if re.search(r"nova-core \S+: .*(fail|error|refus|timed out)", text, re.I)]
    return reached, state, elapsed, errors


def run(chip, driver):
    upstream = driver == "upstream"
    b = guest.boot(chip, "ready", name=f"compare-{chip}-{driver}",
                   firmware="tlv" if upstream else True,
                   kernel=guest.UPSTREAM_KERNEL if upstream else None,
                   append=["initcall_debug", "initramfs_async=0", "nova.wait=120"], timeout=400)
    reached, state, elapsed, errors = judge(b)
    _, stats, simlog = b.sims[0] if b.sims else (None, {}, None)
    return {
        "chip": chip,
        "driver": driver,
        "reached": reached,
        "state": state,
        "probe_to_ready_s": elapsed,
        "bar0_reads": int(stats.get("reads", 0)),
        "bar0_writes": int(stats.get("writes", 0)),
        "unimplemented": int(stats.get("unimplemented_reads", 0)) +
        int(stats.get("unimplemented_writes", 0)),
        "violations": int(stats.get("violations", 0)),
        "errors": errors[:3],
        "wall_s": round(b.wall, 1),
        "log": b.log,
        "sim_log": simlog,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chips", default=os.environ.get("NOVA_COMPARE_CHIPS", "ga102,ad102"))
    ap.add_argument("--json")
    args = ap.parse_args()
    for path, what in ((guest.KERNEL, "nova kernel"), (guest.UPSTREAM_KERNEL, "upstream kernel"),
                       (guest.INITRD, "initramfs"), (guest.SIM, "simulator"),
                       (guest.TLV, "nova-tlv")):
        if not os.path.exists(path):
            sys.exit(f"compare: the {what} is missing ({path}); run 'make compare'")
    rows = []
    for chip in args.chips.split(","):
        for driver in ("nova", "upstream"):
            print(f"==> [compare] {chip}: booting {driver}", flush=True)
            rows.append(run(chip, driver))
    print()
    print(f"{'chip':6} {'driver':9} {'reached':12} {'state':9} {'probe->ready':>12} "
          f"{'BAR0 R':>8} {'BAR0 W':>8} {'unimpl':>7} {'viol':>5}")
    for r in rows:
        t = f"{r['probe_to_ready_s']:.3f} s" if r["probe_to_ready_s"] is not None else "-"
        print(f"{r['chip']:6} {r['driver']:9} {r['reached']:12} {r['state']:9} {t:>12} "
              f"{r['bar0_reads']:>8} {r['bar0_writes']:>8} {r['unimplemented']:>7} "
              f"{r['violations']:>5}")
    for r in rows:
        for e in r["errors"]:
            print(f"  {r['chip']} {r['driver']}: {e}")
    by = {(r["chip"], r["driver"]): r for r in rows}
    for chip in args.chips.split(","):
        a, u = by.get((chip, "nova")), by.get((chip, "upstream"))
        if a and u and a["probe_to_ready_s"] and u["probe_to_ready_s"]:
            print(f"  {chip}: probe-to-ready nova/upstream = "
                  f"{a['probe_to_ready_s'] / u['probe_to_ready_s']:.2f}; BAR0 accesses "
                  f"nova/upstream = "
                  f"{(a['bar0_reads'] + a['bar0_writes']) / max(1, u['bar0_reads'] + u['bar0_writes']):.2f}")
    print("  (times are guest time under TCG with KASAN; the ratios are what counts)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
