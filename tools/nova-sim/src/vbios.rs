// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The VBIOS ROM, synthesized per chip in NVIDIA's documented format, and the PROM window
//! through which BAR0 exposes it.
//!
//! # The PROM window
//!
//! `NV_PROM_DATA(i)` is BAR0 offset `0x300000 + i`, a byte array (`RW-1A`) in NVIDIA's
//! `src/common/inc/swref/published/turing/tu102/dev_ext_devices.h` (open-gpu-kernel-modules).
//! The window is 1 MiB: nouveau refuses PROM reads past `0x100000`
//! (`nvkm/subdev/bios/shadowrom.c`, `nvbios_prom_read`), Open RM caps the image at 1 MiB
//! (`s_getBaseBiosMaxSize_TU102` in `kernel_gsp_vbios_tu102.c`) and nova-core scans at most
//! `BIOS_MAX_SCAN_LEN = 0x100000` (`drivers/gpu/nova-core/vbios.rs`). The drivers read it as
//! aligned 32-bit words (nova-core `read_more`, nouveau `nvbios_prom_read`, Open RM
//! `s_romImgReadGeneric`); Open RM also reads single bytes (`GPU_REG_RD08` for the tail of an
//! image whose size is not a multiple of 4). [`Prom`] therefore serves any access width:
//! [`crate::bar0::Bar0`] turns it into 32-bit reads and selects the byte lanes.
//!
//! Past the end of the ROM contents the window reads `0xff`, the state of erased flash cells
//! (the parts of the flash the image does not occupy); this is a modelling choice, no public
//! source says what the window returns there. Writes are ignored and reported as
//! writes to a read-only register, which counts them as violations: the manual marks the
//! array `RW`, but no driver writes the ROM through it and the simulated flash is
//! write-protected.
//!
//! # ROM layout
//!
//! Offsets are relative to the start of the PCI expansion ROM unless stated otherwise.
//!
//! | what                           | where                        | size                     |
//! |--------------------------------|------------------------------|--------------------------|
//! | IFR header (GA100 only)        | PROM offset 0                | [`GA100_PCI_ROM_OFFSET`] |
//! | PC-AT image (code type 0x00)   | 0                            | 8 blocks                 |
//! | EFI image (0x03, VGA chips)    | after PC-AT                  | 16 blocks                |
//! | first NVIDIA image (0xE0)      | after PC-AT/EFI              | 4 blocks                 |
//! | second NVIDIA image (0xE0)     | after the first              | as needed                |
//!
//! Every image starts with a ROM header (signature at 0x00, pointer to the data structure at
//! 0x18), has a PCI data structure at [`PCIR_OFFSET`] and an NVIDIA PCI data extension
//! ("NPDE") at the next 16-byte boundary after it, and its payload at [`BODY_OFFSET`]:
//!
//! * ROM header and PCI data structure: PCI Local Bus Specification 2.2 §6.3.1 as transcribed
//!   in EDK2's `MdePkg/Include/IndustryStandard/Pci22.h` (`EFI_LEGACY_EXPANSION_ROM_HEADER`,
//!   `PCI_DATA_STRUCTURE`, `EFI_PCI_EXPANSION_ROM_HEADER`), Open RM's
//!   `src/nvidia/inc/kernel/platform/pci_exp_table.h` and nova-core's `PciRomHeader` and
//!   `PcirStruct`. The structure is 0x18 bytes long, revision 0 (PCI 2.2).
//! * NVIDIA's images use the "VN" (0x4e56) ROM signature and the "NPDS" data structure
//!   signature, and their ROM header holds the image length in blocks at offset 2: all three
//!   seen in a public dump of a GT 710B VBIOS (github.com/Matoking/NVIDIA-vBIOS-VFIO-Patcher
//!   issue 8). nova-core, nouveau (`image.c`, `pcir.c`) and Open RM accept both signatures.
//! * NPDE: `NV_PCI_DATA_EXT_STRUCT` in `pci_exp_table.h`: "NPDE", revision 0x0101, length
//!   0x0c, sub-image length in blocks, private last-image indicator, flags; the GT 710B dump
//!   shows exactly these values. Its position (PCIR + length, aligned up to 16) is
//!   `nvbios_npdeTe` in nouveau's `npde.c`, `NpdeStruct::find_in_data` in nova-core and
//!   `s_locateExpansionRoms` in Open RM.
//! * Last-image indicators: the PCI data structures describe the chain generic firmware
//!   walks (the Linux PCI core's `pci_get_rom_size`, UEFI option-ROM dispatch), which must
//!   include the EFI image for the GOP driver in it to be found, so the last PC-AT/EFI image
//!   carries the PCIR last-image bit; the NPDE indicators describe the whole chain and only the
//!   final image carries theirs. All three drivers prefer the NPDE values. (nova-core's
//!   `Documentation/gpu/nova/core/vbios.rst` diagram shows such a split, PCIR last and NPDE
//!   not last, on the PC-AT image; with an EFI image after it, this model sets the PCIR bit
//!   on the EFI image instead.)
//! * PC-AT image: legacy header (image size in blocks at 0x02, a near `JMP` to the
//!   initialization entry at 0x03, here a lone `RETF`), the BIT, the BIOSDATA and FALCON_DATA
//!   structures its tokens point to, and filler. The byte sum of the image is zero, as nouveau
//!   checks for code type 0 (`shadow.c`, `shadow_image`); the byte that makes it so is the
//!   "BIOS Checksum" field of BIOSDATA ("BIOS 0 Checksum inserted during the build").
//! * BIT (BIOS Information Table): NVIDIA's BIT specification (open-gpu-doc,
//!   `BIOS-Information-Table.html`): header id 0xB8FF, "BIT\0", BCD version 0x0100, header size
//!   12, token size 6, token count, header checksum (the header's bytes sum to zero; Open RM's
//!   `s_vbiosFindBitHeader` requires it). Tokens: `B` (0x42) BIOSDATA version 2, `N` (0x4E) a
//!   NOP, and `p` (0x70) BIT_FALCON_DATA version 2, a 32-bit pointer to the Falcon Ucode Table.
//! * Pointers past the PC-AT image: "If a UEFI (Code Type 03h) image follows the
//!   PC-compatible image, then the pointer must be adjusted" (BIT specification), that is the
//!   pointer counts bytes as if the first NVIDIA image directly followed the PC-AT image
//!   (nova-core `falcon_data_offset`, nouveau `nvbios_addr`, Open RM `expansionRomOffset`).
//! * Falcon Ucode Table: `FALCON_UCODE_TABLE_HDR_V1` (version 1, header size 6, entry size 6,
//!   entry count, descriptor version, descriptor size) and `FALCON_UCODE_TABLE_ENTRY_V1`
//!   (application id, target id, descriptor pointer) in Open RM's `kernel_gsp_fwsec.c`. Entries:
//!   FWSEC debug (application id 0x45), then FWSEC production (0x85), target 0x01 as in
//!   nova-core's `fwsec.rst`.
//! * FWSEC descriptors: `FALCON_UCODE_DESC_V2` (60 bytes) and `FALCON_UCODE_DESC_V3` (44 bytes
//!   followed by the RSA-3K signatures, 384 bytes each) in `kernel_gsp_fwsec.c`; the header
//!   word has bit 0 "version available", the version in 15:8 and the descriptor size, the
//!   signatures included, in 31:16. The ucode (IMEM then DMEM) follows the descriptor.
//!   Turing and GA100 use version 2 (nova-core runs their FWSEC through the bootloader, which
//!   needs the V2-only non-secure IMEM segment: `gsp/hal.rs`, `firmware/fwsec/bootloader.rs`);
//!   GA102 and later use version 3 (nova-core patches a V3 signature on them). GV100 has no
//!   GSP and so no FWSEC (nouveau `gv100_gsp_nofw`): its table is empty.
//! * FWSEC DMEM: the application interface table (`FalconAppifHdrV1`: version 1, header size
//!   4, entry size 8) at `InterfaceOffset`, with a DEVINIT (id 1) and a DMEMMAPPER (id 4)
//!   entry; the DMEMMAPPER interface ("DMAP", version 3, 64 bytes) with command buffers
//!   (nova-core `firmware/fwsec.rs` and `fwsec.rst`, nouveau `gsp/fwsec.c`).
//! * Signature selection: the board's fuse version `v` selects bit `1 << v` of
//!   `SignatureVersions`; the signature index is the number of set bits below it (nova-core
//!   `FwsecFirmware::new`, nouveau `ga102_gsp_fwsec_signature`). The fuse version is the
//!   position of the highest set bit of `NV_FUSE_OPT_FPF_GSP_UCODE<n>_VERSION` (0x8241c0 +
//!   4 * (n - 1), n being the descriptor's `UcodeId`).
//! * IFR header (GA100 only): "On GA100, for some reason, the IFR offset is not applied to PROM
//!   reads" (nova-core `vbios.rs`, `vbios.rst`): the PROM window shows the Init-from-ROM header
//!   before the PCI expansion ROM. Version 2 layout: `vbios.rst` ("IFR Header").
//!
//! What is synthetic: every payload (x86 code, EFI driver, ucode, signatures) is a
//! deterministic pattern of 7-bit bytes (so that it cannot contain a BIT or BMP signature),
//! BIOSDATA holds a made-up version, and the FWSEC sizes, offsets, ucode id and signature
//! version sets are chosen, not copied from a real board. Everything a parser follows is
//! consistent and in bounds.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::bar0::{Ctx, RegRead, RegWrite, Unit};
use crate::chips::{Architecture, Chip, NVIDIA_VENDOR_ID};

