// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! What nova-core reads from each TLV file, and the checks it makes on the values.
//!
//! [`check`] reads a parsed file the way nova-core 7.3 does (`firmware/gsp.rs`,
//! `firmware/riscv.rs`, `firmware/booter.rs`, `firmware/fwsec/bootloader.rs`,
//! `firmware/fsp.rs`, with `Tlv::get_u32`/`get_bytes`/`get_string`/`get_signature` of
//! `firmware/tlv.rs`) and refuses a file the driver would refuse before touching the hardware.
//! A few checks go further where the driver would otherwise load garbage (offsets past the
//! image); they are marked as such.

use std::fmt;

use crate::chips::TlvKind;
use crate::tlv::{Tag, Tlv, TlvError};

/// Size of the FMC's SHA-384 hash (`FSP_HASH_SIZE`, `firmware/fsp.rs`).
pub const FMC_HASH_SIZE: usize = 48;
/// Largest FMC public key and signature nova-core accepts (`FSP_PKEY_SIZE`, `FSP_SIG_SIZE`).
pub const FMC_KEY_MAX: usize = 384;
/// nova-core loads the generic bootloader below this IMEM address (`BOOTLOADER_LOAD_CEILING`).
const GEN_BOOTLOADER_CEILING: usize = 0x1_0000;
/// Falcon memory block size (`falcon::MEM_BLOCK_ALIGNMENT`).
const FALCON_BLOCK: usize = 256;

