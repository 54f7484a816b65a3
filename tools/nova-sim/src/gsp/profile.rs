// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! What GSP-RM knows about each board the simulator can be: the values the model reports in
//! `GET_GSP_STATIC_INFO` and the firmware facts it checks the driver's upload against.
//!
//! # Sources
//!
//! One profile per chip whose GSP-RM boots without the FSP: TU102, TU104, TU106, TU116,
//! TU117, GA100, GA102, GA103, GA104, GA106, GA107 and AD102 to AD107, each the board
//! [`crate::chips::CHIPS`] names next to the chip's PCI device id. Every value cites NVIDIA's
//! own documents next to the profile; where NVIDIA publishes no number the derivation is
//! given. GSP-RM's image and its `.fwsignature_<family>` sections are in Debian's
//! `firmware-nvidia-graphics` as `nvidia/<chip>/gsp/gsp-570.144.bin` for every one of them
//! (`gsp_tu10x` with `.fwsignature_tu10x`, `_tu11x` and `_ga100` for Turing and GA100, the
//! GA102 file for GA10x, AD10x linking to it). Turing and GA100 run LibOS 2, with its heap
//! limits; Hopper and Blackwell boot through the FSP, which the model does not speak yet.
//!
//! * Turing and GA100: "NVIDIA Turing GPU Architecture" whitepaper (WP-09183-001, 2018),
//!   appendix tables for the RTX 2080 Ti Founders Edition (TU102) and RTX 2070 (TU106), with
//!   64 CUDA cores per SM and two SMs per TPC; for the boards it does not list (RTX 2070 SUPER,
//!   GTX 1660 Ti, GTX 1650) the product pages' CUDA cores, memory size, type and width, the L2
//!   at 512 KB per 32-bit controller as on every whitepaper board, and the GPC count derived
//!   as given next to the profile. "NVIDIA A100 Tensor Core GPU Architecture" whitepaper
//!   (2020) for the A100 SXM4 40 GB. `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR5` = 0x08 and `_HBM2` =
//!   0x0f, `ctrl2080fb.h` as below. The signature families are nouveau's `sig_section`
//!   (`tu102.c`: `.fwsignature_tu10x`, `tu116.c`: `.fwsignature_tu11x`, `ga100.c`:
//!   `.fwsignature_ga100`) and Open RM's `kgspGetSignatureSectionNamePrefix_TU102()` /
//!   `_TU116()` / `_GA100()`.
//! * Marketing names: NVIDIA's product pages of each board; GSP-RM reports the full name with
//!   the "NVIDIA " prefix, as `nvidia-smi` shows it. The short name is the chip name (a model
//!   choice; GSP-RM fills `gpuShortNameString` from its own product table, which is not
//!   public).
//! * Memory size, type, bus width and L2 size: "NVIDIA Ampere GA102 GPU Architecture"
//!   whitepaper (2020), appendix table "GeForce RTX 3090 / 3080 / 3070" (GA102 and GA104
//!   columns), "NVIDIA Ada GPU Architecture" whitepaper (2022, v2.01), appendix tables for the
//!   RTX 4090, RTX 4080 16 GB and RTX 4080 12 GB (AD104, the configuration NVIDIA launched as
//!   the RTX 4070 Ti), and the "Specs" tabs of NVIDIA's product pages (geforce.com
//!   "GeForce RTX 3060 Family", "RTX 3050 Family", "RTX 4060 Family": memory size, type and
//!   interface width; the RTX 4060 Family page also lists the L2 cache of the RTX 4060 Ti
//!   (32 MB) and RTX 4060 (24 MB)). Ampere product pages give no L2 size: the GA102
//!   whitepaper gives 6144 KB for 384 bits and 4096 KB for GA104's 256 bits, i.e. 512 KB of L2
//!   per 32-bit memory controller ("each memory controller ... 512 KB of L2"), which the
//!   profiles of GA103, GA106 and GA107 apply to their bus widths.
//! * The VRAM size equals the chip table's ([`crate::chips::Chip::vram_size`]), which is what
//!   the board reports in its registers; the profiles test checks they agree.
//! * RAM type: `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR6` = 0x11 and `_GDDR6X` = 0x12,
//!   open-gpu-kernel-modules 570.144 `src/common/sdk/nvidia/inc/ctrl/ctrl2080/ctrl2080fb.h`.
//! * FB regions: GSP-RM reports them in `fbRegionInfoParams` of `GspStaticConfigInfo_t`; the
//!   model derives them from the profile's VRAM and the WPR layout the driver chose
//!   ([`fb_regions`]): the VRAM below `gspFwRsvdStart` usable, the rest up to the end of VRAM
//!   reserved and protected. Together they cover the board's VRAM exactly.
//! * Signature sections: nouveau's `sig_section` per chip (`nvkm/subdev/gsp/ga102.c`:
//!   `.fwsignature_ga10x`, `ad102.c`: `.fwsignature_ad10x`), listed in
//!   `Documentation/gpu/nova/tlv-converter.rst`; open-gpu-kernel-modules selects the same
//!   families (`kgspGetSignatureSectionNamePrefix_GA102()` / `_AD102()`).
//! * GPC and TPC counts (`NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` / `_TPC_INFO`, what nouveau's
//!   `r570_gr_gpc_mask()` and `r570_gr_tpc_mask()` read): the GA102 whitepaper's appendix
//!   table (RTX 3090: 7 GPCs, 41 TPCs, 82 SMs; RTX 3070: 6 GPCs, 23 TPCs, 46 SMs) and the Ada
//!   whitepaper's (RTX 4090: 11 GPCs, 64 TPCs, 128 SMs; RTX 4080 16 GB: 7, 38, 76; RTX 4080
//!   12 GB, the AD104 board: 5, 30, 60). For the other boards the SM count is the CUDA core
//!   count on NVIDIA's product pages divided by 128 cores per SM (both whitepapers), the TPC
//!   count half of it (two SMs per TPC, both whitepapers), and the GPC count the chip's
//!   (GA106: 3, GA107: 2, AD106: 3, AD107: 3; the RTX 3060 Ti's GA103 board keeps 5 of its
//!   GPCs, as the GA104 RTX 3060 Ti does): RTX 3060 Ti 4864 cores, 38 SMs, 19 TPCs;
//!   RTX 3060 3584, 28, 14; RTX 3050 2560, 20, 10; RTX 4060 Ti 4352, 34, 17; RTX 4060 3072,
//!   24, 12.
//! * WPR2 heap limits: `GSP_FW_HEAP_SIZE_OVERRIDE_LIBOS3_BAREMETAL_MIN_MB` (88) and `_MAX_MB`
//!   (280) for LibOS 3 (GA102 and later), `GSP_FW_HEAP_SIZE_OVERRIDE_LIBOS2_MIN_MB` (64) and
//!   `_MAX_MB` (256) for LibOS 2 (Turing, GA100): open-gpu-kernel-modules 570.144
//!   `src/nvidia/inc/kernel/gpu/gsp/gsp_fw_heap.h`.

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// What the GSP-RM model reports and checks for one board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GspProfile {
    /// The simulator's chip name (as in [`crate::chips::Chip::name`]).
    pub chip: &'static str,
    /// `gpuNameString`: the marketing name.
    pub name: &'static str,
    /// `gpuShortNameString`.
    pub short_name: &'static str,
    /// The board's VRAM size in bytes, as marketed.
    pub vram_size: u64,
    /// `fb_bus_width` in bits.
    pub bus_width: u32,
    /// `fb_ram_type` (`NV2080_CTRL_FB_INFO_RAM_TYPE_*`).
    pub ram_type: u32,
    /// `l2_cache_size` in bytes.
    pub l2_cache_size: u32,
    /// The chip family of the `.fwsignature_<family>` section the driver must upload.
    pub signature_family: &'static str,
    /// Allowed WPR2 heap sizes `[min, max)` in bytes.
    pub heap_size: (u64, u64),
    /// Enabled GPCs (graphics processing clusters) of the board.
    pub gpcs: u32,
    /// Enabled TPCs (texture processing clusters, two SMs each) of the board, all GPCs together.
    pub tpcs: u32,
}