/// BAR0 offset of `NV_PROM_DATA(0)`, the first byte of the PROM window.
pub const NV_PROM_DATA: u32 = 0x0030_0000;

/// Size of the PROM window in BAR0: 1 MiB.
pub const PROM_WINDOW_SIZE: u32 = 0x0010_0000;

/// What the window reads where the flash holds no image: erased flash.
pub const ERASED: u8 = 0xff;

/// Unit of PCI expansion ROM image lengths (`PCI_ROM_IMAGE_BLOCK_SIZE`).
pub const ROM_BLOCK: usize = 512;

/// The PCI expansion ROM signature, 0x55 0xaa.
pub const PCI_ROM_SIGNATURE: u16 = 0xaa55;

/// NVIDIA's alternative ROM signature, "VN" (`PCI_EXP_ROM_SIGNATURE_NV`).
pub const NV_ROM_SIGNATURE: u16 = 0x4e56;

/// Code type of a PC-AT compatible (x86 legacy) image.
pub const CODE_TYPE_PCAT: u8 = 0x00;

/// Code type of an EFI image.
pub const CODE_TYPE_EFI: u8 = 0x03;

/// Code type of NVIDIA's firmware images, among them FWSEC.
pub const CODE_TYPE_NVIDIA: u8 = 0xe0;

/// Offset of the PCI data structure in every synthesized image.
pub const PCIR_OFFSET: usize = 0x20;

/// Length of the PCI data structure (PCI 2.2).
pub const PCIR_LEN: usize = 0x18;

/// Offset of the NPDE: the PCI data structure's end aligned up to 16 bytes.
pub const NPDE_OFFSET: usize = (PCIR_OFFSET + PCIR_LEN + 0xf) & !0xf;

/// Offset of the payload in every synthesized image.
pub const BODY_OFFSET: usize = 0x50;

/// Offset of the BIT header in the PC-AT image.
pub const BIT_OFFSET: usize = 0x60;

/// BIT token id of BIOSDATA (`B`).
pub const BIT_TOKEN_BIOSDATA: u8 = 0x42;

/// BIT token id of a NOP (`N`).
pub const BIT_TOKEN_NOP: u8 = 0x4e;

/// BIT token id of the falcon data (`p`).
pub const BIT_TOKEN_FALCON_DATA: u8 = 0x70;

/// Falcon Ucode Table application id of the production FWSEC.
pub const APPID_FWSEC_PROD: u8 = 0x85;

/// Falcon Ucode Table application id of the debug FWSEC.
pub const APPID_FWSEC_DBG: u8 = 0x45;

/// Size of one FWSEC signature (`BCRT30_RSA3K_SIG_SIZE`).
pub const SIGNATURE_SIZE: usize = 384;

/// Size of a version 2 FWSEC descriptor (`FALCON_UCODE_DESC_V2_SIZE_60`).
pub const DESC_V2_SIZE: usize = 60;

/// Size of a version 3 FWSEC descriptor, signatures excluded (`FALCON_UCODE_DESC_V3_SIZE_44`).
pub const DESC_V3_SIZE: usize = 44;

/// Engine id mask of the GSP falcon in a V3 descriptor (nova-core
/// `signature_reg_fuse_version_ga102`, nouveau `ga102_gsp_fwsec_signature`).
pub const ENGINE_ID_MASK_GSP: u16 = 0x0400;

/// Where the PCI expansion ROM starts in GA100's PROM window, after the IFR header.
pub const GA100_PCI_ROM_OFFSET: usize = 0x1000;

/// The IFR header signature, "NVGI".
pub const IFR_SIGNATURE: u32 = u32::from_le_bytes(*b"NVGI");

