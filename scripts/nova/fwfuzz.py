#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The firmware fuzzer: damaged GSP firmware files, one guest, many variants.

tools/nova-fwfuzz enumerates damaged variants of Debian's files for one chip
per family that boots GSP-RM (GA102 and AD102) and picks some by seed; this
script packs them (as patches to the intact files) into an extra initramfs
archive, boots one guest with both GPUs, and judges what the guest reports
(guest/init, nova.mode=fwfuzz). A variant passes when:
  * the kernel reports nothing (KASAN, lockdep, WARN, ...) while it runs;
  * if nova-core refuses the GPU, one of its lines names the damaged file
    (or, for the GSP-RM image and the bootloader, which only SEC2's booter
    can verify, the booter_load step that refused them);
  * the GPU binds again once the intact file is back (after the reset
    nova-core asks for, if it asks).

As a program (make fuzz-firmware) it runs every variant, or
NOVA_FUZZ_COUNT of them chosen by NOVA_FUZZ_SEED:
    fwfuzz.py [--count N] [--seed S]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import logtags  # noqa: E402

FUZZ = os.path.join(guest.TOP, "tools", "target", "release", "nova-fwfuzz")
CHIPS = ["ga102", "ad102"]
# The seed and number of variants of a `make check` run.
CHECK_SEED = 20261207
CHECK_COUNT = 120

BEGIN_RE = re.compile(r"nova-fuzz: begin (\d+) (\S+) (\S+) (\S+): (.*)$")
EVENT_RE = re.compile(r"nova-fuzz: (probe|reset|end) (\d+)\s*([a-z]*)")
REBIND_RE = re.compile(r"nova-fuzz: rebind (\S+) (ok|failed)")



def _names_file(base):
    """The tagged nova-core lines (scripts/nova/logtags.py) that refuse the file `base`."""
    f = rf"/{base}-570\.144\.bin\b"
    return [logtags.line(t, f) for t in ("fw-missing", "fw-corrupt", "fw-unsigned")]


def _ucode(name):
    return [logtags.line("ucode-failed", rf"\b{name}\b")]


# The nova-core lines that name the damaged file, by their log tags: its file name, or for
# files only SEC2's booter verifies (and booter_load's own), the booter_load step that refused
# them.
NAMES = {f: "|".join(rxs) for f, rxs in {
    "gsp": _names_file("gsp") + _ucode("booter_load"),
    "bootloader": _names_file("bootloader") + _ucode("booter_load"),
    "booter_load": _names_file("booter_load") + _ucode("booter_load"),
    "booter_unload": _names_file("booter_unload") + _ucode("booter_unload"),
    "scrubber": _names_file("scrubber") + _ucode("scrubber"),
}.items()}


# Damage to booter_unload that only SEC2 sees, when the GPU is stopped (nova-fwfuzz's
# `Variant::late`): nova-core cannot refuse it, and the GPU then needs a reset.
LATE = ("flip-payload", "flip-signature", "random-signature")


def generate(seed, count, out):
    """Runs nova-fwfuzz into `out`; returns the cpio entries and the number of variants."""
    fw = os.environ.get("NOVA_FIRMWARE") or guest._env()["NOVA_FIRMWARE"]
    cmd = [FUZZ, "--firmware-dir", fw, "--chips", ",".join(CHIPS), "--seed", str(seed),
           "--out", out]
    if count is not None:
        cmd += ["--count", str(count)]
    subprocess.run(cmd, check=True)
    entries = {}
    for name in os.listdir(out):
        with open(os.path.join(out, name), "rb") as f:
            entries[f"fuzz/{name}"] = ("file", f.read())
    with open(os.path.join(out, "list")) as f:
        n = sum(1 for _ in f)
    return entries, n


def boot(seed=CHECK_SEED, count=CHECK_COUNT, name="boot-fwfuzz"):
    """Boots the fuzzing guest; returns (Boot, number of variants)."""
    with tempfile.TemporaryDirectory(prefix="nova-fwfuzz-") as tmp:
        entries, n = generate(seed, count, os.path.join(tmp, "variants"))
        cpio = os.path.join(tmp, "fuzz.cpio")
        guest._write_cpio(entries, cpio)
        gpus = [(c, []) for c in CHIPS]
        ids = ",".join(f"{c}={guest.describe(c)['device_id']}" for c in CHIPS)
        # One to five seconds a variant under TCG on an idle machine, and the boot.
        b = guest.boot(CHIPS[0], "fwfuzz", gpus=gpus, name=name, extra_initrds=[cpio],
                       append=["nova.fuzzgpus=" + ids], timeout=240 + 10 * n)
    return b, n


