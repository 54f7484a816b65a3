#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Counts the bare integer `as` casts in a Rust driver, outside its KUnit modules.

    casts.py [--list] [--max N] [--base DIR] DIR

A cast is `expr as T` with T a primitive integer type. It is *explained* when a `// CAST:`
comment stands in the comment block just above the statement that holds it (or on the same
line). The Nova guidelines ask for every cast to be explained, and issue 9 asks for at most as
many casts as upstream nova-core has.

Items under `#[kunit_tests(...)]` or `#[cfg(CONFIG_KUNIT = "y")]` are test code and are not
counted. Exit status: 1 if a cast is unexplained, or if there are more than `--max` casts
(or more than the `--base` tree has, when given); 0 otherwise.
"""

import argparse
import os
import re
import sys

INT = r"(?:u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize)"
CAST = re.compile(r"\bas\s+" + INT + r"\b")
TEST_ATTR = re.compile(r'#\[(?:kunit_tests\(|cfg\(CONFIG_KUNIT\s*=\s*"y"\))')


def strip(line):
    """The line without string literals and without its `//` comment."""
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    i = line.find("//")
    return line if i < 0 else line[:i]


def test_lines(lines):
    """The indices of lines inside test items."""
    skip = set()
    i = 0
    while i < len(lines):
        if TEST_ATTR.search(lines[i]):
            depth, started, j = 0, False, i
            while j < len(lines):
                code = strip(lines[j])
                depth += code.count("{") - code.count("}")
                if "{" in code:
                    started = True
                skip.add(j)
                # An item without a body (`mod x;`, `use ...;`) ends at its semicolon.
                if (started and depth <= 0) or (not started and code.rstrip().endswith(";")
                                                and j > i):
                    break
                j += 1
            i = j + 1
        else:
            i += 1
    return skip


def explained(lines, i):
    """Whether cast line `i` carries a `// CAST:` reason: on the line, or in the comment
    block above the statement the line belongs to."""
    if "CAST:" in lines[i]:
        return True
    j = i - 1
    # Walk up through the statement (lines that don't end one) and then its comments.
    while j >= 0:
        s = lines[j].strip()
        if s.startswith("//"):
            if "CAST:" in s:
                return True
            j -= 1
            continue
        if s.endswith(";") or s.endswith("{") or s.endswith("}") or s == "":
            return False
        j -= 1
    return False


def scan(top):
    found = []
    for root, _, files in os.walk(top):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            lines = open(path, encoding="utf-8").read().splitlines()
            skip = test_lines(lines)
            for i, line in enumerate(lines):
                if i in skip:
                    continue
                for _ in CAST.finditer(strip(line)):
                    found.append((os.path.relpath(path, top), i + 1, explained(lines, i),
                                  line.strip()))
    return sorted(found)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--list", action="store_true", help="list every cast")
    ap.add_argument("--max", type=int, help="fail above this many casts")
    ap.add_argument("--base", help="fail above the count of this tree (upstream)")
    args = ap.parse_args()
    found = scan(args.dir)
    bare = [f for f in found if not f[2]]
    for path, line, ok, text in found:
        if args.list or not ok:
            print(f"{path}:{line}: {'' if ok else 'no CAST reason: '}{text}")
    limit = args.max
    msg = f"{len(found)} casts in {args.dir}, {len(bare)} without a CAST reason"
    if args.base:
        base = len(scan(args.base))
        msg += f"; upstream {base}"
        limit = base if limit is None else min(limit, base)
    print(msg)
    fail = bool(bare) or (limit is not None and len(found) > limit)
    sys.exit(1 if fail else 0)


if __name__ == "__main__":
    main()