const LAST_IMAGE: u8 = 0x80;
const PCIR_REVISION: u8 = 0;
const NPDE_REVISION: u16 = 0x0101;
const NPDE_LEN: u16 = 0x0c;
const VENDOR_ROM_REVISION: u16 = 0x0001;
const PCAT_BLOCKS: usize = 8;
const EFI_BLOCKS: usize = 16;
const FIRST_NVIDIA_BLOCKS: usize = 4;
const BIT_HEADER_SIZE: u8 = 12;
const BIT_TOKEN_SIZE: u8 = 6;
const BIOSDATA_OFFSET: usize = 0x80;
const BIOSDATA_SIZE: usize = 28;
const BIOSDATA_CHECKSUM: usize = 5;
const FALCON_DATA_OFFSET: usize = 0xa0;
const PCAT_FILL_OFFSET: usize = 0xb0;
const FALCON_TABLE_OFFSET: usize = BODY_OFFSET;
const FALCON_TABLE_HEADER_SIZE: u8 = 6;
const FALCON_TABLE_ENTRY_SIZE: u8 = 6;
const FALCON_TARGET_ID: u8 = 0x01;
const UCODE_ALIGN: usize = 0x100;
const IFR_VERSION: u32 = 2;
const IFR_FIXED_DATA_SIZE: u32 = 0x10;

// The FWSEC ucode layout (all chips).
const IMEM_SIZE: u32 = 0x4000;
const IMEM_NS_SIZE: u32 = 0x1000;
const DMEM_SIZE: u32 = 0x1000;
const INTERFACE_OFFSET: u32 = 0x100;
const DEVINIT_IF_OFFSET: u32 = 0x200;
const DMEMMAPPER_OFFSET: u32 = 0x300;
const CMD_IN_OFFSET: u32 = 0x400;
const CMD_OUT_OFFSET: u32 = 0x500;
const CMD_BUFFER_SIZE: u32 = 0x100;
const PKC_DATA_OFFSET: u32 = 0x800;
const APPIF_ID_DEVINIT: u32 = 0x1;
const APPIF_ID_DMEMMAPPER: u32 = 0x4;
const DMEMMAPPER_VERSION: u16 = 3;
const DMEMMAPPER_SIZE: u16 = 64;
const UCODE_ID: u8 = 1;

/// A deliberate defect in the ROM, for fault-injection tests (`--vbios-corrupt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corruption {
    /// The ROM as built.
    #[default]
    None,
    /// The first image's ROM signature reads 0x55aa (its two bytes swapped) instead of 0xaa55.
    /// The image checksum is unchanged.
    BadSignatureAa55,
    /// The BIT token list is cut before the falcon data token: the header counts one token
    /// less, with its checksum and the PC-AT image checksum still right.
    TruncatedBit,
    /// The production FWSEC descriptor's IMEM load size runs past the end of the ROM; the
    /// rest of the descriptor, and the debug FWSEC, are intact.
    BadFwsecDesc,
}

impl Corruption {
    /// Every kind, in the order the usage text lists them.
    pub const ALL: &'static [Corruption] = &[
        Corruption::None,
        Corruption::BadSignatureAa55,
        Corruption::TruncatedBit,
        Corruption::BadFwsecDesc,
    ];

    /// The command-line name of the kind.
    pub const fn name(self) -> &'static str {
        match self {
            Corruption::None => "none",
            Corruption::BadSignatureAa55 => "bad-signature-0xaa55",
            Corruption::TruncatedBit => "truncated-bit",
            Corruption::BadFwsecDesc => "bad-fwsec-desc",
        }
    }

    /// Looks a kind up by its command-line name.
    pub fn from_name(name: &str) -> Option<Corruption> {
        Corruption::ALL.iter().copied().find(|c| c.name() == name)
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a ROM could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VbiosError {
    /// The layout does not fit (an internal inconsistency, reported rather than panicking).
    Layout(&'static str),
    /// The corruption needs a FWSEC descriptor and the chip's ROM has none.
    NoFwsec {
        /// The chip.
        chip: &'static str,
        /// The corruption asked for.
        corruption: Corruption,
    },
}

impl fmt::Display for VbiosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VbiosError::Layout(what) => write!(f, "VBIOS layout error: {what}"),
            VbiosError::NoFwsec { chip, corruption } => write!(
                f,
                "--vbios-corrupt {corruption}: the {chip} VBIOS has no FWSEC descriptor"
            ),
        }
    }
}

impl std::error::Error for VbiosError {}

type Result<T> = std::result::Result<T, VbiosError>;

/// The FWSEC descriptor format a chip uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescVersion {
    /// `FALCON_UCODE_DESC_V2`: Turing, GA100.
    V2,
    /// `FALCON_UCODE_DESC_V3`: GA102 and later.
    V3,
}

impl DescVersion {
    /// The version number in the descriptor header.
    pub const fn number(self) -> u8 {
        match self {
            DescVersion::V2 => 2,
            DescVersion::V3 => 3,
        }
    }
}

/// The FWSEC descriptor version of `chip`, or `None` when it has no FWSEC (see the module
/// docs for the sources).
pub fn fwsec_version(chip: &Chip) -> Option<DescVersion> {
    match chip.arch {
        Architecture::Volta => None,
        Architecture::Turing => Some(DescVersion::V2),
        Architecture::Ampere if is_ga100(chip) => Some(DescVersion::V2),
        Architecture::Ampere
        | Architecture::Ada
        | Architecture::Hopper
        | Architecture::BlackwellGb10x
        | Architecture::BlackwellGb20x => Some(DescVersion::V3),
    }
}

/// The `SignatureVersions` mask of `chip`'s V3 FWSEC: one bit per signature, bit `v` for the
/// signature that runs on a board fused at version `v`. Synthetic: chosen to give 2 to 4
/// signatures and sets that do not all start at version 0.
fn signature_versions(chip: &Chip) -> u16 {
    match chip.arch {
        Architecture::Ampere => 0b0011,
        Architecture::Ada => 0b0111,
        Architecture::Hopper => 0b1111,
        Architecture::BlackwellGb10x => 0b1110,
        Architecture::BlackwellGb20x => 0b0110,
        Architecture::Volta | Architecture::Turing => 0,
    }
}

fn is_ga100(chip: &Chip) -> bool {
    chip.chipset == 0x170
}

/// Whether the PROM window of `chip` shows the IFR header before the PCI expansion ROM.
pub fn ifr_header_visible(chip: &Chip) -> bool {
    is_ga100(chip)
}

/// Whether `chip`'s ROM carries an EFI (UEFI GOP) image: boards with a display, that is the
/// VGA-class ones. The data-centre parts have no display output (GA100 has no display engine
/// at all, `vbios.rst`).
pub fn has_efi_image(chip: &Chip) -> bool {
    chip.is_vga()
}

/// One image of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Offset of the image in the PROM window.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// PCI code type.
    pub code_type: u8,
}

/// Where a FWSEC descriptor is and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwsecInfo {
    /// Falcon Ucode Table application id.
    pub app_id: u8,
    /// Descriptor version.
    pub version: DescVersion,
    /// Offset of the descriptor in the PROM window.
    pub desc_offset: usize,
    /// Descriptor size from its header, signatures included.
    pub desc_size: usize,
    /// Offset of the ucode (IMEM then DMEM) in the PROM window.
    pub ucode_offset: usize,
    /// IMEM load size (as built, before any corruption).
    pub imem_load_size: u32,
    /// DMEM load size.
    pub dmem_load_size: u32,
    /// DMEM offset of the application interface table.
    pub interface_offset: u32,
    /// DMEM offset where the HS signature is patched (V3; 0 for V2).
    pub pkc_data_offset: u32,
    /// Number of signatures after the descriptor (V3; 0 for V2).
    pub signature_count: u8,
    /// `SignatureVersions` (V3; 0 for V2).
    pub signature_versions: u16,
    /// `UcodeId` (V3; 0 for V2).
    pub ucode_id: u8,
    /// `EngineIdMask` (V3; 0 for V2).
    pub engine_id_mask: u16,
}

