// SPDX-License-Identifier: GPL-2.0

//! The VBIOS, and the FWSEC ucode in it.
//!
//! The VBIOS ROM is read through the PROM window in BAR0 ([`rom`]). Its PC-AT image holds the
//! BIOS Information Table, whose falcon data token points to the falcon ucode table in the
//! NVIDIA images ([`bit`]); the table's production FWSEC entry points to the FWSEC descriptor,
//! followed by its signatures and its ucode ([`fwsec`]). FWSEC is the heavy-secure ucode that,
//! run on the GSP falcon with the FRTS command, sets up the WPR2 region GSP-RM boots into.
//!
//! Parsing works on the bytes read, so that it can be tested on synthesized ROMs. Nothing in the
//! ROM is trusted: every offset is checked against what was read, with checked arithmetic, and
//! a malformed ROM gives [`VbiosError`], which names what was wrong and where.

use kernel::{device, fmt, io::register::Array, io::Io, prelude::*, transmute::FromBytes};

use crate::{
    driver::Bar0,
    falcon::BromParams,
    gpu::{Architecture, Chipset},
    regs,
};

mod bit;
mod fwsec;
mod rom;

pub(crate) use fwsec::{DescVersion, FwsecCommand, FwsecImage, Segment};

use bit::{BiosVersion, Bit};
use fwsec::Fwsec;
use rom::{Rom, WordReader};

/// Reads the `T` at `offset` of `data`, as a copy: ROM structures are not aligned.
fn read<T: FromBytes>(data: &[u8], offset: usize) -> Option<T> {
    T::from_bytes_copy(data.get(offset..offset.checked_add(size_of::<T>())?)?)
}

