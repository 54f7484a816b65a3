#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs every nova test and ends with the line `N passed, M failed, K skipped`.

Stages, each announced as it starts:
  env        the build root and the base kernel (cached)
  tools      nova-sim, nova-test and nova-tlv: build, cargo test (nova-tlv
             converts every chip's files of the Debian package), rustfmt,
             clippy and rustdoc, all warning-free; nova-test's in the build
             root, whose libclang its bindgen step needs
  kernel     the test kernel, nova's crates compiled through clippy
  style      rustfmt and checkpatch on the kernel-side sources; the uAPI
             header installed with headers_install and compiled (-Werror)
  series     the tree as a patch series against the base tree
             (scripts/nova/series.py): checkpatch --strict on every patch,
             git am onto a git checkout of the base, and make htmldocs of
             gpu/ on its end state (Sphinx from Debian)
  docs       the documentation as the kernel builds it, without a warning
             from our files: kernel-doc -Wall on the uAPI header and our C
             files, the series stage's htmldocs, and the kernel stage's make
             rustdoc of the kernel crate with our rust/ files
  initramfs  the guest userspace
  boot       guests on simulated GPUs, NOVA_JOBS (default: the CPUs) at a
             time: IGT's tests (scripts/nova/igt.tests; a skip passes only
             if igt.py lists it as expected), one chip per architecture
             (KUnit, the uAPI client, drm_info, libdrm), Resizable BAR, 200
             rebinds, a missing and a corrupt firmware file, and the
             refusal of unsupported chips; the firmware fuzzer (scripts/nova/
             fwfuzz.py: a seeded choice of damaged GA102 and AD102 firmware
             files, each refused with a line naming it or harmless, and the
             GPU bound again afterwards)

A stage that cannot complete fails its tests and the stages that depend on
it; the run goes on with the others. Logs are under $NOVA_CACHE/logs.