impl FwsecInfo {
    /// The fuse version of the simulated board: the newest version the ROM has a signature
    /// for. `None` for V2 descriptors, which carry no signature table.
    pub fn fuse_version(&self) -> Option<u32> {
        if self.signature_versions == 0 {
            return None;
        }
        15u32.checked_sub(self.signature_versions.leading_zeros())
    }

    /// A value of `NV_FUSE_OPT_FPF_GSP_UCODE<UcodeId>_VERSION` that decodes to
    /// [`Self::fuse_version`] (the drivers take the position of its highest set bit).
    pub fn fuse_register_value(&self) -> Option<u32> {
        self.fuse_version()
            .and_then(|v| 1u32.checked_shl(v))
            .map(|bit| bit.wrapping_sub(1))
    }

    /// The index of the signature a driver must pick on the simulated board.
    pub fn signature_index(&self) -> Option<usize> {
        let v = self.fuse_version()?;
        let below = 1u32.checked_shl(v)?.wrapping_sub(1);
        usize::try_from((u32::from(self.signature_versions) & below).count_ones()).ok()
    }
}

/// Where the synthesized structures are, for tests and later device models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VbiosInfo {
    /// Offset of the PCI expansion ROM in the PROM window (non-zero behind an IFR header).
    pub pci_rom_offset: usize,
    /// The images, in ROM order.
    pub images: Vec<ImageInfo>,
    /// Offset of the BIT header in the PROM window.
    pub bit_offset: usize,
    /// Offset of the Falcon Ucode Table in the PROM window.
    pub falcon_table_offset: usize,
    /// The value of the falcon data pointer (BIT_FALCON_DATA), before the EFI adjustment.
    pub falcon_table_pointer: u32,
    /// The production FWSEC (application id 0x85).
    pub fwsec: Option<FwsecInfo>,
    /// The debug FWSEC (application id 0x45).
    pub fwsec_debug: Option<FwsecInfo>,
    /// The corruption applied.
    pub corruption: Corruption,
}

/// A chip's VBIOS: the bytes of its flash as the PROM window shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vbios {
    rom: Vec<u8>,
    info: VbiosInfo,
}

impl Vbios {
    /// Builds the ROM of `chip` with `corruption` applied.
    pub fn build(chip: &Chip, corruption: Corruption) -> Result<Vbios> {
        let mut vbios = build_clean(chip)?;
        vbios.corrupt(chip, corruption)?;
        Ok(vbios)
    }

    /// The ROM contents, from PROM offset 0 (the IFR header where there is one). Beyond the
    /// end the window reads [`ERASED`].
    pub fn bytes(&self) -> &[u8] {
        &self.rom
    }

    /// Where the structures are.
    pub fn info(&self) -> &VbiosInfo {
        &self.info
    }

    /// The byte at `offset` in the PROM window.
    pub fn byte(&self, offset: usize) -> u8 {
        self.rom.get(offset).copied().unwrap_or(ERASED)
    }

    fn corrupt(&mut self, chip: &Chip, corruption: Corruption) -> Result<()> {
        self.info.corruption = corruption;
        match corruption {
            Corruption::None => Ok(()),
            Corruption::BadSignatureAa55 => {
                let at = self.info.pci_rom_offset;
                put_u16(&mut self.rom, at, PCI_ROM_SIGNATURE.swap_bytes())
            }
            Corruption::TruncatedBit => {
                let bit = self.info.bit_offset;
                let count_at = add(bit, 10)?;
                let count = get_u8(&self.rom, count_at)?;
                let count = count
                    .checked_sub(1)
                    .ok_or(VbiosError::Layout("BIT has no token"))?;
                put_u8(&mut self.rom, count_at, count)?;
                set_zero_checksum(&mut self.rom, bit, usize::from(BIT_HEADER_SIZE), 11)?;
                set_zero_checksum(
                    &mut self.rom,
                    self.info.pci_rom_offset,
                    PCAT_BLOCKS * ROM_BLOCK,
                    BIOSDATA_OFFSET + BIOSDATA_CHECKSUM,
                )
            }
            Corruption::BadFwsecDesc => {
                let Some(fwsec) = &self.info.fwsec else {
                    return Err(VbiosError::NoFwsec {
                        chip: chip.name,
                        corruption,
                    });
                };
                let field = match fwsec.version {
                    DescVersion::V2 => 0x18,
                    DescVersion::V3 => 0x14,
                };
                let at = add(fwsec.desc_offset, field)?;
                // 16 MiB: past the end of the 1 MiB window whatever the descriptor's offset.
                put_u32(&mut self.rom, at, 0x0100_0000)
            }
        }
    }
}

/// The PROM window in BAR0: `NV_PROM_DATA(i)` reads byte `i` of the flash.
#[derive(Debug)]
pub struct Prom {
    vbios: Arc<Vbios>,
}

impl Prom {
    /// Creates the window onto `vbios`.
    pub fn new(vbios: Arc<Vbios>) -> Self {
        Prom { vbios }
    }
}

