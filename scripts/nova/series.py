#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the nova tree as a patch series against the base kernel tree.

    series.py [--out DIR]        write the series (default $NOVA_CACHE/series),
                                 checkpatch --strict every patch, and git am it
                                 onto a git checkout of the base tree
    series.py --build-each       also build the kernel after each patch
                                 (make series-check: the series is bisectable)
    series.py --htmldocs         also make SPHINXDIRS=gpu htmldocs of the end
                                 state (scripts/nova/docs.sh; make docs)

The base is Debian's linux-source-7.3 (the tree env.sh extracts) or KDIR. A
git repository of it is made once under $NOVA_CACHE/series-git/ (hard links
to the base tree plus `git init`; git replaces a file by unlink and create,
so the links into the base are never written through), and every run
commits the series in it afresh:

  1. one patch per change to the kernel crate (`rust/`), each from the
     commits of this repository that make it (scripts/nova/series/patches,
     with the commit's own message), with the Cc lines
     scripts/get_maintainer.pl gives for it. They are applied as three-way
     merges, so they go onto a KDIR whose kernel crate moved on, or fail;
  2. nova-core, the uAPI header, nova-drm and Documentation/gpu/nova, each
     the whole of this tree's directory in place of the base's (the
     messages in scripts/nova/series/*.msg);
  3. MAINTAINERS only if a file of the series has no nova or DRM-Rust entry
     there (today every file has one, so there is no such patch).

The uAPI header comes before nova-drm, which uses the new parameters: each
patch must build. Then `git format-patch --cover-letter` writes the series
and the cover letter (scripts/nova/series/cover.msg, with the shortlog and
the diffstat), and the series is applied with `git am` on a fresh checkout of
the base. With the Debian base, the end state must be exactly the tree that
build-kernel.sh overlays.

A KDIR that is not a kernel tree, or a base the series does not apply to,
fails with one line naming the tree and the first failing patch.
"""

import argparse
import concurrent.futures
import fcntl
import fnmatch
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time

NOVA = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(NOVA))
DEFS = os.path.join(NOVA, "series")
IN_ROOT = os.path.join(NOVA, "in-root.sh")
CACHE = os.environ.get("NOVA_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nova")
LOGS = os.environ.get("NOVA_LOGS") or os.path.join(CACHE, "logs")

# What build-kernel.sh lays over the base tree, in the order of the series after
# the kernel crate: (path, message file). The uAPI header precedes nova-drm, whose
# new GETPARAM parameters and GPU_NAME ioctl it declares.
OVERLAY = [
    ("drivers/gpu/nova-core", "nova-core.msg"),
    ("include/uapi/drm/nova_drm.h", "uapi.msg"),
    ("drivers/gpu/drm/nova", "nova-drm.msg"),
    ("Documentation/gpu/nova", "docs.msg"),
]
# The MAINTAINERS entries that cover the series' files (any of them will do).
ENTRIES = ("CORE DRIVER FOR NVIDIA GPUS [RUST]", "DRM DRIVER FOR NVIDIA GPUS [RUST]",
           "DRM DRIVERS AND COMMON INFRASTRUCTURE [RUST]", "RUST")
# checkpatch reports that do not apply to this series, each with the reason.
CHECKPATCH_IGNORE = {
    # "added, moved or deleted file(s), does MAINTAINERS need updating?": checked
    # instead, file by file, against MAINTAINERS with get_maintainer.pl (ENTRIES).
    "FILE_PATH_CHANGES",
}


# Reports checkpatch gets wrong for a file's very purpose, each with the reason (the style
# stage of scripts/nova/check.py uses the same list).
CHECKPATCH_EXCEPTIONS = [
    # The export shim exists to declare Rust symbols as externs and export them; the
    # declarations are generated, so they cannot sit above each EXPORT_SYMBOL by hand
    # (upstream's own shim draws the same reports).
    ("drivers/gpu/nova-core/nova_core_exports.c",
     r"EXPORT_SYMBOL:|AVOID_EXTERNS:|MACRO_ARG_REUSE:"),
]


class SeriesError(Exception):
    """A failure, as the one line that names it."""


def die(msg):
    print(f"nova: series: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, cwd=None, env=None, check=True, stdin=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                       errors="replace")
    if check and p.returncode != 0:
        raise SeriesError(f"{' '.join(cmd[:3])} failed: " + (p.stderr or p.stdout).strip()
                          .splitlines()[-1:][0] if (p.stderr or p.stdout).strip() else
                          f"{' '.join(cmd[:3])} failed with status {p.returncode}")
    return p


def in_root(args, cwd=None, check=True):
    """Runs a command in the build root (chroot starts it in /: `cwd` is entered inside)."""
    if cwd:
        args = ["bash", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd, *args]
    return run([IN_ROOT, *args], check=check)


def load_env(kdir):
    env = dict(os.environ)
    env.pop("KDIR", None)
    if kdir:
        env["KDIR"] = kdir
    p = subprocess.run(["bash", os.path.join(NOVA, "env.sh")], env=env, capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise SeriesError("env.sh failed: " + p.stderr.strip().splitlines()[-1:][0]
                          if p.stderr.strip() else "env.sh failed")
    return dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)


def is_kernel_tree(path):
    """Names what a kernel tree has and `path` lacks, or None."""
    mk = os.path.join(path, "Makefile")
    if not os.path.isfile(mk):
        return "no top-level Makefile"
    head = open(mk, errors="replace").read(4096)
    if not re.search(r"^VERSION = \d+$", head, re.M) or not re.search(r"^PATCHLEVEL = ", head,
                                                                        re.M):
        return "its Makefile has no VERSION and PATCHLEVEL"
    for p in ("Kbuild", "MAINTAINERS", "scripts/checkpatch.pl", "scripts/get_maintainer.pl",
              "rust/kernel", "drivers/gpu"):
        if not os.path.exists(os.path.join(path, p)):
            return f"no {p}"
    return None


# Who signs the patches off when this checkout has no git identity (a CI machine): a
# placeholder, which the sender replaces by setting user.name and user.email.
PLACEHOLDER = ("nova developers", "nova@localhost")
_warned = []


def ident():
    """The sender (this checkout's git identity), who signs the patches off."""
    out = run(["git", "var", "GIT_AUTHOR_IDENT"], cwd=TOP, check=False).stdout.strip()
    m = re.match(r"(.*) <(.*)> \d+ [-+]\d+$", out)
    if not m:
        if not _warned:
            _warned.append(1)
            print(f"nova: series: no git identity in {TOP}: the patches are signed off by "
                  f"'{PLACEHOLDER[0]} <{PLACEHOLDER[1]}>'; set user.name and user.email "
                  "before sending", file=sys.stderr)
        return PLACEHOLDER
    return m.group(1), m.group(2)


class Repo:
    """The git repository of the base tree under $NOVA_CACHE/series-git."""

    def __init__(self, base, key):
        self.base = base
        self.path = os.path.join(CACHE, "series-git", key)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.lock = open(self.path + ".lock", "w")

    def __enter__(self):
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"==> [series] waiting for another run in {self.path}", flush=True)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.lock, fcntl.LOCK_UN)

    def git(self, *args, env=None, check=True, stdin=None):
        return run(["git", "-C", self.path, *args], env=env, check=check, stdin=stdin)

    def prepare(self, name, refresh):
        """Makes the repository (once) with the base tree as commit `nova-base`."""
        if not os.path.isdir(os.path.join(self.path, ".git")):
            t0 = time.monotonic()
            print(f"==> [series] making the git repository of {self.base} in {self.path} "
                  "(once: about 1-3 minutes)", flush=True)
            tmp = self.path + ".tmp"
            run(["rm", "-rf", tmp])
            # Hard links, without a .git the base tree may have (a KDIR checkout).
            if run(["cp", "-al", self.base, tmp], check=False).returncode != 0:
                run(["rm", "-rf", tmp])
                run(["cp", "-a", self.base, tmp])
            run(["rm", "-rf", os.path.join(tmp, ".git")])
            run(["git", "init", "-q", tmp])
            # No automatic gc: packing the base's ~100000 objects would take minutes.
            run(["git", "-C", tmp, "config", "gc.auto", "0"])
            self.path, path = tmp, self.path
            self._commit_base(name)
            self.path = path
            os.rename(tmp, path)
            print(f"==> [series] repository ready in {time.monotonic() - t0:.0f} s", flush=True)
        elif refresh:
            # A KDIR may have changed since: take its files again (hard links).
            self.git("checkout", "-q", "-f", "--detach", "nova-base")
            self.git("clean", "-fdqx")
            in_root(["rsync", "-a", "--delete", "--exclude=/.git", f"--link-dest={self.base}",
                     self.base + "/", self.path + "/"])
            self.git("add", "-A", "-f", ".")
            if self.git("diff", "--cached", "--quiet", check=False).returncode != 0:
                self._commit_base(name)

    def _commit_base(self, name):
        env = self.env(time.time())
        self.git("-c", "core.looseCompression=1", "add", "-A", "-f", ".")
        self.git("commit", "-q", "--no-verify", "-m", f"base: {name}", env=env)
        self.git("tag", "-f", "nova-base")

    def env(self, when):
        """Commit environment: the sender's identity, a fixed date."""
        name, email = ident()
        stamp = f"{int(when)} +0000"
        return dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
                    GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
                    GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)

    def reset(self, ref="nova-base", branch=None):
        args = ["checkout", "-q", "-f"] + (["-B", branch] if branch else ["--detach"]) + [ref]
        self.git(*args)
        self.git("clean", "-fdqx")


def blob(commit, path):
    """The content of `path` at `commit` in this repository, or None."""
    p = subprocess.run(["git", "-C", TOP, "cat-file", "blob", f"{commit}:{path}"],
                       capture_output=True)
    return p.stdout if p.returncode == 0 else None


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def replace(path, data):
    """Writes a file by rename (never through a hard link into the base tree)."""
    if data is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".nova-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def rust_patches():
    """The kernel-crate patches: [(commits, subject)], in the order of the history.

    scripts/nova/series/patches names the commits each patch is made of; a commit
    that changes rust/ and is named nowhere is a patch of its own."""
    listed, groups = {}, []
    for line in open(os.path.join(DEFS, "patches")):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] != "rust":
            raise SeriesError(f"scripts/nova/series/patches: unknown kind '{line[0]}'")
        full = [run(["git", "-C", TOP, "rev-parse", "--verify", "-q", c + "^{commit}"],
                    check=False).stdout.strip() for c in line[1:]]
        for short, c in zip(line[1:], full):
            if not c:
                raise SeriesError(f"scripts/nova/series/patches: no commit {short} in {TOP}")
            listed[c] = len(groups)
        groups.append(full)
    history = run(["git", "-C", TOP, "rev-list", "--topo-order", "--reverse", "--no-merges",
                   "HEAD", "--", "rust/"]).stdout.split()
    order, seen = [], set()
    for c in history:
        g = listed.get(c)
        if g is None:
            order.append([c])
        elif g not in seen:
            seen.add(g)
            order.append(groups[g])
    missing = [c for c in listed if c not in history]
    if missing:
        raise SeriesError(f"scripts/nova/series/patches: {missing[0][:12]} is not a commit "
                          "of this branch that changes rust/")
    return order


def apply_rust(repo, commits, debian):
    """Applies the rust/ changes of `commits` to the repository's worktree, each file
    as a three-way merge (ours before the commit, ours after, the tree's). Returns the
    name of a file that does not merge, or None."""
    for c in commits:
        names = run(["git", "-C", TOP, "diff", "--name-only", "--no-renames", f"{c}^", c,
                     "--", "rust/"]).stdout.split()
        for f in names:
            old, new = blob(f"{c}^", f), blob(c, f)
            dst = os.path.join(repo.path, f)
            cur = read(dst)
            base = read(os.path.join(debian, f))
            if old is None:
                # A file taken into the overlay: unchanged from linux 7.3 is no change.
                if new == base or new == cur:
                    continue
                if cur is not None:
                    return f
                replace(dst, new)
                continue
            if new is None:
                # Dropped from the overlay: build-kernel.sh then builds the base's.
                new = base
            if cur == old:
                replace(dst, new)
            elif cur != new:
                if cur is None or new is None:
                    return f
                with tempfile.TemporaryDirectory() as tmp:
                    paths = []
                    for n, data in (("cur", cur), ("old", old), ("new", new)):
                        paths.append(os.path.join(tmp, n))
                        with open(paths[-1], "wb") as fh:
                            fh.write(data)
                    p = subprocess.run(["git", "merge-file", "-p", *paths], capture_output=True)
                    if p.returncode != 0:
                        return f
                    replace(dst, p.stdout)
    return None


def message(commit):
    return run(["git", "-C", TOP, "log", "-1", "--format=%B", commit]).stdout.strip()


def get_maintainer(repo, patch):
    """The addresses get_maintainer.pl gives for a patch, people and lists."""
    p = in_root(["perl", "scripts/get_maintainer.pl", "--no-rolestats", "--no-git",
                 "--no-git-fallback", patch], cwd=repo.path)
    return [l.strip() for l in p.stdout.splitlines() if "@" in l]


def commit(repo, msg, env, cc=()):
    name, email = env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"]
    lines = msg.rstrip().splitlines()
    # Our history's own trailers are the tree's, not the sender's.
    while lines and re.match(r"^(Signed-off-by|Cc):", lines[-1]):
        lines.pop()
    body = "\n".join(lines).rstrip() + "\n\n"
    body += "".join(f"Cc: {a}\n" for a in cc)
    body += f"Signed-off-by: {name} <{email}>\n"
    repo.git("commit", "-q", "--no-verify", "-F", "-", env=env, stdin=body)


def staged(repo):
    return repo.git("diff", "--cached", "--quiet", check=False).returncode != 0


def uncovered(repo, files):
    """The files of the series that no MAINTAINERS entry of ENTRIES covers, with the
    F:/X: patterns of those entries read as get_maintainer.pl reads them (a pattern ending
    in / covers the directory and everything below it; * and ? are wildcards)."""
    pats, title = [], None
    for line in open(os.path.join(repo.path, "MAINTAINERS"), errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^([A-Z]):\s*(.*)$", line)
        if m:
            if title in ENTRIES and m.group(1) in "FX":
                pats.append((m.group(1), m.group(2).strip()))
        elif line.strip():
            title = line.strip()

    def match(pat, f):
        if pat.endswith("/"):
            return f.startswith(pat) or fnmatch.fnmatch(f, pat + "*")
        return f == pat or fnmatch.fnmatch(f, pat) or f.startswith(pat + "/")

    return [f for f in files
            if not any(match(p, f) for k, p in pats if k == "F")
            or any(match(p, f) for k, p in pats if k == "X")]


def generate(repo, debian, out, tree_name, base_desc, check_end_state):
    """Commits the series on branch nova-series and writes it to `out`; returns the
    patch files (cover letter first)."""
    when = int(run(["git", "-C", TOP, "log", "-1", "--format=%ct", "HEAD"]).stdout)
    env = repo.env(when)
    repo.reset("nova-base", branch="nova-series")
    n = 0
    for commits in rust_patches():
        bad = apply_rust(repo, commits, debian)
        subject = message(commits[0]).splitlines()[0]
        if bad:
            raise SeriesError(f"patch {n + 1} '{subject}' does not apply to {tree_name} "
                              f"({bad} does not merge)")
        repo.git("add", "-A", "-f", "rust")
        if not staged(repo):
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".patch", dir=CACHE) as tmp:
            tmp.write(repo.git("diff", "--cached").stdout)
            tmp.flush()
            cc = get_maintainer(repo, tmp.name)
        commit(repo, message(commits[0]), env, cc)
        n += 1
    for path, msg in OVERLAY:
        src, dst = os.path.join(TOP, path), os.path.join(repo.path, path)
        if os.path.isdir(src):
            os.makedirs(dst, exist_ok=True)
            in_root(["rsync", "-r", "--checksum", "--delete", src + "/", dst + "/"])
        else:
            replace(dst, read(src))
        repo.git("add", "-A", "-f", path)
        if not staged(repo):
            continue
        commit(repo, open(os.path.join(DEFS, msg)).read(), env)
        n += 1
    files = repo.git("diff", "--name-only", "nova-base", "HEAD").stdout.split()
    bad = uncovered(repo, files)
    if bad:
        raise SeriesError(f"{bad[0]} has no nova or DRM-Rust entry in {tree_name}'s "
                          "MAINTAINERS: the series needs a MAINTAINERS patch")
    if check_end_state:
        # The end state is the tree build-kernel.sh overlays: this checkout's nova
        # directories and header, and the kernel crate with our files on top.
        for f in run(["git", "-C", TOP, "ls-files", "rust"]).stdout.split():
            if read(os.path.join(TOP, f)) != read(os.path.join(repo.path, f)):
                raise SeriesError(f"the rust/ patches do not add up to this tree's {f} "
                                  "(a merge changed it? name its commit in "
                                  "scripts/nova/series/patches)")
        for path, _ in OVERLAY:
            p = run(["diff", "-r", "-q", os.path.join(TOP, path), os.path.join(repo.path, path)],
                    check=False)
            if p.returncode != 0:
                raise SeriesError(f"the series' {path} differs from this tree's: "
                                  + p.stdout.strip().splitlines()[0])
    # The series, and its cover letter.
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".patch"):
            os.unlink(os.path.join(out, f))
    files = repo.git("format-patch", "-q", "--cover-letter", "--no-signature", "-o", out,
                     "nova-base..nova-series", env=env).stdout.split()
    if not files:
        files = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".patch"))
    cover = open(os.path.join(DEFS, "cover.msg")).read()
    subject, body = cover.split("\n", 1)
    kver = run(["make", "-s", "-C", repo.path, "kernelversion"], check=False).stdout.strip()
    body = body.strip().replace("@BASE@", base_desc).replace("@KVER@", kver or "unknown")
    text = open(files[0]).read()
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", body)
    with open(files[0], "w") as f:
        f.write(text)
    return files


def checkpatch(repo, patches):
    """checkpatch --strict on each patch: [(patch, [report lines])].

    The patches run side by side, and a patch checked before with the same checkpatch
    and the same text (but for its first line, the commit id) keeps its result: the
    report depends on nothing else."""
    script = read(os.path.join(repo.path, "scripts", "checkpatch.pl")) or b""
    cache = os.path.join(CACHE, "series-checkpatch")
    os.makedirs(cache, exist_ok=True)
    rules = repr((sorted(CHECKPATCH_IGNORE), CHECKPATCH_EXCEPTIONS)).encode()

    def key(p):
        text = read(p) or b""
        text = text.split(b"\n", 1)[-1]
        return hashlib.sha256(script + rules + text).hexdigest()[:24]

    def one(p):
        stored = os.path.join(cache, key(p))
        if os.path.exists(stored):
            os.utime(stored)
            return [l for l in open(stored).read().splitlines() if l]
        r = in_root(["perl", "scripts/checkpatch.pl", "--strict", "--terse", "--show-types",
                     "--ignore", ",".join(sorted(CHECKPATCH_IGNORE)), p], cwd=repo.path,
                    check=False)
        # The file each line of the patch belongs to, for the exceptions.
        owner, cur = {}, None
        for n, line in enumerate(open(p, errors="replace"), 1):
            if line.startswith("+++ b/"):
                cur = line[6:].strip()
            owner[n] = cur

        def excepted(report):
            m = re.match(r"^.*?:(\d+): ", report)
            f = owner.get(int(m.group(1))) if m else None
            return any(f == ef and re.search(t, report) for ef, t in CHECKPATCH_EXCEPTIONS)
        bad = [l for l in r.stdout.splitlines()
               if re.search(r": (ERROR|WARNING|CHECK):", l) and not excepted(l)]
        if r.returncode != 0 and not re.search(r"^total: ", r.stdout, re.M):
            return [f"checkpatch failed: {r.stdout.strip()[-200:]}"]
        with open(stored + ".tmp", "w") as f:
            f.write("".join(l + "\n" for l in bad))
        os.replace(stored + ".tmp", stored)
        return bad

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        res = list(zip(patches, pool.map(one, patches)))
    # Results not used for a week go (several checkouts share the cache).
    for f in os.listdir(cache):
        path = os.path.join(cache, f)
        if time.time() - os.path.getmtime(path) > 7 * 86400:
            os.unlink(path)
    return res


def git_am(repo, patches, tree_name):
    """Applies the series with git am on a fresh checkout of the base; the result must
    be the generated series."""
    repo.reset("nova-base")
    env = repo.env(time.time())
    p = repo.git("am", "-q", "--no-3way", *patches, env=env, check=False)
    if p.returncode != 0:
        nxt = read(os.path.join(repo.path, ".git", "rebase-apply", "next"))
        idx = int(nxt) - 1 if nxt and nxt.strip().isdigit() else 0
        repo.git("am", "--abort", check=False)
        name = os.path.basename(patches[idx]) if idx < len(patches) else "?"
        why = (p.stderr or p.stdout).strip().splitlines()
        raise SeriesError(f"patch {name} does not apply to {tree_name}"
                          + (f" ({why[0]})" if why else ""))
    if repo.git("diff", "--quiet", "nova-series", "HEAD", check=False).returncode != 0:
        raise SeriesError("git am of the series gives another tree than the one it was made "
                          "from")


def build_each(repo, commits, tree_name):
    """Builds the kernel (allnoconfig + guest.config, LLVM=1) after each patch, in a
    worktree and object tree of their own, at the lowest CPU priority (the machine is
    shared). Returns [(commit subject, seconds)]."""
    top = os.path.join(CACHE, "series-check")
    wt, obj = os.path.join(top, "src"), os.path.join(top, "obj")
    os.makedirs(obj, exist_ok=True)
    ready = wt + ".ready"
    if not os.path.exists(ready):
        # A worktree of the repository whose files are hard links to the base tree, so
        # that only what a patch changes is written.
        print(f"==> [series-check] making the worktree {wt} (hard links to {repo.base})",
              flush=True)
        run(["rm", "-rf", wt])
        repo.git("worktree", "prune")
        repo.git("worktree", "add", "-f", "--no-checkout", "--detach", wt, "nova-base")
        for entry in os.listdir(repo.base):
            if entry != ".git":
                run(["cp", "-al", os.path.join(repo.base, entry), wt])
        run(["git", "-C", wt, "reset", "-q"])
        open(ready, "w").close()
    w = lambda *a: run(["git", "-C", wt, *a])  # noqa: E731
    frag = os.path.join(NOVA, "guest.config")
    make = ["make", "-C", wt, f"O={obj}", "LLVM=1", f"-j{os.cpu_count() or 1}"]
    nice = ["nice", "-n", "19", IN_ROOT]
    times = []
    for i, c in enumerate(commits, 1):
        w("checkout", "-q", "-f", "--detach", c)
        w("clean", "-fdqx")
        subject = repo.git("log", "-1", "--format=%s", c).stdout.strip()
        log = os.path.join(LOGS, f"series-check-{i:04d}.log")
        stamp = os.path.join(obj, ".nova-config-" + hashlib.sha256(
            open(frag, "rb").read()).hexdigest()[:12])
        with open(log, "w") as f:
            if not os.path.exists(stamp):
                for target in (["rustavailable"], [f"KCONFIG_ALLCONFIG={frag}", "allnoconfig"]):
                    p = subprocess.run([*nice, *make, *target], stdout=f,
                                       stderr=subprocess.STDOUT)
                    if p.returncode != 0:
                        raise SeriesError(f"configuring the kernel failed; see {log}")
                open(stamp, "w").close()
            print(f"==> [series-check] {i}/{len(commits)} {subject}", flush=True)
            t0 = time.monotonic()
            p = subprocess.run([*nice, *make, "bzImage"], stdout=f, stderr=subprocess.STDOUT)
        dt = time.monotonic() - t0
        if p.returncode != 0:
            raise SeriesError(f"the kernel does not build after patch {i} '{subject}' on "
                              f"{tree_name}; see {log}")
        print(f"    built in {dt:.0f} s (log {log})", flush=True)
        times.append((subject, dt))
    return times


def htmldocs(repo):
    """`make SPHINXDIRS=gpu htmldocs` of the series' end state (scripts/nova/docs.sh),
    while the repository is still locked: (ok, output)."""
    p = subprocess.run(["bash", os.path.join(NOVA, "docs.sh"), "htmldocs", repo.path],
                       env=dict(os.environ, NOVA_SERIES_LOCKED="1"), capture_output=True,
                       text=True, errors="replace")
    return p.returncode == 0, p.stdout + p.stderr


def write(out, kdir=None, build=False, docs=False):
    """Writes and checks the series (with `docs`, also builds the HTML documentation of its
    end state; with `build`, the kernel after each patch). Returns a dict: patches,
    checkpatch, htmldocs, build, ..."""
    kdir = kdir or os.environ.get("KDIR") or None
    if kdir:
        kdir = os.path.abspath(kdir)
        why = is_kernel_tree(kdir)
        if why:
            raise SeriesError(f"KDIR={kdir} is not a kernel tree ({why})")
    env = load_env(None)
    debian = env["NOVA_KSRC_PRISTINE"]
    if kdir:
        base, key = kdir, "kdir-" + hashlib.sha256(os.path.realpath(kdir).encode()).hexdigest()[:12]
        tree_name = f"KDIR={kdir}"
    else:
        base, key = debian, os.path.basename(debian)
        tree_name = debian
    with Repo(base, key) as repo:
        repo.prepare(tree_name, refresh=bool(kdir))
        desc = (f"the tree at {kdir}" if kdir else
                f"Debian's linux-source-7.3 {env.get('NOVA_KVER', '')}".rstrip())
        files = generate(repo, debian, out, tree_name, desc, check_end_state=not kdir)
        patches = files[1:]
        cp = checkpatch(repo, patches)
        git_am(repo, patches, tree_name)
        commits = repo.git("rev-list", "--reverse", "nova-base..nova-series").stdout.split()
        html = htmldocs(repo) if docs else None
    times = None
    if build:
        # In a worktree of its own, under a lock of its own: the repository is free for
        # other runs meanwhile (it keeps every commit: there is no gc).
        lock = open(os.path.join(CACHE, "series-check.lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        times = build_each(repo, commits, tree_name)
    return {"patches": patches, "cover": files[0], "checkpatch": cp, "repo": repo.path,
            "build": times, "tree": tree_name, "htmldocs": html}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(CACHE, "series"))
    ap.add_argument("--build-each", action="store_true",
                    help="build the kernel after each patch (make series-check)")
    ap.add_argument("--htmldocs", action="store_true",
                    help="also make SPHINXDIRS=gpu htmldocs of the end state (make docs)")
    a = ap.parse_args()
    t0 = time.monotonic()
    try:
        r = write(a.out, build=a.build_each, docs=a.htmldocs)
    except SeriesError as e:
        die(str(e))
    if r["htmldocs"] is not None:
        print(r["htmldocs"][1].rstrip())
    bad = [(p, b) for p, b in r["checkpatch"] if b]
    for p, b in r["checkpatch"]:
        print(f"{'ok  ' if not b else 'FAIL'} {os.path.basename(p)}"
              + (f": checkpatch --strict: {len(b)} reports" if b else ""))
        for line in b[:20]:
            print(f"    {line}")
    print(f"cover letter: {r['cover']}")
    print(f"{len(r['patches'])} patches in {a.out}, against {r['tree']}; "
          f"git am applies them (in {r['repo']})")
    if r["build"] is not None:
        total = sum(t for _, t in r["build"])
        print(f"the kernel builds after each of the {len(r['build'])} patches "
              f"({total:.0f} s of builds)")
    print(f"done in {time.monotonic() - t0:.0f} s")
    if bad:
        die(f"checkpatch --strict reports on {len(bad)} patches; first "
            f"{os.path.basename(bad[0][0])}")
    if r["htmldocs"] is not None and not r["htmldocs"][0]:
        die("make htmldocs warns about nova's pages (above)")


if __name__ == "__main__":
    main()
