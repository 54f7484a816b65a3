// SPDX-License-Identifier: GPL-2.0

//! The FWSEC ucode: its descriptor, its signatures, its DMEM mapper interface, and the image
//! patched for one command.
//!
//! Facts and their sources:
//!
//! * Descriptors (`FALCON_UCODE_DESC_V2`, 60 bytes, and `FALCON_UCODE_DESC_V3`, 44 bytes
//!   followed by the RSA-3K signatures of 384 bytes each) and the header word (bit 0 "version
//!   available", version in 15:8, descriptor size in 31:16): open-gpu-kernel-modules
//!   `kernel_gsp_fwsec.c`. The ucode follows the descriptor; V3 keeps IMEM then DMEM, V2 gives
//!   the DMEM's offset in the ucode (`s_vbiosFillFlcnUcodeFromDescV2`/`V3`). Turing and GA100
//!   use V2 and boot FWSEC through the generic bootloader, unsigned by the driver (upstream
//!   nova-core `gsp/hal`, `firmware/fwsec/bootloader.rs`); GA102 and later use V3.
//! * Application interface table (`FALCON_APPLICATION_INTERFACE_HEADER_V1`/`ENTRY_V1`) at the
//!   descriptor's interface offset in DMEM, the DMEM mapper entry (id 4) and its structure
//!   (`FALCON_APPLICATION_INTERFACE_DMEM_MAPPER_V3`, signature "DMAP", version 3), the FRTS and
//!   SB commands (0x15, 0x19) and their input (`FWSECLIC_READ_VBIOS_DESC`,
//!   `FWSECLIC_FRTS_REGION_DESC`, `FWSECLIC_FRTS_CMD`): open-gpu-kernel-modules
//!   `kernel_gsp_frts_tu102.c` and upstream nova-core `firmware/fwsec.rs`/`fwsec.rst`.
//! * Signature selection: the fuse version `v` selects bit `1 << v` of the signature versions,
//!   and the signature is the one counted by the set bits below it (`s_prepareForFwsec_TU102`).
//!   The boot vector of a V3 FWSEC is its IMEM virtual base (`kernel_gsp_falcon_ga102.c`).

use core::ops::Range;

use kernel::{
    num::casts::{usize_into_u32, FromSafeCast},
    prelude::*,
};

use super::{le_u16, le_u32, le_u8, Source, VbiosError};

/// Size of one FWSEC signature (`BCRT30_RSA3K_SIG_SIZE`).
pub(crate) const SIGNATURE_SIZE: usize = 384;

/// Largest IMEM or DMEM image of a FWSEC ucode the driver copies out of the ROM. The falcon
/// loader checks the images against the memory sizes the falcon reports; this bound keeps the
/// copies, whose sizes come from the ROM, small before that.
const MAX_UCODE_PART: u32 = 256 << 10;

/// Most signatures of a V3 descriptor: one per bit of its 16-bit version mask.
const MAX_SIGNATURES: u8 = 16;

/// Header word fields.
const HDR_VERSION_AVAILABLE: u32 = 1;
const DESC_V2_SIZE: usize = 60;
const DESC_V3_SIZE: usize = 44;

/// Application interface table: version 1, header and entry sizes, the DMEM mapper's id.
const APPIF_VERSION: u8 = 1;
const APPIF_MIN_HEADER: u8 = 4;
const APPIF_MIN_ENTRY: u8 = 8;
const APPIF_ID_DMEMMAPPER: u32 = 4;

/// DMEM mapper V3: signature, version, size and the fields nova uses.
const DMAP_SIGNATURE: [u8; 4] = *b"DMAP";
const DMAP_VERSION: u16 = 3;
const DMAP_SIZE: usize = 64;
const DMAP_CMD_IN_OFFSET: usize = 8;
const DMAP_CMD_IN_SIZE: usize = 12;
const DMAP_INIT_CMD: usize = 44;

/// DMEM mapper commands.
const CMD_FRTS: u32 = 0x15;
const CMD_SB: u32 = 0x19;

