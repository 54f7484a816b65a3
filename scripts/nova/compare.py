#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Side by side: our nova and the base tree's upstream nova on the same simulated GPUs.

For each chip, boots two guests on the simulator, one with our kernel (Debian's .bin firmware
files) and one with the unmodified base tree's kernel (the same files converted to TLV by
nova-tlv), both in the guest's `ready` mode, and prints for each driver how far it got, the
probe-to-ready time (guest clock, from the nova-core initcall to DRM registration or to the
probe's failure), the simulator's BAR0 access count and its violation count.

    compare.py [--chips ga102,ad102] [--runs 3] [--icount] [--json FILE]

Each chip and driver boots `--runs` times (COMPARE_RUNS, default 3), the drivers interleaved;
the probe-to-ready time is the median over the runs with its minimum and maximum, and the
nova/upstream ratio is taken run by run. `--icount` (COMPARE_ICOUNT=1) runs QEMU with -icount,
so that the guest clock counts instructions: deterministic, for comparing commits.

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
import logtags  # noqa: E402

# How far a driver got, from the kernel log lines each driver prints on the way. The first
# column names the stage; a driver has reached it when one of its patterns appears: upstream's
# wording (this tree does not control it), and our log tags (scripts/nova/logtags.py).
STAGES = [
    ("identified", [r"nova-core \S+: NVIDIA", logtags.line("identified")]),
    ("wpr2", [r"nova-core \S+: WPR2"]),
    ("gsp-started", [r"nova-core \S+: RISC-V active", r"nova-core \S+: GSP: LibOS"]),
    ("static-info", [r"nova-core \S+: GPU name:", logtags.line("gsp-running")]),
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


def run(chip, driver, i=0, icount=False):
    upstream = driver == "upstream"
    b = guest.boot(chip, "ready", name=f"compare-{chip}-{driver}" + (f"-{i}" if i else ""),
                   firmware="tlv" if upstream else True,
                   kernel=guest.UPSTREAM_KERNEL if upstream else None,
                   append=["initcall_debug", "initramfs_async=0", "nova.wait=120"], timeout=400,
                   icount=icount)
    reached, state, elapsed, errors = judge(b)
    _, stats, simlog = b.sims[0] if b.sims else (None, {}, None)
    return {
        "chip": chip,
        "driver": driver,
        "run": i,
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


def spread(values):
    """(median, min, max) of the values that are not None, or None if there are none."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    med = v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2
    return med, v[0], v[-1]


def summarise(rows):
    """One row per chip and driver over its runs: the stages and states seen, the median
    probe-to-ready time with its spread, and the MMIO and violation counts (the median, and
    whether the runs differed)."""
    out = {}
    for r in rows:
        out.setdefault((r["chip"], r["driver"]), []).append(r)
    summary = []
    for (chip, driver), runs in out.items():
        counts = {}
        for k in ("bar0_reads", "bar0_writes", "unimplemented", "violations"):
            vals = [r[k] for r in runs]
            counts[k] = round(spread(vals)[0])
            counts[k + "_varies"] = len(set(vals)) > 1
        summary.append({
            "chip": chip, "driver": driver, "runs": len(runs),
            "reached": "/".join(sorted({r["reached"] for r in runs})),
            "state": "/".join(sorted({r["state"] for r in runs})),
            "probe_to_ready": spread(r["probe_to_ready_s"] for r in runs),
            "timed_runs": sum(1 for r in runs if r["probe_to_ready_s"] is not None),
            "errors": [e for r in runs for e in r["errors"]][:3],
            **counts,
        })
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chips", default=os.environ.get("NOVA_COMPARE_CHIPS", "ga102,ad102"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("COMPARE_RUNS") or 3),
                    help="boots per chip and driver (default 3, COMPARE_RUNS)")
    ap.add_argument("--icount", action="store_true",
                    default=os.environ.get("COMPARE_ICOUNT") == "1",
                    help="deterministic guest clock from the instruction count (COMPARE_ICOUNT=1)")
    ap.add_argument("--json")
    args = ap.parse_args()
    for path, what in ((guest.KERNEL, "nova kernel"), (guest.UPSTREAM_KERNEL, "upstream kernel"),
                       (guest.INITRD, "initramfs"), (guest.SIM, "simulator"),
                       (guest.TLV, "nova-tlv")):
        if not os.path.exists(path):
            sys.exit(f"compare: the {what} is missing ({path}); run 'make compare'")
    rows = []
    chips = args.chips.split(",")
    # The runs interleave the drivers, so that a change in the machine's load touches both.
    for i in range(args.runs):
        for chip in chips:
            for driver in ("nova", "upstream"):
                print(f"==> [compare] {chip}: booting {driver} (run {i + 1} of {args.runs}"
                      f"{', icount' if args.icount else ''})", flush=True)
                rows.append(run(chip, driver, i, args.icount))
    summary = summarise(rows)
    clock = ("instructions (-icount shift=0: 1 ns per instruction)" if args.icount
             else "TSC (guest time under TCG)")
    print()
    print(f"probe-to-ready: median (min-max) over {args.runs} boots each; clock: {clock}")
    print(f"{'chip':6} {'driver':9} {'reached':12} {'state':9} {'probe->ready':>24} "
          f"{'BAR0 R':>8} {'BAR0 W':>8} {'unimpl':>7} {'viol':>5}")
    for r in summary:
        p = r["probe_to_ready"]
        t = f"{p[0]:.3f} s ({p[1]:.3f}-{p[2]:.3f})" if p else "-"
        vary = lambda k: f"{r[k]}{'~' if r[k + '_varies'] else ''}"
        print(f"{r['chip']:6} {r['driver']:9} {r['reached']:12} {r['state']:9} {t:>24} "
              f"{vary('bar0_reads'):>8} {vary('bar0_writes'):>8} {vary('unimplemented'):>7} "
              f"{vary('violations'):>5}")
    if any(r[k] for r in summary for k in r if k.endswith("_varies")):
        print("  (~: the count differed between runs; the median is shown)")
    for r in summary:
        for e in r["errors"]:
            print(f"  {r['chip']} {r['driver']}: {e}")
    for chip in chips:
        # The ratio pair by pair: nova's run i against upstream's run i.
        ratios = []
        for i in range(args.runs):
            a = next((r for r in rows if (r["chip"], r["driver"], r["run"]) == (chip, "nova", i)),
                     None)
            u = next((r for r in rows
                      if (r["chip"], r["driver"], r["run"]) == (chip, "upstream", i)), None)
            if a and u and a["probe_to_ready_s"] and u["probe_to_ready_s"]:
                ratios.append(a["probe_to_ready_s"] / u["probe_to_ready_s"])
        sa = next((r for r in summary if (r["chip"], r["driver"]) == (chip, "nova")), None)
        su = next((r for r in summary if (r["chip"], r["driver"]) == (chip, "upstream")), None)
        s = spread(ratios)
        if s and sa and su:
            acc = lambda r: r["bar0_reads"] + r["bar0_writes"]
            print(f"  {chip}: probe-to-ready nova/upstream = {s[0]:.2f} ({s[1]:.2f}-{s[2]:.2f}, "
                  f"{len(ratios)} pairs); BAR0 accesses nova/upstream = "
                  f"{acc(sa) / max(1, acc(su)):.2f}")
    if args.icount:
        print("  (icount: guest time is the instruction count; it repeats to within the simulator's "
              "completion delays, which run on the host's clock; see testing.rst)")
    else:
        print("  (times are guest time under TCG with KASAN; the ratios are what counts)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": rows, "summary": summary, "icount": args.icount}, f, indent=1)


if __name__ == "__main__":
    main()