impl GspProfile {
    /// The same board with GSP-RM on LibOS 2 (Turing, GA100) and its heap limits.
    const fn libos2(self) -> Self {
        Self {
            heap_size: LIBOS2_HEAP,
            ..self
        }
    }

    /// The same board with `gpcs` GPCs and `tpcs` TPCs enabled.
    const fn gr(self, gpcs: u32, tpcs: u32) -> Self {
        Self { gpcs, tpcs, ..self }
    }

    /// `gpcMask` of `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO`: GPCs `0..gpcs` (a model choice:
    /// which physical GPCs a board fuses off is not public).
    pub fn gpc_mask(&self) -> u32 {
        if self.gpcs >= 32 {
            u32::MAX
        } else {
            (1u32 << self.gpcs) - 1
        }
    }

    /// `tpcMask` of `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO` for GPC `gpc`: zero for a GPC that
    /// is not enabled (as the control's documentation says); otherwise the board's TPCs spread
    /// as evenly as they go, the first GPCs taking one more (a model choice), from TPC 0 up.
    pub fn tpc_mask(&self, gpc: u32) -> u32 {
        if gpc >= self.gpcs {
            return 0;
        }
        let n = self.tpcs / self.gpcs + u32::from(gpc < self.tpcs % self.gpcs);
        if n >= 32 {
            u32::MAX
        } else {
            (1u32 << n) - 1
        }
    }
}