/// `FWSECLIC_READ_VBIOS_DESC`: version, size, image offset (64 bits), image size, flags.
const READ_VBIOS_SIZE: usize = 24;
const READ_VBIOS_FLAGS: u32 = 2;
/// `FWSECLIC_FRTS_REGION_DESC`: version, size, offset and size in 4 KiB units, media type.
const FRTS_REGION_SIZE: usize = 20;
const FRTS_MEDIA_FB: u32 = 2;
/// The FRTS command input: the two descriptors back to back.
const FRTS_CMD_SIZE: usize = READ_VBIOS_SIZE + FRTS_REGION_SIZE;

/// Unit of the FRTS region's offset and size.
const FRTS_UNIT_SHIFT: u32 = 12;

/// The GSP's bit in a V3 descriptor's engine id mask (upstream nova-core `falcon/hal/ga102.rs`,
/// `signature_reg_fuse_version_ga102`).
pub(crate) const ENGINE_ID_MASK_GSP: u16 = 0x0400;

/// The format of a FWSEC descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DescVersion {
    /// `FALCON_UCODE_DESC_V2`: Turing and GA100, no signatures.
    V2,
    /// `FALCON_UCODE_DESC_V3`: GA102 and later, signed.
    V3,
}

impl DescVersion {
    /// The version number.
    pub(crate) const fn number(self) -> u8 {
        match self {
            Self::V2 => 2,
            Self::V3 => 3,
        }
    }
}

/// What the secure boot ROM needs to verify a V3 FWSEC (`NV_PFALCON2_FALCON_BROM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BromParams {
    /// DMEM offset of the signature.
    pub(crate) pkc_data_offset: u32,
    /// Engines the ucode may run on.
    pub(crate) engine_id_mask: u16,
    /// Ucode id, which selects the fuse register holding the version.
    pub(crate) ucode_id: u8,
}

/// The signatures of a V3 FWSEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Signatures {
    /// Bit `v` is set when a signature for fuse version `v` is included.
    pub(crate) versions: u16,
    /// How many signatures the descriptor carries.
    pub(crate) count: u8,
}

impl Signatures {
    /// Returns the index of the signature for a board fused at `fuse_version`.
    pub(crate) fn select(&self, fuse_version: u32) -> Result<usize, VbiosError> {
        let none = VbiosError::NoSignature {
            fuse_version,
            versions: self.versions,
        };
        let bit = 1u32.checked_shl(fuse_version).ok_or(none)?;
        if u32::from(self.versions) & bit == 0 {
            return Err(none);
        }
        // One signature per set bit, in bit order: count the set bits below `bit`.
        let index = (u32::from(self.versions) & (bit - 1)).count_ones();
        if index >= u32::from(self.count) {
            return Err(none);
        }
        // At most 15.
        Ok(usize::from_safe_cast(index))
    }
}

/// Where one part of the ucode is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// The bytes of [`FwsecImage::bytes`] that make up the segment.
    pub(crate) src: Range<usize>,
    /// Physical offset in the falcon memory (IMEM or DMEM) of its first byte.
    pub(crate) dst: u32,
    /// Virtual address (IMEM tag) of its first byte; equal to `dst` for DMEM.
    pub(crate) virt: u32,
}

/// The FWSEC ucode found in the VBIOS, validated: every part lies inside `data` and the DMEM
/// mapper is where the interface table says.
pub(crate) struct Fwsec {
    version: DescVersion,
    /// Signatures, then IMEM, then DMEM, copied out of the ROM.
    data: KVVec<u8>,
    /// The signatures' bytes in `data` (empty for V2).
    sigs: Range<usize>,
    /// The IMEM image in `data`.
    imem: Range<usize>,
    /// The DMEM image in `data`.
    dmem: Range<usize>,
    /// IMEM offset and virtual address (tag) of the IMEM image's first byte.
    imem_phys_base: u32,
    imem_virt_base: u32,
    /// Secure IMEM, as an offset range in the IMEM image (V2; all of it for V3).
    imem_sec: Range<usize>,
    /// DMEM offset of the DMEM image's first byte.
    dmem_phys_base: u32,
    /// IMEM virtual address execution starts at.
    boot_vector: u32,
    /// Boot ROM parameters (V3).
    brom: Option<BromParams>,
    /// The signatures (V3 with at least one).
    signatures: Option<Signatures>,
    /// DMEM offsets of the application interface table, of the DMEM mapper and of its
    /// command input buffer.
    interface: usize,
    dmap: usize,
    cmd_in: usize,
}

