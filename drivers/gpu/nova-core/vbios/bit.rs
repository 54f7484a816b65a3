// SPDX-License-Identifier: GPL-2.0

//! The BIOS Information Table (BIT) and the falcon ucode table it leads to.
//!
//! Layouts are those of open-gpu-kernel-modules `src/nvidia/src/kernel/gpu/gsp/kernel_gsp_fwsec.c`
//! (`BIT_HEADER_V1_00`, `BIT_TOKEN_V1_00`, `BIT_DATA_BIOSDATA_BINVER`, `BIT_DATA_FALCON_DATA_V2`,
//! `FALCON_UCODE_TABLE_HDR_V1`, `FALCON_UCODE_TABLE_ENTRY_V1`) and of NVIDIA's BIT
//! specification (open-gpu-doc `BIOS-Information-Table`). All values are little-endian.

use core::ops::Range;

use kernel::{
    fmt,
    num::casts::{u16_as_usize, u8_as_usize},
    prelude::*,
    static_assert,
    transmute::FromBytes,
};

use super::{read, Source, VbiosError};

/// BIT header: id 0xb8ff followed by "BIT\0" (`BIT_HEADER_ID`, `BIT_HEADER_SIGNATURE`).
const BIT_MAGIC: [u8; 6] = [0xff, 0xb8, b'B', b'I', b'T', 0];
/// Size of `BIT_HEADER_V1_00`.
const BIT_HEADER_MIN_SIZE: usize = size_of::<BitHeader>();
/// Token sizes: six bytes with a 16-bit data pointer, eight or more with a 32-bit one
/// (`BIT_TOKEN_V1_00_SIZE_6`, `BIT_TOKEN_V1_00_SIZE_8`).
const BIT_TOKEN_SIZE_6: usize = size_of::<BitToken>();
const BIT_TOKEN_SIZE_8: usize = size_of::<BitToken32>();

/// BIT token id of BIOSDATA (`BIT_TOKEN_BIOSDATA`), its versions and the size of the version
/// fields at its start (`BIT_DATA_BIOSDATA_BINVER`).
const TOKEN_BIOSDATA: u8 = 0x42;
const BIOSDATA_VERSIONS: [u8; 2] = [1, 2];
const BIOSDATA_BINVER_SIZE: u16 = 5;

/// BIT token id of the falcon data (`BIT_TOKEN_FALCON_DATA`), the version used and its size.
const TOKEN_FALCON_DATA: u8 = 0x70;
const FALCON_DATA_VERSION: u8 = 2;
const FALCON_DATA_SIZE: u16 = 4;

/// Falcon ucode table header: version 1, header and entry of at least six bytes.
const UCODE_TABLE_VERSION: u8 = 1;
const UCODE_TABLE_MIN_HEADER: u8 = 6;
const UCODE_TABLE_MIN_ENTRY: u8 = 6;

/// `BIT_HEADER_V1_00` (little-endian).
#[repr(C)]
#[derive(Clone, Copy)]
struct BitHeader {
    id: u16,
    signature: [u8; 4],
    bcd_version: u16,
    header_size: u8,
    token_size: u8,
    token_entries: u8,
    checksum: u8,
}

/// `BIT_TOKEN_V1_00` (little-endian), with a 16-bit data pointer.
#[repr(C)]
#[derive(Clone, Copy)]
struct BitToken {
    id: u8,
    data_version: u8,
    data_size: u16,
    data_pointer: u16,
}

/// A BIT token of 8 bytes or more, whose data pointer is 32 bits wide.
#[repr(C)]
#[derive(Clone, Copy)]
struct BitToken32 {
    id: u8,
    data_version: u8,
    data_size: u16,
    data_pointer: u32,
}

/// `BIT_DATA_BIOSDATA_BINVER` (little-endian).
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct BiosDataBinVer {
    version: u32,
    oem: u8,
}

/// `FALCON_UCODE_TABLE_HDR_V1`.
#[repr(C)]
#[derive(Clone, Copy)]
struct UcodeTableHeader {
    version: u8,
    header_size: u8,
    entry_size: u8,
    entry_count: u8,
    desc_version: u8,
    desc_size: u8,
}