/// `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR6`.
const GDDR6: u32 = 0x11;
/// `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR6X`.
const GDDR6X: u32 = 0x12;
/// `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR5`.
const GDDR5: u32 = 0x08;
/// `NV2080_CTRL_FB_INFO_RAM_TYPE_HBM2`.
const HBM2: u32 = 0x0f;
/// LibOS 3 heap bounds (see the module docs).
const LIBOS3_HEAP: (u64, u64) = (88 * MIB, 280 * MIB);
/// LibOS 2 heap bounds (see the module docs).
const LIBOS2_HEAP: (u64, u64) = (64 * MIB, 256 * MIB);
const KIB: u32 = 1 << 10;

/// A board whose GSP-RM uses LibOS 3 and the `.fwsignature_<family>` section.
#[expect(
    clippy::too_many_arguments,
    reason = "one positional fact per column of the whitepapers' tables"
)]
const fn board(
    chip: &'static str,
    short_name: &'static str,
    name: &'static str,
    vram_gib: u64,
    ram_type: u32,
    bus_width: u32,
    l2_kib: u32,
    signature_family: &'static str,
) -> GspProfile {
    GspProfile {
        chip,
        name,
        short_name,
        vram_size: vram_gib * GIB,
        bus_width,
        ram_type,
        l2_cache_size: l2_kib * KIB,
        signature_family,
        heap_size: LIBOS3_HEAP,
        gpcs: 0,
        tpcs: 0,
    }
}