/// A command for FWSEC to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FwsecCommand {
    /// Firmware runtime services: set up the WPR2 region `size` bytes long at framebuffer
    /// offset `addr` (both multiples of 4 KiB) and copy the VBIOS data GSP-RM needs into it.
    Frts {
        /// Framebuffer offset of the region.
        addr: u64,
        /// Size of the region.
        size: u64,
    },
    /// Secure boot of the other falcons; run before unloading the driver.
    Sb,
}

/// A FWSEC ucode patched for one command and signed for this board, ready for the falcon
/// loader.
pub(crate) struct FwsecImage {
    /// Descriptor version it came from.
    #[expect(dead_code, reason = "read by the falcon loader, not written yet")]
    pub(crate) version: DescVersion,
    /// The IMEM image followed by the DMEM image.
    pub(crate) bytes: KVVec<u8>,
    /// Non-secure IMEM (V2 only; loaded by the generic bootloader on Turing and GA100).
    pub(crate) imem_ns: Option<Segment>,
    /// Secure IMEM.
    pub(crate) imem_sec: Segment,
    /// DMEM, with the command and the signature patched in.
    pub(crate) dmem: Segment,
    /// IMEM virtual address at which the falcon starts (V3) or to which the bootloader jumps
    /// (V2).
    pub(crate) boot_vector: u32,
    /// Boot ROM parameters (V3 only).
    pub(crate) brom: Option<BromParams>,
    /// Index of the signature patched in, if any.
    pub(crate) signature: Option<usize>,
}

/// Field `i` (a 32-bit word) of the descriptor at ROM offset `offset`.
fn word(desc: &[u8], offset: usize, i: usize) -> Result<u32, VbiosError> {
    le_u32(desc, i * 4).ok_or(VbiosError::Descriptor {
        offset,
        what: "descriptor truncated",
    })
}

/// `start..start + len`, if it fits in `limit`.
fn range(start: usize, len: u32, limit: usize) -> Option<Range<usize>> {
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= limit).then_some(start..end)
}

/// Appends the `len` ROM bytes at `offset` to `data` and returns where they landed; a read
/// past the ROM gives `past`.
fn append(
    data: &mut KVVec<u8>,
    rom: &mut impl Source,
    offset: usize,
    len: u32,
    past: VbiosError,
) -> Result<Range<usize>, VbiosError> {
    let len = usize::try_from(len).map_err(|_| past)?;
    let bytes = rom.get_or(offset, len, "FWSEC ucode", past)?;
    let start = data.len();
    data.extend_from_slice(bytes, GFP_KERNEL)
        .map_err(|_| VbiosError::NoMemory)?;
    Ok(start..data.len())
}

/// Appends the IMEM image (`imem_len` bytes at ROM offset `ucode`) and then the DMEM image
/// (`dmem_len` bytes, `dmem_offset` bytes into the ucode) to `data`; returns where each landed.
/// Errors name the descriptor at ROM offset `offset`.
fn append_ucode(
    data: &mut KVVec<u8>,
    rom: &mut impl Source,
    offset: usize,
    ucode: usize,
    imem_len: u32,
    dmem_offset: usize,
    dmem_len: u32,
) -> Result<(Range<usize>, Range<usize>), VbiosError> {
    let bad = |what| VbiosError::Descriptor { offset, what };
    let imem = append(data, rom, ucode, imem_len, bad("IMEM runs past the ROM"))?;
    let dmem_at = ucode
        .checked_add(dmem_offset)
        .ok_or(bad("DMEM runs past the ROM"))?;
    let dmem = append(data, rom, dmem_at, dmem_len, bad("DMEM runs past the ROM"))?;
    Ok((imem, dmem))
}

