// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! NVIDIA's binary firmware header and the structures the `.bin` files put behind it.
//!
//! Every Debian `.bin` file other than `gsp` and `fmc` starts with `struct nvfw_bin_hdr`
//! (nouveau, `drivers/gpu/drm/nouveau/include/nvfw/fw.h`): six little-endian `u32`s, `bin_magic`
//! (`0x10de`), `bin_ver` (1), `bin_size`, `header_offset` (the format-specific header),
//! `data_offset` and `data_size` (the payload, the firmware image proper). All offsets are from
//! the start of the file. `bin_size` is not the file size (the 570.144 files are shorter than it
//! says, it is rounded up to 256 bytes), so it is not checked.

use std::fmt;

/// Why a `.bin` file's contents were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinError {
    /// The file is shorter than the 24-byte header.
    TooShort {
        /// The file's size.
        len: usize,
    },
    /// `bin_magic` is not `0x10de`.
    BadMagic(u32),
    /// `bin_ver` is not 1.
    BadVersion(u32),
    /// `header_offset` points inside the binary header or past the end of the file.
    HeaderOutside {
        /// `header_offset`.
        header_offset: u32,
        /// The file's size.
        len: usize,
    },
    /// The payload is empty or extends past the end of the file.
    PayloadOutside {
        /// `data_offset`.
        data_offset: u32,
        /// `data_size`.
        data_size: u32,
        /// The file's size.
        len: usize,
    },
    /// A structure or word the file points at is (partly) outside it.
    Outside {
        /// What was read.
        what: &'static str,
        /// Its offset.
        offset: u64,
        /// Its size.
        size: u64,
        /// The file's size.
        len: usize,
    },
}

impl fmt::Display for BinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => write!(
                f,
                "{len} bytes is too short for NVIDIA's 24-byte binary header (nvfw_bin_hdr)"
            ),
            Self::BadMagic(m) => write!(
                f,
                "bad binary header magic {m:#x} (expected 0x10de): not an NVIDIA .bin firmware \
                 file"
            ),
            Self::BadVersion(v) => write!(f, "unknown binary header version {v} (expected 1)"),
            Self::HeaderOutside { header_offset, len } => write!(
                f,
                "binary header's header_offset {header_offset:#x} is outside the file \
                 ({len:#x} bytes, header at 0x18 or later)"
            ),
            Self::PayloadOutside {
                data_offset,
                data_size,
                len,
            } => write!(
                f,
                "binary header's payload (data_offset {data_offset:#x}, data_size \
                 {data_size:#x}) is empty or outside the file ({len:#x} bytes)"
            ),
            Self::Outside {
                what,
                offset,
                size,
                len,
            } => write!(
                f,
                "{what} at {offset:#x} ({size:#x} bytes) is outside the file ({len:#x} bytes)"
            ),
        }
    }
}

impl std::error::Error for BinError {}

/// Reads `N` little-endian `u32`s at `offset` of `data`, naming the structure `what` if they
/// are not all inside it.
pub fn read_u32s<const N: usize>(
    data: &[u8],
    offset: u64,
    what: &'static str,
) -> Result<[u32; N], BinError> {
    let size = N.checked_mul(4);
    let outside = || BinError::Outside {
        what,
        offset,
        size: size.and_then(|s| u64::try_from(s).ok()).unwrap_or(u64::MAX),
        len: data.len(),
    };
    let start = usize::try_from(offset).map_err(|_| outside())?;
    let end = size
        .and_then(|s| start.checked_add(s))
        .ok_or_else(outside)?;
    let bytes = data.get(start..end).ok_or_else(outside)?;
    let mut out = [0u32; N];
    for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_le_bytes(chunk.try_into().map_err(|_| outside())?);
    }
    Ok(out)
}

/// Reads one little-endian `u32` at `offset` of `data`.
pub fn read_u32(data: &[u8], offset: u64, what: &'static str) -> Result<u32, BinError> {
    read_u32s::<1>(data, offset, what).map(|[w]| w)
}

/// Returns `data[offset..offset + size]`, or an error naming `what` if it is not inside.
pub fn slice<'a>(
    data: &'a [u8],
    offset: u64,
    size: u64,
    what: &'static str,
) -> Result<&'a [u8], BinError> {
    let outside = || BinError::Outside {
        what,
        offset,
        size,
        len: data.len(),
    };
    let start = usize::try_from(offset).map_err(|_| outside())?;
    let len = usize::try_from(size).map_err(|_| outside())?;
    let end = start.checked_add(len).ok_or_else(outside)?;
    data.get(start..end).ok_or_else(outside)
}

/// NVIDIA's binary firmware header, `struct nvfw_bin_hdr`, checked against its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinHeader {
    /// `bin_size`, informational only.
    pub bin_size: u32,
    /// Offset of the format-specific header.
    pub header_offset: u32,
    /// Offset of the payload.
    pub data_offset: u32,
    /// Size of the payload.
    pub data_size: u32,
}

impl BinHeader {
    /// `bin_magic`: NVIDIA's PCI vendor ID.
    pub const MAGIC: u32 = 0x10de;
    /// The only `bin_ver` there is.
    pub const VERSION: u32 = 1;
    /// Size of the header.
    pub const SIZE: usize = 24;