/// `FALCON_UCODE_TABLE_ENTRY_V1` (little-endian).
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct UcodeTableEntry {
    application_id: u8,
    target_id: u8,
    desc_pointer: u32,
}

static_assert!(size_of::<BitHeader>() == 12);
static_assert!(size_of::<BitToken>() == 6);
static_assert!(size_of::<BitToken32>() == 8);
static_assert!(size_of::<BiosDataBinVer>() == u16_as_usize(BIOSDATA_BINVER_SIZE));
static_assert!(size_of::<UcodeTableHeader>() == u8_as_usize(UCODE_TABLE_MIN_HEADER));
static_assert!(size_of::<UcodeTableEntry>() == u8_as_usize(UCODE_TABLE_MIN_ENTRY));

// SAFETY: the structures below are integers and byte arrays without padding (their sizes are
// asserted above), so every bit pattern is a valid value.
unsafe impl FromBytes for BitHeader {}
// SAFETY: as above.
unsafe impl FromBytes for BitToken {}
// SAFETY: as above.
unsafe impl FromBytes for BitToken32 {}
// SAFETY: as above.
unsafe impl FromBytes for BiosDataBinVer {}
// SAFETY: as above.
unsafe impl FromBytes for UcodeTableHeader {}
// SAFETY: as above.
unsafe impl FromBytes for UcodeTableEntry {}

/// Falcon ucode table application id of the production FWSEC
/// (`FALCON_UCODE_ENTRY_APPID_FWSEC_PROD`). Boards fused for debugging need the debug FWSEC
/// (0x45) instead; nova does not support them.
pub(crate) const APPID_FWSEC_PROD: u8 = 0x85;

/// The VBIOS version as BIOSDATA gives it, e.g. 95.02.18.00.01.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BiosVersion {
    /// The binary version, one field a byte, most significant first.
    pub(crate) version: u32,
    /// The OEM version, printed as the last field.
    pub(crate) oem: u8,
}

impl fmt::Display for BiosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.version.to_be_bytes();
        f.write_fmt(fmt!(
            "{:02x}.{:02x}.{:02x}.{:02x}.{:02x}",
            a,
            b,
            c,
            d,
            self.oem
        ))
    }
}

/// One BIT token.
#[derive(Clone, Copy, Debug)]
struct Token {
    id: u8,
    version: u8,
    size: u16,
    pointer: u32,
}

/// What the BIT says: where the falcon ucode table is and, if it has BIOSDATA, the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bit {
    /// Offset of the BIT header in the ROM.
    pub(crate) offset: usize,
    /// The VBIOS version, if BIOSDATA is present.
    pub(crate) version: Option<BiosVersion>,
    /// The falcon ucode table pointer from the falcon data: a pointer into the NVIDIA images
    /// (see [`super::rom::Rom::nvidia_pointer_base`]).
    pub(crate) ucode_table: u32,
}

/// Returns the offset of the BIT header: the first "\xff\xb8BIT\0" whose header bytes sum to
/// zero (`s_vbiosFindBitHeader`).
fn find(rom: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(rest) = rom.get(start..) {
        let pos = rest.windows(BIT_MAGIC.len()).position(|w| w == BIT_MAGIC)?;
        let at = start.checked_add(pos)?;
        let size = read::<BitHeader>(rom, at).map_or(0, |h| usize::from(h.header_size));
        if size >= BIT_HEADER_MIN_SIZE {
            if let Some(header) = rom.get(at..at + size) {
                if header.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)) == 0 {
                    return Some(at);
                }
            }
        }
        start = at + 1;
    }
    None
}

/// Turns a read past the ROM's end into `TokenOutside` for `token`.
fn outside(e: VbiosError, token: &Token) -> VbiosError {
    e.past_end_as(VbiosError::TokenOutside {
        id: token.id,
        pointer: token.pointer,
    })
}

