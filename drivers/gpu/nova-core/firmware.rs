// SPDX-License-Identifier: GPL-2.0

//! The GSP firmware files, as distributions ship them.
//!
//! nova uses NVIDIA's GSP-RM release [`VERSION`] in the layout of Debian's
//! `firmware-nvidia-graphics` package (and linux-firmware's):
//! `nvidia/<chip>/gsp/<file>-<version>.bin`.
//! Every chip needs the GSP-RM image (`gsp`, an ELF64 object with one signature section per
//! chip family) and the RISC-V `bootloader`; chips up to Ada also need the SEC2 `booter_load`
//! and `booter_unload`, Turing and GA100 the `gen_bootloader`, Ada the `scrubber`, and Hopper
//! and Blackwell the FSP's `fmc` (an ELF32 object). The `.bin` files other than `gsp` and `fmc`
//! start with NVIDIA's binary header ([`BinHeader`]).
//!
//! Nothing in a file is trusted: every offset and size is checked against the file before use.

use kernel::{
    device, firmware::Firmware, fmt, num::casts::FromSafeCast, prelude::*, str::CString,
    transmute::FromBytes,
};

use crate::{
    gpu::{Architecture, Chipset},
    gsp::hal::GspHal,
};

pub(crate) mod elf;
pub(crate) mod gen_bootloader;
pub(crate) mod gsp;
pub(crate) mod hs;
pub(crate) mod riscv;

/// The GSP-RM release whose files (and, later, ABI) nova uses.
pub(crate) const VERSION: &str = "570.144";

/// The Debian package that ships the files, named in the error for a missing file.
const PACKAGE: &str = "firmware-nvidia-graphics";

/// Why a firmware file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FwError {
    /// The file does not start with the magic number of its format.
    BadMagic,
    /// An offset or size in the file points outside it.
    Truncated,
    /// A required ELF section is absent.
    MissingSection,
    /// The file is inconsistent in another way, described by the text.
    Malformed(&'static str),
    /// A field holds a value the driver cannot use: outside the file, past the documented
    /// upper bound of the field, or otherwise unusable, as `why` says.
    Field {
        /// The field, as NVIDIA's structure (or the ELF specification) names it.
        field: &'static str,
        /// Its value.
        value: u64,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The region a field places (`field` = `value`) overlaps `other`.
    Overlap {
        /// The field that places the region.
        field: &'static str,
        /// Its value (the start of the region).
        value: u64,
        /// What it overlaps.
        other: &'static str,
    },
}

impl FwError {
    /// A [`FwError::Field`] error.
    pub(crate) const fn field(field: &'static str, value: u64, why: &'static str) -> Self {
        Self::Field { field, value, why }
    }
}

/// A region of a file or payload that a field places, for the layout checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    /// What the region is (named after the field that places it).
    pub(crate) what: &'static str,
    /// Where it is.
    pub(crate) range: core::ops::Range<usize>,
}

impl Region {
    /// The region `offset..offset + size`, which must lie inside `limit` bytes; `what` names the
    /// field holding `offset` (and the error).
    pub(crate) fn new(
        what: &'static str,
        offset: u64,
        size: u64,
        limit: usize,
    ) -> Result<Self, FwError> {
        let end = offset.checked_add(size).ok_or(FwError::field(
            what,
            offset,
            "offset + size overflows",
        ))?;
        match (usize::try_from(offset), usize::try_from(end)) {
            (Ok(start), Ok(end)) if end <= limit => Ok(Self {
                what,
                range: start..end,
            }),
            _ => Err(FwError::field(what, offset, "region runs past the end")),
        }
    }

    /// Whether `self` and `other` share a byte (empty regions share none).
    pub(crate) fn overlaps(&self, other: &Region) -> bool {
        self.range.start < other.range.end
            && other.range.start < self.range.end
            && !self.range.is_empty()
            && !other.range.is_empty()
    }
}

/// Fails with [`FwError::Overlap`] if any two of `regions` overlap.
pub(crate) fn no_overlaps(regions: &[Region]) -> Result<(), FwError> {
    for (i, a) in regions.iter().enumerate() {
        for b in regions.iter().skip(i + 1) {
            if a.overlaps(b) {
                return Err(FwError::Overlap {
                    field: b.what,
                    value: u64::from_safe_cast(b.range.start),
                    other: a.what,
                });
            }
        }
    }
    Ok(())
}

/// Fails with a [`FwError::Field`] error naming `field` if `value` exceeds `max`, the field's
/// documented upper bound.
pub(crate) fn at_most(field: &'static str, value: u64, max: u64) -> Result<(), FwError> {
    if value > max {
        return Err(FwError::field(
            field,
            value,
            "larger than the driver accepts",
        ));
    }
    Ok(())
}