Environment: NOVA_CHIPS="ga102 ad102" boots only those chips.
"""

import concurrent.futures
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chips  # noqa: E402
import compare  # noqa: E402
import fwfuzz  # noqa: E402
import guest  # noqa: E402
import igt  # noqa: E402
import logtags  # noqa: E402
import series  # noqa: E402

TOP = guest.TOP
NOVA = os.path.join(TOP, "scripts", "nova")
LOGS = guest.LOGS
# One chip per architecture; GB100 stands for Blackwell GB10x, GB202 for GB20x.
CHIPS = os.environ.get("NOVA_CHIPS", "tu102 ga102 gh100 ad102 gb100 gb202").split()
# The other chips nova-core boots GSP-RM on (TU10x/TU11x, GA100, GA10x, AD10x), each with the
# simulator's GSP-RM profile of its board: they boot in a guest of their own, boot/boards,
# unless NOVA_CHIPS picks chips.
BOARDS = ([] if "NOVA_CHIPS" in os.environ
          else "tu104 tu106 tu116 tu117 ga100 ga103 ga104 ga106 ga107 ad103 ad104 ad106 "
               "ad107".split())

# Reports checkpatch gets wrong for a file's very purpose, each with the reason.
CHECKPATCH_EXCEPTIONS = series.CHECKPATCH_EXCEPTIONS

# The one line each GSP boot failure of boot/gsp-faults must produce, by its log tags
# (scripts/nova/logtags.py) and the identifiers it names, never by its wording.
GSP_FAULT_LINES = {
    "never-answer": logtags.line("gsp-init-failed", qualifier="rpc-timeout"),
    "error-status": logtags.line("rpc-status", r"\bGET_GSP_STATIC_INFO\b.*\bNV_ERR_GENERIC\b"),
    "bad-checksum": logtags.line("gsp-init-failed", r"\bBadChecksum\b", qualifier="rpc-queue"),
    "wpr2-preset": logtags.line("wpr2-up", qualifier="needs-reset"),
    "fwsec-frts-error": logtags.line("fwsec-frts-error"),
    "booter-error": logtags.line("ucode-failed", r"\bbooter_load\b"),
    "refused-again": r"nova-guest: ok rebind-refused-again",
}

# boot/rpc-faults: each GPU's one-shot RPC fault switches after GSP boot (nova-sim
# --gsp-fault KIND@TARGET#N). The probe steps, in the order nova-core calls them: a fault at
# step k's first call fails the k-th bind. The GET_KERNEL_TABLE control does not fail the
# probe (nova-core then polls the queue): its fault is at its second call, the second bind,
# which the guest runs for all GPUs at once, unlike the probes at boot, so that its 5 s
# timeouts overlap with the others'.
RPC_PROBE_STEPS = [
    ("kernel-table", "ctrl:NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE",
     r"GSP_RM_CONTROL\(NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE,"),
    ("root", "class:NV01_ROOT", r"GSP_RM_ALLOC\(NV01_ROOT,"),
    ("device", "class:NV01_DEVICE_0", r"GSP_RM_ALLOC\(NV01_DEVICE_0,"),
    ("subdevice", "class:NV20_SUBDEVICE_0", r"GSP_RM_ALLOC\(NV20_SUBDEVICE_0,"),
    ("engines", "ctrl:NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE",
     r"GSP_RM_CONTROL\(NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE,"),
    ("classes", "ctrl:NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2",
     r"GSP_RM_CONTROL\(NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2,"),
    ("gpcs", "ctrl:NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO",
     r"GSP_RM_CONTROL\(NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,"),
    ("tpcs", "ctrl:NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO",
     r"GSP_RM_CONTROL\(NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO,"),
]
# The unbind steps: the subdevice's FREE (the first at unbind), the device's or the client's,
# and UNLOADING_GUEST_DRIVER. A refused FREE of the client would leave its objects in GSP-RM
# for good, which the simulator rightly reports: error-status refuses the device's instead.
RPC_UNBIND_STEPS = {
    "free-subdevice": ("FREE#1", r"\bFREE\(0x5d1d0000\)"),
    "free-device": ("FREE#2", r"\bFREE\(0xde1d0000\)"),
    "free-client": ("FREE#3", r"\bFREE\(0xc1d00000\)"),
    "unloading": ("UNLOADING_GUEST_DRIVER#1", r"\bUNLOADING_GUEST_DRIVER\b"),
}
# What each kind's failing call logs: (tag, the status named after the RPC).
RPC_FAULT_KINDS = {
    "error-status": ("rpc-status", r".*\bNV_ERR_GENERIC\b"),
    "error-status=NV_ERR_INSUFFICIENT_RESOURCES": (
        "rpc-status", r".*\bNV_ERR_INSUFFICIENT_RESOURCES\b"),
    "never-answer": ("rpc-timeout", ""),
    "late-reply": ("rpc-timeout", ""),
    "duplicate-reply": (None, ""),
}


def rpc_fault_gpus():
    """The GPUs of boot/rpc-faults: (label, chip, simulator args, binds it takes, [(step,
    failing-line regex or None)], whether stale replies must be logged)."""
    gpus = []
    for kind in ("error-status", "never-answer", "late-reply", "duplicate-reply"):
        # Every step's first call; the duplicates fail nothing, so all hit the first bind.
        args = [a for step in RPC_PROBE_STEPS
                for a in ("--gsp-fault",
                          f"{kind}@{step[1]}#{2 if step[0] == 'kernel-table' else 1}")]
        tag, status = RPC_FAULT_KINDS[kind]
        lines = [(name, logtags.line(tag, rpc + status) if tag else None)
                 for name, _, rpc in RPC_PROBE_STEPS]
        binds = 1 if kind == "duplicate-reply" else len(RPC_PROBE_STEPS)
        gpus.append((f"probe-{kind}", "ad102", args, binds, lines,
                     kind in ("late-reply", "duplicate-reply")))
    for kind, steps in (("error-status=NV_ERR_INSUFFICIENT_RESOURCES",
                         ("free-subdevice", "free-device", "unloading")),
                        ("never-answer", ("free-subdevice", "free-client", "unloading")),
                        ("late-reply", ("free-subdevice", "free-client", "unloading")),
                        ("duplicate-reply", ("free-subdevice", "free-client", "unloading"))):
        args = [a for st in steps for a in ("--gsp-fault", f"{kind}@{RPC_UNBIND_STEPS[st][0]}")]
        tag, status = RPC_FAULT_KINDS[kind]
        lines = [(st, logtags.line(tag, RPC_UNBIND_STEPS[st][1] + status) if tag else None)
                 for st in steps]
        gpus.append((f"unbind-{kind.split('=')[0]}", "ga102", args, 1, lines,
                     kind == "duplicate-reply"))
    # The storm: 10,000 UCODE_LIBOS_PRINT events while the class list is asked for, at the
    # second bind (about 30 s under TCG, beside the other GPUs' binds).
    storm = ["--gsp-fault", "event-storm@ctrl:NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2#2"]
    gpus.append(("storm", "ad102", storm, 1, [], False))
    return gpus


def rpc_faults_judge(b):
    label = "boot/rpc-faults"
    gpus = rpc_fault_gpus()
    bound, rebound = {}, {}
    for l in b.lines(r"nova-guest: rpcfault \d+ "):
        m = re.search(r"rpcfault (\d+) (\S+) bound after (\d+) binds", l)
        if m:
            bound[int(m.group(1))] = (m.group(2), int(m.group(3)))
        m = re.search(r"rpcfault (\d+) (\S+) rebound reset (\d)", l)
        if m:
            rebound[int(m.group(1))] = int(m.group(3))
    for i, (name, chip, _, binds, lines, stale) in enumerate(gpus):
        gpu = f"{label}/{i}-{name}"
        bdf, took = bound.get(i, (None, None))
        record(f"{gpu}/binds", took == binds,
               f"bound after {took} binds, expected {binds}; see {b.log}")
        record(f"{gpu}/rebinds", rebound.get(i) == 0,
               f"rebind {'needed a reset' if rebound.get(i) else 'failed'}; see {b.log}")
        if bdf is None:
            continue
        mine = [l for l in b.console if f"nova-core {bdf}: " in l]
        failures = [l for l in mine if re.search(r"\[rpc-(status|timeout|queue|decode|error)\]", l)]
        for step, pattern in lines:
            if pattern is None:
                continue
            hits = [l for l in failures if re.search(pattern, l)]
            record(f"{gpu}/one-line-{step}", len(hits) == 1,
                   f"{len(hits)} lines matching /{pattern}/ for {bdf}; see {b.log}")
        expected = sum(1 for _, p in lines if p)
        record(f"{gpu}/no-other-rpc-failure", len(failures) == expected,
               f"{len(failures)} RPC failure lines for {bdf}, expected {expected}: "
               f"{failures[:4]}; see {b.log}")
        if stale:
            n = len([l for l in mine if re.search(logtags.line("rpc-stale"), l)])
            record(f"{gpu}/stale-dropped", n >= 1, f"no [rpc-stale] line for {bdf}; see {b.log}")
        if name == "storm":
            prints = [l for l in mine if "GSP: LibOS" in l]
            # Rate-limited: at most 10 prints per 5 s window of the storm (RateLimit in
            # gsp/rpc.rs), however long the storm takes on this machine, and far below the
            # 10,000 events.
            stamps = [float(m.group(1)) for m in
                      (re.search(r"\[\s*(\d+\.\d+)\]", l) for l in prints) if m]
            span = max(stamps) - min(stamps) if stamps else 0.0
            allowed = 10 * (int(span / 5) + 2)
            record(f"{gpu}/log-bounded", len(prints) <= min(allowed, 1000),
                   f"{len(prints)} LibOS prints for {bdf} in {span:.0f} s of the storm, "
                   f"more than {allowed} (10 per 5 s) or 1000; see {b.log}")
            record(f"{gpu}/storm-rate-limited",
                   bool([l for l in mine if re.search(logtags.line("gsp-event-flood"), l)]),
                   f"no [gsp-event-flood] line for {bdf}; see {b.log}")
        if i < len(b.sims):
            rc, stats, simlog = b.sims[i]
            allocs, frees = int(stats.get("rm_allocs", -1)), int(stats.get("rm_frees", -1))
            record(f"{gpu}/no-object-left", allocs > 0 and allocs == frees,
                   f"simulator counted {allocs} RM objects allocated, {frees} freed; see {simlog}")


# How long the simulated hardware takes, per guest (nova-sim --timing; guests not listed get
# its default, "fast"). Random timing is reproducible from its seed: NOVA_TIMING_SEED repeats
# a run's delays.
TIMING_SEED = os.environ.get("NOVA_TIMING_SEED", "20261207")
GUEST_TIMING = {
    "boot/archs": f"random:{TIMING_SEED}",
    # Realistic timing costs the rebinds nothing measurable: a cycle (about 2 s under TCG) is
    # the guest's own work (unbind, firmware load, GSP boot), fast timing or not.
    "boot/rebind": "realistic",
}

# How many times boot/rebind unbinds and rebinds nova-core (issue 9: 200 cycles).
REBIND_CYCLES = 200
# The cycles whose median time is compared: the first and the last this many.
REBIND_WINDOW = 20
# How much slower the last cycles' median may be than the first's. The guest clock is the
# host's (TCG without -icount), so a cycle's time moves with the load of a 2-core host shared
# with the other guest of the run and with other builds: medians of 20 cycles moved by up to
# 1.4x between windows of one run with no leak (measured). Twice the first median is beyond
# that noise; a leak that slows every cycle (a list that grows per bind and is walked per
# bind, memory that runs out, handles that run into a limit) adds to each cycle in turn and
# over 180 cycles grows far past it, or fails a bind outright.
REBIND_GROWTH = 2.0

REBIND_CYCLE_RE = re.compile(r"nova-guest: rebind-cycle (\d+) (\d+) ms")


def rebind_cycles(console):
    """Each rebind cycle's time (ms) in the guest's console, in order."""
    return [int(m.group(2)) for line in console for m in [REBIND_CYCLE_RE.search(line)] if m]


def rebind_flat(cycles, window=REBIND_WINDOW, growth=REBIND_GROWTH):
    """Whether the last `window` cycles' median time is at most `growth` times the first
    `window` cycles' median: (verdict, detail)."""
    if len(cycles) < 2 * window:
        return False, f"{len(cycles)} cycles timed, fewer than the {2 * window} compared"
    first = statistics.median(cycles[:window])
    last = statistics.median(cycles[-window:])
    ratio = last / first if first else float("inf")
    return ratio <= growth, (f"median cycle {first:.0f} ms over the first {window}, "
                             f"{last:.0f} ms over the last {window} ({ratio:.2f}x; at most "
                             f"{growth:.1f}x)")