impl Unit for Prom {
    fn name(&self) -> &'static str {
        "PROM"
    }

    fn ranges(&self) -> Vec<Range<u32>> {
        std::iter::once(NV_PROM_DATA..NV_PROM_DATA + PROM_WINDOW_SIZE).collect()
    }

    fn read(&mut self, addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
        let Some(offset) = addr
            .checked_sub(NV_PROM_DATA)
            .and_then(|o| usize::try_from(o).ok())
        else {
            return RegRead::Unimplemented;
        };
        let mut bytes = [ERASED; 4];
        for (i, byte) in bytes.iter_mut().enumerate() {
            if let Some(at) = offset.checked_add(i) {
                *byte = self.vbios.byte(at);
            }
        }
        RegRead::Value(u32::from_le_bytes(bytes))
    }

    fn write(&mut self, _addr: u32, _value: u32, _mask: u32, _ctx: &mut Ctx<'_>) -> RegWrite {
        RegWrite::ReadOnly
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

fn add(a: usize, b: usize) -> Result<usize> {
    a.checked_add(b)
        .ok_or(VbiosError::Layout("offset overflow"))
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> Result<()> {
    let end = add(at, bytes.len())?;
    buf.get_mut(at..end)
        .ok_or(VbiosError::Layout("write outside the image"))?
        .copy_from_slice(bytes);
    Ok(())
}

fn put_u8(buf: &mut [u8], at: usize, value: u8) -> Result<()> {
    put(buf, at, &[value])
}

fn put_u16(buf: &mut [u8], at: usize, value: u16) -> Result<()> {
    put(buf, at, &value.to_le_bytes())
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) -> Result<()> {
    put(buf, at, &value.to_le_bytes())
}

fn get_u8(buf: &[u8], at: usize) -> Result<u8> {
    buf.get(at)
        .copied()
        .ok_or(VbiosError::Layout("read outside the image"))
}

fn to_u16(value: usize) -> Result<u16> {
    u16::try_from(value).map_err(|_| VbiosError::Layout("value does not fit 16 bits"))
}

fn to_u32(value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| VbiosError::Layout("value does not fit 32 bits"))
}

fn align_up(value: usize, align: usize) -> Result<usize> {
    let rem = value % align;
    if rem == 0 {
        Ok(value)
    } else {
        add(value, align - rem)
    }
}

/// Sets byte `start + at` so that the `len` bytes from `start` sum to zero (mod 256).
fn set_zero_checksum(buf: &mut [u8], start: usize, len: usize, at: usize) -> Result<()> {
    let end = add(start, len)?;
    let pos = add(start, at)?;
    put_u8(buf, pos, 0)?;
    let sum = buf
        .get(start..end)
        .ok_or(VbiosError::Layout("checksum range"))?
        .iter()
        .fold(0u8, |acc, &b| acc.wrapping_add(b));
    put_u8(buf, pos, sum.wrapping_neg())
}

/// A deterministic filler: xorshift32 seeded from the chip and a label, bytes below 0x80.
struct Pattern(u32);

impl Pattern {
    fn new(chip: &Chip, label: &str) -> Self {
        // FNV-1a over "chip:label".
        let mut hash: u32 = 0x811c_9dc5;
        for byte in chip.name.bytes().chain([b':']).chain(label.bytes()) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        Pattern(hash | 1)
    }

    fn next(&mut self) -> u8 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        ((x >> 24) & 0x7f) as u8
    }

    fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            *byte = self.next();
        }
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        self.fill(&mut out);
        out
    }
}

/// What the common image headers need to know.
struct Header {
    rom_signature: u16,
    pcir_signature: &'static [u8; 4],
    code_type: u8,
    pcir_last: bool,
    npde_last: bool,
}

/// Writes the ROM signature, the data structure pointer, the PCI data structure and the NPDE
/// into `image`, whose length gives the image length.
fn write_headers(image: &mut [u8], header: &Header, chip: &Chip) -> Result<()> {
    if image.len() % ROM_BLOCK != 0 {
        return Err(VbiosError::Layout(
            "image length is not a whole number of blocks",
        ));
    }
    let blocks = to_u16(image.len() / ROM_BLOCK)?;
    put_u16(image, 0x00, header.rom_signature)?;
    put_u16(image, 0x18, to_u16(PCIR_OFFSET)?)?;

    let p = PCIR_OFFSET;
    put(image, p, header.pcir_signature)?;
    put_u16(image, p + 0x04, NVIDIA_VENDOR_ID)?;
    put_u16(image, p + 0x06, chip.device_id)?;
    put_u16(image, p + 0x08, 0)?; // Device list pointer: none.
    put_u16(image, p + 0x0a, to_u16(PCIR_LEN)?)?;
    put_u8(image, p + 0x0c, PCIR_REVISION)?;
    // Class code in configuration-space byte order: interface, subclass, base class.
    let class = chip.class_code.to_le_bytes();
    put(image, p + 0x0d, &class[..3])?;
    put_u16(image, p + 0x10, blocks)?;
    put_u16(image, p + 0x12, VENDOR_ROM_REVISION)?;
    put_u8(image, p + 0x14, header.code_type)?;
    put_u8(
        image,
        p + 0x15,
        if header.pcir_last { LAST_IMAGE } else { 0 },
    )?;
    put_u16(image, p + 0x16, 0)?; // Maximum run-time image length: not used.

    let n = NPDE_OFFSET;
    put(image, n, b"NPDE")?;
    put_u16(image, n + 0x04, NPDE_REVISION)?;
    put_u16(image, n + 0x06, NPDE_LEN)?;
    put_u16(image, n + 0x08, blocks)?;
    put_u8(
        image,
        n + 0x0a,
        if header.npde_last { LAST_IMAGE } else { 0 },
    )?;
    put_u8(image, n + 0x0b, 0)?; // Flags.
    Ok(())
}

/// The PC-AT image: legacy header, BIT, BIOSDATA, FALCON_DATA, filler, checksum.
fn pcat_image(chip: &Chip, last_visible: bool, falcon_table_pointer: u32) -> Result<Vec<u8>> {
    let len = PCAT_BLOCKS * ROM_BLOCK;
    let mut image = vec![0; len];
    Pattern::new(chip, "pcat").fill(image.get_mut(PCAT_FILL_OFFSET..).unwrap_or_default());
    write_headers(
        &mut image,
        &Header {
            rom_signature: PCI_ROM_SIGNATURE,
            pcir_signature: b"PCIR",
            code_type: CODE_TYPE_PCAT,
            pcir_last: last_visible,
            npde_last: false,
        },
        chip,
    )?;
    // Legacy header: size in blocks, then `JMP near` to the initialization code, a `RETF`.
    put_u8(
        &mut image,
        0x02,
        u8::try_from(PCAT_BLOCKS).map_err(|_| VbiosError::Layout("PC-AT size"))?,
    )?;
    let rel = to_u16(BODY_OFFSET - 6)?;
    put_u8(&mut image, 0x03, 0xe9)?;
    put_u16(&mut image, 0x04, rel)?;
    put_u8(&mut image, BODY_OFFSET, 0xcb)?;

    // BIT header and tokens.
    let tokens: [(u8, u8, usize, usize); 3] = [
        (BIT_TOKEN_BIOSDATA, 2, BIOSDATA_SIZE, BIOSDATA_OFFSET),
        (BIT_TOKEN_NOP, 0, 0, 0),
        (BIT_TOKEN_FALCON_DATA, 2, 4, FALCON_DATA_OFFSET),
    ];
    let b = BIT_OFFSET;
    put_u16(&mut image, b, 0xb8ff)?;
    put(&mut image, b + 2, b"BIT\0")?;
    put_u16(&mut image, b + 6, 0x0100)?;
    put_u8(&mut image, b + 8, BIT_HEADER_SIZE)?;
    put_u8(&mut image, b + 9, BIT_TOKEN_SIZE)?;
    put_u8(
        &mut image,
        b + 10,
        u8::try_from(tokens.len()).map_err(|_| VbiosError::Layout("BIT tokens"))?,
    )?;
    set_zero_checksum(&mut image, b, usize::from(BIT_HEADER_SIZE), 11)?;
    let mut at = b + usize::from(BIT_HEADER_SIZE);
    for (id, version, size, pointer) in tokens {
        put_u8(&mut image, at, id)?;
        put_u8(&mut image, at + 1, version)?;
        put_u16(&mut image, at + 2, to_u16(size)?)?;
        put_u16(&mut image, at + 4, to_u16(pointer)?)?;
        at = add(at, usize::from(BIT_TOKEN_SIZE))?;
    }
    if at > BIOSDATA_OFFSET {
        return Err(VbiosError::Layout("BIT tokens overlap BIOSDATA"));
    }

    // BIOSDATA version 2: a synthetic version (chipset, build 1), OEM version 1, the image
    // checksum, the rest zero.
    let biosdata = image
        .get_mut(BIOSDATA_OFFSET..BIOSDATA_OFFSET + BIOSDATA_SIZE)
        .ok_or(VbiosError::Layout("BIOSDATA"))?;
    biosdata.fill(0);
    put_u32(&mut image, BIOSDATA_OFFSET, (chip.chipset << 16) | 0x0001)?;
    put_u8(&mut image, BIOSDATA_OFFSET + 4, 0x01)?;

    // BIT_FALCON_DATA version 2.
    put_u32(&mut image, FALCON_DATA_OFFSET, falcon_table_pointer)?;

    set_zero_checksum(&mut image, 0, len, BIOSDATA_OFFSET + BIOSDATA_CHECKSUM)?;
    Ok(image)
}