impl Fwsec {
    /// Parses the descriptor at ROM offset `offset` and the ucode after it.
    pub(crate) fn parse(rom: &mut impl Source, offset: usize) -> Result<Fwsec, VbiosError> {
        let hdr = rom.u32_at(offset, "FWSEC descriptor")?;
        let bad = |what| VbiosError::Descriptor { offset, what };
        if hdr & HDR_VERSION_AVAILABLE == 0 {
            return Err(bad("descriptor has no version"));
        }
        // Little-endian: byte 1 is the version (15:8), bytes 2-3 the size (31:16).
        let [_, number, size_lo, size_hi] = hdr.to_le_bytes();
        let size = usize::from(u16::from_le_bytes([size_lo, size_hi]));
        let version = match number {
            2 if size >= DESC_V2_SIZE => DescVersion::V2,
            3 if size >= DESC_V3_SIZE => DescVersion::V3,
            2 | 3 => return Err(bad("descriptor size too small")),
            _ => return Err(VbiosError::DescriptorVersion(number)),
        };
        // The fixed fields; the whole descriptor must be inside the ROM.
        let mut desc = [0u8; DESC_V2_SIZE];
        let fixed = match version {
            DescVersion::V2 => DESC_V2_SIZE,
            DescVersion::V3 => DESC_V3_SIZE,
        };
        let bytes = rom.get(offset, size, "FWSEC descriptor")?;
        desc.get_mut(..fixed)
            .zip(bytes.get(..fixed))
            .ok_or(bad("descriptor truncated"))
            .map(|(d, b)| d.copy_from_slice(b))?;
        // The ucode follows the descriptor, which is inside the ROM: no overflow.
        let ucode = offset + size;
        let mut fwsec = match version {
            DescVersion::V2 => Self::parse_v2(rom, &desc, offset, ucode)?,
            DescVersion::V3 => Self::parse_v3(rom, &desc, offset, size, ucode)?,
        };
        fwsec.find_dmem_mapper()?;
        Ok(fwsec)
    }

    fn parse_v2(
        rom: &mut impl Source,
        desc: &[u8],
        offset: usize,
        ucode: usize,
    ) -> Result<Fwsec, VbiosError> {
        let bad = |what| VbiosError::Descriptor { offset, what };
        let word = |i| word(desc, offset, i);
        let virtual_entry = word(3)?;
        let interface_offset = word(4)?;
        let imem_phys_base = word(5)?;
        let imem_load_size = word(6)?;
        let imem_virt_base = word(7)?;
        let imem_sec_base = word(8)?;
        let imem_sec_size = word(9)?;
        let dmem_offset = usize::try_from(word(10)?).unwrap_or(usize::MAX);
        let dmem_phys_base = word(11)?;
        let dmem_load_size = word(12)?;
        if imem_load_size > MAX_UCODE_PART || dmem_load_size > MAX_UCODE_PART {
            return Err(bad("IMEM or DMEM image larger than a falcon's memory"));
        }

        let sec_start = imem_sec_base
            .checked_sub(imem_virt_base)
            .ok_or(bad("secure IMEM below the IMEM virtual base"))?;
        let imem_sec = range(
            usize::from_safe_cast(sec_start),
            imem_sec_size,
            usize::from_safe_cast(imem_load_size),
        )
        .ok_or(bad("secure IMEM outside IMEM"))?;

        let mut data = KVVec::new();
        let (imem, dmem) = append_ucode(
            &mut data,
            rom,
            offset,
            ucode,
            imem_load_size,
            dmem_offset,
            dmem_load_size,
        )?;
        Ok(Fwsec {
            version: DescVersion::V2,
            data,
            sigs: 0..0,
            imem,
            dmem,
            imem_phys_base,
            imem_virt_base,
            imem_sec,
            dmem_phys_base,
            boot_vector: virtual_entry,
            brom: None,
            signatures: None,
            interface: usize::try_from(interface_offset).unwrap_or(usize::MAX),
            dmap: 0,
            cmd_in: 0,
        })
    }