/// The bytes of the expansion ROM, read when first asked for.
pub(crate) trait Source {
    /// Returns the `len` bytes at ROM offset `offset`, or [`VbiosError::Truncated`] naming
    /// `what` when they are not all inside the ROM.
    fn get(&mut self, offset: usize, len: usize, what: &'static str) -> Result<&[u8], VbiosError>;

    /// Returns the `T` at ROM offset `offset`, or [`VbiosError::Truncated`] naming `what`.
    fn read<T: FromBytes>(&mut self, offset: usize, what: &'static str) -> Result<T, VbiosError> {
        let bytes = self.get(offset, size_of::<T>(), what)?;
        T::from_bytes_copy(bytes).ok_or(VbiosError::Truncated { what, offset })
    }

    /// Returns the little-endian `u32` at ROM offset `offset`.
    fn u32_at(&mut self, offset: usize, what: &'static str) -> Result<u32, VbiosError> {
        self.read::<u32>(offset, what).map(u32::from_le)
    }

    /// Like [`Source::get`], but a read past the ROM's end fails with `past` instead of
    /// [`VbiosError::Truncated`].
    fn get_or(
        &mut self,
        offset: usize,
        len: usize,
        what: &'static str,
        past: VbiosError,
    ) -> Result<&[u8], VbiosError> {
        self.get(offset, len, what).map_err(|e| e.past_end_as(past))
    }
}

/// Why the VBIOS, or the FWSEC ucode in it, was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VbiosError {
    /// Memory for the ROM or the ucode could not be allocated.
    NoMemory,
    /// A structure ends past the PROM window.
    OutsideWindow {
        /// The structure.
        what: &'static str,
        /// Window offset of its end.
        end: usize,
    },
    /// The IFR header is inconsistent.
    Ifr(&'static str),
    /// The IFR header has a version nova does not know.
    IfrVersion(u32),
    /// An image's ROM header has no valid signature.
    RomSignature {
        /// Index of the image in the chain.
        index: usize,
        /// Window offset of the image.
        offset: usize,
        /// The signature found.
        signature: u16,
    },
    /// An image's PCI data structure has no valid signature.
    PcirSignature {
        /// Index of the image in the chain.
        index: usize,
        /// Window offset of the image.
        offset: usize,
        /// The signature found.
        signature: u32,
    },
    /// An image has length zero.
    ZeroLength {
        /// Index of the image in the chain.
        index: usize,
        /// Window offset of the image.
        offset: usize,
    },
    /// An image runs past the PROM window.
    ImageOutside {
        /// Index of the image in the chain.
        index: usize,
        /// Window offset of the image.
        offset: usize,
    },
    /// No BIT header (with a valid checksum) in the ROM.
    NoBit,
    /// The BIT's tokens are too small to hold a data pointer.
    BitTokenSize(usize),
    /// A structure runs past the end of the ROM.
    Truncated {
        /// The structure.
        what: &'static str,
        /// ROM offset of the structure.
        offset: usize,
    },
    /// A BIT token's data lies outside the ROM.
    TokenOutside {
        /// Token id.
        id: u8,
        /// Its data pointer.
        pointer: u32,
    },
    /// The BIT has no falcon data token (version 2).
    NoFalconData,
    /// The falcon ucode table is malformed.
    UcodeTable {
        /// ROM offset of the table.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The falcon ucode table has no production FWSEC.
    NoFwsec {
        /// ROM offset of the table.
        table: usize,
    },
    /// The FWSEC descriptor is malformed.
    Descriptor {
        /// ROM offset of the descriptor.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The FWSEC descriptor has a version nova does not handle.
    DescriptorVersion(u8),
    /// FWSEC's application interfaces in DMEM are malformed.
    Interface(&'static str),
    /// FWSEC has no signature for the board's fuse version.
    NoSignature {
        /// The fuse version.
        fuse_version: u32,
        /// The descriptor's signature versions.
        versions: u16,
    },
    /// A FWSEC command could not be patched in.
    Command(&'static str),
    /// The ucode version fuse could not be read.
    Fuse {
        /// The ucode id.
        ucode_id: u8,
        /// What is wrong.
        what: &'static str,
    },
}

impl VbiosError {
    /// Returns the error code for the error.
    pub(crate) fn to_error(self) -> Error {
        match self {
            Self::NoMemory => ENOMEM,
            Self::Fuse { .. } => EIO,
            _ => EINVAL,
        }
    }

    /// Returns `past` if this is a read past the ROM's end ([`VbiosError::Truncated`]), and
    /// this error otherwise.
    fn past_end_as(self, past: VbiosError) -> VbiosError {
        match self {
            Self::Truncated { .. } => past,
            e => e,
        }
    }
}

impl fmt::Display for VbiosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoMemory => f.write_str("out of memory"),
            Self::OutsideWindow { what, end } => f.write_fmt(fmt!(
                "{} ends at {:#x}, past the 1 MiB PROM window",
                what,
                end
            )),
            Self::Ifr(what) => f.write_fmt(fmt!("IFR header: {}", what)),
            Self::IfrVersion(v) => f.write_fmt(fmt!("IFR header: unknown version {}", v)),
            Self::RomSignature {
                index,
                offset,
                signature,
            } => f.write_fmt(fmt!(
                "image {} at PROM offset {:#x}: bad ROM signature {:#06x}",
                index,
                offset,
                signature
            )),
            Self::PcirSignature {
                index,
                offset,
                signature,
            } => f.write_fmt(fmt!(
                "image {} at PROM offset {:#x}: bad PCI data structure signature {:#010x}",
                index,
                offset,
                signature
            )),
            Self::ZeroLength { index, offset } => f.write_fmt(fmt!(
                "image {} at PROM offset {:#x}: image length is zero",
                index,
                offset
            )),
            Self::ImageOutside { index, offset } => f.write_fmt(fmt!(
                "image {} at PROM offset {:#x}: runs past the PROM window (no last image?)",
                index,
                offset
            )),
            Self::NoBit => f.write_str("no BIT header with a valid checksum"),
            Self::BitTokenSize(size) => f.write_fmt(fmt!("BIT token size {} is below 6", size)),
            Self::Truncated { what, offset } => f.write_fmt(fmt!(
                "{} at ROM offset {:#x} runs past the end of the ROM",
                what,
                offset
            )),
            Self::TokenOutside { id, pointer } => f.write_fmt(fmt!(
                "BIT token {:#04x}: data pointer {:#x} is outside the ROM",
                id,
                pointer
            )),
            Self::NoFalconData => f.write_str("BIT has no falcon data token (version 2)"),
            Self::UcodeTable { offset, what } => f.write_fmt(fmt!(
                "falcon ucode table at ROM offset {:#x}: {}",
                offset,
                what
            )),
            Self::NoFwsec { table } => f.write_fmt(fmt!(
                "falcon ucode table at ROM offset {:#x}: no production FWSEC (app {:#x})",
                table,
                bit::APPID_FWSEC_PROD
            )),
            Self::Descriptor { offset, what } => f.write_fmt(fmt!(
                "FWSEC descriptor at ROM offset {:#x}: {}",
                offset,
                what
            )),
            Self::DescriptorVersion(v) => f.write_fmt(fmt!(
                "FWSEC descriptor version {} is not supported (only 2 and 3)",
                v
            )),
            Self::Interface(what) => f.write_fmt(fmt!("FWSEC DMEM: {}", what)),
            Self::NoSignature {
                fuse_version,
                versions,
            } => f.write_fmt(fmt!(
                "FWSEC has no signature for fuse version {} (signature versions {:#06x})",
                fuse_version,
                versions
            )),
            Self::Command(what) => f.write_fmt(fmt!("FWSEC command: {}", what)),
            Self::Fuse { ucode_id, what } => {
                f.write_fmt(fmt!("ucode {} version fuse: {}", ucode_id, what))
            }
        }
    }
}

/// The VBIOS of a GPU, reduced to what nova needs once it is parsed.
pub(crate) struct Vbios {
    /// The version from BIOSDATA, if present.
    version: Option<BiosVersion>,
    /// Size of the expansion ROM.
    rom_size: usize,
    /// The production FWSEC.
    fwsec: Fwsec,
    /// The board's FWSEC fuse version, on chips whose FWSEC nova runs with signatures.
    fuse_version: Option<u32>,
}

impl Vbios {
    /// Parses the ROM read through `reader`.
    pub(crate) fn parse<R: WordReader>(reader: R) -> Result<Vbios, VbiosError> {
        let mut rom = Rom::read(reader)?;
        // The BIT is in the PC-AT image (upstream nova-core `PciAtBiosImage`).
        let pcat = rom.pcat_image().ok_or(VbiosError::NoBit)?;
        let bit = Bit::parse(&mut rom, pcat)?;
        let base = rom.nvidia_pointer_base();
        let table = usize::try_from(bit.ucode_table)
            .ok()
            .and_then(|p| p.checked_add(base))
            .ok_or(VbiosError::TokenOutside {
                id: 0x70,
                pointer: bit.ucode_table,
            })?;
        let desc_pointer = bit::find_ucode(&mut rom, table, bit::APPID_FWSEC_PROD)?;
        let desc = usize::try_from(desc_pointer)
            .ok()
            .and_then(|p| p.checked_add(base))
            .ok_or(VbiosError::Truncated {
                what: "FWSEC descriptor",
                offset: usize::MAX,
            })?;
        let fwsec = Fwsec::parse(&mut rom, desc)?;
        Ok(Vbios {
            version: bit.version,
            rom_size: rom.len(),
            fwsec,
            fuse_version: None,
        })
    }

    /// Reads and parses the VBIOS of the GPU behind `bar`, reads the FWSEC fuse version on
    /// chips where nova runs a signed FWSEC, and logs one line that sums it up.
    ///
    /// A malformed VBIOS, or one without a signature for the board, fails with `EINVAL` after
    /// one log line naming what was wrong.
    pub(crate) fn read(dev: &device::Device, bar: Bar0<'_>, chipset: Chipset) -> Result<Vbios> {
        Self::read_inner(dev, bar, chipset).map_err(|e| {
            dev_err!(dev, "VBIOS: {}\n", e);
            e.to_error()
        })
    }

    fn read_inner(
        dev: &device::Device,
        bar: Bar0<'_>,
        chipset: Chipset,
    ) -> Result<Vbios, VbiosError> {
        let mut vbios = Self::parse(BarReader(bar))?;
        let fwsec = &vbios.fwsec;
        let version = Version(vbios.version);
        let n = fwsec.version().number();
        match (fwsec.brom(), fwsec.signatures()) {
            (Some(brom), Some(sigs)) if runs_fwsec(chipset) => {
                let fuse = read_fuse_version(bar, brom)?;
                let index = sigs.select(fuse)?;
                vbios.fuse_version = Some(fuse);
                dev_info!(
                    dev,
                    "VBIOS {}, FWSEC v{} (ucode id {}, fuse version {}, signature {} of {})\n",
                    version,
                    n,
                    brom.ucode_id,
                    fuse,
                    // Counted from one, as a reader would.
                    index + 1,
                    sigs.count
                );
            }
            (Some(brom), Some(sigs)) => dev_info!(
                dev,
                "VBIOS {}, FWSEC v{} (ucode id {}, {} signatures; not run by nova-core on {})\n",
                version,
                n,
                brom.ucode_id,
                sigs.count,
                chipset.arch()
            ),
            (Some(brom), None) => dev_info!(
                dev,
                "VBIOS {}, FWSEC v{} (ucode id {}, unsigned)\n",
                version,
                n,
                brom.ucode_id
            ),
            (None, _) => dev_info!(
                dev,
                "VBIOS {}, FWSEC v{} (no signatures; started through the generic bootloader)\n",
                version,
                n
            ),
        }
        dev_dbg!(dev, "VBIOS expansion ROM: {} bytes\n", vbios.rom_size);
        Ok(vbios)
    }

    /// Returns the FWSEC ucode patched to run `cmd`, signed for this board.
    pub(crate) fn fwsec_image(&self, cmd: FwsecCommand) -> Result<FwsecImage> {
        self.fwsec
            .image(cmd, self.fuse_version)
            .map_err(VbiosError::to_error)
    }
}

/// Returns whether nova-core runs FWSEC itself on `chipset`, and so needs a signature for it:
/// Turing to Ada. On Hopper and Blackwell the FSP boots the GSP (upstream nova-core
/// `gsp/hal`, where only the Turing HAL reads the VBIOS).
fn runs_fwsec(chipset: Chipset) -> bool {
    matches!(
        chipset.arch(),
        Architecture::Turing | Architecture::Ampere | Architecture::Ada
    )
}

/// Prints an optional BIOS version.
struct Version(Option<BiosVersion>);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => fmt::Display::fmt(v, f),
            None => f.write_str("(no version)"),
        }
    }
}

