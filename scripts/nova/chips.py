#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What the test harness expects of nova-core on each chip the simulator models.

This table is the harness's own statement of what a test must see, independent of the
driver (whose policy is its GSP HAL, drivers/gpu/nova-core/gsp/hal.rs) and of the simulator
(which describes hardware only). When nova learns to boot another chip, this table changes
with it, in the same commit, and the tests say what changed.

Columns:
  binds      nova-core binds the GPU (it knows the architecture: Turing and later).
  boots_gsp  nova-core boots GSP-RM on it: GETPARAM reports the VRAM GSP-RM found. Where it
             does not, GETPARAM and GPU_NAME fail with ENODEV.

`python3 scripts/nova/chips.py [NOVA_SIM]` checks that the table covers every chip
`nova-sim --list-chips` lists, and no other.
"""

import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Expect:
    binds: bool
    boots_gsp: bool


_NO = Expect(binds=False, boots_gsp=False)
_BINDS = Expect(binds=True, boots_gsp=False)
_BOOTS = Expect(binds=True, boots_gsp=True)

EXPECT = {
    # Volta: older than nova's first architecture; refused at probe.
    "gv100": _NO,
    # Turing: bound; GSP boot (generic bootloader path) not supported yet.
    "tu102": _BINDS, "tu104": _BINDS, "tu106": _BINDS, "tu116": _BINDS, "tu117": _BINDS,
    # GA100: bound; booted as Turing is, not supported yet.
    "ga100": _BINDS,
    # Ampere GA10x: GSP-RM boots.
    "ga102": _BOOTS, "ga103": _BOOTS, "ga104": _BOOTS, "ga106": _BOOTS, "ga107": _BOOTS,
    # Hopper: bound; the FSP boot is not supported yet.
    "gh100": _BINDS,
    # Ada: GSP-RM boots.
    "ad102": _BOOTS, "ad103": _BOOTS, "ad104": _BOOTS, "ad106": _BOOTS, "ad107": _BOOTS,
    # Blackwell: bound; the FSP boot is not supported yet.
    "gb100": _BINDS, "gb102": _BINDS,
    "gb202": _BINDS, "gb203": _BINDS, "gb205": _BINDS, "gb206": _BINDS, "gb207": _BINDS,
}


def expect(chip):
    """The harness's expectations of `chip`; a chip missing from the table is an error in the
    harness, named as such."""
    try:
        return EXPECT[chip]
    except KeyError:
        raise KeyError(f"scripts/nova/chips.py states no expectation for chip {chip!r}; "
                       f"add it to EXPECT") from None


def coverage(sim):
    """(missing, extra): chips the simulator lists that the table lacks, and the reverse."""
    out = subprocess.run([sim, "--list-chips"], check=True, capture_output=True,
                         text=True).stdout
    listed = {l.split()[0] for l in out.splitlines() if l.strip()}
    return sorted(listed - EXPECT.keys()), sorted(EXPECT.keys() - listed)


if __name__ == "__main__":
    import os
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "tools", "target",
                                                             "release", "nova-sim")
    missing, extra = coverage(sim)
    for c in missing:
        print(f"chips.py: no expectation for {c}, which nova-sim lists")
    for c in extra:
        print(f"chips.py: expectation for {c}, which nova-sim does not list")
    sys.exit(1 if missing or extra else 0)