    fn parse_v3(
        rom: &mut impl Source,
        desc: &[u8],
        offset: usize,
        size: usize,
        ucode: usize,
    ) -> Result<Fwsec, VbiosError> {
        let bad = |what| VbiosError::Descriptor { offset, what };
        let word = |i| word(desc, offset, i);
        let pkc_data_offset = word(2)?;
        let interface_offset = word(3)?;
        let imem_phys_base = word(4)?;
        let imem_load_size = word(5)?;
        let imem_virt_base = word(6)?;
        let dmem_phys_base = word(7)?;
        let dmem_load_size = word(8)?;
        let engine_id_mask = le_u16(desc, 36).ok_or(bad("descriptor truncated"))?;
        let ucode_id = le_u8(desc, 38).ok_or(bad("descriptor truncated"))?;
        let count = le_u8(desc, 39).ok_or(bad("descriptor truncated"))?;
        let versions = le_u16(desc, 40).ok_or(bad("descriptor truncated"))?;
        if imem_load_size > MAX_UCODE_PART || dmem_load_size > MAX_UCODE_PART {
            return Err(bad("IMEM or DMEM image larger than a falcon's memory"));
        }
        if count > MAX_SIGNATURES {
            return Err(bad("more signatures than signature versions"));
        }

        // The signatures follow the fixed fields, inside the descriptor.
        let sigs_len = usize::from(count) * SIGNATURE_SIZE;
        if DESC_V3_SIZE + sigs_len > size {
            return Err(bad("signatures run past the descriptor"));
        }
        if count > 0
            && range(
                usize::from_safe_cast(pkc_data_offset),
                usize_into_u32::<SIGNATURE_SIZE>(),
                usize::from_safe_cast(dmem_load_size),
            )
            .is_none()
        {
            return Err(bad("signature location outside DMEM"));
        }

        let mut data = KVVec::new();
        let sigs = append(
            &mut data,
            rom,
            offset + DESC_V3_SIZE,
            u32::try_from(sigs_len).map_err(|_| bad("signatures run past the descriptor"))?,
            bad("signatures run past the descriptor"),
        )?;
        // V3 keeps DMEM right after IMEM.
        let (imem, dmem) = append_ucode(
            &mut data,
            rom,
            offset,
            ucode,
            imem_load_size,
            usize::try_from(imem_load_size).unwrap_or(usize::MAX),
            dmem_load_size,
        )?;
        let imem_len = imem.len();
        Ok(Fwsec {
            version: DescVersion::V3,
            data,
            sigs,
            imem,
            dmem,
            imem_phys_base,
            imem_virt_base,
            imem_sec: 0..imem_len,
            dmem_phys_base,
            boot_vector: imem_virt_base,
            brom: Some(BromParams {
                pkc_data_offset,
                engine_id_mask,
                ucode_id,
            }),
            signatures: (count > 0).then_some(Signatures { versions, count }),
            interface: usize::try_from(interface_offset).unwrap_or(usize::MAX),
            dmap: 0,
            cmd_in: 0,
        })
    }

    /// Returns the DMEM image.
    fn dmem(&self) -> &[u8] {
        self.data.get(self.dmem.clone()).unwrap_or(&[])
    }

