// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The TLV container nova-core reads its firmware from.
//!
//! The format is described in the kernel's `Documentation/gpu/nova/core/tlv.rst`: the magic
//! `NVFW`, then blocks of a four-character tag, a little-endian `u32` length and the value,
//! padded with zeroes to a multiple of four bytes. [`Tlv::parse`] accepts exactly what
//! nova-core's `Tlv::new` (`drivers/gpu/nova-core/firmware/tlv.rs`) accepts, and in addition
//! refuses what the document forbids but the driver tolerates: duplicate tags and tags with
//! lower-case letters or non-printable characters.

use std::fmt;

/// The four bytes every TLV file starts with.
pub const MAGIC: [u8; 4] = *b"NVFW";

/// Size of a block header: the tag and the little-endian length.
pub const BLOCK_HEADER_SIZE: usize = 8;

/// A four-character TLV tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub [u8; 4]);

impl Tag {
    /// Human-readable firmware version (string, every file).
    pub const VERS: Tag = Tag(*b"VERS");
    /// Firmware image embedded in the TLV (bytes).
    pub const BLOB: Tag = Tag(*b"BLOB");
    /// Name of the companion file holding the firmware image (string).
    pub const FILE: Tag = Tag(*b"FILE");
    /// Size of the companion file (u32).
    pub const SIZE: Tag = Tag(*b"SIZE");
    /// Signature(s) (bytes).
    pub const SIGN: Tag = Tag(*b"SIGN");
    /// GSP-RM build ID (string).
    pub const BLID: Tag = Tag(*b"BLID");
    /// Data offset (u32).
    pub const DAOF: Tag = Tag(*b"DAOF");
    /// Data size (u32).
    pub const DASZ: Tag = Tag(*b"DASZ");
    /// Code offset (u32).
    pub const CDOF: Tag = Tag(*b"CDOF");
    /// Code size (u32).
    pub const CDSZ: Tag = Tag(*b"CDSZ");
    /// Signature patch location (u32).
    pub const PLOC: Tag = Tag(*b"PLOC");
    /// Fuse version (u32).
    pub const FUSE: Tag = Tag(*b"FUSE");
    /// Engine ID mask (u32).
    pub const ENID: Tag = Tag(*b"ENID");
    /// Microcode ID (u32).
    pub const UCID: Tag = Tag(*b"UCID");
    /// App 0 code offset (u32).
    pub const A0CO: Tag = Tag(*b"A0CO");
    /// App 0 code size (u32).
    pub const A0CS: Tag = Tag(*b"A0CS");
    /// Number of signatures in `SIGN` (u32).
    pub const NSIG: Tag = Tag(*b"NSIG");
    /// Start tag of the generic bootloader (u32).
    pub const STRT: Tag = Tag(*b"STRT");
    /// Manifest offset (u32).
    pub const MFOF: Tag = Tag(*b"MFOF");
    /// Application version (u32).
    pub const APPV: Tag = Tag(*b"APPV");
    /// SHA-384 hash of the FMC (bytes).
    pub const HASH: Tag = Tag(*b"HASH");
    /// Public key of the FMC (bytes).
    pub const PKEY: Tag = Tag(*b"PKEY");