/// Why a TLV file would not be accepted by nova-core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A tag is missing or its value has the wrong form.
    Value(TlvError),
    /// The values are inconsistent; the text says how.
    Inconsistent(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(e) => e.fmt(f),
            Self::Inconsistent(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<TlvError> for Refusal {
    fn from(e: TlvError) -> Self {
        Self::Value(e)
    }
}

fn refuse(why: impl Into<String>) -> Refusal {
    Refusal::Inconsistent(why.into())
}

/// Checks that `offset + size` is at most `len`. Not a check nova-core makes.
fn inside(what: &str, offset: u32, size: u32, len: usize) -> Result<(), Refusal> {
    let end = u64::from(offset).checked_add(u64::from(size));
    if end.is_none_or(|end| end > len as u64) {
        return Err(refuse(format!(
            "{what} (offset {offset:#x}, size {size:#x}) is outside BLOB ({len:#x} bytes)"
        )));
    }
    Ok(())
}

/// The checks of nova-core's `Tlv::get_signature(index)` for any index: `NSIG` non-zero,
/// `SIGN` non-empty and a whole number of signatures. Returns the size of one signature.
pub fn signature_size(tlv: &Tlv<'_>) -> Result<usize, Refusal> {
    let num_sigs = tlv.u32(Tag::NSIG)?;
    let sigs = tlv.bytes(Tag::SIGN)?;
    let n = usize::try_from(num_sigs).map_err(|_| refuse("NSIG does not fit in usize"))?;
    if n == 0 {
        return Err(refuse("NSIG is 0"));
    }
    if sigs.len().checked_rem(n) != Some(0) {
        return Err(refuse(format!(
            "SIGN ({} bytes) is not a whole number of {n} signatures",
            sigs.len()
        )));
    }
    sigs.len().checked_div(n).ok_or_else(|| refuse("NSIG is 0"))
}

/// Checks `tlv` as nova-core reads a file of `kind`.
pub fn check(kind: TlvKind, tlv: &Tlv<'_>) -> Result<(), Refusal> {
    // Every loader logs the version string first.
    tlv.string(Tag::VERS)?;
    match kind {
        TlvKind::Gsp => check_gsp(tlv),
        TlvKind::GspBootloader => check_gsp_bootloader(tlv),
        TlvKind::BooterLoad | TlvKind::BooterUnload => check_booter(tlv),
        TlvKind::GenBootloader => check_gen_bootloader(tlv),
        TlvKind::Fmc => check_fmc(tlv),
    }
}

/// `GspFirmware::new()` (`firmware/gsp.rs`).
fn check_gsp(tlv: &Tlv<'_>) -> Result<(), Refusal> {
    // `request_into_buf()` refuses an empty buffer.
    if tlv.u32(Tag::SIZE)? == 0 {
        return Err(refuse("SIZE is 0"));
    }
    let file = tlv.string(Tag::FILE)?;
    // tlv.rst: the file is in the same directory, no paths allowed.
    if file.is_empty() || file == "." || file == ".." || file.contains('/') {
        return Err(refuse(format!(
            "FILE \"{file}\" is not a plain file name in the same directory"
        )));
    }
    tlv.bytes(Tag::SIGN)?;
    // Not read by nova-core, but documented as a string.
    if tlv.find(Tag::BLID).is_some() {
        tlv.string(Tag::BLID)?;
    }
    Ok(())
}

/// `RiscvFirmware::new()` (`firmware/riscv.rs`).
fn check_gsp_bootloader(tlv: &Tlv<'_>) -> Result<(), Refusal> {
    let code = tlv.u32(Tag::CDOF)?;
    let data = tlv.u32(Tag::DAOF)?;
    let manifest = tlv.u32(Tag::MFOF)?;
    tlv.u32(Tag::APPV)?;
    let blob = tlv.bytes(Tag::BLOB)?;
    for (what, offset) in [("CDOF", code), ("DAOF", data), ("MFOF", manifest)] {
        inside(what, offset, 0, blob.len())?;
    }
    Ok(())
}

/// `BooterFirmware::new()` (`firmware/booter.rs`).
fn check_booter(tlv: &Tlv<'_>) -> Result<(), Refusal> {
    let os_data_offset = tlv.u32(Tag::DAOF)?;
    let os_data_size = tlv.u32(Tag::DASZ)?;
    let os_code_offset = tlv.u32(Tag::CDOF)?;
    let os_code_size = tlv.u32(Tag::CDSZ)?;
    let patch_loc = tlv.u32(Tag::PLOC)?;
    tlv.u32(Tag::FUSE)?;
    let engine_id = tlv.u32(Tag::ENID)?;
    let ucode_id = tlv.u32(Tag::UCID)?;
    let app0_offset = tlv.u32(Tag::A0CO)?;
    let app0_size = tlv.u32(Tag::A0CS)?;
    if patch_loc < os_data_offset {
        return Err(refuse(
            "PLOC is before DAOF (pkc_data_offset would underflow)",
        ));
    }
    if u16::try_from(engine_id).is_err() {
        return Err(refuse("ENID does not fit in 16 bits"));
    }
    if u8::try_from(ucode_id).is_err() {
        return Err(refuse("UCID does not fit in 8 bits"));
    }
    let blob = tlv.bytes(Tag::BLOB)?;
    let sig_size = signature_size(tlv)?;
    // patch_signature(): the signature must fit at PLOC.
    let sig_size = u32::try_from(sig_size).map_err(|_| refuse("signature size overflows"))?;
    inside(
        "the signature patch at PLOC",
        patch_loc,
        sig_size,
        blob.len(),
    )?;
    // The DMA load ranges (not checked by nova-core before loading).
    inside("DAOF/DASZ", os_data_offset, os_data_size, blob.len())?;
    inside("CDOF/CDSZ", os_code_offset, os_code_size, blob.len())?;
    inside("A0CO/A0CS", app0_offset, app0_size, blob.len())?;
    Ok(())
}

/// `FwsecFirmwareWithBl::new()` (`firmware/fwsec/bootloader.rs`).
fn check_gen_bootloader(tlv: &Tlv<'_>) -> Result<(), Refusal> {
    let blob = tlv.bytes(Tag::BLOB)?;
    let code_size =
        usize::try_from(tlv.u32(Tag::CDSZ)?).map_err(|_| refuse("CDSZ does not fit in usize"))?;
    if code_size > blob.len() {
        return Err(refuse(format!(
            "CDSZ ({code_size:#x}) is larger than BLOB ({:#x} bytes)",
            blob.len()
        )));
    }
    let aligned = code_size.checked_next_multiple_of(FALCON_BLOCK);
    if aligned.is_none_or(|a| a > GEN_BOOTLOADER_CEILING) {
        return Err(refuse("CDSZ does not fit below IMEM 64 KiB"));
    }
    if u16::try_from(tlv.u32(Tag::STRT)?).is_err() {
        return Err(refuse("STRT does not fit in 16 bits"));
    }
    Ok(())
}

/// `FspFirmware::new()` (`firmware/fsp.rs`).
fn check_fmc(tlv: &Tlv<'_>) -> Result<(), Refusal> {
    tlv.bytes(Tag::BLOB)?;
    let hash = tlv.bytes(Tag::HASH)?;
    let pkey = tlv.bytes(Tag::PKEY)?;
    let sign = tlv.bytes(Tag::SIGN)?;
    if hash.len() != FMC_HASH_SIZE {
        return Err(refuse(format!(
            "HASH is {} bytes, expected {FMC_HASH_SIZE}",
            hash.len()
        )));
    }
    if pkey.len() > FMC_KEY_MAX {
        return Err(refuse(format!(
            "PKEY is {} bytes, at most {FMC_KEY_MAX}",
            pkey.len()
        )));
    }
    if sign.len() > FMC_KEY_MAX {
        return Err(refuse(format!(
            "SIGN is {} bytes, at most {FMC_KEY_MAX}",
            sign.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::TlvWriter;

    fn booter(edit: impl Fn(&mut Vec<(Tag, Vec<u8>)>)) -> Result<(), Refusal> {
        let mut fields: Vec<(Tag, Vec<u8>)> = vec![
            (Tag::VERS, b"570.144".to_vec()),
            (Tag::NSIG, 2u32.to_le_bytes().to_vec()),
            (Tag::SIGN, vec![0xaa; 768]),
            (Tag::PLOC, 0x7e10u32.to_le_bytes().to_vec()),
            (Tag::FUSE, 1u32.to_le_bytes().to_vec()),
            (Tag::ENID, 1u32.to_le_bytes().to_vec()),
            (Tag::UCID, 3u32.to_le_bytes().to_vec()),
            (Tag::CDOF, 0u32.to_le_bytes().to_vec()),
            (Tag::CDSZ, 0x100u32.to_le_bytes().to_vec()),
            (Tag::DAOF, 0x7e00u32.to_le_bytes().to_vec()),
            (Tag::DASZ, 0x6000u32.to_le_bytes().to_vec()),
            (Tag::A0CO, 0x100u32.to_le_bytes().to_vec()),
            (Tag::A0CS, 0x7d00u32.to_le_bytes().to_vec()),
            (Tag::BLOB, vec![0; 0xde00]),
        ];
        edit(&mut fields);
        let mut w = TlvWriter::new();
        for (tag, value) in &fields {
            w.bytes(*tag, value).unwrap();
        }
        let data = w.finish().unwrap();
        check(TlvKind::BooterLoad, &Tlv::parse(&data).unwrap())
    }

    fn set(fields: &mut [(Tag, Vec<u8>)], tag: Tag, value: Vec<u8>) {
        fields.iter_mut().find(|(t, _)| *t == tag).unwrap().1 = value;
    }

    #[test]
    fn booter_checks() {
        assert_eq!(booter(|_| {}), Ok(()));
        assert_eq!(
            booter(|f| f.retain(|(t, _)| *t != Tag::UCID)),
            Err(Refusal::Value(TlvError::Missing(Tag::UCID)))
        );
        assert!(booter(|f| set(f, Tag::ENID, 0x1_0000u32.to_le_bytes().to_vec())).is_err());
        assert!(booter(|f| set(f, Tag::UCID, 0x100u32.to_le_bytes().to_vec())).is_err());
        assert!(booter(|f| set(f, Tag::PLOC, 0x10u32.to_le_bytes().to_vec())).is_err());
        assert!(booter(|f| set(f, Tag::NSIG, 0u32.to_le_bytes().to_vec())).is_err());
        assert!(booter(|f| set(f, Tag::NSIG, 5u32.to_le_bytes().to_vec())).is_err());
        // Signature patch past the end of BLOB.
        assert!(booter(|f| set(f, Tag::PLOC, 0xdd00u32.to_le_bytes().to_vec())).is_err());
        // A u16-sized integer is not a u32.
        assert!(booter(|f| set(f, Tag::FUSE, vec![1, 0])).is_err());
        // DMEM range past the end.
        assert!(booter(|f| set(f, Tag::DASZ, 0x6001u32.to_le_bytes().to_vec())).is_err());
    }

    fn one(kind: TlvKind, fields: &[(Tag, &[u8])]) -> Result<(), Refusal> {
        let mut w = TlvWriter::new();
        for (tag, value) in fields {
            w.bytes(*tag, value).unwrap();
        }
        let data = w.finish().unwrap();
        check(kind, &Tlv::parse(&data).unwrap())
    }

    #[test]
    fn other_kinds() {
        let v = b"570.144".as_slice();
        let u = |x: u32| x.to_le_bytes();
        let (s4096, s0, s512, s253, s70000) = (u(4096), u(0), u(512), u(253), u(70000));
        assert!(one(
            TlvKind::Gsp,
            &[
                (Tag::VERS, v),
                (Tag::SIZE, &s4096),
                (Tag::FILE, b"gsp.bin"),
                (Tag::SIGN, &[1; 4096])
            ]
        )
        .is_ok());
        assert!(one(
            TlvKind::Gsp,
            &[
                (Tag::VERS, v),
                (Tag::SIZE, &s4096),
                (Tag::FILE, b"../gsp.bin"),
                (Tag::SIGN, &[1])
            ]
        )
        .is_err());
        assert!(one(
            TlvKind::Gsp,
            &[
                (Tag::VERS, v),
                (Tag::SIZE, &s0),
                (Tag::FILE, b"gsp.bin"),
                (Tag::SIGN, &[1])
            ]
        )
        .is_err());
        let blob = [0u8; 768];
        assert!(one(
            TlvKind::GenBootloader,
            &[
                (Tag::VERS, v),
                (Tag::STRT, &s253),
                (Tag::CDSZ, &s512),
                (Tag::BLOB, &blob)
            ]
        )
        .is_ok());
        assert!(one(
            TlvKind::GenBootloader,
            &[
                (Tag::VERS, v),
                (Tag::STRT, &s70000),
                (Tag::CDSZ, &s512),
                (Tag::BLOB, &blob)
            ]
        )
        .is_err());
        assert!(one(
            TlvKind::GenBootloader,
            &[
                (Tag::VERS, v),
                (Tag::STRT, &s253),
                (Tag::CDSZ, &s4096),
                (Tag::BLOB, &blob)
            ]
        )
        .is_err());
        let hash = [7u8; 48];
        assert!(one(
            TlvKind::Fmc,
            &[
                (Tag::VERS, v),
                (Tag::HASH, &hash),
                (Tag::PKEY, &[1; 97]),
                (Tag::SIGN, &[2; 96]),
                (Tag::BLOB, &[3; 9])
            ]
        )
        .is_ok());
        assert!(one(
            TlvKind::Fmc,
            &[
                (Tag::VERS, v),
                (Tag::HASH, &hash[..47]),
                (Tag::PKEY, &[1; 97]),
                (Tag::SIGN, &[2; 96]),
                (Tag::BLOB, &[3; 9])
            ]
        )
        .is_err());
        assert!(one(
            TlvKind::Fmc,
            &[
                (Tag::VERS, v),
                (Tag::HASH, &hash),
                (Tag::PKEY, &[1; 385]),
                (Tag::SIGN, &[2; 96]),
                (Tag::BLOB, &[3; 9])
            ]
        )
        .is_err());
        // A VERS that is not printable is refused by every loader.
        assert!(one(
            TlvKind::Fmc,
            &[
                (Tag::VERS, b"5\x01"),
                (Tag::HASH, &hash),
                (Tag::PKEY, &[1]),
                (Tag::SIGN, &[2]),
                (Tag::BLOB, &[3])
            ]
        )
        .is_err());
    }
}