impl fmt::Display for FwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => f.write_str("wrong magic number"),
            Self::Truncated => f.write_str("truncated: an offset or size points past the end"),
            Self::MissingSection => f.write_str("a required section is missing"),
            Self::Malformed(what) => f.write_str(what),
            Self::Field { field, value, why } => {
                f.write_fmt(fmt!("{} = {:#x}: {}", field, value, why))
            }
            Self::Overlap {
                field,
                value,
                other,
            } => f.write_fmt(fmt!("{} = {:#x}: overlaps {}", field, value, other)),
        }
    }
}

/// NVIDIA's binary firmware header as stored (`nvfw_bin_hdr`, nouveau `include/nvfw/fw.h`;
/// `BINARY_HEADER` in upstream nova-core `firmware.rs`): six little-endian 32-bit words at the
/// start of the file.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawBinHeader {
    /// `0x10de`.
    bin_magic: u32,
    /// 1.
    bin_ver: u32,
    /// Size of the whole image (not used: Debian's files are shorter than it says).
    bin_size: u32,
    /// Offset of the format-specific header.
    header_offset: u32,
    /// Offset of the payload.
    data_offset: u32,
    /// Size of the payload.
    data_size: u32,
}

// SAFETY: `RawBinHeader` is plain old data: any bit pattern is valid.
unsafe impl FromBytes for RawBinHeader {}

/// NVIDIA's binary firmware header, checked against the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BinHeader {
    /// Offset of the format-specific header.
    pub(crate) header_offset: usize,
    /// Offset of the payload.
    pub(crate) data_offset: usize,
    /// Size of the payload.
    pub(crate) data_size: usize,
}

impl BinHeader {
    const MAGIC: u32 = 0x10de;
    const VERSION: u32 = 1;
    /// The header's size.
    pub(crate) const SIZE: usize = core::mem::size_of::<RawBinHeader>();

    /// Parses and checks the header of `data`: magic, version, that the format header and the
    /// payload lie inside the file, and that the payload (of at most `max_data` bytes) overlaps
    /// neither this header nor the start of the format header.
    pub(crate) fn parse(data: &[u8], max_data: usize) -> Result<Self, FwError> {
        let raw = RawBinHeader::from_bytes_copy(data.get(..Self::SIZE).ok_or(FwError::Truncated)?)
            .ok_or(FwError::Truncated)?;
        if u32::from_le(raw.bin_magic) != Self::MAGIC {
            return Err(FwError::BadMagic);
        }
        if u32::from_le(raw.bin_ver) != Self::VERSION {
            return Err(FwError::Malformed("unknown binary header version"));
        }
        let header_offset = u32::from_le(raw.header_offset);
        let data_offset = u32::from_le(raw.data_offset);
        let data_size = u32::from_le(raw.data_size);
        let hdr = Self {
            header_offset: usize::from_safe_cast(header_offset),
            data_offset: usize::from_safe_cast(data_offset),
            data_size: usize::from_safe_cast(data_size),
        };
        if hdr.header_offset < Self::SIZE || hdr.header_offset >= data.len() {
            return Err(FwError::field(
                "header_offset",
                header_offset.into(),
                "format header outside the file",
            ));
        }
        if data_size == 0 {
            return Err(FwError::field("data_size", 0, "empty payload"));
        }
        at_most("data_size", data_size.into(), u64::from_safe_cast(max_data))?;
        let payload = Region::new(
            "data_offset",
            data_offset.into(),
            data_size.into(),
            data.len(),
        )?;
        if payload.range.start <= hdr.header_offset {
            return Err(FwError::Overlap {
                field: "data_offset",
                value: data_offset.into(),
                other: "the binary and format headers",
            });
        }
        Ok(hdr)
    }

    /// The payload's bytes in the file (inside it, as [`BinHeader::parse`] checked).
    pub(crate) fn payload(self) -> core::ops::Range<usize> {
        self.data_offset..self.data_offset + self.data_size
    }
}

/// A file of the GSP firmware set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FwFile {
    /// The GSP-RM image (ELF64).
    Gsp,
    /// The GSP's RISC-V bootloader.
    Bootloader,
    /// SEC2's booter that starts GSP-RM (Turing to Ada).
    BooterLoad,
    /// SEC2's booter that stops GSP-RM (Turing to Ada).
    BooterUnload,
    /// The generic bootloader for FWSEC (Turing, GA100).
    GenBootloader,
    /// The FB scrubber (Ada).
    Scrubber,
    /// The FSP's first mutable code (Hopper, Blackwell; ELF32).
    Fmc,
}

