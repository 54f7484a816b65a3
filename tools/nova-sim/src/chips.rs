// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The table of GPUs the simulator can pretend to be.
//!
//! # Sources
//!
//! * Register layouts of `NV_PMC_BOOT_0` (0x000000) and `NV_PMC_BOOT_42` (0x000a00), the
//!   architecture numbers and the chipset numbers: Linux 7.3.4,
//!   `drivers/gpu/nova-core/regs.rs` (`NV_PMC_BOOT_0`, `NV_PMC_BOOT_42`) and
//!   `drivers/gpu/nova-core/gpu.rs` (`define_chipset!`, `Architecture`).
//!   `drivers/gpu/drm/nouveau/nvkm/engine/device/base.c` agrees on the chipset numbers
//!   (`nv162_chipset` ... `nv1b7_chipset`) and identifies GV100 as chipset 0x140.
//! * Revision: every entry uses revision A1 (major 0xa, minor 0x1). nouveau's `NvChipset`
//!   override in `nvkm_device_ctor()` (same file) fabricates BOOT_0 values with 0xa1 in the low
//!   byte, matching the PCI revision ID 0xa1 these boards commonly report. Real parts exist in
//!   other steppings; the simulator does not model them.
//! * PCI device ids: `pci.ids` version 2025.06.09 (Debian trixie `pci.ids` package,
//!   `usr/share/misc/pci.ids`), vendor 10de. The product named next to each entry is the
//!   `pci.ids` name of that id.
//! * BAR sizes: 16 MiB BAR0 (`BAR0_SIZE` in `drivers/gpu/nova-core/driver.rs`); the BAR1
//!   window is the common 256 MiB default without resizable BAR (`--bar1-size` models a board
//!   with it enabled); BAR2 (PCI BAR slots 3/4) is 32 MiB on these boards.
//! * Class code: GeForce/Quadro boards are VGA controllers (0x030000); the data-centre parts
//!   (GV100 Tesla, GA100, GH100, GB100, GB102) are 3D controllers (0x030200). nova-core binds
//!   both classes (`PCI_TABLE` in `drivers/gpu/nova-core/driver.rs`).
//! * PCIe generation: Turing Gen3, Ampere and Ada Gen4, Hopper and Blackwell Gen5, as NVIDIA's
//!   product pages state (not checked against a source for every part; GB10x may be Gen6).
//!   Only the advertised link speed depends on it.
//! * VRAM size ([`Chip::vram_size`]): the memory of the board named next to each entry, from
//!   NVIDIA's product specifications (RTX 2080 Ti 11 GB, RTX 2070 SUPER and RTX 2070 8 GB,
//!   GTX 1650 4 GB, GTX 1660 Ti 6 GB, A100 SXM4 40 GB, RTX 3090 24 GB, RTX 3060 Ti, 3070 and
//!   3050 8 GB, RTX 3060 12 GB, H100 SXM5 80 GB, RTX 4090 24 GB, RTX 4080 16 GB, RTX 4070 Ti
//!   12 GB, RTX 4060 Ti and 4060 8 GB, B200 and B100 192 GB, RTX 5090 32 GB, RTX 5080 16 GB,
//!   RTX 5070 12 GB, RTX 5060 Ti 16 GB, RTX 5050 Laptop 8 GB, Tesla V100 SXM2 16 GB). "GB"
//!   there is GiB of GDDR/HBM; the simulator reports exactly that much, none of it reserved.

use std::fmt;

/// PCI vendor id of NVIDIA Corporation.
pub const NVIDIA_VENDOR_ID: u16 = 0x10de;

/// PCI class code (base class, subclass, programming interface) of a VGA-compatible controller.
pub const CLASS_VGA: u32 = 0x03_00_00;

/// PCI class code of a 3D controller (a display controller that is not VGA-compatible).
pub const CLASS_3D: u32 = 0x03_02_00;

const MIB: u64 = 1 << 20;

/// A GPU architecture, as encoded in the architecture field of `NV_PMC_BOOT_42`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Volta (GV100). Not supported by nova; present for the driver's rejection path.
    Volta,
    /// Turing (TU10x, TU11x).
    Turing,
    /// Ampere (GA10x).
    Ampere,
    /// Hopper (GH100).
    Hopper,
    /// Ada Lovelace (AD10x).
    Ada,
    /// Blackwell data-centre parts (GB10x).
    BlackwellGb10x,
    /// Blackwell consumer parts (GB20x).
    BlackwellGb20x,
}