    /// Finds the DMEM mapper through the interface table and checks that it and its command
    /// input buffer lie inside DMEM.
    fn find_dmem_mapper(&mut self) -> Result<(), VbiosError> {
        let dmem = self.dmem();
        let table = self.interface;
        let bad = VbiosError::Interface;
        let header = le_u32(dmem, table)
            .ok_or(bad("interface table outside DMEM"))?
            .to_le_bytes();
        let [version, header_size, entry_size, count] = header;
        if version != APPIF_VERSION {
            return Err(bad("unknown interface table version"));
        }
        if header_size < APPIF_MIN_HEADER || entry_size < APPIF_MIN_ENTRY {
            return Err(bad("interface table header or entry too small"));
        }
        let mut mapper = None;
        for i in 0..usize::from(count) {
            // `table` is inside DMEM; the rest is at most 0xff + 0xff * 0xff.
            let at = table + usize::from(header_size) + i * usize::from(entry_size);
            let id = le_u32(dmem, at).ok_or(bad("interface entries run past DMEM"))?;
            let offset = le_u32(dmem, at + 4).ok_or(bad("interface entries run past DMEM"))?;
            if id == APPIF_ID_DMEMMAPPER {
                mapper = Some(usize::try_from(offset).unwrap_or(usize::MAX));
                break;
            }
        }
        let dmap = mapper.ok_or(bad("no DMEM mapper interface"))?;
        let end = dmap
            .checked_add(DMAP_SIZE)
            .ok_or(bad("DMEM mapper outside DMEM"))?;
        let mapper = dmem.get(dmap..end).ok_or(bad("DMEM mapper outside DMEM"))?;
        if mapper.get(..4) != Some(&DMAP_SIGNATURE[..]) {
            return Err(bad("DMEM mapper signature is not DMAP"));
        }
        if le_u16(mapper, 4) != Some(DMAP_VERSION) {
            return Err(bad("DMEM mapper version is not 3"));
        }
        let cmd_in = le_u32(mapper, DMAP_CMD_IN_OFFSET).ok_or(bad("DMEM mapper truncated"))?;
        let cmd_in_size = le_u32(mapper, DMAP_CMD_IN_SIZE).ok_or(bad("DMEM mapper truncated"))?;
        if usize::from_safe_cast(cmd_in_size) < FRTS_CMD_SIZE {
            return Err(bad("command input buffer too small"));
        }
        let cmd_in = usize::try_from(cmd_in).unwrap_or(usize::MAX);
        if range(cmd_in, cmd_in_size, dmem.len()).is_none() {
            return Err(bad("command input buffer outside DMEM"));
        }
        self.dmap = dmap;
        self.cmd_in = cmd_in;
        Ok(())
    }

    /// Returns the descriptor version.
    pub(crate) fn version(&self) -> DescVersion {
        self.version
    }

    /// Returns the boot ROM parameters (V3).
    pub(crate) fn brom(&self) -> Option<BromParams> {
        self.brom
    }

    /// Returns the signatures (V3 with at least one signature).
    pub(crate) fn signatures(&self) -> Option<Signatures> {
        self.signatures
    }

