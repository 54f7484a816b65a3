// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Conversion of each of NVIDIA's `.bin` files into the TLV file nova-core requests.
//!
//! Each function takes the bytes of one Debian file, checks them, and returns the TLV bytes,
//! which it has parsed back and checked against what nova-core reads ([`crate::expect`])
//! before returning them. The mapping of every field, with its sources, is documented in
//! `Documentation/gpu/nova/tlv-converter.rst`.

use std::fmt;
use std::ops::Range;

use crate::binhdr::{read_u32, read_u32s, slice, BinError, BinHeader};
use crate::chips::{TlvKind, GSP_IMAGE_FILE};
use crate::crc32::crc32;
use crate::elf::{Class, Elf, ElfError, SHT_NOBITS, SHT_NULL, SHT_PROGBITS};
use crate::expect::{self, Refusal};
use crate::tlv::{Tag, Tlv, TlvError, TlvWriter};

/// Why a file could not be converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvertError {
    /// The NVIDIA binary header or a structure it points at is invalid.
    Bin(BinError),
    /// The ELF container is invalid.
    Elf(ElfError),
    /// A TLV value could not be written (for instance a version string that is not printable).
    Tlv(TlvError),
    /// The file is well-formed but inconsistent; the text says how.
    Inconsistent(String),
    /// The TLV written does not pass the checks nova-core's parser makes.
    Refused(Refusal),
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bin(e) => e.fmt(f),
            Self::Elf(e) => e.fmt(f),
            Self::Tlv(e) => e.fmt(f),
            Self::Inconsistent(why) => f.write_str(why),
            Self::Refused(r) => write!(f, "the converted file would be refused: {r}"),
        }
    }
}

impl std::error::Error for ConvertError {}

impl From<BinError> for ConvertError {
    fn from(e: BinError) -> Self {
        Self::Bin(e)
    }
}

impl From<ElfError> for ConvertError {
    fn from(e: ElfError) -> Self {
        Self::Elf(e)
    }
}

impl From<TlvError> for ConvertError {
    fn from(e: TlvError) -> Self {
        Self::Tlv(e)
    }
}

fn inconsistent(why: impl Into<String>) -> ConvertError {
    ConvertError::Inconsistent(why.into())
}

/// Falcon memory block size: the 256-byte alignment NVIDIA's extraction script requires of
/// the RISC-V bootloader's offsets, and the unit nova-core rounds the generic bootloader to
/// (`falcon::MEM_BLOCK_ALIGNMENT`).
const FALCON_BLOCK: u32 = 256;

/// nova-core loads the generic bootloader right below this IMEM address
/// (`BOOTLOADER_LOAD_CEILING`, `firmware/fwsec/bootloader.rs`).
const GEN_BOOTLOADER_CEILING: u64 = 0x1_0000;

/// `NT_GNU_BUILD_ID`.
const NT_GNU_BUILD_ID: u32 = 3;

/// Checks that `range_name` (`offset`, `size`) lies inside a payload of `len` bytes.
fn check_inside(range_name: &str, offset: u32, size: u32, len: usize) -> Result<(), ConvertError> {
    let end = u64::from(offset).checked_add(u64::from(size));
    if end.is_none_or(|end| end > len as u64) {
        return Err(inconsistent(format!(
            "{range_name} (offset {offset:#x}, size {size:#x}) is outside the {len:#x}-byte \
             firmware image"
        )));
    }
    Ok(())
}

/// Parses `tlv` back and checks it as nova-core would read a `kind` file.
fn self_check(kind: TlvKind, tlv: Vec<u8>) -> Result<Vec<u8>, ConvertError> {
    let parsed = Tlv::parse(&tlv)?;
    expect::check(kind, &parsed).map_err(ConvertError::Refused)?;
    Ok(tlv)
}

/// The leading fields of `RM_RISCV_UCODE_DESC` (nouveau,
/// `nvkm/subdev/gsp/rm/r535/nvrm/gsp.h`), the format header of `bootloader-*.bin`. Later fields
/// (`bIsMonitorEnabled` onwards) vary between versions and are not used.
struct RiscvUcodeDesc {
    version: u32,
    app_version: u32,
    manifest_offset: u32,
    manifest_size: u32,
    monitor_data_offset: u32,
    monitor_data_size: u32,
    monitor_code_offset: u32,
    monitor_code_size: u32,
}

impl RiscvUcodeDesc {
    fn read(file: &[u8], offset: u32) -> Result<Self, BinError> {
        let w = read_u32s::<14>(
            file,
            offset.into(),
            "RISC-V ucode descriptor (RM_RISCV_UCODE_DESC)",
        )?;
        // Words 1-6: bootloader offset/size, bootloader parameters offset/size, ELF
        // offset/size.
        let [version, _, _, _, _, _, _, app_version, mo, ms, dof, dsz, cof, csz] = w;
        Ok(Self {
            version,
            app_version,
            manifest_offset: mo,
            manifest_size: ms,
            monitor_data_offset: dof,
            monitor_data_size: dsz,
            monitor_code_offset: cof,
            monitor_code_size: csz,
        })
    }
}