    /// Whether `tlv.rst` allows this tag: four printable ASCII characters, no lower-case
    /// letter.
    pub fn is_valid(self) -> bool {
        self.0
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b.is_ascii_lowercase())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

/// Why TLV data was refused, when reading or writing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlvError {
    /// The data does not start with `NVFW`.
    BadMagic,
    /// A block header starting at `offset` is cut short by the end of the data.
    TruncatedHeader {
        /// Offset of the partial header.
        offset: usize,
    },
    /// The block at `offset` has a tag that is not ASCII (refused by nova-core too), or that
    /// `tlv.rst` does not allow.
    BadTag {
        /// Offset of the block.
        offset: usize,
        /// The tag.
        tag: Tag,
    },
    /// The value (with its padding) of the block at `offset` extends past the end of the data.
    ValueOverrun {
        /// Offset of the block.
        offset: usize,
        /// The block's tag.
        tag: Tag,
        /// The length the block declares.
        length: u64,
        /// The bytes left after the block header.
        available: usize,
    },
    /// A tag appears twice, which `tlv.rst` forbids.
    DuplicateTag {
        /// The tag.
        tag: Tag,
    },
    /// The file has no `VERS` block, which nova-core refuses.
    MissingVers,
    /// A tag the reader looked for is absent.
    Missing(Tag),
    /// An integer value does not have the size nova-core requires.
    WrongSize {
        /// The tag.
        tag: Tag,
        /// The size nova-core reads.
        expected: usize,
        /// The value's size.
        actual: usize,
    },
    /// A value is empty, which nova-core refuses for byte values (and the writer refuses for
    /// all).
    Empty(Tag),
    /// A string value contains a byte outside printable ASCII.
    NotPrintable(Tag),
    /// A value is longer than a `u32` length can say.
    TooLong(Tag),
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => write!(f, "does not start with the TLV magic \"NVFW\""),
            Self::TruncatedHeader { offset } => {
                write!(f, "block header at offset {offset:#x} is truncated")
            }
            Self::BadTag { offset, tag } => write!(
                f,
                "block at offset {offset:#x} has an invalid tag '{tag}' (four printable ASCII \
                 characters, no lower-case letter)"
            ),
            Self::ValueOverrun {
                offset,
                tag,
                length,
                available,
            } => write!(
                f,
                "block '{tag}' at offset {offset:#x} declares {length} bytes (padded to 4) but \
                 only {available} remain"
            ),
            Self::DuplicateTag { tag } => write!(f, "tag '{tag}' appears more than once"),
            Self::MissingVers => write!(f, "no VERS tag (every TLV file needs one)"),
            Self::Missing(tag) => write!(f, "tag '{tag}' is missing"),
            Self::WrongSize {
                tag,
                expected,
                actual,
            } => write!(
                f,
                "tag '{tag}' has {actual} bytes, nova-core reads exactly {expected}"
            ),
            Self::Empty(tag) => write!(f, "tag '{tag}' has an empty value"),
            Self::NotPrintable(tag) => {
                write!(
                    f,
                    "string tag '{tag}' contains non-printable or non-ASCII bytes"
                )
            }
            Self::TooLong(tag) => write!(f, "tag '{tag}' value is longer than 4 GiB"),
        }
    }
}

impl std::error::Error for TlvError {}

/// Whether `bytes` is a valid TLV string: printable ASCII only (nova-core's `get_string`).
pub fn is_printable(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (32..127).contains(b))
}

/// Builds a TLV file.
///
/// Refuses what would make an invalid file: invalid or duplicate tags, empty values, strings
/// that are not printable ASCII, and (in [`TlvWriter::finish`]) a missing `VERS`.
#[derive(Clone, Debug)]
pub struct TlvWriter {
    buf: Vec<u8>,
    tags: Vec<Tag>,
}

impl Default for TlvWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl TlvWriter {
    /// Starts a file: just the magic.
    pub fn new() -> Self {
        Self {
            buf: MAGIC.to_vec(),
            tags: Vec::new(),
        }
    }

    /// Appends a block with a byte value.
    pub fn bytes(&mut self, tag: Tag, value: &[u8]) -> Result<&mut Self, TlvError> {
        if !tag.is_valid() {
            return Err(TlvError::BadTag {
                offset: self.buf.len(),
                tag,
            });
        }
        if self.tags.contains(&tag) {
            return Err(TlvError::DuplicateTag { tag });
        }
        if value.is_empty() {
            return Err(TlvError::Empty(tag));
        }
        let length = u32::try_from(value.len()).map_err(|_| TlvError::TooLong(tag))?;
        let stored = value
            .len()
            .checked_next_multiple_of(4)
            .ok_or(TlvError::TooLong(tag))?;
        let padding = stored
            .checked_sub(value.len())
            .ok_or(TlvError::TooLong(tag))?;
        self.buf.extend_from_slice(&tag.0);
        self.buf.extend_from_slice(&length.to_le_bytes());
        self.buf.extend_from_slice(value);
        self.buf.extend(std::iter::repeat_n(0u8, padding));
        self.tags.push(tag);
        Ok(self)
    }

