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

use core::{mem::offset_of, ops::Range};

use kernel::{
    num::casts::{usize_into_u32, FromSafeCast},
    prelude::*,
    static_assert,
    transmute::{AsBytes, FromBytes},
};

use super::{read, Source, VbiosError};
use crate::falcon::BromParams;

/// Size of one FWSEC signature (`BCRT30_RSA3K_SIG_SIZE`).
pub(crate) const SIGNATURE_SIZE: usize = 384;

/// Largest IMEM or DMEM image of a FWSEC ucode the driver copies out of the ROM. The falcon
/// loader checks the images against the memory sizes the falcon reports; this bound keeps the
/// copies, whose sizes come from the ROM, small before that.
const MAX_UCODE_PART: u32 = 256 << 10;

/// Most signatures of a V3 descriptor: one per bit of its 16-bit version mask.
const MAX_SIGNATURES: u8 = 16;

/// [`DescHeader::flags`]: the descriptor has a version.
const HDR_VERSION_AVAILABLE: u8 = 1;
const DESC_V2_SIZE: usize = size_of::<DescV2>();
const DESC_V3_SIZE: usize = size_of::<DescV3>();

/// Application interface table: version 1, header and entry sizes, the DMEM mapper's id.
const APPIF_VERSION: u8 = 1;
const APPIF_MIN_HEADER: u8 = 4;
const APPIF_MIN_ENTRY: u8 = 8;
const APPIF_ID_DMEMMAPPER: u32 = 4;

/// DMEM mapper V3: its signature and version.
const DMAP_SIGNATURE: [u8; 4] = *b"DMAP";
const DMAP_VERSION: u16 = 3;

/// DMEM mapper commands.
const CMD_FRTS: u32 = 0x15;
const CMD_SB: u32 = 0x19;

/// [`ReadVbiosDesc::flags`]: `FWSECLIC_READ_VBIOS_STRUCT_FLAGS` (2).
const READ_VBIOS_FLAGS: u32 = 2;
/// [`FrtsRegionDesc::media_type`]: `FWSECLIC_FRTS_REGION_MEDIA_FB`.
const FRTS_MEDIA_FB: u32 = 2;
/// The FRTS command input: the two descriptors back to back.
const FRTS_CMD_SIZE: usize = size_of::<FrtsCmd>();

/// Unit of the FRTS region's offset and size.
const FRTS_UNIT_SHIFT: u32 = 12;

/// The GSP's bit in a V3 descriptor's engine id mask (upstream nova-core `falcon/hal/ga102.rs`,
/// `signature_reg_fuse_version_ga102`).
pub(crate) const ENGINE_ID_MASK_GSP: u16 = 0x0400;

/// The word every FWSEC descriptor starts with (`FALCON_UCODE_DESC_HEADER`, little-endian):
/// flags in bits 7:0 (bit 0: the version is valid), the version in 15:8, the descriptor's size
/// in 31:16.
#[repr(C)]
#[derive(Clone, Copy)]
struct DescHeader {
    /// Bit 0: [`HDR_VERSION_AVAILABLE`].
    flags: u8,
    /// 2 or 3.
    version: u8,
    /// Size of the whole descriptor, signatures included.
    size: u16,
}

/// `FALCON_UCODE_DESC_V2` (Turing, GA100). All fields little-endian.
#[repr(C)]
#[derive(Clone, Copy)]
struct DescV2 {
    hdr: DescHeader,
    stored_size: u32,
    uncompressed_size: u32,
    virtual_entry: u32,
    interface_offset: u32,
    imem_phys_base: u32,
    imem_load_size: u32,
    imem_virt_base: u32,
    imem_sec_base: u32,
    imem_sec_size: u32,
    dmem_offset: u32,
    dmem_phys_base: u32,
    dmem_load_size: u32,
    alt_imem_load_size: u32,
    alt_dmem_load_size: u32,
}

