// SPDX-License-Identifier: GPL-2.0

//! The BIOS Information Table (BIT) and the falcon ucode table it leads to.
//!
//! Layouts are those of open-gpu-kernel-modules `src/nvidia/src/kernel/gpu/gsp/kernel_gsp_fwsec.c`
//! (`BIT_HEADER_V1_00`, `BIT_TOKEN_V1_00`, `BIT_DATA_BIOSDATA_BINVER`, `BIT_DATA_FALCON_DATA_V2`,
//! `FALCON_UCODE_TABLE_HDR_V1`, `FALCON_UCODE_TABLE_ENTRY_V1`) and of NVIDIA's BIT
//! specification (open-gpu-doc `BIOS-Information-Table`). All values are little-endian.

use core::ops::Range;

use kernel::{fmt, prelude::*};

use super::{le_u16, le_u32, le_u8, Source, VbiosError};

/// BIT header: id 0xb8ff followed by "BIT\0" (`BIT_HEADER_ID`, `BIT_HEADER_SIGNATURE`).
const BIT_MAGIC: [u8; 6] = [0xff, 0xb8, b'B', b'I', b'T', 0];
/// Offsets in the BIT header of the header size, token size and token count.
const BIT_HEADER_SIZE: usize = 8;
const BIT_TOKEN_SIZE: usize = 9;
const BIT_TOKEN_COUNT: usize = 10;
/// Size of `BIT_HEADER_V1_00`.
const BIT_HEADER_MIN_SIZE: usize = 12;
/// Token sizes: six bytes with a 16-bit data pointer, eight or more with a 32-bit one
/// (`BIT_TOKEN_V1_00_SIZE_6`, `BIT_TOKEN_V1_00_SIZE_8`).
const BIT_TOKEN_SIZE_6: usize = 6;
const BIT_TOKEN_SIZE_8: usize = 8;

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
        let size = usize::from(le_u8(rom, at + BIT_HEADER_SIZE).unwrap_or(0));
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
        let header = rom.get(offset, BIT_HEADER_MIN_SIZE, "BIT header")?;
        let byte = |i| le_u8(header, i).ok_or(VbiosError::NoBit);
        let header_size = usize::from(byte(BIT_HEADER_SIZE)?);
        let token_size = usize::from(byte(BIT_TOKEN_SIZE)?);
        let count = usize::from(byte(BIT_TOKEN_COUNT)?);
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
                    let binver = rom
                        .get(data, usize::from(BIOSDATA_BINVER_SIZE), "BIOSDATA")
                        .map_err(|e| outside(e, &token))?;
                    version = Some(BiosVersion {
                        version: le_u32(binver, 0).ok_or(VbiosError::NoBit)?,
                        oem: le_u8(binver, 4).ok_or(VbiosError::NoBit)?,
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
    let pointer = if bytes.len() >= BIT_TOKEN_SIZE_8 {
        le_u32(bytes, 4)?
    } else {
        u32::from(le_u16(bytes, 4)?)
    };
    Some(Token {
        id: le_u8(bytes, 0)?,
        version: le_u8(bytes, 1)?,
        size: le_u16(bytes, 2)?,
        pointer,
    })
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
    let (version, header_size, entry_size, count) = match *header {
        [v, h, e, c, ..] => (v, h, e, c),
        _ => return Err(bad("outside the ROM")),
    };
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
        let id = le_u8(entry, 0).ok_or(bad("entries run past the ROM"))?;
        let pointer = le_u32(entry, 2).ok_or(bad("entries run past the ROM"))?;
        if id == app_id {
            return Ok(pointer);
        }
    }
    Err(VbiosError::NoFwsec { table })
}
