#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boots the nova test guest on a simulated GPU and reads what happened.

One boot: start nova-sim for a chip, start QEMU (TCG) with the test kernel,
the initramfs and the simulator as a vfio-user PCI device, collect the
serial console, and parse it: the guest's own checks (nova-test lines and
its exit status, through isa-debug-exit), KUnit results, and any report of
KASAN, UBSAN, lockdep, kmemleak, a WARN, an oops or a panic.

As a program it runs one boot and shows the guest's output:
    guest.py --chip ad102 --mode demo
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("NOVA_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nova")
KERNEL = os.path.join(CACHE, "obj-nova", "arch", "x86", "boot", "bzImage")
INITRD = os.path.join(CACHE, "initramfs.cpio")
SIM = os.path.join(TOP, "tools", "target", "release", "nova-sim")
IN_ROOT = os.path.join(TOP, "scripts", "nova", "in-root.sh")
LOGS = os.path.join(CACHE, "logs")

# Kernel reports that fail a boot whatever the guest says.
REPORTS = [
    r"BUG: KASAN",
    r"UBSAN:",
    r"WARNING: .*(at|CPU)",
    r"BUG: ",
    r"Oops",
    r"Kernel panic",
    r"general protection fault",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"INFO: trying to register non-static key",
    r"unreferenced object 0x",
    r"kmemleak: \d+ new suspected memory leaks",
    r"rust_panic",
]
REPORT_RE = re.compile("|".join(REPORTS))
KUNIT_SUITE_RE = re.compile(r"^\s*# Subtest: (\S+)")
KUNIT_RESULT_RE = re.compile(r"^\s*(ok|not ok) \d+ (\S+)(.*)$")
TIMESTAMP_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


@dataclass
class Boot:
    """What one boot produced."""
    chip: str
    mode: str
    log: str
    qemu_rc: int = -1
    guest_status: int = -1
    timed_out: bool = False
    wall: float = 0.0
    console: list = field(default_factory=list)
    checks: list = field(default_factory=list)   # (name, passed, detail)
    kunit: list = field(default_factory=list)    # (suite.test, passed)
    reports: list = field(default_factory=list)
    sim_rc: int = -1
    sim_stats: dict = field(default_factory=dict)

    def lines(self, pattern):
        rx = re.compile(pattern)
        return [l for l in self.console if rx.search(l)]


FW_VERSION = "570.144"


def _newc(name, data=b"", mode=0o100644, ino=1):
    """One entry of a cpio archive in the kernel's "newc" format."""
    name = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    pad = lambda n: b"\0" * (-n % 4)
    return hdr + name + pad(len(hdr) + len(name)) + data + pad(len(data))


def firmware_cpio(chip, out, omit=(), truncate=None):
    """Writes a cpio archive with `chip`'s GSP firmware files (links resolved) under
    /lib/firmware, as the firmware-nvidia-graphics package lays them out. `omit` leaves files
    out by base name ("booter_load"); `truncate` maps a base name to a length to cut it to.
    The intact versions of omitted and truncated files go to /lib/firmware-spare, for the
    guest to put in place later."""
    src = os.path.join(os.environ.get("NOVA_FIRMWARE") or _env()["NOVA_FIRMWARE"],
                       "nvidia", chip, "gsp")
    truncate = truncate or {}
    ino = 1
    with open(out, "wb") as f:
        parts = [f"lib/{top}{sub}" for top in ("firmware", "firmware-spare")
                 for sub in ("", "/nvidia", f"/nvidia/{chip}", f"/nvidia/{chip}/gsp")]
        for d in ["lib"] + parts:
            f.write(_newc(d, mode=0o040755, ino=ino))
            ino += 1
        for name in sorted(os.listdir(src)):
            base = name.rsplit("-", 1)[0]
            if not name.endswith(f"-{FW_VERSION}.bin"):
                continue
            with open(os.path.join(src, name), "rb") as fw:
                data = fw.read()
            if base in omit or base in truncate:
                f.write(_newc(f"lib/firmware-spare/nvidia/{chip}/gsp/{name}", data, ino=ino))
                ino += 1
            if base in omit:
                continue
            if base in truncate:
                data = data[:truncate[base]]
            f.write(_newc(f"lib/firmware/nvidia/{chip}/gsp/{name}", data, ino=ino))
            ino += 1
        f.write(_newc("TRAILER!!!", ino=0, mode=0))