    /// Appends a block with a little-endian `u32` value.
    pub fn u32(&mut self, tag: Tag, value: u32) -> Result<&mut Self, TlvError> {
        self.bytes(tag, &value.to_le_bytes())
    }

    /// Appends a block with a string value (printable ASCII, no terminator).
    pub fn string(&mut self, tag: Tag, value: &str) -> Result<&mut Self, TlvError> {
        if !is_printable(value.as_bytes()) {
            return Err(TlvError::NotPrintable(tag));
        }
        self.bytes(tag, value.as_bytes())
    }

    /// Returns the file, which must have a `VERS` block.
    pub fn finish(self) -> Result<Vec<u8>, TlvError> {
        if !self.tags.contains(&Tag::VERS) {
            return Err(TlvError::MissingVers);
        }
        Ok(self.buf)
    }
}

/// One block of a parsed TLV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// The tag.
    pub tag: Tag,
    /// Offset of the block header in the file.
    pub offset: usize,
    /// The value, without padding.
    pub value: &'a [u8],
    /// The padding after the value (zero to three bytes).
    pub padding: &'a [u8],
}

/// A parsed and validated TLV file.
#[derive(Clone, Debug)]
pub struct Tlv<'a> {
    blocks: Vec<Block<'a>>,
}

impl<'a> Tlv<'a> {
    /// Parses `data`, checking the magic, that it is an exact sequence of blocks, that every
    /// tag is valid and unique, and that there is a `VERS` block.
    pub fn parse(data: &'a [u8]) -> Result<Self, TlvError> {
        if data.get(..MAGIC.len()) != Some(&MAGIC[..]) {
            return Err(TlvError::BadMagic);
        }
        let mut blocks: Vec<Block<'a>> = Vec::new();
        let mut pos = MAGIC.len();
        while pos < data.len() {
            let header = pos
                .checked_add(BLOCK_HEADER_SIZE)
                .and_then(|end| data.get(pos..end))
                .ok_or(TlvError::TruncatedHeader { offset: pos })?;
            let (tag_bytes, len_bytes) = header.split_at(4);
            let tag = Tag(tag_bytes
                .try_into()
                .map_err(|_| TlvError::TruncatedHeader { offset: pos })?);
            let length = u32::from_le_bytes(
                len_bytes
                    .try_into()
                    .map_err(|_| TlvError::TruncatedHeader { offset: pos })?,
            );
            if !tag.is_valid() {
                return Err(TlvError::BadTag { offset: pos, tag });
            }
            let value_start = pos
                .checked_add(BLOCK_HEADER_SIZE)
                .ok_or(TlvError::TruncatedHeader { offset: pos })?;
            let available = data.len().saturating_sub(value_start);
            let overrun = TlvError::ValueOverrun {
                offset: pos,
                tag,
                length: u64::from(length),
                available,
            };
            let len = usize::try_from(length).map_err(|_| overrun.clone())?;
            let stored = len.checked_next_multiple_of(4).ok_or(overrun.clone())?;
            let value_end = value_start.checked_add(len).ok_or(overrun.clone())?;
            let block_end = value_start.checked_add(stored).ok_or(overrun.clone())?;
            let value = data.get(value_start..value_end).ok_or(overrun.clone())?;
            let padding = data.get(value_end..block_end).ok_or(overrun)?;
            if blocks.iter().any(|b| b.tag == tag) {
                return Err(TlvError::DuplicateTag { tag });
            }
            blocks.push(Block {
                tag,
                offset: pos,
                value,
                padding,
            });
            pos = block_end;
        }
        if !blocks.iter().any(|b| b.tag == Tag::VERS) {
            return Err(TlvError::MissingVers);
        }
        Ok(Self { blocks })
    }