/// `struct nvfw_hs_header_v2` (nouveau, `include/nvfw/hs.h`), the format header of
/// `booter_*-*.bin`. `patch_loc`, `patch_sig` and `num_sig` are file offsets of `u32`s holding
/// the values; the other offsets are file offsets of the data.
struct HsHeaderV2 {
    sig_prod_offset: u32,
    sig_prod_size: u32,
    patch_loc: u32,
    patch_sig: u32,
    meta_data_offset: u32,
    meta_data_size: u32,
    num_sig: u32,
    header_offset: u32,
    header_size: u32,
}

impl HsHeaderV2 {
    fn read(file: &[u8], offset: u32) -> Result<Self, BinError> {
        let w = read_u32s::<9>(file, offset.into(), "HS header (nvfw_hs_header_v2)")?;
        let [spo, sps, ploc, psig, mdo, mds, nsig, ho, hs] = w;
        Ok(Self {
            sig_prod_offset: spo,
            sig_prod_size: sps,
            patch_loc: ploc,
            patch_sig: psig,
            meta_data_offset: mdo,
            meta_data_size: mds,
            num_sig: nsig,
            header_offset: ho,
            header_size: hs,
        })
    }
}

/// The GSP-RM image conversion for one chip family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GspConversion {
    /// `gsp.tlv`.
    pub tlv: Vec<u8>,
    /// Where `gsp.bin`, the `.fwimage` section, lies in the input file.
    pub image: Range<usize>,
}

/// Returns the build ID in the `.note.gnu.build-id` note `note`, as lower-case hex.
fn build_id(note: &[u8]) -> Result<String, ConvertError> {
    let bad = |why: &str| inconsistent(format!("malformed .note.gnu.build-id: {why}"));
    let [namesz, descsz, note_type] =
        read_u32s::<3>(note, 0, "note header").map_err(|_| bad("truncated header"))?;
    if note_type != NT_GNU_BUILD_ID {
        return Err(bad("not an NT_GNU_BUILD_ID note"));
    }
    let name =
        slice(note, 12, u64::from(namesz), "note name").map_err(|_| bad("truncated name"))?;
    if name != b"GNU\0" {
        return Err(bad("owner is not GNU"));
    }
    let desc_offset = u64::from(namesz)
        .checked_next_multiple_of(4)
        .and_then(|n| n.checked_add(12))
        .ok_or_else(|| bad("name size overflows"))?;
    let desc = slice(note, desc_offset, u64::from(descsz), "build ID")
        .map_err(|_| bad("truncated build ID"))?;
    if desc.is_empty() {
        return Err(bad("empty build ID"));
    }
    Ok(desc.iter().map(|b| format!("{b:02x}")).collect())
}

/// Converts `gsp-<version>.bin` (ELF64) for a chip whose signatures are in section
/// `signature_section` into `gsp.tlv`, and locates the `.fwimage` section that becomes
/// `gsp.bin`.
///
/// `gsp.tlv` holds `VERS` (the `.fwversion` section, which must match `version`), `SIZE` (the
/// size of `.fwimage`), `FILE` (`gsp.bin`), `SIGN` (the signature section) and, if the file has
/// one, `BLID` (the GNU build ID in hex).
pub fn gsp(
    file: &[u8],
    signature_section: &str,
    version: &str,
) -> Result<GspConversion, ConvertError> {
    let elf = Elf::parse(file)?;
    if elf.class() != Class::Elf64 {
        return Err(inconsistent(
            "the GSP-RM image is an ELF32 file; NVIDIA ships it as ELF64",
        ));
    }
    let fwimage = elf
        .section(".fwimage")?
        .filter(|s| s.sh_type != SHT_NOBITS && s.sh_type != SHT_NULL)
        .ok_or_else(|| inconsistent("the GSP-RM ELF file has no .fwimage section"))?;
    if fwimage.size == 0 {
        return Err(inconsistent("the GSP-RM image (.fwimage) is empty"));
    }
    let image_size = u32::try_from(fwimage.size).map_err(|_| {
        inconsistent("the GSP-RM image (.fwimage) is larger than a TLV SIZE (u32) can say")
    })?;
    let image_end = fwimage
        .offset
        .checked_add(fwimage.size)
        .ok_or_else(|| inconsistent("the .fwimage section's range overflows"))?;

    let signatures = elf
        .section(signature_section)?
        .map(|s| elf.contents(s))
        .ok_or_else(|| {
            inconsistent(format!(
                "the GSP-RM ELF file has no {signature_section} section, which holds the \
                 signatures for this chip's family"
            ))
        })?;
    if signatures.is_empty() {
        return Err(inconsistent(format!(
            "section {signature_section} is empty"
        )));
    }

    if let Some(section) = elf.section(".fwversion")? {
        let raw = elf.contents(section);
        let text = raw
            .iter()
            .rposition(|&b| b != 0)
            .and_then(|last| raw.get(..=last))
            .unwrap_or(&[]);
        if text != version.as_bytes() {
            return Err(inconsistent(format!(
                "the GSP-RM ELF file's .fwversion says \"{}\" but the file is named for \
                 version {version}",
                String::from_utf8_lossy(text)
            )));
        }
    }

    let blid = match elf.section(".note.gnu.build-id")? {
        Some(s) => Some(build_id(elf.contents(s))?),
        None => None,
    };

    let mut w = TlvWriter::new();
    w.string(Tag::VERS, version)?
        .u32(Tag::SIZE, image_size)?
        .string(Tag::FILE, GSP_IMAGE_FILE)?
        .bytes(Tag::SIGN, signatures)?;
    if let Some(blid) = &blid {
        w.string(Tag::BLID, blid)?;
    }
    let tlv = self_check(TlvKind::Gsp, w.finish()?)?;
    Ok(GspConversion {
        tlv,
        image: fwimage.offset..image_end,
    })
}