/// Reads the PROM window through BAR0.
struct BarReader<'a>(Bar0<'a>);

impl WordReader for BarReader<'_> {
    fn read_word(&self, offset: usize) -> Result<u32, VbiosError> {
        let reg = regs::NV_PROM_DATA_WORD::try_at(offset / 4).ok_or(VbiosError::OutsideWindow {
            what: "PROM read",
            end: offset,
        })?;
        Ok(u32::from(self.0.read(reg)))
    }
}

/// Returns whether a register read came back as an error instead of a value: all ones when the
/// device is gone, or NVIDIA's PRI error code (0xbad in the top twelve bits).
const fn is_read_error(value: u32) -> bool {
    value == u32::MAX || (value & 0xfff0_0000) == 0xbad0_0000
}

/// Decodes a ucode version fuse register: the position of the highest set bit of its 16-bit
/// data field, plus one, or 0 when no bit is set (`kgspReadUcodeFuseVersion_GA100`).
fn decode_fuse(value: u32) -> u32 {
    let data = value & 0xffff;
    u32::BITS - data.leading_zeros()
}

/// Reads the GSP ucode version fuse for FWSEC's ucode id.
fn read_fuse_version(bar: Bar0<'_>, brom: BromParams) -> Result<u32, VbiosError> {
    let bad = |what| VbiosError::Fuse {
        ucode_id: brom.ucode_id,
        what,
    };
    // FWSEC runs on the GSP; only its fuses are read (`kgspReadUcodeFuseVersion_GA100`).
    if brom.engine_id_mask & fwsec::ENGINE_ID_MASK_GSP == 0 {
        return Err(bad("FWSEC's engine mask does not name the GSP"));
    }
    let index = usize::from(brom.ucode_id)
        .checked_sub(1)
        .ok_or(bad("ucode id 0 has no fuse"))?;
    let reg = regs::NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION::try_at(index)
        .ok_or(bad("ucode id above 16 has no fuse"))?;
    let value = u32::from(bar.read(reg));
    if is_read_error(value) {
        return Err(bad("register read failed"));
    }
    Ok(decode_fuse(value))
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_vbios)]
mod tests {
    use super::*;