/// The EFI image: EFI ROM header and a filler where the GOP driver would be.
fn efi_image(chip: &Chip) -> Result<Vec<u8>> {
    let len = EFI_BLOCKS * ROM_BLOCK;
    let mut image = vec![0; len];
    Pattern::new(chip, "efi").fill(image.get_mut(BODY_OFFSET..).unwrap_or_default());
    write_headers(
        &mut image,
        &Header {
            rom_signature: PCI_ROM_SIGNATURE,
            pcir_signature: b"PCIR",
            code_type: CODE_TYPE_EFI,
            pcir_last: true,
            npde_last: false,
        },
        chip,
    )?;
    // EFI_PCI_EXPANSION_ROM_HEADER: initialization size, 0x0EF1, boot-service driver (11),
    // x64 (0x8664), uncompressed, image at the payload.
    put_u16(&mut image, 0x02, to_u16(EFI_BLOCKS)?)?;
    put_u32(&mut image, 0x04, 0x0ef1)?;
    put_u16(&mut image, 0x08, 11)?;
    put_u16(&mut image, 0x0a, 0x8664)?;
    put_u16(&mut image, 0x0c, 0)?;
    put(&mut image, 0x0e, &[0; 8])?;
    put_u16(&mut image, 0x16, to_u16(BODY_OFFSET)?)?;
    Ok(image)
}

/// An NVIDIA (code type 0xE0) image around `body`, which lands at [`BODY_OFFSET`].
fn nvidia_image(chip: &Chip, len: usize, body: &[u8], last: bool) -> Result<Vec<u8>> {
    let mut image = vec![0; len];
    put(&mut image, BODY_OFFSET, body)?;
    write_headers(
        &mut image,
        &Header {
            rom_signature: NV_ROM_SIGNATURE,
            pcir_signature: b"NPDS",
            code_type: CODE_TYPE_NVIDIA,
            pcir_last: last,
            npde_last: last,
        },
        chip,
    )?;
    put_u16(&mut image, 0x02, to_u16(len / ROM_BLOCK)?)?;
    Ok(image)
}

/// The FWSEC DMEM: application interfaces, DMEMMAPPER, command buffers, signature slot.
fn fwsec_dmem(chip: &Chip, label: &str, version: DescVersion) -> Result<Vec<u8>> {
    let size = usize::try_from(DMEM_SIZE).map_err(|_| VbiosError::Layout("DMEM size"))?;
    let mut dmem = Pattern::new(chip, label).bytes(size);
    let at = |offset: u32| usize::try_from(offset).map_err(|_| VbiosError::Layout("DMEM"));

    // FalconAppifHdrV1 and two FalconAppifV1 entries.
    let i = at(INTERFACE_OFFSET)?;
    put(&mut dmem, i, &[1, 4, 8, 2])?;
    put_u32(&mut dmem, i + 4, APPIF_ID_DEVINIT)?;
    put_u32(&mut dmem, i + 8, DEVINIT_IF_OFFSET)?;
    put_u32(&mut dmem, i + 12, APPIF_ID_DMEMMAPPER)?;
    put_u32(&mut dmem, i + 16, DMEMMAPPER_OFFSET)?;

    // FalconAppifDmemmapperV3. Fields whose meaning no public source gives are zero.
    let m = at(DMEMMAPPER_OFFSET)?;
    put(&mut dmem, m, &[0; DMEMMAPPER_SIZE as usize])?;
    put(&mut dmem, m, b"DMAP")?;
    put_u16(&mut dmem, m + 4, DMEMMAPPER_VERSION)?;
    put_u16(&mut dmem, m + 6, DMEMMAPPER_SIZE)?;
    put_u32(&mut dmem, m + 8, CMD_IN_OFFSET)?;
    put_u32(&mut dmem, m + 12, CMD_BUFFER_SIZE)?;
    put_u32(&mut dmem, m + 16, CMD_OUT_OFFSET)?;
    put_u32(&mut dmem, m + 20, CMD_BUFFER_SIZE)?;

    let buffers = usize::try_from(CMD_BUFFER_SIZE * 2).map_err(|_| VbiosError::Layout("cmd"))?;
    put(&mut dmem, at(CMD_IN_OFFSET)?, &vec![0; buffers])?;
    if version == DescVersion::V3 {
        put(&mut dmem, at(PKC_DATA_OFFSET)?, &[0; SIGNATURE_SIZE])?;
    }
    Ok(dmem)
}