/// Converts `bootloader-<version>.bin` (binary header + `RM_RISCV_UCODE_DESC`) into
/// `gsp_bootloader.tlv`: `CDOF` = `monitorCodeOffset`, `DAOF` = `monitorDataOffset`, `MFOF` =
/// `manifestOffset`, `APPV` = `appVersion`, `BLOB` = the payload.
pub fn gsp_bootloader(file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    let hdr = BinHeader::parse(file)?;
    let desc = RiscvUcodeDesc::read(file, hdr.header_offset)?;
    if desc.version < 4 {
        return Err(inconsistent(format!(
            "RM_RISCV_UCODE_DESC version {} is not supported (4 or later)",
            desc.version
        )));
    }
    let payload = hdr.payload(file)?;
    for (name, offset, size) in [
        ("the manifest", desc.manifest_offset, desc.manifest_size),
        (
            "the monitor data",
            desc.monitor_data_offset,
            desc.monitor_data_size,
        ),
        (
            "the monitor code",
            desc.monitor_code_offset,
            desc.monitor_code_size,
        ),
    ] {
        check_inside(name, offset, size, payload.len())?;
        if offset % FALCON_BLOCK != 0 {
            return Err(inconsistent(format!(
                "{name} offset {offset:#x} is not {FALCON_BLOCK}-byte aligned"
            )));
        }
    }

    let mut w = TlvWriter::new();
    w.string(Tag::VERS, version)?
        .u32(Tag::CDOF, desc.monitor_code_offset)?
        .u32(Tag::DAOF, desc.monitor_data_offset)?
        .u32(Tag::MFOF, desc.manifest_offset)?
        .u32(Tag::APPV, desc.app_version)?
        .bytes(Tag::BLOB, payload)?;
    self_check(TlvKind::GspBootloader, w.finish()?)
}

/// Converts `booter_load-<version>.bin` or `booter_unload-<version>.bin` (binary header +
/// `nvfw_hs_header_v2` + `nvfw_hs_load_header_v2`) into the TLV of `kind`.
pub fn booter(kind: TlvKind, file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    if !matches!(kind, TlvKind::BooterLoad | TlvKind::BooterUnload) {
        return Err(inconsistent(format!("{kind} is not a Booter file")));
    }
    heavy_secure(kind, file, version)
}

/// Converts any heavy-secure falcon file of Booter's format (binary header, HS header v2,
/// load header): Booter, and Ada's `scrubber-<version>.bin`, which upstream nova-core does not
/// request. The result has the tags of a Booter TLV.
pub fn heavy_secure_file(file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    heavy_secure(TlvKind::BooterLoad, file, version)
}