def judge(b):
    """Splits the console into variants and judges each; returns a list of
    (id, chip, file, class, what, ok, why, outcome)."""
    variants = []  # dicts, in order
    pending = {}   # chip -> variants waiting for the next rebind check
    cur = None
    for raw in b.console:
        line = guest.TIMESTAMP_RE.sub("", raw.rstrip())
        m = BEGIN_RE.search(line)
        if m:
            vid, chip, file, cls, what = m.groups()
            cur = {"id": int(vid), "chip": chip, "file": file, "class": cls, "what": what,
                   "lines": [], "ev": {}, "reports": []}
            variants.append(cur)
            pending.setdefault(chip, []).append(cur)
            continue
        m = REBIND_RE.search(line)
        if m:
            for v in pending.get(m.group(1), []):
                v["ev"]["rebind"] = m.group(2)
            pending[m.group(1)] = []
            cur = None
            continue
        m = EVENT_RE.search(line)
        if m and cur is not None and int(m.group(2)) == cur["id"]:
            cur["ev"][m.group(1)] = m.group(3)
            continue
        if guest.REPORT_RE.search(line):
            # A report while a variant runs is that variant's; during a rebind check, it is
            # every variant's the check covers.
            owners = [cur] if cur is not None else [v for p in pending.values() for v in p]
            for v in owners:
                v["reports"].append(line)
        if cur is not None and "end" not in cur["ev"]:
            cur["lines"].append(line)
    results = []
    for v in variants:
        why = []
        if v["reports"]:
            why.append("kernel report: " + v["reports"][0])
        probe = v["ev"].get("probe")
        if probe is None or "end" not in v["ev"]:
            why.append("the guest did not finish the variant")
        if probe == "refused":
            named = [l for l in v["lines"] if re.search(NAMES[v["file"]], l)]
            if not named:
                core = [l for l in v["lines"] if "nova-core" in l]
                why.append("refused without a line naming the file: "
                           + (core[-1] if core else "no nova-core line"))
        late = v["file"] == "booter_unload" and v["class"] in LATE
        if probe == "bound" and "reset" in v["ev"] and not late:
            why.append("accepted, then refused by SEC2 when stopped: the GPU needed a reset")
        if v["ev"].get("rebind") != "ok":
            why.append("not bound again with the intact file"
                       + (" (after a reset)" if "reset" in v["ev"] else ""))
        outcome = (probe or "?") + ("+reset" if "reset" in v["ev"] else "")
        results.append((v["id"], v["chip"], v["file"], v["class"], v["what"], not why,
                        "; ".join(why), outcome))
    return results


def summary(results):
    """Lines counting the variants per class and outcome."""
    by = {}
    for _, chip, file, cls, _, ok, _, outcome in results:
        k = (chip, file, cls)
        d = by.setdefault(k, {"n": 0, "failed": 0, "outcomes": {}})
        d["n"] += 1
        d["failed"] += 0 if ok else 1
        d["outcomes"][outcome] = d["outcomes"].get(outcome, 0) + 1
    out = []
    for (chip, file, cls), d in sorted(by.items()):
        oc = ", ".join(f"{k} {v}" for k, v in sorted(d["outcomes"].items()))
        out.append(f"{chip} {file} {cls}: {d['n']} ({oc}){', FAILED ' + str(d['failed']) if d['failed'] else ''}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int,
                    default=int(os.environ["NOVA_FUZZ_COUNT"]) if os.environ.get("NOVA_FUZZ_COUNT")
                    else None)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("NOVA_FUZZ_SEED", CHECK_SEED)))
    args = ap.parse_args()
    t0 = time.monotonic()
    b, n = boot(args.seed, args.count, name="fuzz-firmware")
    results = judge(b)
    for line in summary(results):
        print(f"fwfuzz: {line}")
    failed = [r for r in results if not r[5]]
    for r in failed:
        print(f"fwfuzz: FAILED variant {r[0]} ({r[1]} {r[2]} {r[3]}: {r[4]}): {r[6]}")
    ok = len(results) == n and not failed and b.guest_status == 0 and not b.timed_out
    print(f"fwfuzz: {len(results)} of {n} variants ran, {len(failed)} failed, "
          f"{time.monotonic() - t0:.0f} s; console log {b.log}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