/// Every board the model knows.
pub const PROFILES: &[GspProfile] = &[
    // Turing whitepaper, RTX 2080 Ti Founders Edition: 11 GB GDDR6, 352-bit, 5632 KB L2;
    // 6 GPCs, 34 TPCs, 68 SMs.
    board(
        "tu102",
        "TU102",
        "NVIDIA GeForce RTX 2080 Ti",
        11,
        GDDR6,
        352,
        5632,
        "tu10x",
    )
    .libos2()
    .gr(6, 34),
    // RTX 2070 SUPER product page: 2560 CUDA cores, 8 GB GDDR6, 256-bit. 64 cores per SM
    // (Turing whitepaper): 40 SMs, 20 TPCs; L2 512 KB per 32-bit controller as on TU104's
    // RTX 2080 (Turing whitepaper: 256-bit, 4096 KB); GPCs: 5 of TU104's 6 (40 SMs at TU104's
    // 8 SMs per GPC).
    board(
        "tu104",
        "TU104",
        "NVIDIA GeForce RTX 2070 SUPER",
        8,
        GDDR6,
        256,
        4096,
        "tu10x",
    )
    .libos2()
    .gr(5, 20),
    // Turing whitepaper, RTX 2070 (TU106): 8 GB GDDR6, 256-bit, 4096 KB L2; 3 GPCs, 18 TPCs,
    // 36 SMs.
    board(
        "tu106",
        "TU106",
        "NVIDIA GeForce RTX 2070",
        8,
        GDDR6,
        256,
        4096,
        "tu10x",
    )
    .libos2()
    .gr(3, 18),
    // GTX 1650 product page: 896 CUDA cores, 4 GB GDDR5, 128-bit: 14 SMs, 7 TPCs; L2 512 KB
    // per 32-bit controller = 2048 KB (NVIDIA publishes none for TU11x); GPCs: 2 (14 SMs at 8 per GPC, a model choice).
    board(
        "tu117",
        "TU117",
        "NVIDIA GeForce GTX 1650",
        4,
        GDDR5,
        128,
        2048,
        "tu11x",
    )
    .libos2()
    .gr(2, 7),
    // GTX 1660 Ti product page: 1536 CUDA cores, 6 GB GDDR6, 192-bit: 24 SMs, 12 TPCs; L2
    // 512 KB per 32-bit controller = 3072 KB (as for TU117); GPCs: 3 (24 SMs at 8 per GPC, a model choice).
    board(
        "tu116",
        "TU116",
        "NVIDIA GeForce GTX 1660 Ti",
        6,
        GDDR6,
        192,
        3072,
        "tu11x",
    )
    .libos2()
    .gr(3, 12),
    // NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020), A100 SXM4 40 GB: 40 GB HBM2,
    // 5120-bit, 40 MB L2; 7 GPCs, 54 TPCs, 108 SMs.
    board(
        "ga100",
        "GA100",
        "NVIDIA A100-SXM4-40GB",
        40,
        HBM2,
        5120,
        40960,
        "ga100",
    )
    .libos2()
    .gr(7, 54),
    // GA102 whitepaper, RTX 3090: 24 GB GDDR6X, 384-bit, 6144 KB L2.
    board(
        "ga102",
        "GA102",
        "NVIDIA GeForce RTX 3090",
        24,
        GDDR6X,
        384,
        6144,
        "ga10x",
    )
    .gr(7, 41),
    // RTX 3060 Family page, RTX 3060 Ti GDDR6X (the GA103 board, pci.ids 2414): 8 GB GDDR6X,
    // 256-bit; L2 512 KB per 32-bit controller (GA102 whitepaper) = 4096 KB.
    board(
        "ga103",
        "GA103",
        "NVIDIA GeForce RTX 3060 Ti",
        8,
        GDDR6X,
        256,
        4096,
        "ga10x",
    )
    .gr(5, 19),
    // GA102 whitepaper, RTX 3070 (GA104) column: 8 GB GDDR6, 256-bit, 4096 KB L2.
    board(
        "ga104",
        "GA104",
        "NVIDIA GeForce RTX 3070",
        8,
        GDDR6,
        256,
        4096,
        "ga10x",
    )
    .gr(6, 23),
    // RTX 3060 Family page, RTX 3060: 12 GB GDDR6, 192-bit; L2 512 KB per 32-bit controller
    // = 3072 KB.
    board(
        "ga106",
        "GA106",
        "NVIDIA GeForce RTX 3060",
        12,
        GDDR6,
        192,
        3072,
        "ga10x",
    )
    .gr(3, 14),
    // RTX 3050 Family page, RTX 3050 8 GB: 8 GB GDDR6, 128-bit; L2 512 KB per 32-bit
    // controller = 2048 KB.
    board(
        "ga107",
        "GA107",
        "NVIDIA GeForce RTX 3050",
        8,
        GDDR6,
        128,
        2048,
        "ga10x",
    )
    .gr(2, 10),
    // Ada whitepaper, RTX 4090: 24 GB GDDR6X, 384-bit, 73728 KB L2.
    board(
        "ad102",
        "AD102",
        "NVIDIA GeForce RTX 4090",
        24,
        GDDR6X,
        384,
        73728,
        "ad10x",
    )
    .gr(11, 64),
    // Ada whitepaper, RTX 4080 16 GB: 16 GB GDDR6X, 256-bit, 65536 KB L2.
    board(
        "ad103",
        "AD103",
        "NVIDIA GeForce RTX 4080",
        16,
        GDDR6X,
        256,
        65536,
        "ad10x",
    )
    .gr(7, 38),
    // Ada whitepaper, RTX 4080 12 GB (AD104, launched as RTX 4070 Ti; RTX 4070 Family page
    // agrees): 12 GB GDDR6X, 192-bit, 49152 KB L2.
    board(
        "ad104",
        "AD104",
        "NVIDIA GeForce RTX 4070 Ti",
        12,
        GDDR6X,
        192,
        49152,
        "ad10x",
    )
    .gr(5, 30),
    // RTX 4060 Family page, RTX 4060 Ti 8 GB: 8 GB GDDR6, 128-bit, 32 MB L2.
    board(
        "ad106",
        "AD106",
        "NVIDIA GeForce RTX 4060 Ti",
        8,
        GDDR6,
        128,
        32768,
        "ad10x",
    )
    .gr(3, 17),
    // RTX 4060 Family page, RTX 4060: 8 GB GDDR6, 128-bit, 24 MB L2.
    board(
        "ad107",
        "AD107",
        "NVIDIA GeForce RTX 4060",
        8,
        GDDR6,
        128,
        24576,
        "ad10x",
    )
    .gr(3, 12),
];