impl Bit {
    /// Finds the BIT in the `scan` range of `rom` (the PC-AT image) and reads the tokens nova
    /// uses.
    pub(crate) fn parse(rom: &mut impl Source, scan: Range<usize>) -> Result<Bit, VbiosError> {
        let area = rom.get(scan.start, scan.len(), "PC-AT image")?;
        let offset = scan.start + find(area).ok_or(VbiosError::NoBit)?;
        let header: BitHeader = rom.read(offset, "BIT header")?;
        let header_size = usize::from(header.header_size);
        let token_size = usize::from(header.token_size);
        let count = usize::from(header.token_entries);
        if token_size < BIT_TOKEN_SIZE_6 {
            return Err(VbiosError::BitTokenSize(token_size));
        }

        let mut version = None;
        let mut ucode_table = None;
        for i in 0..count {
            // At most 0xff * 0xff past a header inside the ROM: cannot overflow.
            let at = offset + header_size + i * token_size;
            let token =
                read_token(rom.get(at, token_size, "BIT token")?).ok_or(VbiosError::Truncated {
                    what: "BIT token",
                    offset: at,
                })?;
            let data = usize::try_from(token.pointer).unwrap_or(usize::MAX);
            match token.id {
                TOKEN_BIOSDATA
                    if version.is_none()
                        && BIOSDATA_VERSIONS.contains(&token.version)
                        && token.size >= BIOSDATA_BINVER_SIZE =>
                {
                    let binver: BiosDataBinVer =
                        rom.read(data, "BIOSDATA").map_err(|e| outside(e, &token))?;
                    version = Some(BiosVersion {
                        version: u32::from_le(binver.version),
                        oem: binver.oem,
                    });
                }
                TOKEN_FALCON_DATA
                    if ucode_table.is_none()
                        && token.version == FALCON_DATA_VERSION
                        && token.size >= FALCON_DATA_SIZE =>
                {
                    ucode_table = Some(
                        rom.u32_at(data, "falcon data")
                            .map_err(|e| outside(e, &token))?,
                    );
                }
                _ => {}
            }
        }
        Ok(Bit {
            offset,
            version,
            ucode_table: ucode_table.ok_or(VbiosError::NoFalconData)?,
        })
    }
}

/// Decodes a token from its bytes.
fn read_token(bytes: &[u8]) -> Option<Token> {
    if bytes.len() >= BIT_TOKEN_SIZE_8 {
        let t: BitToken32 = read(bytes, 0)?;
        Some(Token {
            id: t.id,
            version: t.data_version,
            size: u16::from_le(t.data_size),
            pointer: u32::from_le(t.data_pointer),
        })
    } else {
        let t: BitToken = read(bytes, 0)?;
        Some(Token {
            id: t.id,
            version: t.data_version,
            size: u16::from_le(t.data_size),
            pointer: u32::from(u16::from_le(t.data_pointer)),
        })
    }
}

/// Looks `app_id` up in the falcon ucode table at ROM offset `table` and returns its
/// descriptor pointer (a pointer into the NVIDIA images, like the table's).
pub(crate) fn find_ucode(
    rom: &mut impl Source,
    table: usize,
    app_id: u8,
) -> Result<u32, VbiosError> {
    let bad = |what| VbiosError::UcodeTable {
        offset: table,
        what,
    };
    let header = rom.get_or(
        table,
        usize::from(UCODE_TABLE_MIN_HEADER),
        "falcon ucode table",
        bad("outside the ROM"),
    )?;
    let UcodeTableHeader {
        version,
        header_size,
        entry_size,
        entry_count: count,
        ..
    } = read(header, 0).ok_or(bad("outside the ROM"))?;
    if version != UCODE_TABLE_VERSION {
        return Err(bad("unknown version"));
    }
    if header_size < UCODE_TABLE_MIN_HEADER || entry_size < UCODE_TABLE_MIN_ENTRY {
        return Err(bad("header or entry too small"));
    }
    for i in 0..usize::from(count) {
        // `table` is inside the ROM and the rest is at most 0xff + 0xff * 0xff.
        let at = table + usize::from(header_size) + i * usize::from(entry_size);
        let entry = rom.get_or(
            at,
            usize::from(UCODE_TABLE_MIN_ENTRY),
            "falcon ucode table entry",
            bad("entries run past the ROM"),
        )?;
        let entry: UcodeTableEntry = read(entry, 0).ok_or(bad("entries run past the ROM"))?;
        if entry.application_id == app_id {
            return Ok(u32::from_le(entry.desc_pointer));
        }
    }
    Err(VbiosError::NoFwsec { table })
}