/// `FALCON_UCODE_DESC_V3` (GA102 and later), followed by its signatures. All fields
/// little-endian.
#[repr(C)]
#[derive(Clone, Copy)]
struct DescV3 {
    hdr: DescHeader,
    stored_size: u32,
    pkc_data_offset: u32,
    interface_offset: u32,
    imem_phys_base: u32,
    imem_load_size: u32,
    imem_virt_base: u32,
    dmem_phys_base: u32,
    dmem_load_size: u32,
    engine_id_mask: u16,
    ucode_id: u8,
    signature_count: u8,
    signature_versions: u16,
    reserved: u16,
}

/// `FALCON_APPLICATION_INTERFACE_HEADER_V1`.
#[repr(C)]
#[derive(Clone, Copy)]
struct AppIfHeader {
    version: u8,
    header_size: u8,
    entry_size: u8,
    entry_count: u8,
}

/// `FALCON_APPLICATION_INTERFACE_ENTRY_V1` (little-endian).
#[repr(C)]
#[derive(Clone, Copy)]
struct AppIfEntry {
    id: u32,
    dmem_offset: u32,
}

/// `FALCON_APPLICATION_INTERFACE_DMEM_MAPPER_V3` (little-endian). The driver reads the
/// command input buffer's place and writes `init_cmd`.
#[repr(C)]
#[derive(Clone, Copy)]
struct DmemMapperV3 {
    signature: [u8; 4],
    version: u16,
    size: u16,
    cmd_in_buffer_offset: u32,
    cmd_in_buffer_size: u32,
    cmd_out_buffer_offset: u32,
    cmd_out_buffer_size: u32,
    nvf_img_data_buffer_offset: u32,
    nvf_img_data_buffer_size: u32,
    printf_buffer_hdr: u32,
    ucode_build_time_stamp: u32,
    ucode_signature: u32,
    init_cmd: u32,
    ucode_feature: u32,
    ucode_cmd_mask0: u32,
    ucode_cmd_mask1: u32,
    multi_tgt_tbl: u32,
}

/// `FWSECLIC_READ_VBIOS_DESC`: where FWSEC reads the VBIOS image from (nothing: it uses its
/// own copy). Little-endian.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct ReadVbiosDesc {
    version: u32,
    size: u32,
    gfw_image_offset: u64,
    gfw_image_size: u32,
    flags: u32,
}

/// `FWSECLIC_FRTS_REGION_DESC`: the FRTS region, in 4 KiB units. Little-endian.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct FrtsRegionDesc {
    version: u32,
    size: u32,
    offset_4k: u32,
    size_4k: u32,
    media_type: u32,
}

/// `FWSECLIC_FRTS_CMD`: the input of the FRTS command; SB takes only its first part.
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
struct FrtsCmd {
    read_vbios: ReadVbiosDesc,
    frts_region: FrtsRegionDesc,
}

static_assert!(size_of::<DescHeader>() == 4);
static_assert!(size_of::<DescV2>() == 60);
static_assert!(size_of::<DescV3>() == 44);
static_assert!(size_of::<AppIfHeader>() == 4);
static_assert!(size_of::<AppIfEntry>() == 8);
static_assert!(size_of::<DmemMapperV3>() == 64);
static_assert!(offset_of!(DmemMapperV3, init_cmd) == 44);
static_assert!(size_of::<ReadVbiosDesc>() == 24);
static_assert!(size_of::<FrtsRegionDesc>() == 20);
static_assert!(size_of::<FrtsCmd>() == 44);