impl FwFile {
    /// The file's base name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Gsp => "gsp",
            Self::Bootloader => "bootloader",
            Self::BooterLoad => "booter_load",
            Self::BooterUnload => "booter_unload",
            Self::GenBootloader => "gen_bootloader",
            Self::Scrubber => "scrubber",
            Self::Fmc => "fmc",
        }
    }

    /// The files `chipset` needs, as the firmware package provides them (the GSP HAL's
    /// [`GspHal::files`]).
    pub(crate) const fn required(chipset: Chipset) -> &'static [FwFile] {
        GspHal::of(chipset).files
    }
}

/// Lists every file nova-core may request, for the module's `firmware=` tags (which tools such
/// as initramfs generators read to include the files).
pub(crate) struct ModInfoBuilder<const N: usize>;

impl<const N: usize> ModInfoBuilder<N> {
    /// Builds the list; called by [`kernel::module_firmware!`].
    pub(crate) const fn create(module_name: &'static CStr) -> kernel::firmware::ModInfoBuilder<N> {
        let mut builder = kernel::firmware::ModInfoBuilder::new(module_name);
        let mut i = 0;
        while i < Chipset::ALL.len() {
            let chip = Chipset::ALL[i];
            let files = FwFile::required(chip);
            let mut j = 0;
            while j < files.len() {
                builder = builder
                    .new_entry()
                    .push("nvidia/")
                    .push(chip.name())
                    .push("/gsp/")
                    .push(files[j].name())
                    .push("-")
                    .push(VERSION)
                    .push(".bin");
                j += 1;
            }
            i += 1;
        }
        builder
    }
}

/// The name of the signature section in `gsp-*.bin` that belongs to `chipset`'s family.
pub(crate) fn signature_section(chipset: Chipset) -> &'static str {
    match chipset.arch() {
        Architecture::Turing => match chipset {
            Chipset::TU116 | Chipset::TU117 => ".fwsignature_tu11x",
            _ => ".fwsignature_tu10x",
        },
        Architecture::Ampere => match chipset {
            Chipset::GA100 => ".fwsignature_ga100",
            _ => ".fwsignature_ga10x",
        },
        Architecture::Ada => ".fwsignature_ad10x",
        Architecture::Hopper => ".fwsignature_gh100",
        Architecture::BlackwellGB10x => ".fwsignature_gb10x",
        Architecture::BlackwellGB20x => ".fwsignature_gb20x",
    }
}

/// Checks the contents of `file` for `chipset`.
pub(crate) fn validate(file: FwFile, chipset: Chipset, data: &[u8]) -> Result<(), FwError> {
    match file {
        FwFile::Gsp => {
            let image = gsp::GspImage::parse(data, chipset)?;
            if image.version != VERSION.as_bytes() {
                return Err(FwError::Malformed("GSP-RM image of another release"));
            }
        }
        FwFile::Bootloader => {
            riscv::Bootloader::parse(data)?;
        }
        FwFile::BooterLoad | FwFile::BooterUnload | FwFile::Scrubber => {
            hs::HsLayout::parse(data)?;
        }
        FwFile::GenBootloader => {
            gen_bootloader::GenBootloader::parse(data)?;
        }
        FwFile::Fmc => {
            elf::check_layout(data, elf::FMC_LIMITS)?;
            elf::section(data, "image")?;
            elf::section(data, "signature")?;
        }
    }
    Ok(())
}

/// Returns the path of `file` for `chipset`, relative to the firmware directory.
fn path(chipset: Chipset, file: FwFile) -> Result<CString> {
    CString::try_from_fmt(fmt!(
        "nvidia/{}/gsp/{}-{}.bin",
        chipset.name(),
        file.name(),
        VERSION
    ))
}

/// Loads firmware `file` of `chipset` and checks it.
///
/// A missing file fails with `ENOENT` and a corrupt one with `EINVAL`, each after one log line
/// that names the file (and, for a missing one, the package that ships it).
pub(crate) fn request_checked(
    dev: &device::Device,
    chipset: Chipset,
    file: FwFile,
) -> Result<Firmware> {
    let name = path(chipset, file)?;
    let fw = match Firmware::request_nowarn(&name, dev) {
        Ok(fw) => fw,
        Err(e) => {
            dev_err!(
                dev,
                "[fw-missing] missing firmware file {} (error {}): install package {} \
                 (GSP-RM {})\n",
                name.to_str().unwrap_or("?"),
                e.to_errno(),
                PACKAGE,
                VERSION
            );
            return Err(if e == ENOMEM { ENOMEM } else { ENOENT });
        }
    };
    validate(file, chipset, fw.data()).map_err(|why| {
        dev_err!(
            dev,
            "[fw-corrupt] corrupt firmware file {} ({} bytes): {}\n",
            name.to_str().unwrap_or("?"),
            fw.size(),
            why
        );
        EINVAL
    })?;
    Ok(fw)
}