    /// Reads the little-endian `u32` at `offset` of `data`: the tests check the bytes the
    /// driver wrote without its structures.
    fn le_u32(data: &[u8], offset: usize) -> Option<u32> {
        let b = data.get(offset..offset.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// Reads a ROM image held in memory; past its end the window reads erased flash (0xff).
    struct SliceReader<'a>(&'a [u8]);

    impl WordReader for SliceReader<'_> {
        fn read_word(&self, offset: usize) -> Result<u32, VbiosError> {
            let mut word = [0xffu8; 4];
            for (i, b) in word.iter_mut().enumerate() {
                if let Some(&v) = offset.checked_add(i).and_then(|o| self.0.get(o)) {
                    *b = v;
                }
            }
            Ok(u32::from_le_bytes(word))
        }
    }

    // The synthesized ROM: a PC-AT image (two blocks) with the BIT, optionally an EFI image (two
    // blocks), then one NVIDIA image (six blocks) with the falcon ucode table and the FWSEC.
    const BLOCK: usize = 512;
    const PCAT_LEN: usize = 2 * BLOCK;
    const EFI_LEN: usize = 2 * BLOCK;
    const NV_LEN: usize = 6 * BLOCK;
    const PCIR: usize = 0x20;
    const NPDE: usize = 0x40;
    const BIT: usize = 0x60;
    const TOKENS: usize = BIT + 12;
    const BIOSDATA: usize = 0x90;
    const FALCON_DATA: usize = 0xa0;
    // In the NVIDIA image.
    const TABLE: usize = 0x50;
    const DESC: usize = 0x80;
    // FWSEC layout.
    const SIG_COUNT: usize = 2;
    const SIG_VERSIONS: u16 = 0b0110;
    const UCODE_ID: u8 = 2;
    const IMEM: usize = 0x200;
    const DMEM: usize = 0x600;
    const INTERFACE: usize = 0x40;
    const DMAP: usize = 0x200;
    const CMD_IN: usize = 0x300;
    const PKC: usize = 0x480;
    const BIOS_VERSION: u32 = 0x9502_1800;

    fn put(rom: &mut [u8], at: usize, bytes: &[u8]) -> Result {
        rom.get_mut(at..at + bytes.len())
            .ok_or(EINVAL)?
            .copy_from_slice(bytes);
        Ok(())
    }

    fn put16(rom: &mut [u8], at: usize, v: u16) -> Result {
        put(rom, at, &v.to_le_bytes())
    }

    fn put32(rom: &mut [u8], at: usize, v: u32) -> Result {
        put(rom, at, &v.to_le_bytes())
    }