// SAFETY: the structures below are plain integers and byte arrays without padding (their sizes
// are asserted above), so every bit pattern is a valid value.
unsafe impl FromBytes for DescHeader {}
// SAFETY: as above.
unsafe impl FromBytes for DescV2 {}
// SAFETY: as above.
unsafe impl FromBytes for DescV3 {}
// SAFETY: as above.
unsafe impl FromBytes for AppIfHeader {}
// SAFETY: as above.
unsafe impl FromBytes for AppIfEntry {}
// SAFETY: as above.
unsafe impl FromBytes for DmemMapperV3 {}
// SAFETY: plain integers without padding (sizes asserted above): every byte is initialised.
unsafe impl AsBytes for ReadVbiosDesc {}
// SAFETY: as above.
unsafe impl AsBytes for FrtsRegionDesc {}
// SAFETY: packed, of two structures without padding: every byte is initialised.
unsafe impl AsBytes for FrtsCmd {}

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
        let hdr: DescHeader = rom.read(offset, "FWSEC descriptor")?;
        let bad = |what| VbiosError::Descriptor { offset, what };
        if hdr.flags & HDR_VERSION_AVAILABLE == 0 {
            return Err(bad("descriptor has no version"));
        }
        let size = usize::from(u16::from_le(hdr.size));
        let version = match hdr.version {
            2 if size >= DESC_V2_SIZE => DescVersion::V2,
            3 if size >= DESC_V3_SIZE => DescVersion::V3,
            2 | 3 => return Err(bad("descriptor size too small")),
            n => return Err(VbiosError::DescriptorVersion(n)),
        };
        // The whole descriptor must be inside the ROM.
        let bytes = rom.get(offset, size, "FWSEC descriptor")?;
        let truncated = bad("descriptor truncated");
        // The ucode follows the descriptor, which is inside the ROM: no overflow.
        let ucode = offset + size;
        let mut fwsec = match version {
            DescVersion::V2 => {
                let desc: DescV2 = read(bytes, 0).ok_or(truncated)?;
                Self::parse_v2(rom, &desc, offset, ucode)?
            }
            DescVersion::V3 => {
                let desc: DescV3 = read(bytes, 0).ok_or(truncated)?;
                Self::parse_v3(rom, &desc, offset, size, ucode)?
            }
        };
        fwsec.find_dmem_mapper()?;
        Ok(fwsec)
    }

    fn parse_v2(
        rom: &mut impl Source,
        desc: &DescV2,
        offset: usize,
        ucode: usize,
    ) -> Result<Fwsec, VbiosError> {
        let bad = |what| VbiosError::Descriptor { offset, what };
        let virtual_entry = u32::from_le(desc.virtual_entry);
        let interface_offset = u32::from_le(desc.interface_offset);
        let imem_phys_base = u32::from_le(desc.imem_phys_base);
        let imem_load_size = u32::from_le(desc.imem_load_size);
        let imem_virt_base = u32::from_le(desc.imem_virt_base);
        let imem_sec_base = u32::from_le(desc.imem_sec_base);
        let imem_sec_size = u32::from_le(desc.imem_sec_size);
        let dmem_offset = usize::from_safe_cast(u32::from_le(desc.dmem_offset));
        let dmem_phys_base = u32::from_le(desc.dmem_phys_base);
        let dmem_load_size = u32::from_le(desc.dmem_load_size);
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
            interface: usize::from_safe_cast(interface_offset),
            dmap: 0,
            cmd_in: 0,
        })
    }

    fn parse_v3(
        rom: &mut impl Source,
        desc: &DescV3,
        offset: usize,
        size: usize,
        ucode: usize,
    ) -> Result<Fwsec, VbiosError> {
        let bad = |what| VbiosError::Descriptor { offset, what };
        let pkc_data_offset = u32::from_le(desc.pkc_data_offset);
        let interface_offset = u32::from_le(desc.interface_offset);
        let imem_phys_base = u32::from_le(desc.imem_phys_base);
        let imem_load_size = u32::from_le(desc.imem_load_size);
        let imem_virt_base = u32::from_le(desc.imem_virt_base);
        let dmem_phys_base = u32::from_le(desc.dmem_phys_base);
        let dmem_load_size = u32::from_le(desc.dmem_load_size);
        let engine_id_mask = u16::from_le(desc.engine_id_mask);
        let ucode_id = desc.ucode_id;
        let count = desc.signature_count;
        let versions = u16::from_le(desc.signature_versions);
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
            usize::from_safe_cast(imem_load_size),
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
            interface: usize::from_safe_cast(interface_offset),
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
        let AppIfHeader {
            version,
            header_size,
            entry_size,
            entry_count,
        } = read(dmem, table).ok_or(bad("interface table outside DMEM"))?;
        if version != APPIF_VERSION {
            return Err(bad("unknown interface table version"));
        }
        if header_size < APPIF_MIN_HEADER || entry_size < APPIF_MIN_ENTRY {
            return Err(bad("interface table header or entry too small"));
        }
        let mut mapper = None;
        for i in 0..usize::from(entry_count) {
            // `table` is inside DMEM; the rest is at most 0xff + 0xff * 0xff.
            let at = table + usize::from(header_size) + i * usize::from(entry_size);
            let entry: AppIfEntry = read(dmem, at).ok_or(bad("interface entries run past DMEM"))?;
            if u32::from_le(entry.id) == APPIF_ID_DMEMMAPPER {
                mapper = Some(usize::from_safe_cast(u32::from_le(entry.dmem_offset)));
                break;
            }
        }
        let dmap = mapper.ok_or(bad("no DMEM mapper interface"))?;
        let mapper: DmemMapperV3 = read(dmem, dmap).ok_or(bad("DMEM mapper outside DMEM"))?;
        if mapper.signature != DMAP_SIGNATURE {
            return Err(bad("DMEM mapper signature is not DMAP"));
        }
        if u16::from_le(mapper.version) != DMAP_VERSION {
            return Err(bad("DMEM mapper version is not 3"));
        }
        let cmd_in_size = u32::from_le(mapper.cmd_in_buffer_size);
        if usize::from_safe_cast(cmd_in_size) < FRTS_CMD_SIZE {
            return Err(bad("command input buffer too small"));
        }
        let cmd_in = usize::from_safe_cast(u32::from_le(mapper.cmd_in_buffer_offset));
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
        put(
            out,
            self.dmap + offset_of!(DmemMapperV3, init_cmd),
            &id.to_le_bytes(),
        )?;
        put(out, self.cmd_in, &input)?;

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

/// The input of a DMEM mapper command: the READ_VBIOS descriptor alone for SB, followed by the
/// FRTS region for FRTS (`s_prepareForFwsec_TU102`).
enum CommandInput {
    Sb(ReadVbiosDesc),
    Frts(FrtsCmd),
}

impl core::ops::Deref for CommandInput {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Sb(read_vbios) => read_vbios.as_bytes(),
            Self::Frts(cmd) => cmd.as_bytes(),
        }
    }
}