    /// The blocks, in file order.
    pub fn blocks(&self) -> &[Block<'a>] {
        &self.blocks
    }

    /// The block with `tag`, if any.
    pub fn find(&self, tag: Tag) -> Option<&Block<'a>> {
        self.blocks.iter().find(|b| b.tag == tag)
    }

    /// The non-empty byte value of `tag` (nova-core's `get_bytes`).
    pub fn bytes(&self, tag: Tag) -> Result<&'a [u8], TlvError> {
        let block = self.find(tag).ok_or(TlvError::Missing(tag))?;
        if block.value.is_empty() {
            return Err(TlvError::Empty(tag));
        }
        Ok(block.value)
    }

    /// The `u32` value of `tag`, which must be exactly four bytes (nova-core's `get_u32`).
    pub fn u32(&self, tag: Tag) -> Result<u32, TlvError> {
        let block = self.find(tag).ok_or(TlvError::Missing(tag))?;
        let bytes: [u8; 4] = block.value.try_into().map_err(|_| TlvError::WrongSize {
            tag,
            expected: 4,
            actual: block.value.len(),
        })?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// The printable-ASCII string value of `tag` (nova-core's `get_string`).
    pub fn string(&self, tag: Tag) -> Result<&'a str, TlvError> {
        let block = self.find(tag).ok_or(TlvError::Missing(tag))?;
        if !is_printable(block.value) {
            return Err(TlvError::NotPrintable(tag));
        }
        std::str::from_utf8(block.value).map_err(|_| TlvError::NotPrintable(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.string(Tag::VERS, "570.144").unwrap();
        w.u32(Tag::CDSZ, 0x200).unwrap();
        w.bytes(Tag::BLOB, &[1, 2, 3, 4, 5]).unwrap();
        w.bytes(Tag::SIGN, &[9; 8]).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn round_trip() {
        let data = sample();
        // Magic + VERS(8+8) + CDSZ(8+4) + BLOB(8+8) + SIGN(8+8).
        assert_eq!(data.len(), 4 + 16 + 12 + 16 + 16);
        assert_eq!(&data[..4], b"NVFW");
        // VERS block: tag, length 7, value, one padding byte.
        assert_eq!(&data[4..8], b"VERS");
        assert_eq!(&data[8..12], &7u32.to_le_bytes());
        assert_eq!(&data[12..19], b"570.144");
        assert_eq!(data[19], 0);

        let tlv = Tlv::parse(&data).unwrap();
        let tags: Vec<Tag> = tlv.blocks().iter().map(|b| b.tag).collect();
        assert_eq!(tags, [Tag::VERS, Tag::CDSZ, Tag::BLOB, Tag::SIGN]);
        assert_eq!(tlv.string(Tag::VERS).unwrap(), "570.144");
        assert_eq!(tlv.u32(Tag::CDSZ).unwrap(), 0x200);
        assert_eq!(tlv.bytes(Tag::BLOB).unwrap(), &[1, 2, 3, 4, 5]);
        assert_eq!(tlv.find(Tag::BLOB).unwrap().padding, &[0, 0, 0]);
        assert_eq!(tlv.bytes(Tag::SIGN).unwrap(), &[9; 8]);
        assert_eq!(tlv.find(Tag::SIGN).unwrap().padding, &[] as &[u8]);
        assert_eq!(tlv.u32(Tag::PLOC), Err(TlvError::Missing(Tag::PLOC)));
        // A 5-byte value is not a u32.
        assert_eq!(
            tlv.u32(Tag::BLOB),
            Err(TlvError::WrongSize {
                tag: Tag::BLOB,
                expected: 4,
                actual: 5
            })
        );
    }

    #[test]
    fn writer_refusals() {
        let mut w = TlvWriter::new();
        assert_eq!(
            w.bytes(Tag::BLOB, &[]).err(),
            Some(TlvError::Empty(Tag::BLOB))
        );
        assert!(matches!(
            w.u32(Tag(*b"ab12"), 1).err(),
            Some(TlvError::BadTag { .. })
        ));
        assert_eq!(
            w.string(Tag::VERS, "tab\there").err(),
            Some(TlvError::NotPrintable(Tag::VERS))
        );
        w.u32(Tag::CDSZ, 1).unwrap();
        assert_eq!(
            w.u32(Tag::CDSZ, 2).err(),
            Some(TlvError::DuplicateTag { tag: Tag::CDSZ })
        );
        assert_eq!(w.finish(), Err(TlvError::MissingVers));
    }

    #[test]
    fn every_truncation_is_refused_without_panic() {
        let data = sample();
        for len in 0..data.len() {
            let r = Tlv::parse(&data[..len]);
            // Only a cut at a block boundary after the VERS block leaves a valid file.
            let boundaries = [4 + 16, 4 + 16 + 12, 4 + 16 + 12 + 16];
            if boundaries.contains(&len) {
                assert!(r.is_ok(), "prefix {len} should parse");
            } else {
                assert!(r.is_err(), "prefix {len} should be refused");
            }
        }
    }

    #[test]
    fn malformed_files() {
        assert_eq!(Tlv::parse(b"NVFX").err(), Some(TlvError::BadMagic));
        assert_eq!(Tlv::parse(b"").err(), Some(TlvError::BadMagic));
        // Magic alone: no VERS.
        assert_eq!(Tlv::parse(b"NVFW").err(), Some(TlvError::MissingVers));

        // A length of u32::MAX must not overflow or panic.
        let mut d = b"NVFWVERS".to_vec();
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        d.extend_from_slice(b"1234");
        assert!(matches!(
            Tlv::parse(&d),
            Err(TlvError::ValueOverrun {
                length: 0xffff_ffff,
                ..
            })
        ));

        // Value fits but its padding does not.
        let mut d = b"NVFWVERS".to_vec();
        d.extend_from_slice(&3u32.to_le_bytes());
        d.extend_from_slice(b"570");
        assert!(matches!(Tlv::parse(&d), Err(TlvError::ValueOverrun { .. })));

        // Non-ASCII and lower-case tags.
        let mut d = b"NVFW\xffERS".to_vec();
        d.extend_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            Tlv::parse(&d),
            Err(TlvError::BadTag { offset: 4, .. })
        ));
        let mut d = b"NVFWvers".to_vec();
        d.extend_from_slice(&0u32.to_le_bytes());
        assert!(matches!(Tlv::parse(&d), Err(TlvError::BadTag { .. })));

        // Duplicate tags.
        let mut d = sample();
        d.extend_from_slice(b"CDSZ");
        d.extend_from_slice(&4u32.to_le_bytes());
        d.extend_from_slice(&[0; 4]);
        assert_eq!(
            Tlv::parse(&d).err(),
            Some(TlvError::DuplicateTag { tag: Tag::CDSZ })
        );

        // Trailing slack shorter than a header.
        let mut d = sample();
        d.extend_from_slice(&[0; 3]);
        assert!(matches!(
            Tlv::parse(&d),
            Err(TlvError::TruncatedHeader { .. })
        ));
    }

    #[test]
    fn empty_values_parse_but_bytes_refuses_them() {
        // The format allows a zero-length value; nova-core's get_bytes refuses it.
        let mut d = b"NVFWVERS".to_vec();
        d.extend_from_slice(&1u32.to_le_bytes());
        d.extend_from_slice(b"1\0\0\0BLOB\0\0\0\0");
        let tlv = Tlv::parse(&d).unwrap();
        assert_eq!(tlv.bytes(Tag::BLOB), Err(TlvError::Empty(Tag::BLOB)));
        assert_eq!(tlv.string(Tag::VERS).unwrap(), "1");
    }
}
