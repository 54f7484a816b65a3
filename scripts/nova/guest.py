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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chips  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("NOVA_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nova")
# NOVA_KERNEL, NOVA_INITRAMFS and NOVA_SIM boot another kernel, initramfs or
# simulator (a second checkout's, see build-kernel.sh's NOVA_KERNEL_OUT);
# NOVA_KTREE=<name> boots the kernel of build-kernel.sh's tree of that name.
KERNEL = os.environ.get("NOVA_KERNEL") or os.path.join(
    CACHE, "obj-" + (os.environ.get("NOVA_KTREE") or "nova"), "arch", "x86", "boot", "bzImage")
INITRD = os.environ.get("NOVA_INITRAMFS") or os.path.join(CACHE, "initramfs.cpio")
SIM = os.environ.get("NOVA_SIM") or os.path.join(TOP, "tools", "target", "release", "nova-sim")
TLV = os.path.join(TOP, "tools", "target", "release", "nova-tlv")
# The static uAPI client; it also runs on the host (`host-tsc-khz`).
NOVA_TEST = os.path.join(TOP, "tools", "target", "guest", "x86_64-unknown-linux-gnu", "release",
                         "nova-test")
# The unmodified base tree's kernel (build-kernel.sh with NOVA_VARIANT=upstream).
UPSTREAM_KERNEL = os.path.join(CACHE, "obj-upstream", "arch", "x86", "boot", "bzImage")
IN_ROOT = os.path.join(TOP, "scripts", "nova", "in-root.sh")
LOGS = os.environ.get("NOVA_LOGS") or os.path.join(CACHE, "logs")

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
    checks: list = field(default_factory=list)   # (name, "pass"|"fail"|"skip", detail)
    kunit: list = field(default_factory=list)    # (suite.test, "pass"|"fail"|"skip")
    reports: list = field(default_factory=list)
    sims: list = field(default_factory=list)     # per GPU: (exit status, stats, log)

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


def firmware_cpio(chips, out, omit=None, truncate=None):
    """Writes a cpio archive with the GSP firmware files of `chips` under /lib/firmware, laid
    out as the firmware-nvidia-graphics package has them (a file that is a link to another
    chip's there is a link here too, and its target is included). `omit` maps a chip to base
    names to leave out ("booter_load"); `truncate` maps a chip to {base name: length}. The
    intact versions of omitted and truncated files go to /lib/firmware-spare, for the guest
    to put in place later."""
    root = os.environ.get("NOVA_FIRMWARE") or _env()["NOVA_FIRMWARE"]
    omit, truncate = omit or {}, truncate or {}
    entries = {}  # path under lib/ -> ("file", data) | ("link", target); dirs implied
    inodes = {}   # (st_dev, st_ino) -> the first path under the root that was included

    def add_file(rel, data):
        entries[f"firmware/{rel}"] = ("file", data)

    for chip in dict.fromkeys(chips):
        src = os.path.join(root, "nvidia", chip, "gsp")
        if not os.path.isdir(src):
            continue
        for name in sorted(os.listdir(src)):
            if not name.endswith(f"-{FW_VERSION}.bin"):
                continue
            base = name.rsplit("-", 1)[0]
            rel = f"nvidia/{chip}/gsp/{name}"
            path = os.path.join(src, name)
            if base in omit.get(chip, ()) or base in truncate.get(chip, {}):
                with open(path, "rb") as fw:
                    entries[f"firmware-spare/{rel}"] = ("file", fw.read())
                if base in omit.get(chip, ()):
                    continue
                with open(path, "rb") as fw:
                    add_file(rel, fw.read()[:truncate[chip][base]])
                continue
            # Links are kept as links, and what they point to is included (as it is in the
            # package: another chip's file, or another version's in the same directory).
            while os.path.islink(path):
                target = os.readlink(path)
                entries[f"firmware/{rel}"] = ("link", target.encode())
                path = os.path.normpath(os.path.join(os.path.dirname(path), target))
                rel = os.path.relpath(path, root)
            if f"firmware/{rel}" in entries:
                continue
            # A hard link to a file already included (this root installs GA103-GA107's gsp
            # file as hard links to GA102's) becomes a link to it, as linux-firmware's WHENCE
            # has it, rather than a second 64 MB copy in the guest.
            st = os.stat(path)
            first = inodes.setdefault((st.st_dev, st.st_ino), rel)
            if first != rel:
                target = os.path.relpath(first, os.path.dirname(rel))
                entries[f"firmware/{rel}"] = ("link", target.encode())
                continue
            with open(path, "rb") as fw:
                add_file(rel, fw.read())
    _write_cpio(entries, out)


