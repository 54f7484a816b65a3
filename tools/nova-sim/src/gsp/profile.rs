// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! What GSP-RM knows about each board the simulator can be: the values the model reports in
//! `GET_GSP_STATIC_INFO` and the firmware facts it checks the driver's upload against.
//!
//! # Sources
//!
//! * Marketing names: NVIDIA's product pages for the GeForce RTX 3090 (GA102) and GeForce RTX
//!   4090 (AD102); GSP-RM reports the full name with the "NVIDIA " prefix, as `nvidia-smi`
//!   shows it. The short name is the chip name (a model choice; GSP-RM fills
//!   `gpuShortNameString` from its own product table, which is not public).
//! * Memory size, bus width and L2 size: NVIDIA's "NVIDIA Ampere GA102 GPU Architecture"
//!   whitepaper (2020), GeForce RTX 3090 column: 24 GB GDDR6X, 384-bit, 6144 KB L2; and "NVIDIA
//!   Ada GPU Architecture" whitepaper (2022), GeForce RTX 4090 column: 24 GB GDDR6X, 384-bit,
//!   73728 KB L2.
//! * RAM type: `NV2080_CTRL_FB_INFO_RAM_TYPE_GDDR6X` = 0x12, open-gpu-kernel-modules 570.144
//!   `src/common/sdk/nvidia/inc/ctrl/ctrl2080/ctrl2080fb.h`.
//! * Signature sections: nouveau's `sig_section` per chip (`nvkm/subdev/gsp/ga102.c`:
//!   `.fwsignature_ga10x`, `ad102.c`: `.fwsignature_ad10x`), listed in
//!   `Documentation/gpu/nova/tlv-converter.rst`.
//! * WPR2 heap limits: `GSP_FW_HEAP_SIZE_OVERRIDE_LIBOS3_BAREMETAL_MIN_MB` (88) and `_MAX_MB`
//!   (280) for LibOS 3 (GA102 and later), `GSP_FW_HEAP_SIZE_OVERRIDE_LIBOS2_MIN_MB` (64) and
//!   `_MAX_MB` (256) for LibOS 2 (Turing, GA100): open-gpu-kernel-modules 570.144
//!   `src/nvidia/inc/kernel/gpu/gsp/gsp_fw_heap.h`; upstream nova-core `gsp/fw.rs`
//!   `LibosParams` uses the same bounds.

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
}

/// Every board the model knows.
pub const PROFILES: &[GspProfile] = &[
    GspProfile {
        chip: "ga102",
        name: "NVIDIA GeForce RTX 3090",
        short_name: "GA102",
        vram_size: 24 * GIB,
        bus_width: 384,
        ram_type: 0x12,
        l2_cache_size: 6144 * 1024,
        signature_family: "ga10x",
        heap_size: (88 * MIB, 280 * MIB),
    },
    GspProfile {
        chip: "ad102",
        name: "NVIDIA GeForce RTX 4090",
        short_name: "AD102",
        vram_size: 24 * GIB,
        bus_width: 384,
        ram_type: 0x12,
        l2_cache_size: 73728 * 1024,
        signature_family: "ad10x",
        heap_size: (88 * MIB, 280 * MIB),
    },
];

/// The profile of chip `chip` (case-insensitive), if the model knows it.
pub fn find(chip: &str) -> Option<&'static GspProfile> {
    PROFILES.iter().find(|p| p.chip.eq_ignore_ascii_case(chip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_consistent() {
        for p in PROFILES {
            let chip = crate::chips::find(p.chip).expect("profile for an unknown chip");
            assert!(chip.supported);
            // The name must fit `gpuNameString[64]` with its NUL.
            assert!(p.name.len() < 64 && p.short_name.len() < 64);
            assert!(p.heap_size.0 < p.heap_size.1);
            assert_eq!(p.vram_size % MIB, 0);
        }
        assert_eq!(
            find("AD102").map(|p| p.name),
            Some("NVIDIA GeForce RTX 4090")
        );
        assert!(find("tu102").is_none());
    }
}