/// Returns the DMEM mapper command id of `cmd` and its input.
fn encode_command(cmd: FwsecCommand) -> Result<(u32, CommandInput), VbiosError> {
    // Version 1; no image: FWSEC reads its own copy of the VBIOS.
    let read_vbios = ReadVbiosDesc {
        version: 1u32.to_le(),
        size: usize_into_u32::<{ size_of::<ReadVbiosDesc>() }>().to_le(),
        gfw_image_offset: 0,
        gfw_image_size: 0,
        flags: READ_VBIOS_FLAGS.to_le(),
    };
    match cmd {
        FwsecCommand::Sb => Ok((CMD_SB, CommandInput::Sb(read_vbios))),
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
            let frts_region = FrtsRegionDesc {
                version: 1u32.to_le(),
                size: usize_into_u32::<{ size_of::<FrtsRegionDesc>() }>().to_le(),
                offset_4k: to_units(addr)?.to_le(),
                size_4k: to_units(size)?.to_le(),
                media_type: FRTS_MEDIA_FB.to_le(),
            };
            Ok((
                CMD_FRTS,
                CommandInput::Frts(FrtsCmd {
                    read_vbios,
                    frts_region,
                }),
            ))
        }
    }
}

/// Copies `src` into `dst` at `at`, refusing to write outside it.
fn put(dst: &mut [u8], at: usize, src: &[u8]) -> Result<(), VbiosError> {
    at.checked_add(src.len())
        .and_then(|end| dst.get_mut(at..end))
        .ok_or(VbiosError::Command("patch outside DMEM"))?
        .copy_from_slice(src);
    Ok(())
}