/// A FWSEC descriptor, its signatures and its ucode, and what they say.
fn fwsec_blob(chip: &Chip, version: DescVersion, app_id: u8) -> Result<(Vec<u8>, FwsecInfo)> {
    let label = if app_id == APPID_FWSEC_PROD {
        "fwsec-prod"
    } else {
        "fwsec-dbg"
    };
    let mut ucode = Pattern::new(chip, &format!("{label}-imem"))
        .bytes(usize::try_from(IMEM_SIZE).map_err(|_| VbiosError::Layout("IMEM"))?);
    ucode.extend(fwsec_dmem(chip, &format!("{label}-dmem"), version)?);
    let stored_size = to_u32(ucode.len())?;

    let (sig_versions, sig_count) = match version {
        DescVersion::V2 => (0, 0),
        DescVersion::V3 => {
            let versions = signature_versions(chip);
            (versions, versions.count_ones())
        }
    };
    let sig_count_usize =
        usize::try_from(sig_count).map_err(|_| VbiosError::Layout("signatures"))?;
    let desc_size = match version {
        DescVersion::V2 => DESC_V2_SIZE,
        DescVersion::V3 => add(DESC_V3_SIZE, sig_count_usize * SIGNATURE_SIZE)?,
    };
    let hdr = 1 | (u32::from(version.number()) << 8) | (u32::from(to_u16(desc_size)?) << 16);

    let mut desc = vec![0u8; desc_size];
    match version {
        DescVersion::V2 => {
            let fields: [u32; 15] = [
                hdr,
                stored_size,
                stored_size, // Uncompressed size: equal, the ucode is stored uncompressed.
                0,           // Virtual entry.
                INTERFACE_OFFSET,
                0, // IMEM physical base.
                IMEM_SIZE,
                0,            // IMEM virtual base.
                IMEM_NS_SIZE, // Secure IMEM virtual base: after the non-secure part.
                IMEM_SIZE - IMEM_NS_SIZE,
                IMEM_SIZE, // DMEM offset in the image: right after IMEM.
                0,         // DMEM physical base.
                DMEM_SIZE,
                0, // Alternate IMEM load size.
                0, // Alternate DMEM load size.
            ];
            for (i, field) in fields.iter().enumerate() {
                put_u32(&mut desc, i * 4, *field)?;
            }
        }
        DescVersion::V3 => {
            let fields: [u32; 9] = [
                hdr,
                stored_size,
                PKC_DATA_OFFSET,
                INTERFACE_OFFSET,
                0, // IMEM physical base.
                IMEM_SIZE,
                0, // IMEM virtual base.
                0, // DMEM physical base.
                DMEM_SIZE,
            ];
            for (i, field) in fields.iter().enumerate() {
                put_u32(&mut desc, i * 4, *field)?;
            }
            put_u16(&mut desc, 36, ENGINE_ID_MASK_GSP)?;
            put_u8(&mut desc, 38, UCODE_ID)?;
            put_u8(
                &mut desc,
                39,
                u8::try_from(sig_count).map_err(|_| VbiosError::Layout("signature count"))?,
            )?;
            put_u16(&mut desc, 40, sig_versions)?;
            put_u16(&mut desc, 42, 0)?;
            for index in 0..sig_count_usize {
                let sig = Pattern::new(chip, &format!("{label}-sig{index}")).bytes(SIGNATURE_SIZE);
                put(&mut desc, DESC_V3_SIZE + index * SIGNATURE_SIZE, &sig)?;
            }
        }
    }
    let v3 = version == DescVersion::V3;
    let info = FwsecInfo {
        app_id,
        version,
        desc_offset: 0,
        desc_size,
        ucode_offset: desc_size,
        imem_load_size: IMEM_SIZE,
        dmem_load_size: DMEM_SIZE,
        interface_offset: INTERFACE_OFFSET,
        pkc_data_offset: if v3 { PKC_DATA_OFFSET } else { 0 },
        signature_count: u8::try_from(sig_count)
            .map_err(|_| VbiosError::Layout("signature count"))?,
        signature_versions: sig_versions,
        ucode_id: if v3 { UCODE_ID } else { 0 },
        engine_id_mask: if v3 { ENGINE_ID_MASK_GSP } else { 0 },
    };
    desc.extend(ucode);
    Ok((desc, info))
}

/// The body of the second NVIDIA image: the Falcon Ucode Table and the FWSEC blobs. Returns
/// the body and the FWSEC infos with offsets relative to the image start.
fn falcon_body(chip: &Chip, logical_image_base: usize) -> Result<(Vec<u8>, Vec<FwsecInfo>)> {
    let version = fwsec_version(chip);
    // The debug FWSEC first: a driver that takes the first entry gets the wrong one.
    let apps: Vec<(u8, DescVersion)> = match version {
        Some(version) => vec![(APPID_FWSEC_DBG, version), (APPID_FWSEC_PROD, version)],
        None => Vec::new(),
    };
    // Body offsets are relative to BODY_OFFSET; image offsets add it.
    let table_len = add(
        usize::from(FALCON_TABLE_HEADER_SIZE),
        apps.len() * usize::from(FALCON_TABLE_ENTRY_SIZE),
    )?;
    let mut body = vec![0u8; table_len];
    let (desc_version, desc_size) = match version {
        Some(DescVersion::V2) => (2, DESC_V2_SIZE),
        Some(DescVersion::V3) => (3, DESC_V3_SIZE),
        None => (0, 0),
    };
    put(
        &mut body,
        0,
        &[
            1,
            FALCON_TABLE_HEADER_SIZE,
            FALCON_TABLE_ENTRY_SIZE,
            u8::try_from(apps.len()).map_err(|_| VbiosError::Layout("table entries"))?,
            desc_version,
            u8::try_from(desc_size).map_err(|_| VbiosError::Layout("desc size"))?,
        ],
    )?;
    let mut infos = Vec::new();
    for (index, &(app_id, version)) in apps.iter().enumerate() {
        let (blob, mut info) = fwsec_blob(chip, version, app_id)?;
        // Each descriptor starts on a 256-byte boundary of the image.
        let image_offset = align_up(add(BODY_OFFSET, body.len())?, UCODE_ALIGN)?;
        let body_offset = image_offset
            .checked_sub(BODY_OFFSET)
            .ok_or(VbiosError::Layout("descriptor before the payload"))?;
        body.resize(body_offset, 0);
        body.extend_from_slice(&blob);
        let pointer = to_u32(add(logical_image_base, image_offset)?)?;
        let entry = index
            .checked_mul(usize::from(FALCON_TABLE_ENTRY_SIZE))
            .and_then(|o| o.checked_add(usize::from(FALCON_TABLE_HEADER_SIZE)))
            .ok_or(VbiosError::Layout("table entry"))?;
        put_u8(&mut body, entry, app_id)?;
        put_u8(&mut body, entry + 1, FALCON_TARGET_ID)?;
        put_u32(&mut body, entry + 2, pointer)?;
        info.desc_offset = image_offset;
        info.ucode_offset = add(image_offset, info.desc_size)?;
        infos.push(info);
    }
    Ok((body, infos))
}

/// The IFR header GA100 shows in front of its PCI expansion ROM (version 2, `vbios.rst`).
fn ifr_header() -> Result<Vec<u8>> {
    let mut ifr = vec![ERASED; GA100_PCI_ROM_OFFSET];
    let fixed = usize::try_from(IFR_FIXED_DATA_SIZE).map_err(|_| VbiosError::Layout("IFR"))?;
    put_u32(&mut ifr, 0x0, IFR_SIGNATURE)?;
    put_u32(
        &mut ifr,
        0x4,
        (IFR_FIXED_DATA_SIZE << 16) | (IFR_VERSION << 8),
    )?;
    // TOTAL_DATA_SIZE: the fixed part and the two words of the extended section.
    put_u32(&mut ifr, 0x8, IFR_FIXED_DATA_SIZE + 8)?;
    put_u32(&mut ifr, 0xc, 0)?;
    put_u32(&mut ifr, fixed, 0)?;
    // NV_PMGR_ROM_ADDR_OFFSET: where the PCI expansion ROM starts.
    put_u32(&mut ifr, fixed + 4, to_u32(GA100_PCI_ROM_OFFSET)?)?;
    Ok(ifr)
}