def _write_cpio(entries, out):
    """Writes `entries` (path under lib/ -> ("file", data) | ("link", target)) as a newc
    archive, with the directories they need."""
    dirs = set()
    for rel in entries:
        parts = ("lib/" + rel).split("/")[:-1]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    ino = 1
    with open(out, "wb") as f:
        for d in sorted(dirs):
            f.write(_newc(d, mode=0o040755, ino=ino))
            ino += 1
        for rel, (kind, data) in sorted(entries.items()):
            mode = 0o120777 if kind == "link" else 0o100644
            f.write(_newc(f"lib/{rel}", data, mode=mode, ino=ino))
            ino += 1
        f.write(_newc("TRAILER!!!", ino=0, mode=0))


def groups_cpio(groups, out):
    """Writes a newc archive holding `/nova-groups`: the `nova-test identity` groups, joined by
    `;` as `nova.groups=` takes them. The guest's init reads the file instead of the command
    line, which the kernel cuts at 2048 bytes (x86 COMMAND_LINE_SIZE): every chip's
    expectations together are longer."""
    with open(out, "wb") as f:
        f.write(_newc("nova-groups", ";".join(groups).encode(), ino=1))
        f.write(_newc("TRAILER!!!", ino=0, mode=0))


def tlv_firmware_cpio(chips, out, workdir):
    """Writes a cpio archive with the TLV files upstream nova-core requests for `chips`, made
    from Debian's files by nova-tlv (tools/nova-tlv) in `workdir`, under /lib/firmware."""
    root = os.environ.get("NOVA_FIRMWARE") or _env()["NOVA_FIRMWARE"]
    conv = os.path.join(workdir, "tlv")
    entries = {}
    for chip in dict.fromkeys(chips):
        if not os.path.isdir(os.path.join(root, "nvidia", chip, "gsp")):
            continue
        r = subprocess.run([TLV, "convert", "--firmware-dir", root, "--chip", chip,
                            "--out", conv, "--fw-version", FW_VERSION],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nova-tlv failed for {chip}: {r.stderr.strip()}")
        src = os.path.join(conv, "nvidia", chip, "gsp")
        for name in sorted(os.listdir(src)):
            with open(os.path.join(src, name), "rb") as fw:
                entries[f"firmware/nvidia/{chip}/gsp/{name}"] = ("file", fw.read())
    _write_cpio(entries, out)


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
    """GETPARAM expectations (nova-test KEY=VALUE) from a chip description. `vram` is the
    VRAM size GSP-RM reports, or 0 where nova-core does not boot GSP-RM (GETPARAM and
    GPU_NAME must then fail with ENODEV). Which chips boot GSP-RM, and what GSP-RM's engine,
    class and GPC/TPC queries must report there, is the harness's own table (chips.py), not the
    driver's policy nor the simulator's."""
    boot42 = int(desc["boot42"], 0)
    return chips.rm_expectations(desc["name"]) | {
        "chipset": desc["chipset"],
        "arch": desc["arch_code"],
        "revision": hex((boot42 >> 12) & 0xff),
        "bar1": desc["bar1_size"],
        "device": desc["device_id"],
        "vram": desc["vram_size"] if chips.expect(desc["name"]).boots_gsp else "0",
    }


_TSC_KHZ = None


def host_tsc_khz():
    """The host's TSC frequency in kHz, measured once (nova-test host-tsc-khz)."""
    global _TSC_KHZ
    if _TSC_KHZ is None:
        out = subprocess.run([NOVA_TEST, "host-tsc-khz"], check=True, capture_output=True,
                             text=True).stdout
        _TSC_KHZ = int(out.strip())
    return _TSC_KHZ


def guest_clock():
    """The guest clock NOVA_GUEST_CLOCK asks for: "tsc" (the default), "jiffies" or "hpet"."""
    clock = os.environ.get("NOVA_GUEST_CLOCK") or "tsc"
    if clock not in ("tsc", "jiffies", "hpet"):
        raise RuntimeError(f"NOVA_GUEST_CLOCK={clock}: not tsc, jiffies or hpet")
    return clock


def clock_args(icount=False):
    """Kernel arguments that give the guest a real clocksource.

    Under TCG the guest's TSC is the host's (QEMU's cpu_get_ticks() reads the host TSC), but
    without ACPI the guest has no HPET or PM timer to calibrate it against, and its PIT
    calibration fails under emulation: the kernel marks the TSC unstable and times everything
    in jiffies (4 ms here). Telling it the frequency (measured on the host) keeps the TSC:
    `tsc_early_khz=` sets it, `tsc=reliable` drops the watchdog that has no second clocksource
    to compare with. With -icount the TSC counts nanoseconds of virtual time, 1 GHz.

    NOVA_GUEST_CLOCK=jiffies leaves the kernel to itself, and NOVA_GUEST_CLOCK=hpet turns ACPI
    on so that the kernel finds QEMU's HPET (testing.rst compares the three)."""
    clock = guest_clock()
    if clock == "jiffies":
        return []
    if clock == "hpet":
        return ["clocksource=hpet"]
    khz = 1_000_000 if icount else host_tsc_khz()
    return [f"tsc_early_khz={khz}", "tsc=reliable", "clocksource=tsc"]


# -icount: a deterministic guest clock, from the instruction count (one instruction 2^shift
# ns). With sleep=off the virtual clock jumps over idle time instead of waiting for it.
ICOUNT = ["-icount", "shift=0,sleep=off"]


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
            result = ("skip" if "# SKIP" in m.group(3) else
                      "pass" if m.group(1) == "ok" else "fail")
            boot.kunit.append((f"{suite}.{m.group(2)}", result))
        # A check passes (ok), fails (not ok) or skips (skip NAME: REASON); a skip is
        # counted as a skip, never as a pass.
        m = re.match(r"nova-(?:test|guest): (ok|not ok|skip) (\S+)(: (.*))?$", line)
        if m:
            result = {"ok": "pass", "not ok": "fail", "skip": "skip"}[m.group(1)]
            boot.checks.append((m.group(2), result, m.group(4) or ""))
        m = re.match(r"nova-guest: exit status (\d+)", line)
        if m:
            boot.guest_status = int(m.group(1))


def boot(chip, mode, expect=None, sim_args=(), timeout=240, echo=None, name=None,
         firmware=True, fw_omit=None, fw_truncate=None, gpus=None, extra_initrds=(),
         append=(), kernel=None, timing=None, icount=False, mem="1G", groups=None):
    """Boots the guest once; returns a Boot. `echo(line)` sees console lines as they come.

    `gpus` lists the simulated GPUs as (chip, simulator arguments); by default there is one,
    `chip` with `sim_args`. Each is its own nova-sim behind its own vfio-user device. With
    `firmware`, the GPUs' GSP firmware files (less `fw_omit`, with `fw_truncate` applied; see
    firmware_cpio) are appended to the initramfs as a further archive, after `extra_initrds`.
    `firmware="tlv"` gives the files as upstream nova-core wants them (tlv_firmware_cpio).
    `append` adds kernel command line arguments; `kernel` boots another bzImage. `timing` is
    the simulated hardware's `--timing` (fast, realistic, random:SEED) for every GPU that does
    not set its own; nova-sim's default (fast) without it. `icount` runs QEMU with -icount, so
    that the guest's clock counts instructions (see ICOUNT). `mem` is the guest's RAM (every
    GPU nova-core boots GSP-RM on keeps its ~64 MB GSP-RM image in system memory). `groups`
    are `nova-test identity` groups, handed to the guest in a file (groups_cpio)."""
    os.makedirs(LOGS, exist_ok=True)
    name = name or f"boot-{chip}-{mode}"
    log = os.path.join(LOGS, name + ".log")
    b = Boot(chip=chip, mode=mode, log=log)
    gpus = gpus or [(chip, sim_args)]
    run = tempfile.mkdtemp(prefix="nova-", dir="/tmp")
    # The kernel unpacks concatenated cpio archives in turn.
    initrd = os.path.join(run, "initrd.cpio")
    with open(initrd, "wb") as out:
        for part in (INITRD, *extra_initrds):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
        if groups:
            gc = os.path.join(run, "groups.cpio")
            groups_cpio(groups, gc)
            with open(gc, "rb") as f:
                shutil.copyfileobj(f, out)
            os.unlink(gc)
        if firmware == "tlv":
            fwc = os.path.join(run, "fw.cpio")
            tlv_firmware_cpio([c for c, _ in gpus], fwc, run)
            with open(fwc, "rb") as fw:
                shutil.copyfileobj(fw, out)
            os.unlink(fwc)
            shutil.rmtree(os.path.join(run, "tlv"), ignore_errors=True)
        elif firmware:
            fwc = os.path.join(run, "fw.cpio")
            firmware_cpio([c for c, _ in gpus], fwc, fw_omit, fw_truncate)
            with open(fwc, "rb") as fw:
                shutil.copyfileobj(fw, out)
            os.unlink(fwc)
    sims, devices = [], []
    for i, (gchip, gargs) in enumerate(gpus):
        sock = os.path.join(run, f"gpu{i}.sock")
        stats = os.path.join(run, f"sim{i}.stats")
        simlog = open(os.path.join(LOGS, f"{name}.sim{i if i else ''}.log"), "w")
        # The board's firmware root: the simulator checks what a driver loads into its falcons
        # and GSP against Debian's files, as the hardware checks their signatures.
        fw_root = os.environ.get("NOVA_FIRMWARE") or _env()["NOVA_FIRMWARE"]
        targs = ["--timing", timing] if timing and "--timing" not in gargs else []
        sim = subprocess.Popen([SIM, "--chip", gchip, "--socket", sock, "--stats", stats,
                                "--strict", "--firmware", fw_root, *targs, *gargs],
                               stdout=simlog, stderr=subprocess.STDOUT)
        sims.append((sim, stats, simlog))
        start = time.monotonic()
        while not os.path.exists(sock):
            if sim.poll() is not None or time.monotonic() - start > 10:
                for s_, _, _ in sims:
                    s_.kill()
                raise RuntimeError(f"nova-sim did not start (see {simlog.name})")
            time.sleep(0.05)
        devices += ["-device", '{"driver":"vfio-user-pci","socket":{"type":"unix","path":"%s"},'
                    '"x-msg-timeout":30000}' % sock]

    # The machine has no ACPI (acpi=off below): under TCG with KASAN, ACPI's namespace and PCI
    # link set-up cost about eight seconds a boot and the guest needs none of it. PCI is probed
    # directly and the local APIC runs in virtual-wire mode, so MSI works. (The kernel's own
    # acpi=off is not used: with it the kernel also gives up the local APIC.) The CPU has no
    # 5-level paging: with it, this kernel's KASAN now and then reports a wild access in
    # rcu_is_watching() when an interrupt arrives during identify_boot_cpu(), a boot-time
    # problem unrelated to nova that would make the tests flaky.
    cmdline = ["console=ttyS0", "panic=-1", "oops=panic", "loglevel=7",
               f"nova.mode={mode}", *clock_args(icount), *append]
    cmdline += os.environ.get("NOVA_GUEST_APPEND", "").split()
    if expect:
        cmdline.append("nova.expect=" + ",".join(f"{k}={v}" for k, v in expect.items()))
    qemu = [IN_ROOT, "qemu-system-x86_64",
            "-machine", "q35,accel=tcg,memory-backend=mem,acpi="
            + ("on" if guest_clock() == "hpet" else "off"), "-cpu", "max,la57=off",
            "-smp", "1", *(ICOUNT if icount else []),
            "-m", mem, "-object", f"memory-backend-memfd,id=mem,size={mem},share=on",
            "-nodefaults", "-nographic", "-no-reboot", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            # Room above 4 GiB for the largest BAR1 the simulator offers (Resizable BAR).
            "-global", "q35-pcihost.pci-hole64-size=512G",
            "-kernel", kernel or KERNEL, "-initrd", initrd, "-append", " ".join(cmdline),
            *devices]
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
    for sim, stats, simlog in sims:
        try:
            rc = sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.terminate()
            rc = sim.wait(timeout=5)
        simlog.close()
        st = {}
        if os.path.exists(stats):
            with open(stats) as f:
                st = dict(l.strip().split("=", 1) for l in f if "=" in l)
        b.sims.append((rc, st, simlog.name))
    shutil.rmtree(run, ignore_errors=True)
    parse_console(b)
    # isa-debug-exit: QEMU exits with (status << 1) | 1. A status of 0 would be an exit code
    # of 1, which is also what QEMU returns when it cannot start (a missing kernel file, say):
    # a guest status of 0 is taken only from the console line, never from the exit code.
    if b.qemu_rc > 1 and b.qemu_rc & 1 and b.guest_status < 0:
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