    /// Writes an image's ROM header, PCI data structure and NPDE.
    fn headers(
        rom: &mut [u8],
        at: usize,
        len: usize,
        sig: u16,
        code_type: u8,
        pcir_last: bool,
        npde_last: bool,
    ) -> Result {
        let blocks = (len / BLOCK) as u16;
        put16(rom, at, sig)?;
        put16(rom, at + 0x18, PCIR as u16)?;
        let p = at + PCIR;
        put(rom, p, if sig == 0x4e56 { b"NPDS" } else { b"PCIR" })?;
        put16(rom, p + 4, 0x10de)?;
        put16(rom, p + 0x0a, 0x18)?;
        put16(rom, p + 0x10, blocks)?;
        put(
            rom,
            p + 0x14,
            &[code_type, if pcir_last { 0x80 } else { 0 }],
        )?;
        let n = at + NPDE;
        put(rom, n, b"NPDE")?;
        put16(rom, n + 4, 0x101)?;
        put16(rom, n + 6, 0x0c)?;
        put16(rom, n + 8, blocks)?;
        put(rom, n + 0x0a, &[if npde_last { 0x80 } else { 0 }, 0])
    }

    /// Offset of the NVIDIA image in a ROM with or without the EFI image.
    fn nv_image(efi: bool) -> usize {
        if efi {
            PCAT_LEN + EFI_LEN
        } else {
            PCAT_LEN
        }
    }

    /// ROM offset of the FWSEC descriptor, and of its ucode.
    fn desc_at(efi: bool) -> usize {
        nv_image(efi) + DESC
    }

    fn ucode_at(efi: bool, v3: bool) -> usize {
        desc_at(efi) + if v3 { 44 + SIG_COUNT * 384 } else { 60 }
    }

    /// Builds a consistent ROM with a V3 (or V2) FWSEC, with or without an EFI image.
    fn build(v3: bool, efi: bool) -> Result<KVVec<u8>> {
        let nv = nv_image(efi);
        let mut rom = KVVec::from_elem(0u8, nv + NV_LEN, GFP_KERNEL)?;
        let r = &mut rom[..];

        // PC-AT image: BIT with a BIOSDATA and a falcon data token.
        headers(r, 0, PCAT_LEN, 0xaa55, 0x00, !efi, false)?;
        put(
            r,
            BIT,
            &[0xff, 0xb8, b'B', b'I', b'T', 0, 0, 1, 12, 6, 2, 0],
        )?;
        let sum = r[BIT..BIT + 12].iter().fold(0u8, |s, &b| s.wrapping_add(b));
        r[BIT + 11] = sum.wrapping_neg();
        put(r, TOKENS, &[0x42, 2, 8, 0])?;
        put16(r, TOKENS + 4, BIOSDATA as u16)?;
        put(r, TOKENS + 6, &[0x70, 2, 4, 0])?;
        put16(r, TOKENS + 10, FALCON_DATA as u16)?;
        put32(r, BIOSDATA, BIOS_VERSION)?;
        r[BIOSDATA + 4] = 0x01;
        // Pointers into the NVIDIA images count as if they followed the PC-AT image.
        put32(r, FALCON_DATA, (PCAT_LEN + TABLE) as u32)?;

        if efi {
            // The EFI image ends the chain for the PCI view, not for NVIDIA's.
            headers(r, PCAT_LEN, EFI_LEN, 0xaa55, 0x03, true, false)?;
        }

        // NVIDIA image: the falcon ucode table, debug FWSEC first, then production.
        headers(r, nv, NV_LEN, 0x4e56, 0xe0, true, true)?;
        put(r, nv + TABLE, &[1, 6, 6, 2, if v3 { 3 } else { 2 }, 0])?;
        // The debug entry points at the table itself, which is no descriptor: a parser that
        // took it would fail.
        put(r, nv + TABLE + 6, &[0x45, 1])?;
        put32(r, nv + TABLE + 8, (PCAT_LEN + TABLE) as u32)?;
        put(r, nv + TABLE + 12, &[0x85, 1])?;
        put32(r, nv + TABLE + 14, (PCAT_LEN + DESC) as u32)?;

        let d = desc_at(efi);
        if v3 {
            let size = (44 + SIG_COUNT * 384) as u32;
            let words = [
                1 | (3 << 8) | (size << 16),
                (IMEM + DMEM) as u32,
                PKC as u32,
                INTERFACE as u32,
                0,
                IMEM as u32,
                0,
                0,
                DMEM as u32,
            ];
            for (i, w) in words.iter().enumerate() {
                put32(r, d + i * 4, *w)?;
            }
            put16(r, d + 36, 0x0400)?;
            put(r, d + 38, &[UCODE_ID, SIG_COUNT as u8])?;
            put16(r, d + 40, SIG_VERSIONS)?;
            for i in 0..SIG_COUNT {
                r[d + 44 + i * 384..d + 44 + (i + 1) * 384].fill(0x10 + i as u8);
            }
        } else {
            let words = [
                1 | (2 << 8) | (60 << 16),
                (IMEM + DMEM) as u32,
                (IMEM + DMEM) as u32,
                0x10,
                INTERFACE as u32,
                0,
                IMEM as u32,
                0,
                0x100,
                0x100,
                IMEM as u32,
                0,
                DMEM as u32,
                0,
                0,
            ];
            for (i, w) in words.iter().enumerate() {
                put32(r, d + i * 4, *w)?;
            }
        }

        // The ucode: IMEM filled with 0xc0, then DMEM with the interfaces.
        let u = ucode_at(efi, v3);
        r[u..u + IMEM].fill(0xc0);
        let m = u + IMEM;
        put(r, m + INTERFACE, &[1, 4, 8, 2])?;
        put32(r, m + INTERFACE + 4, 1)?;
        put32(r, m + INTERFACE + 8, 0x100)?;
        put32(r, m + INTERFACE + 12, 4)?;
        put32(r, m + INTERFACE + 16, DMAP as u32)?;
        put(r, m + DMAP, b"DMAP")?;
        put16(r, m + DMAP + 4, 3)?;
        put16(r, m + DMAP + 6, 64)?;
        put32(r, m + DMAP + 8, CMD_IN as u32)?;
        put32(r, m + DMAP + 12, 0x100)?;
        Ok(rom)
    }