# How long each guest takes, in seconds of wall time (a warm `make check` of 9cf9d82 on two
# cores); boot_jobs starts the longest first.
GUEST_SECONDS = {
    "boot/rebind": 429, "fuzz/firmware": 260, "boot/rpc-faults": 148, "igt/ad102": 129,
    "boot/boards": 127, "boot/gsp-faults": 72, "boot/archs": 56, "boot/intr": 40,
    "boot/refusals": 32, "upstream/ad102": 27,
}

results = []  # (name, "pass"|"fail"|"skip", detail)
t_start = time.monotonic()


def stage(name, what):
    print(f"==> [{name}] {what} (t+{time.monotonic() - t_start:.0f}s)", flush=True)


def record(name, passed, detail="", note="", skipped=False):
    """Records a test: passed or failed, or, with `skipped`, a skip (`detail` says why). A
    skip is counted apart from passes and failures; a check that may skip only for a known
    reason records anything else as a failure."""
    status = "skip" if skipped else "pass" if passed else "fail"
    results.append((name, status, detail))
    tag = status.upper()
    print(f"{tag} {name}" + (f": {detail}" if detail and status != "pass" else "")
          + (f" ({note})" if note else ""), flush=True)


def run(cmd, log, cwd=TOP, env=None):
    """Runs a command with its output in LOGS/log; returns (ok, output)."""
    path = os.path.join(LOGS, log + ".log")
    with open(path, "w") as f:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", env=env)
        f.write(p.stdout)
    return p.returncode == 0, p.stdout, path


def tail(text, n=15):
    return "\n".join(text.rstrip().splitlines()[-n:])


def stage_env():
    stage("env", "build root, base kernel and firmware (first run: about 3 minutes)")
    ok, out, log = run(["bash", os.path.join(NOVA, "env.sh")], "check-env")
    record("env", ok, f"see {log}\n{tail(out)}")
    if ok:
        print(tail(out, 4))
    return ok


def tools_cargo(args, log, env=None, after=()):
    """Runs `cargo ARGS` over the tools workspace (AFTER goes after `--`): on the host for
    nova-sim and nova-tlv, and in the build root for nova-test, whose build script needs the
    root's libclang (it runs bindgen on the installed nova_drm.h), with a target directory of
    its own (programs built in the root need its C library). Returns (ok, output, logs)."""
    tools = os.path.join(TOP, "tools")
    tail_args = ["--", *after] if after else []
    ok1, out1, log1 = run(["cargo", *args, "--workspace", "--exclude", "nova-test", *tail_args],
                          log, cwd=tools, env=env)
    ok2, out2, log2 = run(["bash", os.path.join(NOVA, "cargo-in-root.sh"), *args,
                           "-p", "nova-test", "--target-dir", "target/root", *tail_args],
                          log + "-nova-test", cwd=tools, env=env)
    return ok1 and ok2, out1 + out2, f"{log1} and {log2}"