/// The FB regions GSP-RM reports for a board with `fb_size` bytes of VRAM whose firmware
/// reservation starts at `rsvd_start` (0: none yet): `(base, inclusive limit, reserved)`.
/// The usable region ends below the reservation; the reserved one runs to the end of VRAM.
/// A model choice; GSP-RM's own carve-outs are finer-grained.
pub fn fb_regions(fb_size: u64, rsvd_start: u64) -> Vec<(u64, u64, bool)> {
    if rsvd_start > 0 && rsvd_start < fb_size {
        vec![(0, rsvd_start - 1, false), (rsvd_start, fb_size - 1, true)]
    } else {
        vec![(0, fb_size.saturating_sub(1), false)]
    }
}

/// The profile of chip `chip` (case-insensitive), if the model knows it.
pub fn find(chip: &str) -> Option<&'static GspProfile> {
    PROFILES.iter().find(|p| p.chip.eq_ignore_ascii_case(chip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::{Architecture, CHIPS};

    /// The chips whose GSP-RM boots without the FSP: Turing, Ampere and Ada.
    fn boots_gsp_rm(chip: &crate::chips::Chip) -> bool {
        matches!(
            chip.arch,
            Architecture::Turing | Architecture::Ampere | Architecture::Ada
        )
    }

    #[test]
    fn every_turing_ampere_and_ada_chip_has_a_profile() {
        let mut n = 0;
        for chip in CHIPS.iter().filter(|c| boots_gsp_rm(c)) {
            let p = find(chip.name).unwrap_or_else(|| panic!("no profile for {}", chip.name));
            assert_eq!(p.short_name, chip.name.to_ascii_uppercase());
            n += 1;
        }
        assert_eq!(n, 16);
        assert_eq!(
            PROFILES.len(),
            n,
            "a profile for a chip nova-core does not boot"
        );
        for (i, p) in PROFILES.iter().enumerate() {
            assert!(
                PROFILES[i + 1..].iter().all(|o| o.chip != p.chip),
                "{}",
                p.chip
            );
        }
    }

    #[test]
    fn profiles_are_consistent() {
        for p in PROFILES {
            let chip = crate::chips::find(p.chip).expect("profile for an unknown chip");
            assert!(chip.supported);
            // The name must fit `gpuNameString[64]` with its NUL.
            assert!(p.name.len() < 64 && p.short_name.len() < 64);
            assert!(
                p.name.starts_with("NVIDIA GeForce ") || p.name.starts_with("NVIDIA A100"),
                "{}",
                p.name
            );
            assert!(p.heap_size.0 < p.heap_size.1);
            let libos2 = chip.arch == Architecture::Turing || chip.chipset == 0x170;
            assert_eq!(
                p.heap_size,
                if libos2 { LIBOS2_HEAP } else { LIBOS3_HEAP },
                "{}",
                p.chip
            );
            assert_eq!(p.vram_size % MIB, 0);
            // The board reports the same VRAM in its registers as GSP-RM in static info.
            assert_eq!(p.vram_size, chip.vram_size(), "{}", p.chip);
            // GDDR devices are 32 bits wide and at least 512 MiB each on these boards; GA100's
            // five HBM2 stacks are 1024 bits wide and 8 GB each.
            assert_eq!(p.bus_width % 32, 0, "{}", p.chip);
            let device = if p.ram_type == HBM2 {
                (1024, 8 * GIB)
            } else {
                (32, 512 * MIB)
            };
            assert!(
                p.vram_size >= u64::from(p.bus_width / device.0) * device.1,
                "{}",
                p.chip
            );
            let family = match (chip.arch, chip.chipset) {
                (Architecture::Ada, _) => "ad10x",
                (_, 0x170) => "ga100",
                (Architecture::Ampere, _) => "ga10x",
                (_, 0x167 | 0x168) => "tu11x",
                _ => "tu10x",
            };
            let ram = match family {
                "ga100" => p.ram_type == HBM2,
                "tu11x" | "tu10x" => matches!(p.ram_type, GDDR5 | GDDR6),
                _ => matches!(p.ram_type, GDDR6 | GDDR6X),
            };
            assert!(ram, "{}", p.chip);
            assert_eq!(p.signature_family, family, "{}", p.chip);
            // Every enabled GPC has TPCs, and the masks add up to the board's TPCs.
            assert!(p.gpcs > 0 && p.tpcs >= p.gpcs, "{}", p.chip);
            assert_eq!(p.gpc_mask().count_ones(), p.gpcs, "{}", p.chip);
            let tpcs: u32 = (0..32).map(|g| p.tpc_mask(g).count_ones()).sum();
            assert_eq!(tpcs, p.tpcs, "{}", p.chip);
            assert!((0..p.gpcs).all(|g| p.tpc_mask(g) != 0), "{}", p.chip);
            assert_eq!(p.tpc_mask(p.gpcs), 0, "{}", p.chip);
            // Ampere and Turing: 512 KB of L2 per 32-bit memory controller (GA102 and Turing
            // whitepapers); HBM2's GA100 aside.
            if chip.chipset == 0x170 {
                assert_eq!(p.l2_cache_size, 40 << 20, "{}", p.chip);
            } else if matches!(chip.arch, Architecture::Ampere | Architecture::Turing) {
                assert_eq!(p.l2_cache_size, p.bus_width / 32 * 512 * KIB, "{}", p.chip);
            } else {
                assert!(p.l2_cache_size >= 24 << 20, "{}", p.chip);
            }
        }
        assert_eq!(
            find("AD102").map(|p| p.name),
            Some("NVIDIA GeForce RTX 4090")
        );
        assert_eq!(find("ga104").map(|p| p.bus_width), Some(256));
        assert_eq!(find("tu116").map(|p| p.signature_family), Some("tu11x"));
        assert_eq!(find("ga100").map(|p| p.heap_size), Some(LIBOS2_HEAP));
        assert!(find("gh100").is_none());
    }

    #[test]
    fn fb_regions_cover_the_vram() {
        for p in PROFILES {
            for rsvd in [0, p.vram_size - 512 * MIB, p.vram_size / 2] {
                let regions = fb_regions(p.vram_size, rsvd);
                assert_eq!(regions.first().map(|r| r.0), Some(0), "{}", p.chip);
                assert_eq!(
                    regions.last().map(|r| r.1),
                    Some(p.vram_size - 1),
                    "{}",
                    p.chip
                );
                for w in regions.windows(2) {
                    assert_eq!(w[0].1 + 1, w[1].0, "{}: regions not contiguous", p.chip);
                }
                let total: u64 = regions.iter().map(|r| r.1 - r.0 + 1).sum();
                assert_eq!(total, p.vram_size, "{}", p.chip);
                let usable: u64 = regions.iter().filter(|r| !r.2).map(|r| r.1 - r.0 + 1).sum();
                assert_eq!(
                    usable,
                    if rsvd == 0 { p.vram_size } else { rsvd },
                    "{}",
                    p.chip
                );
            }
        }
    }
}
