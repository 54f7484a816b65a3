#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boots the guest once in bench mode and reports nova's benchmark figures.

The guest's `nova-test bench` measures every figure in repeated batches and prints its median,
minimum and maximum; figures with a reference (GETPARAM against DRM_IOCTL_VERSION, nova's GEM
objects against vgem's) alternate with it batch by batch, and their ratio is taken pair by pair.
This script prints them as a table, writes them as JSON, and, given a base (an earlier run's
JSON), prints each figure beside the base's with the change:

    bench.py [--chip ad102] [--json FILE] [--base FILE]

`make bench` runs it (BENCH_OUT and BENCH_BASE set the two files). The JSON is
{"commit", "chip", "date", "clock": {...}, "figures": [{figure, unit, median, min, max, n,
reference, ratio: {median, min, max, n} or null, commit, chip, date}]}. Nothing here fails on
timing: the exit status is nonzero only when the guest did not run the bench.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

LINE_RE = re.compile(r"nova-bench: (.*)$")
KV_RE = re.compile(r"(\w+)=(\S+)")


def _num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def parse(lines):
    """The bench lines of a console: (clock, figures, ratios, errors, other lines)."""
    clock, figures, ratios, errors, other = {}, {}, {}, [], []
    for raw in lines:
        m = LINE_RE.search(raw.rstrip("\r\n"))
        if not m:
            continue
        text = m.group(1)
        words = text.split()
        kv = {k: _num(v) for k, v in KV_RE.findall(text)}
        if words[0] == "clock" and len(words) > 1:
            clock = {"source": words[1], "resolution_ns": kv.get("resolution"),
                     "getres_ns": kv.get("getres")}
        elif words[0] == "figure" and len(words) > 2:
            figures[words[1]] = {"figure": words[1], "unit": words[2],
                                 **{k: kv.get(k) for k in ("median", "min", "max", "n")}}
        elif words[0] == "ratio" and len(words) > 1:
            ratios[words[1]] = kv
        elif words[0] == "error":
            errors.append(text[len("error "):])
        else:
            other.append(text)
    return clock, figures, ratios, errors, other


def commit():
    """The commit measured, with `-dirty` when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=guest.TOP,
                              check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=guest.TOP, capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def records(chip, clock, figures, ratios):
    """The JSON document of one run."""
    meta = {"commit": commit(), "chip": chip,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    by_figure = {r.get("of"): (name, r) for name, r in ratios.items()}
    out = []
    for name, f in figures.items():
        rec = dict(f)
        if name in by_figure:
            rname, r = by_figure[name]
            rec["reference"] = r.get("ref")
            rec["ratio"] = {"name": rname, **{k: r.get(k) for k in ("median", "min", "max", "n")}}
        else:
            rec["reference"], rec["ratio"] = None, None
        rec.update(meta)
        out.append(rec)
    return {**meta, "clock": clock, "figures": out}


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def table(doc):
    """The run as text lines."""
    c = doc.get("clock") or {}
    out = [f"clock: {c.get('source', '?')}, measured resolution {c.get('resolution_ns', '?')} ns "
           f"(clock_getres says {c.get('getres_ns', '?')} ns)"]
    out.append(f"{'figure':34} {'unit':9} {'median':>11} {'min':>11} {'max':>11} {'n':>4}   "
               f"{'ratio to reference (min-max)'}")
    for f in doc["figures"]:
        r = f.get("ratio")
        rtxt = (f"{r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f}) against {f['reference']}"
                if r and r.get("median") is not None else "")
        out.append(f"{f['figure']:34} {f['unit']:9} {_fmt(f['median']):>11} {_fmt(f['min']):>11} "
                   f"{_fmt(f['max']):>11} {_fmt(f['n']):>4}   {rtxt}")
    return out


def against(doc, base):
    """Each figure (and ratio) beside the base run's, with the change, as text lines."""
    old = {f["figure"]: f for f in base.get("figures", [])}
    out = [f"against {base.get('commit', '?')} ({base.get('chip', '?')}, {base.get('date', '?')}):"]
    out.append(f"{'figure':34} {'base':>11} {'now':>11} {'change':>8}   spread")
    for f in doc["figures"]:
        b = old.get(f["figure"])
        rows = [(f["figure"], b and b.get("median"), f.get("median"),
                 b and (b.get("min"), b.get("max")))]
        if f.get("ratio"):
            br = b.get("ratio") if b else None
            rows.append(("  ratio " + f["ratio"]["name"], br and br.get("median"),
                         f["ratio"].get("median"), br and (br.get("min"), br.get("max"))))
        for name, was, now, spread in rows:
            if was is None or now is None:
                out.append(f"{name:34} {_fmt(was):>11} {_fmt(now):>11} {'-':>8}")
                continue
            change = f"{(now - was) / was * 100:+.1f}%" if was else "-"
            inside = (spread and None not in spread and spread[0] <= now <= spread[1])
            out.append(f"{name:34} {_fmt(was):>11} {_fmt(now):>11} {change:>8}   "
                       + ("within the base's min-max" if inside else "outside the base's min-max"))
    gone = sorted(set(old) - {f["figure"] for f in doc["figures"]})
    if gone:
        out.append("figures of the base that this run lacks: " + ", ".join(gone))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chip", default="ad102")
    ap.add_argument("--json", default=os.environ.get("BENCH_OUT") or None)
    ap.add_argument("--base", default=os.environ.get("BENCH_BASE") or None)
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    for path, what in ((guest.KERNEL, "kernel"), (guest.INITRD, "initramfs"),
                       (guest.SIM, "simulator")):
        if not os.path.exists(path):
            sys.exit(f"bench: the {what} is missing ({path}); run 'make bench'")
    base = None
    if args.base:
        try:
            with open(args.base) as f:
                base = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"bench: cannot read the base {args.base}: {e}")
    exp = guest.expectations(guest.describe(args.chip))
    b = guest.boot(args.chip, "bench", exp, timeout=args.timeout, name=f"bench-{args.chip}")
    clock, figures, ratios, errors, other = parse(b.console)
    for e in errors:
        print(f"bench: error {e}")
    if not figures:
        print(f"bench: the guest printed no figure (guest status {b.guest_status}); see {b.log}")
        sys.exit(1)
    doc = records(args.chip, clock, figures, ratios)
    print(f"bench: simulated {args.chip.upper()}, commit {doc['commit']}, boot {b.wall:.1f} s; "
          f"console log {b.log}")
    for line in other:
        print(f"bench: {line}")
    for line in table(doc):
        print(line)
    out = args.json or os.path.join(guest.LOGS, f"bench-{args.chip}-{doc['commit']}.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"bench: figures written to {out} (compare a later run with BENCH_BASE={out})")
    if base:
        for line in against(doc, base):
            print(line)
    for r in b.reports:
        print(f"bench: kernel report: {r}")
    sys.exit(0 if b.guest_status == 0 and not b.timed_out else 1)


if __name__ == "__main__":
    main()