    /// Returns the ucode patched for `cmd` and, when it carries signatures, signed with the
    /// one for `fuse_version` (which is then required).
    pub(crate) fn image(
        &self,
        cmd: FwsecCommand,
        fuse_version: Option<u32>,
    ) -> Result<FwsecImage, VbiosError> {
        let signature = match (self.signatures, fuse_version) {
            (None, _) => None,
            (Some(sigs), Some(v)) => Some(sigs.select(v)?),
            (Some(_), None) => return Err(VbiosError::Command("a fuse version is needed")),
        };

        let imem = self.data.get(self.imem.clone()).unwrap_or(&[]);
        let dmem = self.dmem();
        let mut bytes = KVVec::with_capacity(imem.len() + dmem.len(), GFP_KERNEL)
            .map_err(|_| VbiosError::NoMemory)?;
        bytes
            .extend_from_slice(imem, GFP_KERNEL)
            .map_err(|_| VbiosError::NoMemory)?;
        bytes
            .extend_from_slice(dmem, GFP_KERNEL)
            .map_err(|_| VbiosError::NoMemory)?;
        let dmem_at = imem.len();
        let out = bytes
            .get_mut(dmem_at..)
            .ok_or(VbiosError::Command("patch outside DMEM"))?;

        // The command, then its input.
        let (id, input) = encode_command(cmd)?;
        put(out, self.dmap + DMAP_INIT_CMD, &id.to_le_bytes())?;
        put(
            out,
            self.cmd_in,
            input.bytes.get(..input.len).unwrap_or(&[]),
        )?;

        // The signature, where the boot ROM looks for it.
        if let (Some(index), Some(brom)) = (signature, self.brom) {
            let start = self.sigs.start + index * SIGNATURE_SIZE;
            let sig = self
                .data
                .get(start..start + SIGNATURE_SIZE)
                .ok_or(VbiosError::Command(
                    "signature index outside the signatures",
                ))?;
            put(out, usize::from_safe_cast(brom.pkc_data_offset), sig)?;
        }

        let imem_len = imem.len();
        let sec = self.imem_sec.clone();
        // Offsets inside IMEM, which came from 32-bit fields: they fit in `u32`.
        let sec_start = u32::try_from(sec.start)
            .map_err(|_| VbiosError::Command("secure IMEM offset beyond 4 GiB"))?;
        let imem_ns = (self.version == DescVersion::V2).then(|| Segment {
            src: 0..imem_len - sec.len(),
            dst: self.imem_phys_base,
            virt: self.imem_virt_base,
        });
        Ok(FwsecImage {
            version: self.version,
            imem_ns,
            imem_sec: Segment {
                src: sec,
                dst: self.imem_phys_base.wrapping_add(sec_start),
                virt: self.imem_virt_base.wrapping_add(sec_start),
            },
            dmem: Segment {
                src: dmem_at..dmem_at + dmem.len(),
                dst: self.dmem_phys_base,
                virt: self.dmem_phys_base,
            },
            boot_vector: self.boot_vector,
            brom: self.brom,
            signature,
            bytes,
        })
    }
}

/// The input buffer of a DMEM mapper command.
struct CommandInput {
    bytes: [u8; FRTS_CMD_SIZE],
    len: usize,
}

/// Returns the DMEM mapper command id of `cmd` and its input: the READ_VBIOS descriptor alone
/// for SB, followed by the FRTS region for FRTS (`s_prepareForFwsec_TU102`).
fn encode_command(cmd: FwsecCommand) -> Result<(u32, CommandInput), VbiosError> {
    // READ_VBIOS: version 1, its size, image offset (64 bits) and size 0, flags.
    let read_vbios = [
        1,
        usize_into_u32::<READ_VBIOS_SIZE>(),
        0,
        0,
        0,
        READ_VBIOS_FLAGS,
    ];
    let (id, region, len) = match cmd {
        FwsecCommand::Sb => (CMD_SB, [0; 5], READ_VBIOS_SIZE),
        FwsecCommand::Frts { addr, size } => {
            let unit = (1u64 << FRTS_UNIT_SHIFT) - 1;
            if addr & unit != 0 || size & unit != 0 || size == 0 {
                return Err(VbiosError::Command(
                    "FRTS region not 4 KiB aligned or empty",
                ));
            }
            let to_units = |v: u64| {
                u32::try_from(v >> FRTS_UNIT_SHIFT)
                    .map_err(|_| VbiosError::Command("FRTS region beyond 16 TiB"))
            };
            // FRTS_REGION: version 1, its size, offset and size in 4 KiB units, media type.
            let region = [
                1,
                usize_into_u32::<FRTS_REGION_SIZE>(),
                to_units(addr)?,
                to_units(size)?,
                FRTS_MEDIA_FB,
            ];
            (CMD_FRTS, region, FRTS_CMD_SIZE)
        }
    };
    let mut input = CommandInput {
        bytes: [0u8; FRTS_CMD_SIZE],
        len,
    };
    for (chunk, w) in input
        .bytes
        .chunks_exact_mut(4)
        .zip(Iterator::chain(read_vbios.into_iter(), region))
    {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Ok((id, input))
}

/// Copies `src` into `dst` at `at`, refusing to write outside it.
fn put(dst: &mut [u8], at: usize, src: &[u8]) -> Result<(), VbiosError> {
    at.checked_add(src.len())
        .and_then(|end| dst.get_mut(at..end))
        .ok_or(VbiosError::Command("patch outside DMEM"))?
        .copy_from_slice(src);
    Ok(())
}
