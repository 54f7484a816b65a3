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
    # Turing: GSP-RM boots (FWSEC through the generic bootloader).
    "tu102": _BOOTS, "tu104": _BOOTS, "tu106": _BOOTS, "tu116": _BOOTS, "tu117": _BOOTS,
    # GA100: GSP-RM boots as on Turing, without FWSEC-FRTS.
    "ga100": _BOOTS,
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


# What GSP-RM must report through nova's queries on each chip it boots on: the engines and
# classes (DRM_IOCTL_NOVA_QUERY) and the graphics units (NOVA_GETPARAM_GPC_COUNT, _TPC_COUNT).
#
# Sources:
# - Engines and classes: open-gpu-kernel-modules 570.144
#   src/nvidia/generated/g_gpu_class_list.c, gpuGetClassDescriptorList_TU102() .. _TU117(),
#   _GA100(), _GA102() .. _GA107() and _AD102() .. _AD107(). TU10x/TU11x: 45 distinct classes
#   (TURING_A 0xc597, TURING_COMPUTE_A 0xc5c0, TURING_DMA_COPY_A 0xc5b5,
#   TURING_CHANNEL_GPFIFO_A 0xc46f); engines GR0, NVDEC0 (TU104: 0-1, TU106: 0-2), NVENC0,
#   CE0-CE4. GA100: 38 distinct classes (AMPERE_A 0xc697, AMPERE_COMPUTE_A 0xc6c0,
#   AMPERE_DMA_COPY_A 0xc6b5, AMPERE_CHANNEL_GPFIFO_A 0xc56f); engines GR0-GR7, CE0-CE9, NVJPG0,
#   NVDEC0-4, OFA0 (25). GA10x: 50 distinct classes; host-driven engines GR0, CE0-CE4,
#   NVDEC0-1, NVENC0, OFA0 (10). AD10x: 51 distinct classes; GR0, CE0-CE4, NVDEC0-3,
#   NVENC0-2, NVJPG0-3, OFA0 (18). Class numbers from the class headers
#   (src/common/sdk/nvidia/inc/class/): AMPERE_B 0xc797 and AMPERE_COMPUTE_B 0xc7c0
#   (clc797.h, clc7c0.h), ADA_A 0xc997 and ADA_COMPUTE_A 0xc9c0 (clc997.h, clc9c0.h),
#   AMPERE_DMA_COPY_B 0xc7b5 (clc7b5.h), AMPERE_CHANNEL_GPFIFO_A 0xc56f (clc56f.h).
# - GPCs and TPCs of each board (the board nova-sim's chip table names): NVIDIA's GA102
#   whitepaper appendix (RTX 3090 7 GPCs / 41 TPCs, RTX 3070 6 / 23), the Ada whitepaper
#   appendix (RTX 4090 11 / 64, RTX 4080 7 / 38, RTX 4080 12GB = AD104 5 / 30); otherwise
#   NVIDIA's product pages' CUDA core counts / 128 per SM / 2 SMs per TPC (RTX 3060 Ti 4864,
#   RTX 3060 3584, RTX 3050 2560, RTX 4060 Ti 4352, RTX 4060 3072) with the chips' GPC counts.
_GA10X = dict(engines=10, grs=1, copies=5, classes=50, class3d=0xc797, classcompute=0xc7c0,
              classcopy=0xc7b5, classchannel=0xc56f)
_AD10X = dict(engines=18, grs=1, copies=5, classes=51, class3d=0xc997, classcompute=0xc9c0,
              classcopy=0xc7b5, classchannel=0xc56f)
_TU1XX = dict(grs=1, copies=5, classes=45, class3d=0xc597, classcompute=0xc5c0,
              classcopy=0xc5b5, classchannel=0xc46f)
# GPCs and TPCs of the Turing and A100 boards: the Turing whitepaper's appendix (RTX 2080 Ti
# 6 / 34, RTX 2070 3 / 18) and the A100 whitepaper (A100 SXM4 7 / 54); otherwise the product
# pages' CUDA cores / 64 per SM / 2 SMs per TPC (RTX 2070 SUPER 2560, GTX 1660 Ti 1536,
# GTX 1650 896) with nova-sim's GPC counts for them (5, 3, 2).
RM = {
    "tu102": dict(_TU1XX, engines=8, gpcs=6, tpcs=34),
    "tu104": dict(_TU1XX, engines=9, gpcs=5, tpcs=20),
    "tu106": dict(_TU1XX, engines=10, gpcs=3, tpcs=18),
    "tu116": dict(_TU1XX, engines=8, gpcs=3, tpcs=12),
    "tu117": dict(_TU1XX, engines=8, gpcs=2, tpcs=7),
    "ga100": dict(engines=25, grs=8, copies=10, classes=38, class3d=0xc697, classcompute=0xc6c0,
                  classcopy=0xc6b5, classchannel=0xc56f, gpcs=7, tpcs=54),
    "ga102": dict(_GA10X, gpcs=7, tpcs=41),
    "ga103": dict(_GA10X, gpcs=5, tpcs=19),
    "ga104": dict(_GA10X, gpcs=6, tpcs=23),
    "ga106": dict(_GA10X, gpcs=3, tpcs=14),
    "ga107": dict(_GA10X, gpcs=2, tpcs=10),
    "ad102": dict(_AD10X, gpcs=11, tpcs=64),
    "ad103": dict(_AD10X, gpcs=7, tpcs=38),
    "ad104": dict(_AD10X, gpcs=5, tpcs=30),
    "ad106": dict(_AD10X, gpcs=3, tpcs=17),
    "ad107": dict(_AD10X, gpcs=3, tpcs=12),
}


def rm_expectations(chip):
    """nova-test KEY=VALUE expectations of the engine, class and GPC/TPC queries on `chip`:
    {} where nova-core does not boot GSP-RM; a chip that boots it without an entry in RM is an
    error in the harness."""
    if not expect(chip).boots_gsp:
        return {}
    try:
        return {k: hex(v) for k, v in RM[chip].items()}
    except KeyError:
        raise KeyError(f"scripts/nova/chips.py states no RM query expectations for {chip!r}; "
                       f"add it to RM") from None


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
    gsp = sorted(c for c, e in EXPECT.items() if e.boots_gsp)
    if sorted(RM) != gsp:
        print(f"chips.py: RM covers {sorted(RM)}, but the chips that boot GSP-RM are {gsp}")
        missing.append("RM")
    for c in missing:
        print(f"chips.py: no expectation for {c}, which nova-sim lists")
    for c in extra:
        print(f"chips.py: expectation for {c}, which nova-sim does not list")
    sys.exit(1 if missing or extra else 0)
