#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs IGT (igt-gpu-tools) against nova in the test guest and judges it.

One boot in nova.mode=igt: the guest runs the tests of scripts/nova/igt.tests
against nova (IGT_FORCE_DRIVER=nova) and prints a line per subtest,
`nova-igt: TEST/SUBTEST pass|skip|fail[: REASON]`. Here a pass passes, a
failure fails, and a skip is counted as a skip (not a pass) only when it is an
expected skip: its test and its reason match an entry of EXPECTED_SKIPS, which
says why that test cannot apply to nova (yet). Any other skip fails, so that a
test that stops running is noticed. check.py's `igt` stage uses this module; as a program it
runs the boot and prints the results:
    igt.py [--chip ad102] [--tests core_auth,core_hotunplug]
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

TESTS_FILE = os.path.join(guest.TOP, "scripts", "nova", "igt.tests")

# The skips that are expected: (test/subtest pattern, reason pattern, why the test
# cannot apply to nova yet). Both patterns must match (re.fullmatch for the name,
# re.search for the reason IGT printed). Documentation/gpu/nova/testing.rst has the
# same table; keep them in step.
EXPECTED_SKIPS = [
    (r"(prime_self_import|prime_mmap|prime_busy)/.*",
     r"in drm_open_driver.*No known gpu found for chipset flags 0x1 \(intel\)",
     "an i915 test (IGT's tests/intel/): it opens only an Intel GPU, and IGT 2.5 has "
     "no driver-generic PRIME test"),
    (r"prime_vgem/.*",
     r"in drm_open_driver.*No known gpu found for chipset flags 0x1 \(intel\)",
     "shares vgem buffers with i915 (it opens vgem and an Intel GPU), not with any "
     "driver"),
    (r"dmabuf/all-tests",
     r"not met in igt_ktest_begin",
     "loads the kernel module dmabuf_selftests, which Linux 7.3 no longer has (the "
     "dma-buf selftests are now the KUnit suite of CONFIG_DMABUF_KUNIT_TEST), and the "
     "guest kernel has no loadable modules; it tests the dma-buf core, not nova"),
]

RESULT_RE = re.compile(r"nova-igt: (\S+) (pass|skip|fail)(?:: (.*))?$")
TOTAL_RE = re.compile(r"nova-igt: total (\d+)$")


def tests():
    """The tests of igt.tests: [(test, time limit in seconds)]."""
    out = []
    with open(TESTS_FILE) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2:
                out.append((fields[0], int(fields[1])))
    return out


def boot_timeout(selected=None):
    """A bound on the boot: each test's limit (and the 10 s to SIGKILL), plus the rest."""
    return sum(t + 10 for n, t in tests() if not selected or n in selected) + 180


def parse(b):
    """The IGT results of a boot: ([(name, result, reason)], total the guest reported)."""
    results, total = [], None
    for raw in b.console:
        line = guest.TIMESTAMP_RE.sub("", raw.rstrip("\r\n"))
        m = RESULT_RE.search(line)
        if m:
            results.append((m.group(1), m.group(2), m.group(3) or ""))
            continue
        m = TOTAL_RE.search(line)
        if m:
            total = int(m.group(1))
    return results, total


def expected_skip(name, reason):
    """Why a skip is expected, or None when it is not."""
    for name_re, reason_re, why in EXPECTED_SKIPS:
        if re.fullmatch(name_re, name) and re.search(reason_re, reason):
            return why
    return None


def judge(b):
    """The tests of a boot: [(name, result, detail)], result "pass", "fail" or "skip". A skip
    is one of EXPECTED_SKIPS, with its reason as the detail; an unexpected skip fails."""
    results, total = parse(b)
    out = []
    for name, result, reason in results:
        if result == "pass":
            out.append((name, "pass", ""))
        elif result == "fail":
            out.append((name, "fail", f"{reason}; see {b.log}"))
        else:
            why = expected_skip(name, reason)
            if why:
                out.append((name, "skip", f"expected: {why}"))
            else:
                out.append((name, "fail", f"unexpected skip: {reason}; see {b.log}"))
    if total is None:
        out.append(("complete", "fail", f"the guest did not finish the IGT run; see {b.log}"))
    elif total != len(results):
        out.append(("complete", "fail", f"the guest reported {total} results, "
                    f"{len(results)} were read; see {b.log}"))
    return out


def summary(b):
    """One line per test: its pass, skip and fail counts."""
    results, _ = parse(b)
    counts = {}
    for name, result, _ in results:
        c = counts.setdefault(name.split("/", 1)[0], {"pass": 0, "skip": 0, "fail": 0})
        c[result] += 1
    width = max((len(t) for t in counts), default=0)
    return [f"{t:<{width}}  {c['pass']:3d} pass {c['skip']:3d} skip {c['fail']:3d} fail"
            for t, c in counts.items()]


def boot(chip="ad102", selected=None, echo=None, name=None):
    """Boots the guest in nova.mode=igt (only the `selected` tests, if given)."""
    desc = guest.describe(chip)
    append = [f"nova.igt={','.join(selected)}"] if selected else []
    return guest.boot(chip, "igt", guest.expectations(desc), timeout=boot_timeout(selected),
                      echo=echo, name=name or f"igt-{chip}", append=append)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chip", default="ad102")
    ap.add_argument("--tests", help="comma-separated IGT tests (default: all of igt.tests)")
    args = ap.parse_args()
    selected = args.tests.split(",") if args.tests else None
    b = boot(args.chip, selected,
             echo=lambda l: print(l.split("nova-igt: ", 1)[1], flush=True)
             if "nova-igt: " in l else None)
    print(f"igt: boot of simulated {args.chip.upper()} took {b.wall:.1f} s; console log {b.log}")
    bad = 0
    for name, result, detail in judge(b):
        if result == "fail":
            bad += 1
            print(f"igt: FAIL {name}: {detail}")
    for line in summary(b):
        print(f"igt: {line}")
    for r in b.reports:
        print(f"igt: kernel report: {r}")
    if b.guest_status != 0 or b.timed_out or b.reports:
        bad += 1
        print(f"igt: guest status {b.guest_status}, QEMU {b.qemu_rc}"
              f"{', timed out' if b.timed_out else ''}, {len(b.reports)} kernel reports")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