fn heavy_secure(kind: TlvKind, file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    let hdr = BinHeader::parse(file)?;
    let hs = HsHeaderV2::read(file, hdr.header_offset)?;
    let (sig_prod_size, meta_size) = (hs.sig_prod_size, hs.meta_data_size);
    let (load_offset, load_size) = (hs.header_offset, hs.header_size);
    let patch_loc = read_u32(file, hs.patch_loc.into(), "signature patch location")?;
    let patch_sig = read_u32(file, hs.patch_sig.into(), "signature index")?;
    let num_sig = read_u32(file, hs.num_sig.into(), "signature count")?;

    // The signature parameters are exactly three words (nova-core's former
    // `HsSignatureParams`; nouveau reads meta[0..3]).
    if meta_size != 12 {
        return Err(inconsistent(format!(
            "HS signature metadata is {meta_size} bytes, expected 12 (fuse version, engine ID \
             mask, ucode ID)"
        )));
    }
    let [fuse_version, engine_id, ucode_id] =
        read_u32s::<3>(file, hs.meta_data_offset.into(), "HS signature metadata")?;

    let [os_code_offset, os_code_size, os_data_offset, os_data_size, num_apps] = read_u32s::<5>(
        file,
        load_offset.into(),
        "HS load header (nvfw_hs_load_header_v2)",
    )?;
    if num_apps == 0 {
        return Err(inconsistent("the HS load header declares no application"));
    }
    let expected_load_size = num_apps
        .checked_mul(16)
        .and_then(|apps| apps.checked_add(20))
        .ok_or_else(|| inconsistent(format!("absurd application count {num_apps}")))?;
    if load_size != expected_load_size {
        return Err(inconsistent(format!(
            "the HS load header is {load_size} bytes but its {num_apps} application(s) need \
             {expected_load_size}"
        )));
    }
    let app0_offset = u64::from(load_offset)
        .checked_add(20)
        .ok_or_else(|| inconsistent("HS load header offset overflows"))?;
    let [app0_code_offset, app0_code_size, _app0_data_offset, _app0_data_size] =
        read_u32s::<4>(file, app0_offset, "HS application 0 header")?;
    // Bounds of the whole load header, applications included.
    slice(file, load_offset.into(), load_size.into(), "HS load header")?;

    if num_sig == 0 {
        return Err(inconsistent(
            "the HS header declares no signature (Booter is always signed)",
        ));
    }
    let sig_size = sig_prod_size
        .checked_div(num_sig)
        .filter(|_| sig_prod_size != 0 && sig_prod_size.checked_rem(num_sig) == Some(0))
        .ok_or_else(|| {
            inconsistent(format!(
                "{sig_prod_size} bytes of signatures cannot be split into {num_sig} signatures"
            ))
        })?;
    let sig_start = u64::from(hs.sig_prod_offset)
        .checked_add(u64::from(patch_sig))
        .ok_or_else(|| inconsistent("signature offset overflows"))?;
    let signatures = slice(
        file,
        sig_start,
        sig_prod_size.into(),
        "production signatures",
    )?;

    let payload = hdr.payload(file)?;
    let len = payload.len();
    if patch_loc < os_data_offset {
        return Err(inconsistent(format!(
            "signature patch location {patch_loc:#x} is before the data section \
             ({os_data_offset:#x})"
        )));
    }
    check_inside("the signature patch", patch_loc, sig_size, len)?;
    check_inside("the OS code", os_code_offset, os_code_size, len)?;
    check_inside("the OS data", os_data_offset, os_data_size, len)?;
    check_inside(
        "application 0's code",
        app0_code_offset,
        app0_code_size,
        len,
    )?;
    // nova-core loads the non-secure code from offset 0 and the secure code from A0CO on
    // Turing and GA100, so the two must be contiguous (NVIDIA's extraction script checks this).
    if os_code_size != app0_code_offset {
        return Err(inconsistent(format!(
            "OS code size {os_code_size:#x} differs from application 0's code offset \
             {app0_code_offset:#x}"
        )));
    }
    if u16::try_from(engine_id).is_err() {
        return Err(inconsistent(format!(
            "engine ID mask {engine_id:#x} does not fit in 16 bits"
        )));
    }
    if u8::try_from(ucode_id).is_err() {
        return Err(inconsistent(format!(
            "ucode ID {ucode_id:#x} does not fit in 8 bits"
        )));
    }

    let mut w = TlvWriter::new();
    w.string(Tag::VERS, version)?
        .u32(Tag::NSIG, num_sig)?
        .bytes(Tag::SIGN, signatures)?
        .u32(Tag::PLOC, patch_loc)?
        .u32(Tag::FUSE, fuse_version)?
        .u32(Tag::ENID, engine_id)?
        .u32(Tag::UCID, ucode_id)?
        .u32(Tag::CDOF, os_code_offset)?
        .u32(Tag::CDSZ, os_code_size)?
        .u32(Tag::DAOF, os_data_offset)?
        .u32(Tag::DASZ, os_data_size)?
        .u32(Tag::A0CO, app0_code_offset)?
        .u32(Tag::A0CS, app0_code_size)?
        .bytes(Tag::BLOB, payload)?;
    self_check(kind, w.finish()?)
}