fn build_clean(chip: &Chip) -> Result<Vbios> {
    let efi = has_efi_image(chip);
    let pcat_len = PCAT_BLOCKS * ROM_BLOCK;
    let first_nvidia_len = FIRST_NVIDIA_BLOCKS * ROM_BLOCK;

    // Pointers count the first NVIDIA image as following the PC-AT image directly.
    let logical_second = add(pcat_len, first_nvidia_len)?;
    let (falcon, fwsecs) = falcon_body(chip, logical_second)?;
    let second_len = align_up(add(BODY_OFFSET, falcon.len())?, ROM_BLOCK)?;
    let table_pointer = to_u32(add(logical_second, FALCON_TABLE_OFFSET)?)?;

    let mut images: Vec<(u8, Vec<u8>)> =
        vec![(CODE_TYPE_PCAT, pcat_image(chip, !efi, table_pointer)?)];
    if efi {
        images.push((CODE_TYPE_EFI, efi_image(chip)?));
    }
    let filler = Pattern::new(chip, "nvidia-0").bytes(first_nvidia_len - BODY_OFFSET);
    images.push((
        CODE_TYPE_NVIDIA,
        nvidia_image(chip, first_nvidia_len, &filler, false)?,
    ));
    images.push((
        CODE_TYPE_NVIDIA,
        nvidia_image(chip, second_len, &falcon, true)?,
    ));

    let mut rom = if ifr_header_visible(chip) {
        ifr_header()?
    } else {
        Vec::new()
    };
    let pci_rom_offset = rom.len();
    let mut infos = Vec::new();
    for (code_type, image) in images {
        infos.push(ImageInfo {
            offset: rom.len(),
            len: image.len(),
            code_type,
        });
        rom.extend_from_slice(&image);
    }
    if rom.len() > PROM_WINDOW_SIZE as usize {
        return Err(VbiosError::Layout("ROM larger than the PROM window"));
    }
    let second = infos
        .last()
        .map(|i| i.offset)
        .ok_or(VbiosError::Layout("no image"))?;
    let mut fwsec = None;
    let mut fwsec_debug = None;
    for mut info in fwsecs {
        info.desc_offset = add(second, info.desc_offset)?;
        info.ucode_offset = add(second, info.ucode_offset)?;
        if info.app_id == APPID_FWSEC_PROD {
            fwsec = Some(info);
        } else {
            fwsec_debug = Some(info);
        }
    }
    Ok(Vbios {
        rom,
        info: VbiosInfo {
            pci_rom_offset,
            images: infos,
            bit_offset: add(pci_rom_offset, BIT_OFFSET)?,
            falcon_table_offset: add(second, FALCON_TABLE_OFFSET)?,
            falcon_table_pointer: table_pointer,
            fwsec,
            fwsec_debug,
            corruption: Corruption::None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::{self, CHIPS};

    fn sum(bytes: &[u8]) -> u8 {
        bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b))
    }

    #[test]
    fn every_chip_builds_within_the_window() {
        for chip in CHIPS {
            let vbios = Vbios::build(chip, Corruption::None).unwrap();
            assert!(
                vbios.bytes().len() <= PROM_WINDOW_SIZE as usize,
                "{}",
                chip.name
            );
            let info = vbios.info();
            assert_eq!(info.fwsec.is_some(), fwsec_version(chip).is_some());
            assert_eq!(info.images.len(), if chip.is_vga() { 4 } else { 3 });
            let last = info.images.last().unwrap();
            assert_eq!(last.offset + last.len, vbios.bytes().len());
        }
    }

    #[test]
    fn the_rom_is_deterministic_and_chip_specific() {
        let a = Vbios::build(chips::find("ga102").unwrap(), Corruption::None).unwrap();
        let b = Vbios::build(chips::find("ga102").unwrap(), Corruption::None).unwrap();
        let c = Vbios::build(chips::find("ga104").unwrap(), Corruption::None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.bytes(), c.bytes());
    }

    #[test]
    fn checksums_hold() {
        for chip in CHIPS {
            let vbios = Vbios::build(chip, Corruption::None).unwrap();
            let info = vbios.info();
            let pcat = &info.images[0];
            assert_eq!(sum(&vbios.bytes()[pcat.offset..pcat.offset + pcat.len]), 0);
            assert_eq!(
                sum(&vbios.bytes()[info.bit_offset..info.bit_offset + 12]),
                0
            );
        }
    }

    #[test]
    fn the_window_reads_the_rom_then_erased_flash() {
        let vbios =
            Arc::new(Vbios::build(chips::find("tu102").unwrap(), Corruption::None).unwrap());
        let mut prom = Prom::new(vbios.clone());
        let dma = crate::memory::GuestMemory::new();
        let counters = crate::stats::Counters::default();
        let ctx = &mut Ctx::new(&dma, &counters);
        assert_eq!(prom.read(NV_PROM_DATA, ctx), RegRead::Value(0xe908_aa55));
        let end = u32::try_from(vbios.bytes().len()).unwrap();
        assert_eq!(
            prom.read(NV_PROM_DATA + end, ctx),
            RegRead::Value(0xffff_ffff)
        );
        assert_eq!(
            prom.read(NV_PROM_DATA + PROM_WINDOW_SIZE - 4, ctx),
            RegRead::Value(0xffff_ffff)
        );
        assert_eq!(
            prom.write(NV_PROM_DATA, 0, 0xffff_ffff, ctx),
            RegWrite::ReadOnly
        );
        assert_eq!(prom.read(0, ctx), RegRead::Unimplemented);
    }

    #[test]
    fn fuse_selection_helpers() {
        let info = Vbios::build(chips::find("gb202").unwrap(), Corruption::None)
            .unwrap()
            .info()
            .fwsec
            .clone()
            .unwrap();
        assert_eq!(info.signature_versions, 0b0110);
        assert_eq!(info.fuse_version(), Some(2));
        assert_eq!(info.fuse_register_value(), Some(0b11));
        assert_eq!(info.signature_index(), Some(1));
        let v2 = Vbios::build(chips::find("tu102").unwrap(), Corruption::None)
            .unwrap()
            .info()
            .fwsec
            .clone()
            .unwrap();
        assert_eq!(v2.fuse_version(), None);
        assert_eq!(v2.signature_index(), None);
    }

    #[test]
    fn corruption_names_round_trip() {
        for kind in Corruption::ALL {
            assert_eq!(Corruption::from_name(kind.name()), Some(*kind));
        }
        assert_eq!(Corruption::from_name("everything"), None);
    }

    #[test]
    fn a_chip_without_fwsec_refuses_a_descriptor_corruption() {
        let gv100 = chips::find("gv100").unwrap();
        assert_eq!(
            Vbios::build(gv100, Corruption::BadFwsecDesc),
            Err(VbiosError::NoFwsec {
                chip: "gv100",
                corruption: Corruption::BadFwsecDesc
            })
        );
        assert!(Vbios::build(gv100, Corruption::TruncatedBit).is_ok());
    }
}