_ENV = None


def _env():
    """The environment env.sh describes (cached)."""
    global _ENV
    if _ENV is None:
        out = subprocess.run(["bash", os.path.join(TOP, "scripts", "nova", "env.sh")],
                             check=True, capture_output=True, text=True).stdout
        _ENV = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    return _ENV


def describe(chip, sim_args=(), sim=SIM):
    """The simulator's description of a chip: the expectations of a boot."""
    out = subprocess.run([sim, "--chip", chip, *sim_args, "--describe"], check=True,
                         capture_output=True, text=True).stdout
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def expectations(desc):
    """GETPARAM expectations (nova-test KEY=VALUE) from a chip description."""
    boot42 = int(desc["boot42"], 0)
    return {
        "chipset": desc["chipset"],
        "arch": desc["arch_code"] if "arch_code" in desc else hex(int(desc["chipset"], 0) >> 4),
        "revision": hex((boot42 >> 12) & 0xff),
        "bar1": desc["bar1_size"],
        "device": desc["device_id"],
    }


def parse_console(boot):
    suite = None
    for raw in boot.console:
        line = TIMESTAMP_RE.sub("", raw.rstrip("\r\n"))
        if REPORT_RE.search(line):
            boot.reports.append(line)
        m = KUNIT_SUITE_RE.match(line)
        if m:
            suite = m.group(1)
            continue
        m = KUNIT_RESULT_RE.match(line)
        if m and suite and line.startswith((" ", "\t")):
            passed = m.group(1) == "ok" or "# SKIP" in m.group(3)
            boot.kunit.append((f"{suite}.{m.group(2)}", passed))
        m = re.match(r"nova-test: (ok|not ok) (\S+)(: (.*))?$", line)
        if m:
            boot.checks.append((m.group(2), m.group(1) == "ok", m.group(4) or ""))
        m = re.match(r"nova-guest: (ok|not ok) (\S+)(: (.*))?$", line)
        if m:
            boot.checks.append((m.group(2), m.group(1) == "ok", m.group(4) or ""))
        m = re.match(r"nova-guest: exit status (\d+)", line)
        if m:
            boot.guest_status = int(m.group(1))