impl Architecture {
    /// Every architecture the table knows.
    pub const ALL: &'static [Architecture] = &[
        Architecture::Volta,
        Architecture::Turing,
        Architecture::Ampere,
        Architecture::Hopper,
        Architecture::Ada,
        Architecture::BlackwellGb10x,
        Architecture::BlackwellGb20x,
    ];

    /// The architecture number found in `NV_PMC_BOOT_42[29:24]`.
    pub const fn id(self) -> u32 {
        match self {
            Architecture::Volta => 0x14,
            Architecture::Turing => 0x16,
            Architecture::Ampere => 0x17,
            Architecture::Hopper => 0x18,
            Architecture::Ada => 0x19,
            Architecture::BlackwellGb10x => 0x1a,
            Architecture::BlackwellGb20x => 0x1b,
        }
    }

    /// A short lowercase name, usable as a single word in command output.
    pub const fn name(self) -> &'static str {
        match self {
            Architecture::Volta => "volta",
            Architecture::Turing => "turing",
            Architecture::Ampere => "ampere",
            Architecture::Hopper => "hopper",
            Architecture::Ada => "ada",
            Architecture::BlackwellGb10x => "blackwell-gb10x",
            Architecture::BlackwellGb20x => "blackwell-gb20x",
        }
    }

    /// Looks an architecture up by its `NV_PMC_BOOT_42` number.
    pub fn from_id(id: u32) -> Option<Architecture> {
        Architecture::ALL
            .iter()
            .copied()
            .find(|arch| arch.id() == id)
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One simulated GPU model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chip {
    /// Lowercase chip name, e.g. `"ad102"`.
    pub name: &'static str,
    /// The architecture the chip belongs to.
    pub arch: Architecture,
    /// `(architecture << 4) | implementation`, e.g. 0x192 for AD102.
    pub chipset: u32,
    /// Value of `NV_PMC_BOOT_0` (BAR0 offset 0x000000).
    pub boot0: u32,
    /// Value of `NV_PMC_BOOT_42` (BAR0 offset 0x000a00).
    pub boot42: u32,
    /// PCI device id of a real board with this chip.
    pub device_id: u16,
    /// PCI class code (24 bits: base class, subclass, programming interface).
    pub class_code: u32,
    /// Default size of BAR1 (the VRAM aperture) in bytes, without Resizable BAR.
    pub bar1_size: u64,
    /// Whether the chip has NVIDIA's "BAR2" (PCI BAR slots 3 and 4).
    pub has_bar3: bool,
    /// Whether the nova driver is expected to support the chip.
    pub supported: bool,
    /// Highest PCIe generation the chip advertises (1 = 2.5 GT/s ... 5 = 32 GT/s).
    pub pcie_gen: u8,
}

const GIB: u64 = 1 << 30;

impl Chip {
    /// Size of the board's VRAM in bytes (see the module docs for the boards).
    pub const fn vram_size(&self) -> u64 {
        let gib = match self.chipset {
            0x140 => 16,
            0x162 => 11,
            0x164 | 0x166 => 8,
            0x167 => 4,
            0x168 => 6,
            0x170 => 40,
            0x172 => 24,
            0x173 | 0x174 | 0x177 => 8,
            0x176 => 12,
            0x180 => 80,
            0x192 => 24,
            0x193 => 16,
            0x194 => 12,
            0x196 | 0x197 => 8,
            0x1a0 | 0x1a2 => 192,
            0x1b2 => 32,
            0x1b3 => 16,
            0x1b5 => 12,
            0x1b6 => 16,
            _ => 8,
        };
        gib * GIB
    }

    /// Whether the chip presents itself as a VGA controller (GeForce/Quadro) rather than a
    /// 3D controller (data-centre parts).
    pub const fn is_vga(&self) -> bool {
        self.class_code == CLASS_VGA
    }
}

/// A GeForce/Quadro entry: VGA class, 256 MiB BAR1, BAR2 present, supported by nova.
#[allow(clippy::too_many_arguments)]
const fn geforce(
    name: &'static str,
    arch: Architecture,
    chipset: u32,
    boot0: u32,
    boot42: u32,
    device_id: u16,
    pcie_gen: u8,
) -> Chip {
    Chip {
        name,
        arch,
        chipset,
        boot0,
        boot42,
        device_id,
        class_code: CLASS_VGA,
        bar1_size: 256 * MIB,
        has_bar3: true,
        supported: true,
        pcie_gen,
    }
}

/// A data-centre entry: 3D-controller class, otherwise like [`geforce`].
const fn datacenter(
    name: &'static str,
    arch: Architecture,
    chipset: u32,
    boot0: u32,
    boot42: u32,
    device_id: u16,
    pcie_gen: u8,
) -> Chip {
    Chip {
        class_code: CLASS_3D,
        ..geforce(name, arch, chipset, boot0, boot42, device_id, pcie_gen)
    }
}

use Architecture::*;

/// Every chip the simulator knows, oldest first.
///
/// `BOOT_0 = arch[4:0] << 24 | impl << 20 | arch[5] << 8 | major << 4 | minor`;
/// `BOOT_42 = arch << 24 | impl << 20 | major << 16 | minor << 12` (see the module docs).
pub const CHIPS: &[Chip] = &[
    // GV100 0x140 (nouveau nv140_chipset). 1db1 "GV100GL [Tesla V100 SXM2 16GB]".
    Chip {
        supported: false,
        ..datacenter("gv100", Volta, 0x140, 0x1400_00a1, 0x140a_1000, 0x1db1, 3)
    },
    // 1e04 "TU102 [GeForce RTX 2080 Ti]"
    geforce("tu102", Turing, 0x162, 0x1620_00a1, 0x162a_1000, 0x1e04, 3),
    // 1e84 "TU104 [GeForce RTX 2070 SUPER]"
    geforce("tu104", Turing, 0x164, 0x1640_00a1, 0x164a_1000, 0x1e84, 3),
    // 1f02 "TU106 [GeForce RTX 2070]"
    geforce("tu106", Turing, 0x166, 0x1660_00a1, 0x166a_1000, 0x1f02, 3),
    // 1f82 "TU117 [GeForce GTX 1650]"
    geforce("tu117", Turing, 0x167, 0x1670_00a1, 0x167a_1000, 0x1f82, 3),
    // 2182 "TU116 [GeForce GTX 1660 Ti]"
    geforce("tu116", Turing, 0x168, 0x1680_00a1, 0x168a_1000, 0x2182, 3),
    // 20b0 "GA100 [A100 SXM4 40GB]"
    datacenter("ga100", Ampere, 0x170, 0x1700_00a1, 0x170a_1000, 0x20b0, 4),
    // 2204 "GA102 [GeForce RTX 3090]"
    geforce("ga102", Ampere, 0x172, 0x1720_00a1, 0x172a_1000, 0x2204, 4),
    // 2414 "GA103 [GeForce RTX 3060 Ti]"
    geforce("ga103", Ampere, 0x173, 0x1730_00a1, 0x173a_1000, 0x2414, 4),
    // 2484 "GA104 [GeForce RTX 3070]"
    geforce("ga104", Ampere, 0x174, 0x1740_00a1, 0x174a_1000, 0x2484, 4),
    // 2503 "GA106 [GeForce RTX 3060]"
    geforce("ga106", Ampere, 0x176, 0x1760_00a1, 0x176a_1000, 0x2503, 4),
    // 2582 "GA107 [GeForce RTX 3050 8GB]"
    geforce("ga107", Ampere, 0x177, 0x1770_00a1, 0x177a_1000, 0x2582, 4),
    // 2330 "GH100 [H100 SXM5 80GB]"
    datacenter("gh100", Hopper, 0x180, 0x1800_00a1, 0x180a_1000, 0x2330, 5),
    // 2684 "AD102 [GeForce RTX 4090]"
    geforce("ad102", Ada, 0x192, 0x1920_00a1, 0x192a_1000, 0x2684, 4),
    // 2704 "AD103 [GeForce RTX 4080]"
    geforce("ad103", Ada, 0x193, 0x1930_00a1, 0x193a_1000, 0x2704, 4),
    // 2782 "AD104 [GeForce RTX 4070 Ti]"
    geforce("ad104", Ada, 0x194, 0x1940_00a1, 0x194a_1000, 0x2782, 4),
    // 2803 "AD106 [GeForce RTX 4060 Ti]"
    geforce("ad106", Ada, 0x196, 0x1960_00a1, 0x196a_1000, 0x2803, 4),
    // 2882 "AD107 [GeForce RTX 4060]"
    geforce("ad107", Ada, 0x197, 0x1970_00a1, 0x197a_1000, 0x2882, 4),
    // 2901 "GB100 [B200]"
    datacenter(
        "gb100",
        BlackwellGb10x,
        0x1a0,
        0x1a00_00a1,
        0x1a0a_1000,
        0x2901,
        5,
    ),
    // 29bc "GB102 [B100]"
    datacenter(
        "gb102",
        BlackwellGb10x,
        0x1a2,
        0x1a20_00a1,
        0x1a2a_1000,
        0x29bc,
        5,
    ),
    // 2b85 "GB202 [GeForce RTX 5090]"
    geforce(
        "gb202",
        BlackwellGb20x,
        0x1b2,
        0x1b20_00a1,
        0x1b2a_1000,
        0x2b85,
        5,
    ),
    // 2c02 "GB203 [GeForce RTX 5080]"
    geforce(
        "gb203",
        BlackwellGb20x,
        0x1b3,
        0x1b30_00a1,
        0x1b3a_1000,
        0x2c02,
        5,
    ),
    // 2f04 "GB205 [GeForce RTX 5070]"
    geforce(
        "gb205",
        BlackwellGb20x,
        0x1b5,
        0x1b50_00a1,
        0x1b5a_1000,
        0x2f04,
        5,
    ),
    // 2d04 "GB206 [GeForce RTX 5060 Ti]"
    geforce(
        "gb206",
        BlackwellGb20x,
        0x1b6,
        0x1b60_00a1,
        0x1b6a_1000,
        0x2d04,
        5,
    ),
    // 2d98 "GB207M [GeForce RTX 5050 Max-Q / Mobile]": the desktop RTX 5050 id is not in
    // pci.ids 2025.06.09, so the table uses the mobile part.
    geforce(
        "gb207",
        BlackwellGb20x,
        0x1b7,
        0x1b70_00a1,
        0x1b7a_1000,
        0x2d98,
        5,
    ),
];

/// The chip used when none is named on the command line.
pub const DEFAULT_CHIP: &str = "ad102";

/// Looks a chip up by name (case-insensitive).
pub fn find(name: &str) -> Option<&'static Chip> {
    CHIPS
        .iter()
        .find(|chip| chip.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lowercase() {
        for (i, chip) in CHIPS.iter().enumerate() {
            assert_eq!(chip.name, chip.name.to_ascii_lowercase());
            assert!(
                CHIPS[i + 1..].iter().all(|other| other.name != chip.name),
                "duplicate {}",
                chip.name
            );
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(find("AD102").map(|c| c.chipset), Some(0x192));
        assert_eq!(find("ad102").map(|c| c.device_id), Some(0x2684));
        assert!(find("nv50").is_none());
        assert!(find(DEFAULT_CHIP).is_some());
    }

    #[test]
    fn chipset_matches_architecture() {
        for chip in CHIPS {
            assert_eq!(chip.chipset >> 4, chip.arch.id(), "{}", chip.name);
        }
    }

    #[test]
    fn only_volta_is_unsupported() {
        for chip in CHIPS {
            assert_eq!(chip.supported, chip.arch != Volta, "{}", chip.name);
        }
    }

    #[test]
    fn datacenter_parts_are_3d_controllers() {
        for name in ["gv100", "ga100", "gh100", "gb100", "gb102"] {
            assert_eq!(find(name).map(|c| c.class_code), Some(CLASS_3D), "{name}");
        }
        assert_eq!(find("ga102").map(|c| c.class_code), Some(CLASS_VGA));
    }

    #[test]
    fn vram_sizes_are_the_boards() {
        assert_eq!(find("ad102").map(|c| c.vram_size()), Some(24 << 30));
        assert_eq!(find("ga102").map(|c| c.vram_size()), Some(24 << 30));
        assert_eq!(find("tu102").map(|c| c.vram_size()), Some(11 << 30));
        for chip in CHIPS {
            assert!(chip.vram_size() >= 4 << 30, "{}", chip.name);
            assert!(chip.vram_size() > chip.bar1_size, "{}", chip.name);
        }
    }

    #[test]
    fn architecture_ids_round_trip() {
        for arch in Architecture::ALL {
            assert_eq!(Architecture::from_id(arch.id()), Some(*arch));
        }
        assert_eq!(Architecture::from_id(0x1c), None);
    }
}