def stage_tools():
    stage("tools", "nova-sim and nova-test")
    ok, out, log = run(["bash", os.path.join(NOVA, "build-tools.sh")], "check-tools-build")
    record("tools/build", ok, f"see {log}\n{tail(out)}")
    if not ok:
        return False
    tools = os.path.join(TOP, "tools")
    # nova-tlv's test on the real Debian firmware must run, not skip.
    env = dict(os.environ, NOVA_FIRMWARE=guest._env()["NOVA_FIRMWARE"], NOVA_REQUIRE_FIRMWARE="1")
    okt, out, log = tools_cargo(["test", "--release", "--locked"], "check-cargo-test", env=env)
    # Each test of each crate counts, as cargo reports them.
    n = 0
    for m in re.finditer(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", out, re.M):
        if m.group(2) != "ignored":
            record(f"cargo/{m.group(1)}", m.group(2) == "ok", f"see {log}")
            n += 1
    if not okt or n == 0:
        record("cargo/test", False, f"cargo test failed or ran nothing; see {log}\n{tail(out)}")
    ok, out, log = run(["cargo", "fmt", "--all", "--check"], "check-cargo-fmt", cwd=tools)
    record("tools/rustfmt", ok, f"see {log}\n{tail(out)}")
    ok, out, log = tools_cargo(["clippy", "--release", "--locked", "--all-targets"],
                               "check-cargo-clippy", after=["-D", "warnings"])
    record("tools/clippy", ok, f"see {log}\n{tail(out)}")
    ok, out, log = tools_cargo(["doc", "--no-deps", "--locked"], "check-cargo-doc",
                               env=dict(os.environ, RUSTDOCFLAGS="-D warnings"))
    record("tools/rustdoc", ok, f"see {log}\n{tail(out)}")
    # The harness states its expectations for every chip the simulator models, and only those.
    missing, extra = chips.coverage(guest.SIM)
    record("harness/chip-table", not missing and not extra,
           f"scripts/nova/chips.py lacks {missing} or has chips nova-sim does not list: {extra}")
    return True


def stage_kernel():
    stage("kernel", "building the test kernel; nova's crates through clippy "
          "(first run: about 10 minutes)")
    ok, out, log = run(["bash", os.path.join(NOVA, "build-kernel.sh"), "--lint", "--rustdoc"],
                       "check-kernel")
    record("kernel/build", ok, f"see {os.path.join(LOGS, 'kernel-build.log')}\n{tail(out)}")
    if not ok:
        return False
    lint = os.path.join(LOGS, "kernel-lint.log")
    text = open(lint).read() if os.path.exists(lint) else ""
    record("kernel/warnings-and-clippy", not text.strip(), f"see {lint}\n{tail(text, 30)}")
    # make LLVM=1 rustdoc, with our rust/ files in the kernel crate.
    rdoc = os.path.join(LOGS, "kernel-rustdoc.log")
    text = open(rdoc).read() if os.path.exists(rdoc) else "no rustdoc log"
    record("docs/rustdoc", not text.strip(), f"see {rdoc}\n{tail(text, 30)}")
    return True


def stage_upstream_kernel():
    """The base tree built unmodified (upstream nova-core and nova-drm), the peer our
    simulator is checked against."""
    stage("upstream-kernel", "building the unmodified base tree, same configuration "
          "(first run: about 5-10 minutes)")
    # NOVA_KERNEL_OUT names where our kernel's copy goes; the base tree's must not replace it.
    env = {k: v for k, v in os.environ.items() if k != "NOVA_KERNEL_OUT"}
    ok, out, log = run(["bash", os.path.join(NOVA, "build-kernel.sh")], "check-upstream-kernel",
                       env=dict(env, NOVA_VARIANT="upstream"))
    record("upstream-kernel/build", ok,
           f"see {os.path.join(LOGS, 'kernel-build-upstream.log')}\n{tail(out)}")
    return ok


def overlay_files(exts):
    out = subprocess.run(["git", "ls-files", "drivers", "include", "rust", "Documentation"],
                         cwd=TOP, capture_output=True, text=True).stdout.split()
    return [f for f in out if f.endswith(exts)]


def kernel_crate_patch(ksrc, files):
    """The change our rust/ overlay makes to the base tree's kernel crate, as a unified diff
    (what would be sent upstream): checkpatch judges the change, not the base tree's lines."""
    out = []
    for f in files:
        base = os.path.join(ksrc, f)
        old = base if os.path.exists(base) else "/dev/null"
        r = subprocess.run(["diff", "-u", "--label", f"a/{f}", "--label", f"b/{f}", old,
                            os.path.join(TOP, f)], capture_output=True, text=True)
        out.append(r.stdout)
    return "".join(out)


def stage_style():
    stage("style", "rustfmt and checkpatch on the kernel sources, the installed uAPI header")
    env = guest._env()
    ksrc = env.get("NOVA_KSRC_PRISTINE", "")
    rs = [f for f in overlay_files((".rs",))]
    # Files of the kernel crate name their sibling modules (`mod file;`), which rustfmt
    # follows: check ours inside a copy of the base tree's rust/ (hard links, ours on top).
    with tempfile.TemporaryDirectory(prefix="nova-rustfmt-") as tmp:
        ours = [f for f in rs if f.startswith("rust/")]
        if ours:
            subprocess.run(["cp", "-al", os.path.join(ksrc, "rust"), tmp], check=True)
            for f in ours:
                dst = os.path.join(tmp, f)
                if os.path.exists(dst):
                    os.unlink(dst)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(os.path.join(TOP, f), dst)
        paths = [os.path.join(tmp, f) if f.startswith("rust/") else os.path.join(TOP, f)
                 for f in rs]
        ok, out, log = run([os.path.join(NOVA, "in-root.sh"), "rustfmt", "--check", "--edition",
                            "2021", "--config-path", os.path.join(ksrc, ".rustfmt.toml"),
                            *paths], "check-rustfmt")
    record("style/rustfmt", ok, f"see {log}\n{tail(out)}")
    all_files = overlay_files((".rs", ".c", ".h", "Kconfig", "Makefile"))
    files = [os.path.join(TOP, f) for f in all_files if not f.startswith("rust/")]
    ok, out, log = run([os.path.join(NOVA, "in-root.sh"), "perl",
                        os.path.join(ksrc, "scripts", "checkpatch.pl"), "--no-tree", "--terse",
                        "--strict", "--show-types", "--ignore", "FILE_PATH_CHANGES", "-f", *files],
                       "check-checkpatch")
    bad = [l for l in out.splitlines() if re.search(r": (ERROR|WARNING|CHECK):", l)
           and not any(l.startswith(os.path.join(TOP, f) + ":") and re.search(t, l)
                       for f, t in CHECKPATCH_EXCEPTIONS)]
    record("style/checkpatch", not bad, f"see {log}\n" + "\n".join(bad[:20]))
    # Integer `as` casts: each with a CAST reason, and no more than upstream nova-core has.
    ok, out, log = run([sys.executable, os.path.join(NOVA, "casts.py"), "--base",
                        os.path.join(ksrc, "drivers", "gpu", "nova-core"),
                        os.path.join(TOP, "drivers", "gpu", "nova-core")], "check-casts")
    record("style/casts", ok, f"see {log}\n{tail(out)}")
    # The kernel log tags the tests match: written by the driver, listed in logtags.py and in
    # testing.rst, and none the guest script matches missing from the list.
    problems = logtags.consistency(TOP)
    record("style/log-tags", not problems, "\n".join(problems))
    crate = [f for f in all_files if f.startswith("rust/")]
    if crate:
        patch = os.path.join(LOGS, "kernel-crate.patch")
        with open(patch, "w") as f:
            f.write(kernel_crate_patch(ksrc, crate))
        ok, out, log = run([os.path.join(NOVA, "in-root.sh"), "perl",
                            os.path.join(ksrc, "scripts", "checkpatch.pl"), "--no-tree",
                            "--terse", "--strict", "--show-types", "--ignore",
                            "FILE_PATH_CHANGES,MISSING_SIGN_OFF,COMMIT_MESSAGE", patch],
                           "check-checkpatch-kernel-crate")
        bad = [l for l in out.splitlines() if re.search(r": (ERROR|WARNING|CHECK):", l)]
        record("style/checkpatch-kernel-crate", not bad,
               f"see {log} (patch {patch})\n" + "\n".join(bad[:20]))
    # The uAPI header as user space gets it: installed by headers_install, compiled with -Werror,
    # its layout and ioctl numbers asserted.
    ok, out, log = run(["bash", os.path.join(NOVA, "check-uapi.sh")], "check-uapi")
    record("style/uapi-headers-install", ok, f"see {log}\n{tail(out)}")


def series_job():
    """Writes and checks the series, and builds the HTML documentation of its end state:
    (result or error, seconds). It needs neither the tools nor the kernel, so main() runs it
    beside them (on a first run, most of its time is spent making the git repository of the
    base and the docs root, which wait on the disk and the network)."""
    t0 = time.monotonic()
    try:
        return series.write(os.path.join(guest.CACHE, "series"), docs=True), \
            time.monotonic() - t0
    except series.SeriesError as e:
        return e, time.monotonic() - t0
    except Exception as e:  # a bug must fail the stage, not the run
        return series.SeriesError(f"series.py failed: {e!r}"), time.monotonic() - t0


def stage_series(job):
    """The tree as a patch series for drm-rust: written, checkpatch'd, applied with git am."""
    stage("series", "the tree as a patch series against the base tree: checkpatch --strict, "
          "git am, htmldocs of its end state (run beside the stages before; first run: a "
          "git repository of the base and the docs root, and all of gpu/)")
    r, dt = job.result()
    if isinstance(r, Exception):
        record("series/git-am", False, str(r))
        return None
    record("series/git-am", True, note=f"{len(r['patches'])} patches, {dt:.0f} s with "
           "checkpatch and htmldocs")
    for p, bad in r["checkpatch"]:
        record(f"series/checkpatch/{os.path.basename(p)[:4]}", not bad,
               f"checkpatch --strict on {p}:\n" + "\n".join(bad[:20]))
    return r


def stage_docs(series_result):
    """kernel-doc and htmldocs as the kernel runs them (rustdoc runs in the kernel stage)."""
    stage("docs", "kernel-doc -Wall on the uAPI header and our C files; the series stage's "
          "make SPHINXDIRS=gpu htmldocs")
    ok, out, log = run(["bash", os.path.join(NOVA, "docs.sh"), "kernel-doc"], "check-kernel-doc")
    record("docs/kernel-doc", ok, f"see {log}\n{tail(out, 20)}")
    if not series_result:
        record("docs/htmldocs", False, "needs the series' end state (stage series failed)")
        return
    # Built by the series stage while it held the series' repository.
    ok, out = series_result["htmldocs"]
    warn = os.path.join(LOGS, "docs-warnings.log")
    last = (out.strip().splitlines() or [""])[-1].replace("==> [docs] ", "")
    record("docs/htmldocs", ok, f"see {os.path.join(LOGS, 'docs-htmldocs.log')} and "
           f"{warn}\n{tail(out, 20)}", note=last if ok else "")


def stage_initramfs():
    stage("initramfs", "guest userspace (first run: the Debian sid guest root, about 30 s)")
    ok, out, log = run(["bash", os.path.join(NOVA, "build-initramfs.sh")], "check-initramfs")
    record("initramfs", ok, f"see {log}\n{tail(out)}")
    return ok


# Violations a boot is expected to show, by boot label: the exact list, one regex per distinct
# violation the simulator logs (each must appear, nothing else may). Each is documented with
# NVIDIA's evidence in Documentation/gpu/nova/side-by-side.rst ("Documented violations").
EXPECTED_VIOLATIONS = {
}


def sim_violations(simlog):
    """The distinct violation lines of a simulator log, without the log prefix."""
    out = []
    try:
        with open(simlog, errors="replace") as f:
            for line in f:
                m = re.match(r"nova-sim: warn: (violation: .*)$", line.rstrip("\n"))
                if m and m.group(1) not in out:
                    out.append(m.group(1))
    except OSError:
        pass
    return out


def violations_as_expected(label, rc, stats, simlog):
    """(passed, detail) for a simulator's violations against EXPECTED_VIOLATIONS[label]."""
    expected = EXPECTED_VIOLATIONS.get(label, [])
    count = stats.get("violations", "missing")
    seen = sim_violations(simlog)
    if not expected:
        return (rc == 0 and count == "0",
                f"simulator exit {rc}, violations {count}; see {simlog}\n" + "\n".join(seen[:10]))
    unexpected = [v for v in seen if not any(re.search(p, v) for p in expected)]
    missing = [p for p in expected if not any(re.search(p, v) for v in seen)]
    ok = rc == 3 and not unexpected and not missing
    return ok, (f"simulator exit {rc}, violations {count}; see {simlog}; "
                f"unexpected: {unexpected[:10]}; expected but not seen: {missing}")


def check_boot(label, b, expect_log=None):
    """Records the tests every boot has."""
    for name, result, detail in b.checks:
        record(f"{label}/{name}", result == "pass", detail, skipped=result == "skip")
    if not b.checks:
        record(f"{label}/guest-ran", False, f"no guest check ran; see {b.log}")
    record(f"{label}/guest-status", b.guest_status == 0 and not b.timed_out,
           f"guest status {b.guest_status}, QEMU {b.qemu_rc}"
           f"{', timed out' if b.timed_out else ''}; see {b.log}")
    record(f"{label}/no-kernel-reports", not b.reports, "\n".join(b.reports[:10]))
    if expect_log:
        hits = b.lines(expect_log)
        record(f"{label}/log-line", bool(hits), f"no line matching /{expect_log}/ in {b.log}")
    for i, (rc, stats, simlog) in enumerate(b.sims):
        chip = stats.get("chip", str(i))
        gpu = f"/gpu{i}-{chip}" if len(b.sims) > 1 else ""
        passed, detail = violations_as_expected(label, rc, stats, simlog)
        name = "simulator-clean" if not EXPECTED_VIOLATIONS.get(label) else \
            "simulator-violations-as-documented"
        record(f"{label}/{name}" + gpu, passed, detail)
        # The RM objects nova allocated in GSP-RM: at exit either none or one client tree
        # (client, device, subdevice) of a GPU still bound.
        allocs, frees = int(stats.get("rm_allocs", -1)), int(stats.get("rm_frees", -1))
        record(f"{label}/rm-objects-balanced" + gpu,
               allocs >= 0 and allocs - frees in (0, 3),
               f"simulator counted {allocs} RM objects allocated, {frees} freed; see {simlog}")
    if not b.sims:
        record(f"{label}/simulator-ran", False, "no simulator")


def log_lines(label, b, patterns):
    """Records that each of `patterns` ({name: regex}) matches a console line."""
    for name, pattern in patterns.items():
        record(f"{label}/log-line-{name}", bool(b.lines(pattern)),
               f"no line matching /{pattern}/ in {b.log}")


def gpu_irqs(b):
    """[(BDF, chip, [MSI counts])] of every GPU nova-core identified, in BDF order: the chip
    from nova-core's identification line, the counts from the guest's report_irqs."""
    chips_seen = {}
    for l in b.lines(logtags.line("identified", r"NVIDIA [A-Z]{2}\d{3} ")):
        m = re.search(r"nova-core (\S+): .*NVIDIA ([A-Z]{2}\d{3}) ", l)
        if m:
            chips_seen[m.group(1)] = m.group(2).lower()
    counts = {}
    for l in b.lines(r"nova-irq: "):
        m = re.search(r"nova-irq: (\S+) irq \d+ count (\d+)", l)
        if m:
            counts.setdefault(m.group(1), []).append(int(m.group(2)))
    return [(bdf, chips_seen[bdf], counts.get(bdf, [])) for bdf in sorted(chips_seen)]


def irq_judge(label, b, silent=()):
    """Every GPU GSP-RM boots on has one MSI, which fired (its message queue runs on it); the
    others have none. GPUs whose index (in BDF order) is in `silent` run with the simulator's
    no-interrupt fault: their MSI never fires, and the backstop says so in one line."""
    gpus = gpu_irqs(b)
    record(f"{label}/irq-report", bool(gpus), f"no GPU identified; see {b.log}")
    lost = b.lines(logtags.line("irq-lost"))
    for i, (bdf, chip, counts) in enumerate(gpus):
        boots = chips.EXPECT[chip].boots_gsp
        if i in silent:
            ok = len(counts) == 1 and counts[0] == 0 and any(bdf in l for l in lost)
            why = f"MSI counts {counts} and lost-interrupt lines {lost[:3]}"
        elif boots:
            ok = len(counts) == 1 and counts[0] > 0 and not any(bdf in l for l in lost)
            why = f"MSI counts {counts}; lost-interrupt lines {[l for l in lost if bdf in l][:3]}"
        else:
            ok = counts == []
            why = f"MSI counts {counts} on a GPU GSP-RM does not boot on"
        record(f"{label}/gsp-interrupt/{i}-{chip}", ok, f"{bdf}: {why}; see {b.log}")


def upstream_judge(label, chip):
    """The unmodified upstream nova on our simulator: it must get as far as it does on real
    hardware (GSP_INIT_DONE, static info, nova-drm registered), and the simulator must count
    no violation by it (check_boot records that)."""
    def judge(b):
        reached, state, elapsed, errors = compare.judge(b)
        record(f"{label}/reaches-drm", state == "ready" and reached == "drm",
               f"reached {reached}, state {state}; {'; '.join(errors)}; see {b.log}")
        log_lines(label, b, {"gpu-name": rf"nova-core .*: GPU name: NVIDIA "})
        if elapsed is not None:
            print(f"    {label}: probe to ready {elapsed:.3f} s guest time", flush=True)
    return judge


def boot_jobs(upstream=True):
    """Every guest boot of the run: (label, start, log pattern, extra judge)."""
    jobs = []

    def plain(label, chip, mode, exp=None, **kw):
        return lambda: guest.boot(chip, mode, exp, name=label.replace("/", "-"),
                                  timing=GUEST_TIMING.get(label), **kw)

    # The rebinds first: at about 2 s a cycle under TCG, it is the longest boot.
    ad102 = guest.expectations(guest.describe("ad102"))
    # Unbind and rebind nova-core REBIND_CYCLES times, then run the whole nova-test uAPI suite
    # (GETPARAM, GEM, mmap, PRIME with itself and vgem, an unprivileged user).
    def rebind_judge(b):
        # 1 + REBIND_CYCLES binds (the boot's and the rebinds), each allocating a client, a
        # device and a subdevice; the guest's last unbind leaves none in the simulator.
        binds = 1 + REBIND_CYCLES
        for rc, stats, simlog in b.sims[:1]:
            allocs, frees = int(stats.get("rm_allocs", -1)), int(stats.get("rm_frees", -1))
            record("boot/rebind/rm-objects-per-bind", allocs == 3 * binds,
                   f"simulator counted {allocs} RM objects allocated, expected {3 * binds}; "
                   f"see {simlog}")
            record("boot/rebind/rm-objects-none-leaked", allocs == frees,
                   f"{allocs - frees} RM objects left after the last unbind; see {simlog}")
        cycles = rebind_cycles(b.console)
        record("boot/rebind/cycles-timed", len(cycles) == REBIND_CYCLES,
               f"the guest timed {len(cycles)} of {REBIND_CYCLES} cycles; see {b.log}")
        flat, detail = rebind_flat(cycles)
        record("boot/rebind/cycle-time-flat", flat, f"{detail}; see {b.log}", note=detail)
    jobs.append(("boot/rebind", plain("boot/rebind", "ad102", "rebind", ad102, timeout=1200,
                                      append=[f"nova.rebinds={REBIND_CYCLES}"]),
                 logtags.line("identified", r"\bAD102\b"), rebind_judge))

    # IGT next: the longest boot after the rebinds. After IGT, the guest checks with nova-test that nova
    # came back as it was at boot.
    def igt_judge(b):
        for name, result, detail in igt.judge(b):
            record(f"igt/{name}", result == "pass", detail, skipped=result == "skip")
        for line in igt.summary(b):
            print(f"    {line}", flush=True)
    jobs.append(("igt/ad102", lambda: igt.boot("ad102"), logtags.line("identified", r"\bAD102\b"),
                 igt_judge))

    # The firmware fuzzer, second as the next longest boot: damaged files of GA102 and AD102,
    # one at a time, in one guest. Each
    # (chip, file, class of damage) is a test: every variant of it must leave no kernel report,
    # be refused with a line naming the file (or be harmless), and the GPU must bind again with
    # the intact file. The simulator counts the damaged images it rejects as violations, so
    # they are not judged here.
    def fuzz_judge(b, n):
        results = fwfuzz.judge(b)
        record("fuzz/variants-ran", len(results) == n,
               f"{len(results)} of {n} variants ran; see {b.log}")
        record("fuzz/guest-status", b.guest_status == 0 and not b.timed_out,
               f"guest status {b.guest_status}{', timed out' if b.timed_out else ''}; see {b.log}")
        record("fuzz/no-kernel-reports", not b.reports, "\n".join(b.reports[:10]))
        groups = {}
        for r in results:
            groups.setdefault(f"fuzz/{r[1]}/{r[2]}/{r[3]}", []).append(r)
        for name, rs in sorted(groups.items()):
            bad = [r for r in rs if not r[5]]
            record(name, not bad, "; ".join(f"variant {r[0]} ({r[4]}): {r[6]}" for r in bad[:5]))
        for line in fwfuzz.summary(results):
            print(f"    fuzz: {line}", flush=True)

    def fuzz_boot():
        b, n = fwfuzz.boot()
        b.fuzz_count = n
        return b
    jobs.append(("fuzz/firmware", fuzz_boot, None, lambda b: fuzz_judge(b, b.fuzz_count)))

    # One guest with a GPU of every architecture, and an AD102 with a 32 GiB BAR1 (Resizable
    # BAR, whose size GETPARAM must report in full 64 bits), and one with the other boards:
    # each GPU is identified, checked by its GSP firmware, registered, and seen by libdrm as
    # its PCI device. The two run side by side.
    rebar = ["--bar1-size", "32G"]

    def archs_job(label, gpus, name, mem, lines=()):
        """A guest booting `gpus`, (chip, simulator arguments, label) each; `lines` are
        further (label, pattern) log lines the guest must show."""
        groups, patterns = [], dict(lines)
        for chip, args, tag in gpus:
            desc = guest.describe(chip, args)
            exp = guest.expectations(desc)
            groups.append(",".join([f"label={tag}"] + [f"{k}={v}" for k, v in exp.items()]))
            bar1 = int(desc["bar1_size"], 0) >> 20
            patterns[tag] = logtags.line("identified", rf"\b{chip.upper()}\b.*"
                                         rf"\b{int(desc['chipset'], 0):#x}\b.*\bBAR1 {bar1} MiB")
        return (label,
                lambda: guest.boot(gpus[0][0], "identity", gpus=[(c, a) for c, a, _ in gpus],
                                   name=name, groups=groups, timeout=360, mem=mem,
                                   timing=GUEST_TIMING["boot/archs"]),
                None, lambda b: (log_lines(label, b, patterns), irq_judge(label, b)))
    # 7 GPUs and 14 GPUs, each with the GETPARAM, GPU_NAME and query checks: each guest takes
    # about two to four minutes under load.
    jobs.append(archs_job("boot/archs", [(c, [], c) for c in CHIPS]
                          + [("ad102", rebar, "ad102-rebar")], "boot-archs", "1G"))
    if BOARDS:
        # With them an AD102 whose VBIOS did not scrub the FB: nova-core runs the scrubber
        # first, says so, and boots.
        jobs.append(archs_job(
            "boot/boards", [(c, [], c) for c in BOARDS]
            + [("ad102", ["--fault", "scrubber-pending"], "ad102-unscrubbed")],
            "boot-boards", "2G",
            lines=[("scrubber-ran", logtags.line("fb-unscrubbed"))]))
    # The GSP's message interrupt: on GA102 and AD102 it drives GSP-RM's message queue (an
    # MSI that fires, no lost interrupt); on an AD102 whose GSP-RM never raises it, every
    # message is found by the backstop timeout instead, which says so.
    intr_gpus = [("ga102", []), ("ad102", []), ("ad102", ["--gsp-fault", "no-interrupt"])]
    intr_groups = ";".join(",".join([f"label={c}{i}"] + [f"{k}={v}" for k, v in
                                    guest.expectations(guest.describe(c)).items()])
                           for i, (c, _) in enumerate(intr_gpus))
    jobs.append(("boot/intr",
                 lambda: guest.boot("ga102", "identity", gpus=intr_gpus, name="boot-intr",
                                    append=["nova.groups=" + intr_groups]),
                 None, lambda b: irq_judge("boot/intr", b, silent=(2,))))

    # Refusals, in one guest: an AD102 without booter_load and a TU102 whose gsp file is cut
    # to 1 MiB (the probe fails with one line naming the file, and the package for a missing
    # one), a chip of an architecture nova does not know, and a pre-Turing chip (refused with
    # one line naming the value read). Then the guest fixes the firmware and binds every GPU
    # again: the two fixed ones must bind, the unsupported ones must be refused again.
    refusals = [("ad102", []), ("tu102", []),
                ("ad102", ["--boot0", "0x1c2000a1", "--boot42", "0x1c2a1000"]), ("gv100", [])]
    fixed = [("ad102", ad102), ("tu102", guest.expectations(guest.describe("tu102")))]
    fixed_groups = ";".join(",".join([f"label={c}"] + [f"{k}={v}" for k, v in e.items()])
                            for c, e in fixed)
    jobs.append(("boot/refusals",
                 lambda: guest.boot("ad102", "fwfix", gpus=refusals, name="boot-refusals",
                                    fw_omit={"ad102": ("booter_load",)},
                                    fw_truncate={"tu102": {"gsp": 1 << 20}},
                                    append=["nova.groups=" + fixed_groups]),
                 None, lambda b: log_lines("boot/refusals", b, {
                     "missing-firmware": logtags.line(
                         "fw-missing", r"\bnvidia/ad102/gsp/booter_load-570\.144\.bin\b.*"
                         r"\bfirmware-nvidia-graphics\b"),
                     "corrupt-firmware": logtags.line(
                         "fw-corrupt", r"\bnvidia/tu102/gsp/gsp-570\.144\.bin\b.*\b1048576\b"),
                     "unknown-chip": logtags.line("chip-unknown",
                                                  r"\b0x1c2\b.*\b0x1c2a1000\b"),
                     "pre-turing": logtags.line("chip-pre-turing", r"\b0x14\b.*\b0x140a1000\b"),
                     "fixed-ones-bound": r"nova-guest: 2 GPUs bound after the firmware fix"})))
    # GSP boot failures, in one guest, each from a simulator fault switch: GSP-RM never
    # answers, answers with an error status, sends a corrupt message; WPR2 already up (a GPU
    # left by a crashed driver); FWSEC-FRTS and booter_load failing. Each GPU must be refused
    # with one line naming the cause, refused the same way when bound again, and the kernel
    # must report nothing (no leak, no lockdep or KASAN report).
    faults = [("ad102", ["--gsp-fault", "never-answer"]),
              ("ad102", ["--gsp-fault", "error-status"]),
              ("ad102", ["--gsp-fault", "bad-checksum"]),
              ("ad102", ["--fault", "wpr2-preset"]),
              ("ga102", ["--fault", "fwsec-frts-error"]),
              ("ga102", ["--fault", "booter-error"])]
    jobs.append(("boot/gsp-faults",
                 # Five keep their GSP-RM logs in debugfs (WPR2 preset fails before the
                 # buffers exist).
                 lambda: guest.boot("ad102", "gspfault", gpus=faults, name="boot-gsp-faults",
                                    append=["nova.gsplogs=5"]),
                 None, lambda b: log_lines("boot/gsp-faults", b, GSP_FAULT_LINES)))
    # RPC faults after GSP boot, one GPU per kind and phase (rpc_fault_gpus): each failing
    # call ends in one line naming the RPC or control and the status, the simulator holds no
    # object at the end, and every GPU binds again; the event storm loses no reply and its
    # prints are rate-limited.
    rpc_gpus = [(chip, args) for _, chip, args, _, _, _ in rpc_fault_gpus()]
    jobs.append(("boot/rpc-faults",
                 lambda: guest.boot("ad102", "rpcfault", gpus=rpc_gpus, name="boot-rpc-faults",
                                    timeout=300, mem="2G"),
                 None, rpc_faults_judge))
    # Upstream nova-core, unmodified, on the simulated AD102 with Debian's firmware converted
    # to TLV: the simulator's fidelity check (`make compare` runs more chips, and ours too).
    if upstream:
        jobs.append(("upstream/ad102",
                     lambda: guest.boot("ad102", "ready", name="upstream-ad102", firmware="tlv",
                                        kernel=guest.UPSTREAM_KERNEL,
                                        append=["initcall_debug", "initramfs_async=0",
                                                "nova.wait=120"]),
                     r"nova-core .*: NVIDIA \(Chipset: AD102", upstream_judge("upstream/ad102",
                                                                             "ad102")))
    # Longest first, so that the lanes end together (the guests are CPU-bound: two lanes on two
    # cores). The figures are each guest's wall time in a warm `make check` of 9cf9d82, in
    # seconds; a guest not listed goes last.
    jobs.sort(key=lambda job: -GUEST_SECONDS.get(job[0], 0))
    return jobs


def kunit_suites():
    """The KUnit suites our sources declare (`#[kunit_tests(name)]`): nova-core's, nova-drm's
    and those of our kernel-crate files."""
    files = subprocess.run(["git", "ls-files", "drivers/gpu/nova-core", "drivers/gpu/drm/nova",
                            "rust"], cwd=TOP, capture_output=True, text=True).stdout.split()
    out = set()
    for f in files:
        if f.endswith(".rs"):
            text = open(os.path.join(TOP, f), errors="replace").read()
            out.update(re.findall(r"^#\[(?:\S*::)?kunit_tests\((\w+)\)\]", text, re.M))
    return out


def stage_boot(upstream=True):
    n = int(os.environ.get("NOVA_JOBS") or os.cpu_count() or 1)
    stage("boot", f"guests: IGT; {', '.join(c.upper() for c in CHIPS + BOARDS)} and "
          f"Resizable BAR in "
          f"one; {REBIND_CYCLES} rebinds; bad firmware and unsupported chips in one; "
          f"{'upstream nova on AD102; ' if upstream else ''}({n} at a time)")
    kunit_done = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        jobs = boot_jobs(upstream)
        for (label, start, pattern, judge), fut in [(j, pool.submit(j[1])) for j in jobs]:
            try:
                b = fut.result()
            except Exception as e:  # a boot that could not even start
                record(f"{label}/started", False, str(e))
                continue
            timing = GUEST_TIMING.get(label)
            print(f"    {label}: {b.wall:.1f} s (log {b.log})"
                  + (f", timing {timing}" if timing else ""), flush=True)
            if not label.startswith("fuzz/"):
                check_boot(label, b, expect_log=pattern)
            if judge:
                judge(b)
            if not kunit_done and b.kunit:
                # KUnit runs at every boot; count one boot's results: nova's suites, and
                # those of our kernel-crate abstractions (rust/).
                nova_tests = [(t, p) for t, p in b.kunit
                              if t.startswith(("nova", "rust_drm_gem_shmem."))]
                for t, p in nova_tests:
                    record(f"kunit/{t}", p == "pass", f"see {b.log}", skipped=p == "skip")
                if not nova_tests:
                    record("kunit/ran", False, f"no nova KUnit results in {b.log}")
                # Every suite our sources declare ran (none left out by its Kconfig option).
                declared = kunit_suites()
                seen = {t.split(".", 1)[0] for t, _ in nova_tests}
                record("kunit/all-suites-ran", bool(declared) and declared <= seen,
                       f"{len(seen & declared)} of {len(declared)} suites ran; missing "
                       f"{sorted(declared - seen)}; see {b.log}",
                       note=f"{len(declared)} suites, {len(nova_tests)} tests")
                kunit_done = True


def main():
    os.makedirs(LOGS, exist_ok=True)
    if stage_env():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            job = pool.submit(series_job)
            tools_ok = stage_tools()
            kernel_ok = stage_kernel()
            upstream_ok = stage_upstream_kernel()
            stage_style()
            stage_docs(stage_series(job))
        if tools_ok and kernel_ok and stage_initramfs():
            stage_boot(upstream_ok)
    passed = sum(1 for r in results if r[1] == "pass")
    failed = sum(1 for r in results if r[1] == "fail")
    skipped = sum(1 for r in results if r[1] == "skip")
    print(f"==> done in {time.monotonic() - t_start:.0f} s; logs in {LOGS}")
    for name, status, detail in results:
        if status == "fail":
            print(f"FAILED {name}: {detail}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