/// Converts `gen_bootloader-<version>.bin` (binary header + `nvfw_bl_desc`) into
/// `gen_bootloader.tlv`: `STRT` = `start_tag`, `CDSZ` = `code_size`, `BLOB` = the payload.
pub fn gen_bootloader(file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    let hdr = BinHeader::parse(file)?;
    let [start_tag, dmem_load_off, code_off, code_size, data_off, data_size] = read_u32s::<6>(
        file,
        u64::from(hdr.header_offset),
        "bootloader descriptor (nvfw_bl_desc)",
    )?;
    let payload = hdr.payload(file)?;
    // nova-core takes the code from the start of BLOB and has no DMEM load offset.
    if code_off != 0 {
        return Err(inconsistent(format!(
            "bootloader code offset is {code_off:#x}; nova-core needs the code at the start"
        )));
    }
    if dmem_load_off != 0 {
        return Err(inconsistent(format!(
            "bootloader DMEM load offset is {dmem_load_off:#x}; nova-core loads at 0"
        )));
    }
    if code_size == 0 {
        return Err(inconsistent("bootloader code is empty"));
    }
    check_inside("the bootloader code", code_off, code_size, payload.len())?;
    check_inside("the bootloader data", data_off, data_size, payload.len())?;
    if u16::try_from(start_tag).is_err() {
        return Err(inconsistent(format!(
            "start tag {start_tag:#x} does not fit in 16 bits"
        )));
    }
    let aligned = u64::from(code_size).checked_next_multiple_of(u64::from(FALCON_BLOCK));
    if aligned.is_none_or(|a| a > GEN_BOOTLOADER_CEILING) {
        return Err(inconsistent(format!(
            "bootloader code ({code_size:#x} bytes) does not fit below IMEM 64 KiB"
        )));
    }

    let mut w = TlvWriter::new();
    w.string(Tag::VERS, version)?
        .u32(Tag::STRT, start_tag)?
        .u32(Tag::CDSZ, code_size)?
        .bytes(Tag::BLOB, payload)?;
    self_check(TlvKind::GenBootloader, w.finish()?)
}