def boot(chip, mode, expect=None, sim_args=(), timeout=240, echo=None, name=None,
         firmware=None, fw_omit=(), fw_truncate=None):
    """Boots the guest once; returns a Boot. `echo(line)` sees console lines as they come.

    The guest gets the GSP firmware files of `firmware` (default: `chip`; "" for none), less
    `fw_omit` and with `fw_truncate` applied, appended to the initramfs as a second archive."""
    os.makedirs(LOGS, exist_ok=True)
    name = name or f"boot-{chip}-{mode}"
    log = os.path.join(LOGS, name + ".log")
    b = Boot(chip=chip, mode=mode, log=log)
    run = tempfile.mkdtemp(prefix="nova-", dir="/tmp")
    sock = os.path.join(run, "gpu.sock")
    # The kernel unpacks concatenated cpio archives in turn.
    initrd = os.path.join(run, "initrd.cpio")
    with open(initrd, "wb") as out, open(INITRD, "rb") as base:
        out.write(base.read())
        fw_chip = chip if firmware is None else firmware
        if fw_chip and os.path.isdir(os.path.join(_env()["NOVA_FIRMWARE"], "nvidia", fw_chip,
                                                  "gsp")):
            fwc = os.path.join(run, "fw.cpio")
            firmware_cpio(fw_chip, fwc, fw_omit, fw_truncate)
            with open(fwc, "rb") as fw:
                out.write(fw.read())
            os.unlink(fwc)
    stats = os.path.join(run, "sim.stats")
    simlog = open(os.path.join(LOGS, name + ".sim.log"), "w")
    sim = subprocess.Popen([SIM, "--chip", chip, "--socket", sock, "--stats", stats,
                            "--strict", *sim_args],
                           stdout=simlog, stderr=subprocess.STDOUT)
    start = time.monotonic()
    while not os.path.exists(sock):
        if sim.poll() is not None or time.monotonic() - start > 10:
            sim.kill()
            raise RuntimeError(f"nova-sim did not start (see {simlog.name})")
        time.sleep(0.05)

    # The machine has no ACPI (acpi=off below): under TCG with KASAN, ACPI's namespace and PCI
    # link set-up cost about eight seconds a boot and the guest needs none of it. PCI is probed
    # directly and the local APIC runs in virtual-wire mode, so MSI works. (The kernel's own
    # acpi=off is not used: with it the kernel also gives up the local APIC.)
    cmdline = ["console=ttyS0", "panic=-1", "oops=panic", "loglevel=7",
               f"nova.mode={mode}"]
    cmdline += os.environ.get("NOVA_GUEST_APPEND", "").split()
    if expect:
        cmdline.append("nova.expect=" + ",".join(f"{k}={v}" for k, v in expect.items()))
    device = ('{"driver":"vfio-user-pci","socket":{"type":"unix","path":"%s"},'
              '"x-msg-timeout":30000}' % sock)
    qemu = [IN_ROOT, "qemu-system-x86_64",
            "-machine", "q35,accel=tcg,memory-backend=mem,acpi=off", "-cpu", "max", "-smp", "1",
            "-m", "1G", "-object", "memory-backend-memfd,id=mem,size=1G,share=on",
            "-nodefaults", "-nographic", "-no-reboot", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            # Room above 4 GiB for the largest BAR1 the simulator offers (Resizable BAR).
            "-global", "q35-pcihost.pci-hole64-size=512G",
            "-kernel", KERNEL, "-initrd", initrd, "-append", " ".join(cmdline),
            "-device", device]
    t0 = time.monotonic()
    with open(log, "w") as logf:
        q = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace",
                             start_new_session=True)

        def on_timeout():
            b.timed_out = True
            os.killpg(q.pid, signal.SIGKILL)
        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        try:
            for line in q.stdout:
                logf.write(line)
                b.console.append(line)
                if echo:
                    echo(line.rstrip("\n"))
            b.qemu_rc = q.wait()
        finally:
            timer.cancel()
    b.wall = time.monotonic() - t0
    try:
        b.sim_rc = sim.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sim.terminate()
        b.sim_rc = sim.wait(timeout=5)
    simlog.close()
    if os.path.exists(stats):
        with open(stats) as f:
            b.sim_stats = dict(l.strip().split("=", 1) for l in f if "=" in l)
    shutil.rmtree(run, ignore_errors=True)
    parse_console(b)
    # isa-debug-exit: QEMU exits with (status << 1) | 1.
    if b.qemu_rc > 0 and b.qemu_rc & 1 and b.guest_status < 0:
        b.guest_status = b.qemu_rc >> 1
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chip", default="ad102")
    ap.add_argument("--mode", default="demo",
                    choices=["demo", "device", "absent", "rebind", "bench"])
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    for path, what in ((KERNEL, "kernel"), (INITRD, "initramfs"), (SIM, "simulator")):
        if not os.path.exists(path):
            sys.exit(f"guest: the {what} is missing ({path}); run 'make run' or 'make check'")
    exp = expectations(describe(args.chip))
    b = boot(args.chip, args.mode, exp, timeout=args.timeout,
             echo=lambda l: print(l.split("nova-guest: ", 1)[1]) if "nova-guest: " in l else None)
    print(f"guest: boot of simulated {args.chip.upper()} took {b.wall:.1f} s; console log {b.log}")
    for r in b.reports:
        print(f"guest: kernel report: {r}")
    ok = b.guest_status == 0 and not b.reports and not b.timed_out
    if not ok:
        print(f"guest: FAILED (guest status {b.guest_status}, QEMU {b.qemu_rc}"
              f"{', timed out' if b.timed_out else ''}); see {b.log}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