/// Loads every firmware file `chipset` needs, except those in `later` (which the caller loads
/// itself with [`request_checked`]), and checks it; see [`request_checked`] for the errors.
pub(crate) fn check_files(dev: &device::Device, chipset: Chipset, later: &[FwFile]) -> Result {
    for &file in FwFile::required(chipset) {
        if !later.contains(&file) {
            request_checked(dev, chipset, file)?;
        }
    }
    Ok(())
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_firmware)]
mod tests {
    use super::*;
    use kernel::alloc::AllocError;

    fn header(words: [u32; 6], len: usize) -> Result<KVec<u8>, AllocError> {
        let mut v = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        for (i, w) in words.iter().enumerate() {
            if i * 4 + 4 <= len {
                v[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        Ok(v)
    }

    #[test]
    fn bin_header_of_a_real_layout() -> Result<(), AllocError> {
        // The layout of AD102's booter_load-570.144.bin: header at 0x18, payload at 0x378.
        let f = header([0x10de, 1, 0xe200, 0x18, 0x378, 0xde00], 0xe178)?;
        assert_eq!(
            BinHeader::parse(&f, 0x10000),
            Ok(BinHeader {
                header_offset: 0x18,
                data_offset: 0x378,
                data_size: 0xde00
            })
        );
        Ok(())
    }

    #[test]
    fn bin_header_refusals() -> Result<(), AllocError> {
        let ok = [0x10de, 1, 0x100, 0x18, 0x40, 0x40];
        assert!(BinHeader::parse(&header(ok, 0x80)?, 0x40).is_ok());
        // Every truncation of the header itself.
        for len in 0..24 {
            assert!(BinHeader::parse(&header(ok, len)?, 0x40).is_err());
        }
        let past = FwError::field("data_offset", 0x50, "region runs past the end");
        let cases: [([u32; 6], FwError); 8] = [
            ([0x10df, 1, 0x100, 0x18, 0x40, 0x40], FwError::BadMagic),
            (
                [0x10de, 2, 0x100, 0x18, 0x40, 0x40],
                FwError::Malformed("unknown binary header version"),
            ),
            ([0x10de, 1, 0x100, 0x18, 0x50, 0x40], past),
            (
                [0x10de, 1, 0x100, 0x18, u32::MAX, 2],
                FwError::field("data_offset", u32::MAX.into(), "region runs past the end"),
            ),
            (
                [0x10de, 1, 0x100, 0x18, 0x40, 0],
                FwError::field("data_size", 0, "empty payload"),
            ),
            (
                [0x10de, 1, 0x100, 0x80, 0x40, 0x40],
                FwError::field("header_offset", 0x80, "format header outside the file"),
            ),
            // The payload over the headers, and larger than the format allows.
            (
                [0x10de, 1, 0x100, 0x18, 0x10, 0x40],
                FwError::Overlap {
                    field: "data_offset",
                    value: 0x10,
                    other: "the binary and format headers",
                },
            ),
            (
                [0x10de, 1, 0x100, 0x18, 0x20, 0x48],
                FwError::field("data_size", 0x48, "larger than the driver accepts"),
            ),
        ];
        for (words, err) in cases {
            assert_eq!(BinHeader::parse(&header(words, 0x80)?, 0x40), Err(err));
        }
        Ok(())
    }

    #[test]
    fn every_chip_has_a_file_set_and_a_signature() {
        for &chip in Chipset::ALL {
            let files = FwFile::required(chip);
            assert!(files.contains(&FwFile::Gsp));
            assert!(files.contains(&FwFile::Bootloader));
            assert!(signature_section(chip).starts_with(".fwsignature_"));
        }
        assert_eq!(signature_section(Chipset::TU117), ".fwsignature_tu11x");
        assert_eq!(signature_section(Chipset::GA107), ".fwsignature_ga10x");
        assert_eq!(signature_section(Chipset::AD104), ".fwsignature_ad10x");
        assert_eq!(signature_section(Chipset::GB207), ".fwsignature_gb20x");
        assert!(FwFile::required(Chipset::AD102).contains(&FwFile::Scrubber));
        assert!(FwFile::required(Chipset::GA100).contains(&FwFile::GenBootloader));
        assert!(!FwFile::required(Chipset::GA102).contains(&FwFile::GenBootloader));
        assert!(FwFile::required(Chipset::GH100).contains(&FwFile::Fmc));
    }

    #[test]
    fn non_elf_gsp_is_refused() {
        assert_eq!(
            validate(FwFile::Gsp, Chipset::AD102, b"\xde\x10\0\0\x01\0\0\0"),
            Err(FwError::BadMagic)
        );
    }
}