/// Converts `fmc-<version>.bin` (ELF32 with `hash`, `signature`, `publickey` and `image`
/// sections) into `fmc.tlv`: `HASH`, `SIGN`, `PKEY` and `BLOB` respectively.
pub fn fmc(file: &[u8], version: &str) -> Result<Vec<u8>, ConvertError> {
    let elf = Elf::parse(file)?;
    if elf.class() != Class::Elf32 {
        return Err(inconsistent(
            "the FMC file is an ELF64 file; NVIDIA ships it as ELF32",
        ));
    }
    // Non-zero sh_info is the CRC-32 of the section (nouveau's elf_validate_sections()).
    for (index, section) in elf.sections().iter().enumerate().skip(1) {
        if section.info != 0 && section.sh_type != SHT_NOBITS {
            let crc = crc32(elf.contents(section));
            if crc != section.info {
                return Err(inconsistent(format!(
                    "FMC section {index} ({}) has CRC-32 {crc:#010x}, its header says {:#010x}",
                    section.name, section.info
                )));
            }
        }
    }
    let get = |name: &str| -> Result<&[u8], ConvertError> {
        let section = elf
            .section(name)?
            .filter(|s| s.sh_type == SHT_PROGBITS)
            .ok_or_else(|| inconsistent(format!("the FMC ELF file has no {name} section")))?;
        let contents = elf.contents(section);
        if contents.is_empty() {
            return Err(inconsistent(format!("the FMC's {name} section is empty")));
        }
        Ok(contents)
    };
    let hash = get("hash")?;
    let signature = get("signature")?;
    let public_key = get("publickey")?;
    let image = get("image")?;
    if hash.len() != expect::FMC_HASH_SIZE {
        return Err(inconsistent(format!(
            "the FMC hash is {} bytes, a SHA-384 is {}",
            hash.len(),
            expect::FMC_HASH_SIZE
        )));
    }
    for (name, value) in [("public key", public_key), ("signature", signature)] {
        if value.len() > expect::FMC_KEY_MAX {
            return Err(inconsistent(format!(
                "the FMC {name} is {} bytes, more than the {} nova-core accepts",
                value.len(),
                expect::FMC_KEY_MAX
            )));
        }
    }

    let mut w = TlvWriter::new();
    w.string(Tag::VERS, version)?
        .bytes(Tag::HASH, hash)?
        .bytes(Tag::PKEY, public_key)?
        .bytes(Tag::SIGN, signature)?
        .bytes(Tag::BLOB, image)?;
    self_check(TlvKind::Fmc, w.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, Booter};

    const V: &str = "570.144";

    fn parse(tlv: &[u8]) -> Tlv<'_> {
        Tlv::parse(tlv).unwrap()
    }

    fn inconsistent_text(r: Result<impl std::fmt::Debug, ConvertError>) -> String {
        match r {
            Err(ConvertError::Inconsistent(why)) => why,
            other => panic!("expected an inconsistency, got {other:?}"),
        }
    }

    /// Flips bytes of `file` one at a time (deterministically) and runs `f`, which must not
    /// panic whatever it returns.
    fn mutate(file: &[u8], f: impl Fn(&[u8])) {
        let mut state = 0x1234_5678u32;
        for _ in 0..2000 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let mut m = file.to_vec();
            let pos = (state as usize >> 3) % m.len();
            m[pos] = m[pos].wrapping_add((state >> 24) as u8 | 1);
            f(&m);
        }
    }

    #[test]
    fn gsp_maps_sections() {
        let file = synth::gsp_elf(V, synth::TU_FAMILIES);
        let conv = gsp(&file, ".fwsignature_tu11x", V).unwrap();
        let tlv = parse(&conv.tlv);
        assert_eq!(tlv.string(Tag::VERS).unwrap(), V);
        assert_eq!(tlv.u32(Tag::SIZE).unwrap(), 8192);
        assert_eq!(tlv.string(Tag::FILE).unwrap(), "gsp.bin");
        assert_eq!(tlv.bytes(Tag::SIGN).unwrap(), synth::gsp_signature("tu11x"));
        assert_eq!(
            tlv.string(Tag::BLID).unwrap(),
            "0102030405060708090a0b0c0d0e0f1011121314"
        );
        assert_eq!(&file[conv.image], synth::gsp_image(synth::TU_FAMILIES));
        // Another family of the same file gets its own signatures.
        let conv = gsp(&file, ".fwsignature_ga100", V).unwrap();
        assert_eq!(
            parse(&conv.tlv).bytes(Tag::SIGN).unwrap(),
            synth::gsp_signature("ga100")
        );
    }

    #[test]
    fn gsp_refusals() {
        let file = synth::gsp_elf(V, synth::TU_FAMILIES);
        let why = inconsistent_text(gsp(&file, ".fwsignature_ad10x", V));
        assert!(why.contains(".fwsignature_ad10x"), "{why}");
        let why = inconsistent_text(gsp(&file, ".fwsignature_tu10x", "580.65"));
        assert!(why.contains(".fwversion"), "{why}");
        // ELF32 container.
        let img = synth::gsp_image(&[]);
        let f32 = synth::elf(false, &[synth::sec(".fwimage", &img)]);
        assert!(inconsistent_text(gsp(&f32, ".fwsignature_tu10x", V)).contains("ELF32"));
        // No .fwimage.
        let sig = synth::gsp_signature("tu10x");
        let f = synth::elf(true, &[synth::sec(".fwsignature_tu10x", &sig)]);
        assert!(inconsistent_text(gsp(&f, ".fwsignature_tu10x", V)).contains(".fwimage"));
        // Not ELF at all.
        assert_eq!(
            gsp(b"\xde\x10\0\0\x01\0\0\0", ".fwsignature_tu10x", V),
            Err(ConvertError::Elf(ElfError::BadMagic))
        );
        // .fwimage pointing past the end of the file.
        let mut f = file.clone();
        let sh = synth::elf64_section_header(&f, 1);
        let len = f.len() as u64;
        f[sh + 32..sh + 40].copy_from_slice(&len.to_le_bytes());
        assert!(matches!(
            gsp(&f, ".fwsignature_tu10x", V),
            Err(ConvertError::Elf(ElfError::SectionOutside { index: 1, .. }))
        ));
        // Truncations and byte flips never panic.
        for len in (0..file.len()).step_by(97) {
            assert!(gsp(&file[..len], ".fwsignature_tu10x", V).is_err());
        }
        mutate(&file, |m| {
            let _ = gsp(m, ".fwsignature_tu10x", V);
        });
    }

    #[test]
    fn gsp_bootloader_maps_descriptor() {
        let file = synth::riscv_bootloader();
        let tlv_bytes = gsp_bootloader(&file, V).unwrap();
        let tlv = parse(&tlv_bytes);
        assert_eq!(tlv.u32(Tag::CDOF).unwrap(), 0x4800);
        assert_eq!(tlv.u32(Tag::DAOF).unwrap(), 0x800);
        assert_eq!(tlv.u32(Tag::MFOF).unwrap(), 0);
        assert_eq!(tlv.u32(Tag::APPV).unwrap(), 0x1234);
        assert_eq!(tlv.bytes(Tag::BLOB).unwrap(), &file[0x18 + 21 * 4..]);
    }

    #[test]
    fn gsp_bootloader_refusals() {
        let file = synth::riscv_bootloader();
        let word = |f: &mut Vec<u8>, i: usize, v: u32| {
            f[0x18 + i * 4..0x1c + i * 4].copy_from_slice(&v.to_le_bytes())
        };
        let mut f = file.clone();
        word(&mut f, 0, 3);
        assert!(inconsistent_text(gsp_bootloader(&f, V)).contains("version 3"));
        let mut f = file.clone();
        word(&mut f, 13, 0x4801); // monitor code one byte past the payload
        assert!(inconsistent_text(gsp_bootloader(&f, V)).contains("monitor code"));
        let mut f = file.clone();
        word(&mut f, 12, u32::MAX); // monitor code offset wrapping
        assert!(gsp_bootloader(&f, V).is_err());
        let mut f = file.clone();
        word(&mut f, 10, 0x810); // unaligned monitor data
        assert!(inconsistent_text(gsp_bootloader(&f, V)).contains("aligned"));
        let mut f = file.clone();
        f[0] = 0xdf;
        assert!(matches!(
            gsp_bootloader(&f, V),
            Err(ConvertError::Bin(BinError::BadMagic(0x10df)))
        ));
        // The descriptor (at header_offset) cut by the end of the file.
        let mut f = file.clone();
        f[12..16].copy_from_slice(&((file.len() - 8) as u32).to_le_bytes());
        assert!(matches!(
            gsp_bootloader(&f, V),
            Err(ConvertError::Bin(BinError::Outside { .. }))
        ));
        for len in 0..file.len().min(0x200) {
            assert!(gsp_bootloader(&file[..len], V).is_err());
        }
        mutate(&file, |m| {
            let _ = gsp_bootloader(m, V);
        });
    }

    #[test]
    fn booter_maps_hs_headers() {
        let b = Booter::ad102();
        let file = b.build();
        let tlv_bytes = booter(TlvKind::BooterLoad, &file, V).unwrap();
        let tlv = parse(&tlv_bytes);
        let u = |t| tlv.u32(t).unwrap();
        assert_eq!(u(Tag::NSIG), 2);
        assert_eq!(u(Tag::PLOC), 0x1e10);
        assert_eq!((u(Tag::FUSE), u(Tag::ENID), u(Tag::UCID)), (1, 1, 3));
        assert_eq!((u(Tag::CDOF), u(Tag::CDSZ)), (0, 0x100));
        assert_eq!((u(Tag::DAOF), u(Tag::DASZ)), (0x1e00, 0x800));
        assert_eq!((u(Tag::A0CO), u(Tag::A0CS)), (0x100, 0x1d00));
        let sign = tlv.bytes(Tag::SIGN).unwrap();
        assert_eq!(sign.len(), 768);
        assert!(sign[..384].iter().all(|&b| b == 0xa0));
        assert!(sign[384..].iter().all(|&b| b == 0xa1));
        let data_offset = u32::from_le_bytes(file[16..20].try_into().unwrap()) as usize;
        assert_eq!(tlv.bytes(Tag::BLOB).unwrap(), &file[data_offset..]);
        assert_eq!(tlv.string(Tag::VERS).unwrap(), V);

        // Turing: one 16-byte signature.
        let tlv_bytes = booter(TlvKind::BooterUnload, &Booter::tu102().build(), V).unwrap();
        let tlv = parse(&tlv_bytes);
        assert_eq!(tlv.u32(Tag::NSIG).unwrap(), 1);
        assert_eq!(tlv.bytes(Tag::SIGN).unwrap(), &[0xa0; 16]);
        assert_eq!(tlv.u32(Tag::UCID).unwrap(), 13);

        assert!(booter(TlvKind::Fmc, &file, V).is_err());
    }

    #[test]
    fn booter_refusals() {
        let base = Booter::ad102();
        let cases: [(Booter, &str); 7] = [
            (Booter { num_sig: 0, ..base }, "no signature"),
            (
                Booter {
                    engine: 0x1_0000,
                    ..base
                },
                "16 bits",
            ),
            (
                Booter {
                    ucode: 0x100,
                    ..base
                },
                "8 bits",
            ),
            (
                Booter {
                    patch_loc: 0x100,
                    ..base
                },
                "before the data",
            ),
            (
                Booter {
                    patch_loc: 0x2500,
                    ..base
                },
                "signature patch",
            ),
            (
                Booter {
                    os_data: (0x1e00, 0x801),
                    ..base
                },
                "OS data",
            ),
            (
                Booter {
                    app0: (0x200, 0x1d00),
                    ..base
                },
                "differs",
            ),
        ];
        for (b, text) in cases {
            let why = inconsistent_text(booter(TlvKind::BooterLoad, &b.build(), V));
            assert!(why.contains(text), "{text}: {why}");
        }
        let file = base.build();
        let hs_word = |f: &mut Vec<u8>, i: usize, v: u32| {
            f[0x18 + i * 4..0x1c + i * 4].copy_from_slice(&v.to_le_bytes())
        };
        // Hostile pointers in the HS header.
        for (i, v) in [
            (2, u32::MAX),          // patch location pointer
            (3, file.len() as u32), // signature index pointer
            (4, u32::MAX - 4),      // metadata
            (6, u32::MAX),          // signature count pointer
            (7, u32::MAX - 8),      // load header
            (0, u32::MAX),          // signatures
            (1, 0xffff_ff00),       // signature size (divisible by 2)
        ] {
            let mut f = file.clone();
            hs_word(&mut f, i, v);
            assert!(
                matches!(
                    booter(TlvKind::BooterLoad, &f, V),
                    Err(ConvertError::Bin(BinError::Outside { .. }))
                        | Err(ConvertError::Inconsistent(_))
                ),
                "HS word {i} = {v:#x}"
            );
        }
        let mut f = file.clone();
        hs_word(&mut f, 5, 16); // metadata size
        assert!(inconsistent_text(booter(TlvKind::BooterLoad, &f, V)).contains("metadata"));
        let mut f = file.clone();
        hs_word(&mut f, 1, 767); // 767 bytes for 2 signatures
        assert!(inconsistent_text(booter(TlvKind::BooterLoad, &f, V)).contains("split"));
        let mut f = file.clone();
        hs_word(&mut f, 8, 52); // load header size for one app is 36
        assert!(inconsistent_text(booter(TlvKind::BooterLoad, &f, V)).contains("load header"));
        for len in 0..0x400 {
            assert!(booter(TlvKind::BooterLoad, &file[..len], V).is_err());
        }
        mutate(&file, |m| {
            let _ = booter(TlvKind::BooterLoad, m, V);
        });
    }

    #[test]
    fn gen_bootloader_maps_descriptor() {
        let file = synth::gen_bootloader();
        let tlv_bytes = gen_bootloader(&file, V).unwrap();
        let tlv = parse(&tlv_bytes);
        assert_eq!(tlv.u32(Tag::STRT).unwrap(), 253);
        assert_eq!(tlv.u32(Tag::CDSZ).unwrap(), 512);
        assert_eq!(tlv.bytes(Tag::BLOB).unwrap(), &file[0x30..]);

        let word = |i: usize, v: u32| {
            let mut f = file.clone();
            f[0x18 + i * 4..0x1c + i * 4].copy_from_slice(&v.to_le_bytes());
            f
        };
        assert!(inconsistent_text(gen_bootloader(&word(0, 0x1_0000), V)).contains("start tag"));
        assert!(inconsistent_text(gen_bootloader(&word(1, 4), V)).contains("DMEM"));
        assert!(inconsistent_text(gen_bootloader(&word(2, 0x100), V)).contains("code offset"));
        assert!(inconsistent_text(gen_bootloader(&word(3, 0x301), V)).contains("outside"));
        assert!(inconsistent_text(gen_bootloader(&word(3, 0), V)).contains("empty"));
        assert!(inconsistent_text(gen_bootloader(&word(4, u32::MAX), V)).contains("data"));
        for len in 0..file.len() {
            assert!(gen_bootloader(&file[..len], V).is_err());
        }
        mutate(&file, |m| {
            let _ = gen_bootloader(m, V);
        });
    }

    #[test]
    fn fmc_maps_sections() {
        for (sig, pkey) in [(384, 384), (96, 97)] {
            let file = synth::fmc_elf(sig, pkey, crc32);
            let tlv_bytes = fmc(&file, V).unwrap();
            let tlv = parse(&tlv_bytes);
            assert_eq!(tlv.bytes(Tag::HASH).unwrap(), &[0x48; 48]);
            assert_eq!(tlv.bytes(Tag::SIGN).unwrap(), vec![0x53; sig]);
            assert_eq!(tlv.bytes(Tag::PKEY).unwrap(), vec![0x50; pkey]);
            assert_eq!(tlv.bytes(Tag::BLOB).unwrap().len(), 3000);
        }
    }

    #[test]
    fn fmc_refusals() {
        let file = synth::fmc_elf(384, 384, crc32);
        // A corrupted image byte no longer matches its CRC.
        let mut f = file.clone();
        f[52 + 48 + 384 + 384 + 10] ^= 1;
        assert!(inconsistent_text(fmc(&f, V)).contains("CRC"));
        assert!(inconsistent_text(fmc(&synth::fmc_elf(385, 384, crc32), V)).contains("signature"));
        assert!(inconsistent_text(fmc(&synth::fmc_elf(96, 400, crc32), V)).contains("public key"));
        let h = [0u8; 47];
        let f = synth::elf(
            false,
            &[
                synth::sec("hash", &h),
                synth::sec("signature", &[1]),
                synth::sec("publickey", &[1]),
                synth::sec("image", &[1]),
            ],
        );
        assert!(inconsistent_text(fmc(&f, V)).contains("SHA-384"));
        let f = synth::elf(false, &[synth::sec("hash", &[0; 48])]);
        assert!(inconsistent_text(fmc(&f, V)).contains("signature section"));
        let f = synth::elf(true, &[synth::sec("hash", &[0; 48])]);
        assert!(inconsistent_text(fmc(&f, V)).contains("ELF64"));
        for len in 0..file.len() {
            assert!(fmc(&file[..len], V).is_err());
        }
        mutate(&file, |m| {
            let _ = fmc(m, V);
        });
    }

    #[test]
    fn version_must_be_printable() {
        assert!(matches!(
            gen_bootloader(&synth::gen_bootloader(), "570\n144"),
            Err(ConvertError::Tlv(TlvError::NotPrintable(_)))
        ));
    }
}