    /// Parses the header of `file` and checks it: magic, version, a format header after the
    /// binary header and inside the file, and a non-empty payload inside the file.
    pub fn parse(file: &[u8]) -> Result<Self, BinError> {
        let [magic, version, bin_size, header_offset, data_offset, data_size] =
            read_u32s::<6>(file, 0, "binary header")
                .map_err(|_| BinError::TooShort { len: file.len() })?;
        if magic != Self::MAGIC {
            return Err(BinError::BadMagic(magic));
        }
        if version != Self::VERSION {
            return Err(BinError::BadVersion(version));
        }
        let header_ok =
            usize::try_from(header_offset).is_ok_and(|h| h >= Self::SIZE && h < file.len());
        if !header_ok {
            return Err(BinError::HeaderOutside {
                header_offset,
                len: file.len(),
            });
        }
        let hdr = Self {
            bin_size,
            header_offset,
            data_offset,
            data_size,
        };
        if data_size == 0 || hdr.payload(file).is_err() {
            return Err(BinError::PayloadOutside {
                data_offset,
                data_size,
                len: file.len(),
            });
        }
        Ok(hdr)
    }

    /// The payload (`data_offset..data_offset + data_size`) of `file`.
    pub fn payload<'a>(&self, file: &'a [u8]) -> Result<&'a [u8], BinError> {
        slice(
            file,
            u64::from(self.data_offset),
            u64::from(self.data_size),
            "payload",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(words: [u32; 6], len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        for (i, w) in words.iter().enumerate() {
            if i * 4 + 4 <= len {
                v[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        v
    }

    #[test]
    fn real_layout() {
        // AD102's booter_load-570.144.bin: header at 0x18, payload at 0x378, 0xde00 bytes,
        // file 0xe178 bytes, bin_size 0xe200 (larger than the file).
        let f = file([0x10de, 1, 0xe200, 0x18, 0x378, 0xde00], 0xe178);
        let h = BinHeader::parse(&f).unwrap();
        assert_eq!(
            h,
            BinHeader {
                bin_size: 0xe200,
                header_offset: 0x18,
                data_offset: 0x378,
                data_size: 0xde00
            }
        );
        assert_eq!(h.payload(&f).unwrap().len(), 0xde00);
    }

    #[test]
    fn truncations() {
        let ok = [0x10de, 1, 0x100, 0x18, 0x40, 0x40];
        assert!(BinHeader::parse(&file(ok, 0x80)).is_ok());
        for len in 0..BinHeader::SIZE {
            assert_eq!(
                BinHeader::parse(&file(ok, len)),
                Err(BinError::TooShort { len })
            );
        }
        // Cut inside the payload.
        for len in [0x19, 0x40, 0x7f] {
            assert!(matches!(
                BinHeader::parse(&file(ok, len)),
                Err(BinError::PayloadOutside { .. })
            ));
        }
    }

    #[test]
    fn refusals() {
        type Check = fn(&BinError) -> bool;
        let cases: [([u32; 6], Check); 8] = [
            ([0x10df, 1, 0, 0x18, 0x40, 0x40], |e| {
                *e == BinError::BadMagic(0x10df)
            }),
            ([0xde10_0000, 1, 0, 0x18, 0x40, 0x40], |e| {
                matches!(e, BinError::BadMagic(_))
            }),
            ([0x10de, 2, 0, 0x18, 0x40, 0x40], |e| {
                *e == BinError::BadVersion(2)
            }),
            // Format header inside the binary header, or past the end.
            ([0x10de, 1, 0, 0x10, 0x40, 0x40], |e| {
                matches!(e, BinError::HeaderOutside { .. })
            }),
            ([0x10de, 1, 0, 0x80, 0x40, 0x40], |e| {
                matches!(e, BinError::HeaderOutside { .. })
            }),
            // Payload one byte too long, empty, or wrapping around.
            ([0x10de, 1, 0, 0x18, 0x40, 0x41], |e| {
                matches!(e, BinError::PayloadOutside { .. })
            }),
            ([0x10de, 1, 0, 0x18, 0x40, 0], |e| {
                matches!(e, BinError::PayloadOutside { .. })
            }),
            ([0x10de, 1, 0, 0x18, u32::MAX, 2], |e| {
                matches!(e, BinError::PayloadOutside { .. })
            }),
        ];
        for (words, check) in cases {
            let err = BinHeader::parse(&file(words, 0x80)).unwrap_err();
            assert!(check(&err), "{words:x?}: unexpected {err:?}");
            // Every refusal has a message.
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn reads_are_bounded() {
        let data = [1u8, 0, 0, 0, 2, 0, 0, 0];
        assert_eq!(read_u32s::<2>(&data, 0, "x").unwrap(), [1, 2]);
        assert_eq!(read_u32(&data, 4, "x").unwrap(), 2);
        assert!(read_u32(&data, 5, "x").is_err());
        assert!(read_u32(&data, u64::MAX, "x").is_err());
        assert!(read_u32s::<3>(&data, 0, "x").is_err());
        assert_eq!(slice(&data, 2, 6, "x").unwrap().len(), 6);
        assert!(slice(&data, 2, 7, "x").is_err());
        assert!(slice(&data, u64::MAX, u64::MAX, "x").is_err());
    }
}