    /// A ROM held in memory, for the parsers that do not walk the image chain.
    struct Bytes<'a>(&'a [u8]);

    impl Source for Bytes<'_> {
        fn get(
            &mut self,
            offset: usize,
            len: usize,
            what: &'static str,
        ) -> Result<&[u8], VbiosError> {
            offset
                .checked_add(len)
                .and_then(|end| self.0.get(offset..end))
                .ok_or(VbiosError::Truncated { what, offset })
        }
    }

    fn parse(rom: &[u8]) -> Result<Vbios, VbiosError> {
        Vbios::parse(SliceReader(rom))
    }

    fn err(rom: &[u8]) -> Option<VbiosError> {
        parse(rom).err()
    }

    #[test]
    fn good_v3_rom_with_efi() -> Result {
        let rom = build(true, true)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        assert_eq!(
            vbios.version,
            Some(BiosVersion {
                version: BIOS_VERSION,
                oem: 1
            })
        );
        assert_eq!(vbios.rom_size, rom.len());
        assert_eq!(vbios.fwsec.version(), DescVersion::V3);
        assert_eq!(
            vbios.fwsec.brom(),
            Some(BromParams {
                pkc_data_offset: PKC as u32,
                engine_id_mask: 0x400,
                ucode_id: UCODE_ID
            })
        );
        Ok(())
    }

    #[test]
    fn good_v3_rom_without_efi_patches_frts() -> Result {
        let rom = build(true, false)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        // Versions 0b0110: fuse version 2 takes the second signature.
        let img = vbios
            .fwsec
            .image(
                FwsecCommand::Frts {
                    addr: 0x1_2345_6000,
                    size: 0x10_0000,
                },
                Some(2),
            )
            .map_err(VbiosError::to_error)?;
        assert_eq!(img.signature, Some(1));
        assert_eq!(img.bytes.len(), IMEM + DMEM);
        assert_eq!(img.imem_sec.src, 0..IMEM);
        assert!(img.imem_ns.is_none());
        assert_eq!(img.dmem.src, IMEM..IMEM + DMEM);
        assert!(img.bytes[..IMEM].iter().all(|&b| b == 0xc0));
        let dmem = &img.bytes[IMEM..];
        // init_cmd = FRTS.
        assert_eq!(le_u32(dmem, DMAP + 44), Some(0x15));
        // READ_VBIOS {1, 24, 0, 0, 2} then FRTS_REGION {1, 20, addr >> 12, size >> 12, 2}.
        let want = [1u32, 24, 0, 0, 0, 2, 1, 20, 0x12_3456, 0x100, 2];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(le_u32(dmem, CMD_IN + i * 4), Some(*w));
        }
        // The second signature (filled with 0x11) sits at the PKC offset.
        assert!(dmem[PKC..PKC + 384].iter().all(|&b| b == 0x11));
        Ok(())
    }

    #[test]
    fn sb_command_and_first_signature() -> Result {
        let rom = build(true, true)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        let img = vbios
            .fwsec
            .image(FwsecCommand::Sb, Some(1))
            .map_err(VbiosError::to_error)?;
        let dmem = &img.bytes[IMEM..];
        assert_eq!(img.signature, Some(0));
        assert_eq!(le_u32(dmem, DMAP + 44), Some(0x19));
        assert_eq!(le_u32(dmem, CMD_IN + 20), Some(2));
        // SB writes READ_VBIOS only: the FRTS region stays as the ROM had it.
        assert_eq!(le_u32(dmem, CMD_IN + 24), Some(0));
        assert!(dmem[PKC..PKC + 384].iter().all(|&b| b == 0x10));
        Ok(())
    }

    #[test]
    fn good_v2_rom() -> Result {
        let rom = build(false, true)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        assert_eq!(vbios.fwsec.version(), DescVersion::V2);
        assert!(vbios.fwsec.signatures().is_none());
        let img = vbios
            .fwsec
            .image(FwsecCommand::Sb, None)
            .map_err(VbiosError::to_error)?;
        assert_eq!(img.signature, None);
        assert_eq!(img.boot_vector, 0x10);
        assert_eq!(
            img.imem_ns,
            Some(Segment {
                src: 0..0x100,
                dst: 0,
                virt: 0
            })
        );
        assert_eq!(
            img.imem_sec,
            Segment {
                src: 0x100..0x200,
                dst: 0x100,
                virt: 0x100
            }
        );
        assert_eq!(le_u32(&img.bytes[IMEM..], DMAP + 44), Some(0x19));
        Ok(())
    }

    #[test]
    fn bad_rom_signature() -> Result {
        let mut rom = build(true, true)?;
        // 0x55 0xaa swapped.
        put16(&mut rom, 0, 0x55aa)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::RomSignature {
                index: 0,
                offset: 0,
                signature: 0x55aa
            })
        );
        let mut rom = build(true, true)?;
        put(&mut rom, PCAT_LEN + PCIR, b"PCIX")?;
        assert!(matches!(
            err(&rom),
            Some(VbiosError::PcirSignature { index: 1, .. })
        ));
        Ok(())
    }

    #[test]
    fn truncated_image_chain() -> Result {
        // No image says it is the last: the walk reaches erased flash after the ROM.
        let mut rom = build(true, true)?;
        let nv = nv_image(true);
        rom[nv + NPDE + 0x0a] = 0;
        assert_eq!(
            err(&rom),
            Some(VbiosError::RomSignature {
                index: 3,
                offset: rom.len(),
                signature: 0xffff
            })
        );
        // An image length that runs past the window.
        let mut rom = build(true, true)?;
        put16(&mut rom, nv + NPDE + 8, 0xffff)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::ImageOutside {
                index: 2,
                offset: nv
            })
        );
        // A zero length.
        let mut rom = build(true, true)?;
        put16(&mut rom, PCAT_LEN + NPDE + 8, 0)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::ZeroLength {
                index: 1,
                offset: PCAT_LEN
            })
        );
        Ok(())
    }

    #[test]
    fn ifr_header_is_skipped() -> Result {
        // A version 2 IFR header with 0x10 bytes of fixed data, pointing 0x400 bytes in.
        let rom = build(true, false)?;
        let mut flash = KVVec::from_elem(0u8, 0x400 + rom.len(), GFP_KERNEL)?;
        put(&mut flash, 0, b"NVGI")?;
        put32(&mut flash, 4, (0x10 << 16) | (2 << 8))?;
        put32(&mut flash, 0x14, 0x400)?;
        put(&mut flash, 0x400, &rom)?;
        let vbios = parse(&flash).map_err(VbiosError::to_error)?;
        assert_eq!(vbios.rom_size, rom.len());
        put32(&mut flash, 4, (0x10 << 16) | (9 << 8))?;
        assert_eq!(err(&flash), Some(VbiosError::IfrVersion(9)));
        Ok(())
    }

    #[test]
    fn bit_problems() -> Result {
        // Falcon data token pointing outside the ROM.
        let mut rom = build(true, true)?;
        put16(&mut rom, TOKENS + 10, 0xfff0)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::TokenOutside {
                id: 0x70,
                pointer: 0xfff0
            })
        );
        // Falcon ucode table pointer outside the ROM.
        let mut rom = build(true, true)?;
        put32(&mut rom, FALCON_DATA, 0x10_0000)?;
        assert!(matches!(err(&rom), Some(VbiosError::UcodeTable { .. })));
        // Token count cut before the falcon data token (checksum kept right).
        let mut rom = build(true, true)?;
        rom[BIT + 10] = 1;
        rom[BIT + 11] = rom[BIT + 11].wrapping_add(1);
        assert_eq!(err(&rom), Some(VbiosError::NoFalconData));
        // A broken checksum hides the BIT.
        let mut rom = build(true, true)?;
        rom[BIT + 11] ^= 1;
        assert_eq!(err(&rom), Some(VbiosError::NoBit));
        // A token list that runs past the ROM: three tokens announced, one present.
        let mut bit = [
            0xff, 0xb8, b'B', b'I', b'T', 0, 0, 1, 12, 6, 3, 0, 0x4e, 0, 0, 0, 0, 0,
        ];
        let sum = bit[..12].iter().fold(0u8, |s, &b| s.wrapping_add(b));
        bit[11] = sum.wrapping_neg();
        assert_eq!(
            Bit::parse(&mut Bytes(&bit), 0..bit.len()),
            Err(VbiosError::Truncated {
                what: "BIT token",
                offset: 18
            })
        );
        // Tokens too small for a data pointer.
        bit[9] = 5;
        bit[11] = bit[11].wrapping_add(1);
        assert_eq!(
            Bit::parse(&mut Bytes(&bit), 0..bit.len()),
            Err(VbiosError::BitTokenSize(5))
        );
        Ok(())
    }

    #[test]
    fn table_without_fwsec() -> Result {
        let mut rom = build(true, true)?;
        let nv = nv_image(true);
        // The production entry becomes a second debug one.
        rom[nv + TABLE + 12] = 0x45;
        assert_eq!(err(&rom), Some(VbiosError::NoFwsec { table: nv + TABLE }));
        Ok(())
    }

    #[test]
    fn descriptor_sizes_overflowing() -> Result {
        let d = desc_at(true);
        let bad = |field: usize, value: u32| -> Result<Option<VbiosError>> {
            let mut rom = build(true, true)?;
            put32(&mut rom, d + field * 4, value)?;
            Ok(err(&rom))
        };
        let desc = |what| Some(VbiosError::Descriptor { offset: d, what });
        // IMEM load size (word 5), DMEM load size (word 8), PKC offset (word 2).
        // Sizes past the bound are refused before anything is copied out of the ROM.
        let too_large = desc("IMEM or DMEM image larger than a falcon's memory");
        assert_eq!(bad(5, u32::MAX)?, too_large);
        assert_eq!(bad(5, 0x1_0000)?, desc("IMEM runs past the ROM"));
        assert_eq!(bad(8, u32::MAX)?, too_large);
        assert_eq!(
            bad(2, u32::MAX - 10)?,
            desc("signature location outside DMEM")
        );
        assert_eq!(
            bad(2, (DMEM - 383) as u32)?,
            desc("signature location outside DMEM")
        );
        // Descriptor size in the header below V3's.
        assert_eq!(
            bad(0, 1 | (3 << 8) | (40 << 16))?,
            desc("descriptor size too small")
        );
        // Signature count beyond the descriptor size.
        let mut rom = build(true, true)?;
        rom[d + 39] = 3;
        assert_eq!(err(&rom), desc("signatures run past the descriptor"));
        // Unknown version.
        assert_eq!(
            bad(0, 1 | (4 << 8) | (44 << 16))?,
            Some(VbiosError::DescriptorVersion(4))
        );
        // V2: secure IMEM outside IMEM.
        let mut rom = build(false, true)?;
        put32(&mut rom, d + 9 * 4, 0x101)?;
        assert_eq!(err(&rom), desc("secure IMEM outside IMEM"));
        Ok(())
    }

    #[test]
    fn dmem_mapper_problems() -> Result {
        let m = ucode_at(true, true) + IMEM;
        let mut rom = build(true, true)?;
        put32(&mut rom, m + INTERFACE + 12, 5)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::Interface("no DMEM mapper interface"))
        );
        let mut rom = build(true, true)?;
        put(&mut rom, m + DMAP, b"PAMD")?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::Interface("DMEM mapper signature is not DMAP"))
        );
        let mut rom = build(true, true)?;
        put32(&mut rom, m + DMAP + 8, (DMEM - 0x80) as u32)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::Interface("command input buffer outside DMEM"))
        );
        let mut rom = build(true, true)?;
        put32(&mut rom, m + INTERFACE + 16, u32::MAX)?;
        assert_eq!(
            err(&rom),
            Some(VbiosError::Interface("DMEM mapper outside DMEM"))
        );
        Ok(())
    }

    #[test]
    fn no_signature_for_the_fuse_version() -> Result {
        let rom = build(true, true)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        for fuse in [0, 3, 15, 16, 40] {
            assert_eq!(
                vbios.fwsec.image(FwsecCommand::Sb, Some(fuse)).err(),
                Some(VbiosError::NoSignature {
                    fuse_version: fuse,
                    versions: SIG_VERSIONS
                })
            );
        }
        assert_eq!(
            vbios.fwsec.image(FwsecCommand::Sb, None).err(),
            Some(VbiosError::Command("a fuse version is needed"))
        );
        Ok(())
    }

    #[test]
    fn frts_region_must_be_aligned() -> Result {
        let rom = build(true, true)?;
        let vbios = parse(&rom).map_err(VbiosError::to_error)?;
        for (addr, size) in [
            (0x1000, 0x800),
            (0x800, 0x1000),
            (0x1000, 0),
            (1 << 60, 0x1000),
        ] {
            assert!(matches!(
                vbios
                    .fwsec
                    .image(FwsecCommand::Frts { addr, size }, Some(1)),
                Err(VbiosError::Command(_))
            ));
        }
        Ok(())
    }

    #[test]
    fn signature_selection_and_fuse_decoding() {
        let sigs = fwsec::Signatures {
            versions: 0b1110,
            count: 3,
        };
        assert_eq!(sigs.select(1), Ok(0));
        assert_eq!(sigs.select(3), Ok(2));
        assert!(sigs.select(0).is_err());
        // A count smaller than the versions claim.
        let short = fwsec::Signatures {
            versions: 0b1110,
            count: 2,
        };
        assert!(short.select(3).is_err());
        assert_eq!(decode_fuse(0), 0);
        assert_eq!(decode_fuse(1), 1);
        assert_eq!(decode_fuse(0b0110), 3);
        assert_eq!(decode_fuse(0xffff_8000), 16);
        assert!(is_read_error(0xbadf_1100));
        assert!(!is_read_error(0x0000_0003));
    }
}
