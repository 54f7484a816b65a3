// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! `nova-tlv verify`: parse TLV files, print their structure, and check them.
//!
//! A file is checked against the TLV format (with [`Tlv::parse`]), and, if its name is one
//! nova-core requests (`gsp.tlv`, `booter_load.tlv`, ...), against what nova-core reads from
//! it ([`expect::check`]); for `gsp.tlv`, the companion file named by `FILE` must be next to
//! it and have `SIZE` bytes.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::chips::TlvKind;
use crate::error::Error;
use crate::expect;
use crate::tlv::{is_printable, Block, Tag, Tlv};

/// Tags whose value is a `u32` in the files nova-core reads.
const U32_TAGS: &[Tag] = &[
    Tag::SIZE,
    Tag::DAOF,
    Tag::DASZ,
    Tag::CDOF,
    Tag::CDSZ,
    Tag::PLOC,
    Tag::FUSE,
    Tag::ENID,
    Tag::UCID,
    Tag::A0CO,
    Tag::A0CS,
    Tag::NSIG,
    Tag::STRT,
    Tag::MFOF,
    Tag::APPV,
];

/// Tags whose value is a string.
const STRING_TAGS: &[Tag] = &[Tag::VERS, Tag::FILE, Tag::BLID];

/// Largest TLV file `verify` reads (the TLVs are small; `gsp.bin` is not a TLV).
const MAX_TLV: u64 = 256 << 20;

/// Describes the value of `block` in one line.
fn describe(block: &Block<'_>) -> String {
    let len = block.value.len();
    if U32_TAGS.contains(&block.tag) {
        if let Ok(bytes) = <[u8; 4]>::try_from(block.value) {
            let v = u32::from_le_bytes(bytes);
            return format!("{len:>9}  u32 {v:#x} ({v})");
        }
        return format!("{len:>9}  (not a u32)");
    }
    if STRING_TAGS.contains(&block.tag) {
        if is_printable(block.value) {
            return format!("{len:>9}  \"{}\"", String::from_utf8_lossy(block.value));
        }
        return format!("{len:>9}  (not a printable string)");
    }
    let head: String = block
        .value
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if len > 8 { "..." } else { "" };
    format!("{len:>9}  bytes {head}{more}")
}

/// Verifies the TLV file at `path`, writing its structure to `out`.
pub fn verify_path(path: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let io_out = |e| Error::io("standard output", "write to", e);
    let meta = fs::metadata(path).map_err(|e| Error::io(path, "read", e))?;
    if !meta.is_file() {
        return Err(Error::BadInput {
            path: path.to_path_buf(),
            reason: "not a regular file".to_string(),
        });
    }
    if meta.len() > MAX_TLV {
        return Err(Error::BadInput {
            path: path.to_path_buf(),
            reason: format!("{} bytes is too large for a TLV file", meta.len()),
        });
    }
    let data = fs::read(path).map_err(|e| Error::io(path, "read", e))?;
    let bad = |reason: String| Error::BadInput {
        path: path.to_path_buf(),
        reason,
    };
    let tlv = Tlv::parse(&data).map_err(|e| bad(format!("malformed TLV: {e}")))?;

    let kind = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(TlvKind::from_file_name);
    writeln!(
        out,
        "{}: {} bytes, {} blocks{}",
        path.display(),
        data.len(),
        tlv.blocks().len(),
        match kind {
            Some(k) => format!(", read by nova-core as {k}"),
            None => String::new(),
        }
    )
    .map_err(io_out)?;
    for block in tlv.blocks() {
        writeln!(
            out,
            "  {:#08x}  {}{}",
            block.offset,
            block.tag,
            describe(block)
        )
        .map_err(io_out)?;
        if block.padding.iter().any(|&b| b != 0) {
            writeln!(out, "            (non-zero padding)").map_err(io_out)?;
        }
    }

    let Some(kind) = kind else {
        writeln!(
            out,
            "  ok: well-formed TLV (unknown file name, contents not checked)"
        )
        .map_err(io_out)?;
        return Ok(());
    };
    expect::check(kind, &tlv).map_err(|e| bad(format!("nova-core would refuse it: {e}")))?;
    if kind == TlvKind::Gsp {
        let file = tlv
            .string(Tag::FILE)
            .map_err(|e| bad(format!("nova-core would refuse it: {e}")))?;
        let size = tlv
            .u32(Tag::SIZE)
            .map_err(|e| bad(format!("nova-core would refuse it: {e}")))?;
        let companion = path.with_file_name(file);
        let actual = fs::metadata(&companion)
            .map_err(|e| bad(format!("its image file {}: {e}", companion.display())))?
            .len();
        if actual != u64::from(size) {
            return Err(bad(format!(
                "its image file {} has {actual} bytes, SIZE says {size}",
                companion.display()
            )));
        }
        writeln!(out, "  {file}: {actual} bytes, as SIZE says").map_err(io_out)?;
    }
    writeln!(
        out,
        "  ok: passes every check nova-core makes when it reads {kind}"
    )
    .map_err(io_out)?;
    Ok(())
}
