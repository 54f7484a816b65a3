#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The kernel log tags the tests match instead of the wording of nova-core's messages.

A nova-core line that a test relies on starts, after the device prefix, with a fixed tag:
`nova-core 0000:01:00.0: [fw-corrupt] corrupt firmware file ...`. The first tag names the
event; a second one qualifies it (the RPC failure behind `[gsp-init-failed]`, or
`[needs-reset]` when the GPU needs a function-level reset before it can be bound again). The
prose after the tags is for people and may be reworded freely; the tags, and the identifiers
a test also matches (firmware file names, RPC and NV_STATUS names, chip names), may not.

Documentation/gpu/nova/testing.rst ("Kernel log tags") lists the same table; check.py's
harness/log-tags test checks that the driver, this table, the guest script and that list
agree.

As a program it checks that they agree and prints the table (with --rst, as testing.rst's):
    logtags.py [--rst]
"""

import os
import re
import sys
import textwrap

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# tag: (meaning, the tests that rely on it)
TAGS = {
    "identified": (
        "the GPU was identified: chip, architecture, chipset, revision, BAR1 size",
        "boot/archs/log-line-<label>, boot/boards/log-line-<label>, the log-line test of "
        "igt/ad102 and boot/rebind; make compare"),
    "irq-lost": (
        "GSP-RM sent a message whose interrupt never came; the backstop timeout found it",
        "boot/intr/gsp-interrupt/<n>-<chip>, boot/archs/gsp-interrupt/<n>-<chip>, "
        "boot/boards/gsp-interrupt/<n>-<chip>"),
    "gsp-running": (
        "GSP-RM booted and answered GET_GSP_STATIC_INFO",
        "the guest's gsp-logs checks (guest/init); make compare"),
    "fb-unscrubbed": (
        "the VBIOS did not scrub the FB (Ada); nova-core runs the scrubber ucode before booter",
        "boot/boards/log-line-scrubber-ran"),
    "fw-missing": (
        "a firmware file is missing; the line names it and the package",
        "boot/refusals/log-line-missing-firmware, the fuzz/ tests (fwfuzz.py)"),
    "fw-corrupt": (
        "a firmware file failed its checks; the line names it",
        "boot/refusals/log-line-corrupt-firmware, the fuzz/ tests (guest/init, fwfuzz.py)"),
    "fw-unsigned": (
        "a firmware file has no signature for the board's fuse version; the line names it",
        "the fuzz/ tests (fwfuzz.py)"),
    "chip-no-response": ("BAR0 reads return an error pattern", "(none yet)"),
    "chip-pre-fermi": ("NV_PMC_BOOT_0 names a chip older than Fermi", "(none yet)"),
    "chip-pre-turing": ("the architecture predates Turing", "boot/refusals/log-line-pre-turing"),
    "chip-unknown": (
        "the chipset is not one nova-core knows", "boot/refusals/log-line-unknown-chip"),
    "ucode-failed": (
        "a falcon ucode (FWSEC-FRTS, booter_load, ...) halted with a nonzero status; the line "
        "names it", "boot/gsp-faults/log-line-booter-error, the fuzz/ tests (fwfuzz.py)"),
    "fwsec-frts-error": (
        "FWSEC-FRTS reported an error code", "boot/gsp-faults/log-line-fwsec-frts-error"),
    "wpr2-up": (
        "WPR2 is already up at probe (a GPU left by a crashed driver)",
        "boot/gsp-faults/log-line-wpr2-preset"),
    "gsp-init-failed": (
        "GSP-RM did not reach GSP_INIT_DONE; an rpc- tag after it gives the cause",
        "boot/gsp-faults/log-line-never-answer and -bad-checksum"),
    "gsp-stop-failed": ("after a failed boot the GSP could not be stopped", "(none yet)"),
    "gsp-shutdown-failed": ("stopping GSP-RM at unbind failed", "(none yet)"),
    "needs-reset": (
        "qualifier: the GPU needs a function-level reset before it binds again",
        "boot/gsp-faults/log-line-wpr2-preset; the fuzz/ tests (guest/init resets the GPU)"),
    "rpc-status": (
        "GSP-RM answered an RPC with an error NV_STATUS; the line names both",
        "boot/gsp-faults/log-line-error-status"),
    "rpc-timeout": (
        "no reply to an RPC, or no awaited event, in time",
        "boot/gsp-faults/log-line-never-answer"),
    "rpc-queue": (
        "the message queue held something that is not a valid message",
        "boot/gsp-faults/log-line-bad-checksum"),
    "rpc-decode": ("a reply did not decode", "(none yet)"),
    "rpc-stale": (
        "a reply no call waits for (late, or a duplicate) was dropped",
        "boot/rpc-faults/stale-<n>-<kind>-<step>"),
    "gsp-event-flood": (
        "GSP-RM's prints or error reports came faster than the rate limit; the line counts "
        "those not logged", "boot/rpc-faults (the storm's log stays bounded)"),
    "rpc-error": ("another error during an RPC (allocation, an event handler)", "(none yet)"),
}

# A tag as it appears in a line, and any run of tags before it.
TAG_RE = r"\[[a-z0-9-]+\] "


def line(tag, rest="", qualifier=None):
    """A regex for a nova-core line carrying `tag` (first or after other tags), and then the
    tag `qualifier` if given, followed anywhere after the tags by the regex `rest`
    (identifiers such as file, RPC or status names; never prose)."""
    for t in (tag, qualifier):
        if t is not None and t not in TAGS:
            raise KeyError(f"log tag [{t}] is not in scripts/nova/logtags.py")
    rx = rf"nova-core \S+: (?:{TAG_RE})*\[{re.escape(tag)}\] "
    if qualifier:
        rx += rf"(?:{TAG_RE})*\[{re.escape(qualifier)}\] "
    return rx + (f".*{rest}" if rest else "")


def driver_tags(top=TOP):
    """The tags nova-core's sources write: `[tag]` at the start of a string literal's text,
    or a quoted "rpc-..." name (RpcError::tag). A C string literal (`c"rpc-bench"`, a debugfs
    file name) is not a tag."""
    found = set()
    root = os.path.join(top, "drivers", "gpu", "nova-core")
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                text = open(os.path.join(dirpath, f), errors="replace").read()
                for m in re.finditer(r'"((?:\[[a-z0-9{}-]+\] )+)', text):
                    found.update(re.findall(r"\[([a-z][a-z0-9-]*)\]", m.group(1)))
                found.update(re.findall(r'(?<![A-Za-z0-9_])"(rpc-[a-z-]+)"', text))
    return found


def guest_tags(top=TOP):
    """The tags the guest script greps for (written `\\[tag\\]` in its patterns)."""
    text = open(os.path.join(top, "scripts", "nova", "guest", "init")).read()
    return set(re.findall(r"\\\[([a-z][a-z0-9-]*)\\\]", text))


def doc_tags(top=TOP):
    """The tags the table in testing.rst lists (``[tag]`` in its first column)."""
    text = open(os.path.join(top, "Documentation", "gpu", "nova", "testing.rst")).read()
    return set(re.findall(r"^``\[([a-z0-9-]+)\]``", text, re.M))


def consistency(top=TOP):
    """Problems between the driver, this table, the guest script and the documentation: a
    list of sentences, empty when they agree."""
    out = []
    drv, tab, gst, doc = driver_tags(top), set(TAGS), guest_tags(top), doc_tags(top)
    if tab - drv:
        out.append(f"tags no nova-core source writes: {sorted(tab - drv)}")
    if drv - tab:
        out.append(f"tags nova-core writes that logtags.py lacks: {sorted(drv - tab)}")
    if gst - tab:
        out.append(f"tags guest/init matches that logtags.py lacks: {sorted(gst - tab)}")
    if doc != tab:
        out.append(f"testing.rst's tag table differs: missing {sorted(tab - doc)}, "
                   f"extra {sorted(doc - tab)}")
    return out


def rst_rows():
    """The rows of testing.rst's table: tag, meaning, tests (wrapped to its columns)."""
    rows = []
    for tag, (meaning, users) in TAGS.items():
        m, u = textwrap.wrap(meaning, 48), textwrap.wrap(users, 43)
        n = max(len(m), len(u))
        m, u = m + [""] * (n - len(m)), u + [""] * (n - len(u))
        for i in range(n):
            rows.append(f"{f'``[{tag}]``' if i == 0 else '':<25} {m[i]:<48} {u[i]}".rstrip())
    return rows


def main():
    if sys.argv[1:] == ["--rst"]:
        print("\n".join(rst_rows()))
    else:
        for tag, (meaning, users) in TAGS.items():
            print(f"[{tag}]\t{meaning}\t{users}")
    problems = consistency()
    for p in problems:
        print(f"logtags: {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
