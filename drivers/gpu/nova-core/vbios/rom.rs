// SPDX-License-Identifier: GPL-2.0

//! Reading the ROM through the PROM window and walking its PCI expansion-ROM image chain.
//!
//! The GPU's flash is visible in BAR0 as the byte array `NV_PROM_DATA(i)` at `0x300000 + i`
//! (open-gpu-kernel-modules `src/common/inc/swref/published/turing/tu102/dev_ext_devices.h`),
//! of which drivers use the first MiB (open-gpu-kernel-modules `kernel_gsp_vbios_tu102.c`,
//! `s_getBaseBiosMaxSize_TU102`). It is read here as aligned 32-bit words, only where a
//! parser looks and each word at most once.
//!
//! The flash may start with an Init-from-ROM (IFR) header before the PCI expansion ROM; the
//! header says where the expansion ROM starts (open-gpu-kernel-modules `dev_bus.h`,
//! `NV_PBUS_IFR_FMT_FIXED*`, and `s_romImgFindPciHeader_TU102`; upstream nova-core `vbios.rs`
//! notes that GA100's PROM window shows it).
//!
//! The expansion ROM is a chain of images, each with a ROM header, a PCI data structure and,
//! on NVIDIA's boards, an NVIDIA PCI data extension ("NPDE") whose image length and last-image
//! flag take precedence (open-gpu-kernel-modules `src/nvidia/inc/kernel/platform/pci_exp_table.h`
//! and `s_locateExpansionRoms`).

use kernel::{num::casts::FromSafeCast, prelude::*, static_assert, transmute::FromBytes};

use core::ops::Range;

use super::{Source, VbiosError};

/// Size of the PROM window that holds the ROM: 1 MiB.
pub(crate) const PROM_WINDOW_SIZE: usize = 0x10_0000;

/// Unit of image lengths in the PCI data structure and the NPDE (`PCI_ROM_IMAGE_BLOCK_SIZE`).
const ROM_BLOCK_SIZE: usize = 512;

/// Valid ROM header signatures: the PCI one (0x55 0xaa) and NVIDIA's two (`pci_exp_table.h`,
/// `IS_VALID_PCI_ROM_SIG`).
const ROM_SIGNATURES: [u16; 3] = [0xaa55, 0x4e56, 0xbb77];

/// Valid PCI data structure signatures: "PCIR", "NPDS" and "RGIS" (`pci_exp_table.h`,
/// `IS_VALID_PCI_DATA_SIG`).
const PCIR_SIGNATURES: [[u8; 4]; 3] = [*b"PCIR", *b"NPDS", *b"RGIS"];

/// The last-image bit, in the PCI data structure and the NPDE (`PCI_LAST_IMAGE`).
const LAST_IMAGE: u8 = 0x80;

/// NVIDIA PCI data extension (`NV_PCI_DATA_EXT_STRUCT`): signature and accepted revisions.
const NPDE_SIGNATURE: [u8; 4] = *b"NPDE";
const NPDE_REVISIONS: [u16; 2] = [0x100, 0x101];
/// Bytes of the NPDE up to and including the last-image byte.
const NPDE_SIZE_WITH_LAST: usize = size_of::<NpdeHeader>() + 1;

/// IFR header signature (`dev_bus.h`).
const IFR_SIGNATURE: [u8; 4] = *b"NVGI";
/// Offset of the expansion ROM's address after the fixed IFR data, for IFR versions 1 and 2.
const IFR_ROM_ADDR_AFTER_FIXED: usize = 4;
/// Size of the flash status area before the ROM directory (IFR version 3).
const IFR_FLASH_STATUS_SIZE: usize = 4096;
/// ROM directory signature.
const ROM_DIRECTORY_SIGNATURE: [u8; 4] = *b"RFRD";

/// The start of an image: its signature and the offset of its PCI data structure
/// (`PCI_EXP_ROM_STANDARD`, little-endian).
#[repr(C)]
#[derive(Clone, Copy)]
struct RomHeader {
    signature: u16,
    reserved: [u8; 0x16],
    pci_data_offset: u16,
}

/// The PCI data structure (`PCI_DATA_STRUCT`, PCI Firmware Specification 3.0), little-endian.
#[repr(C)]
#[derive(Clone, Copy)]
struct PciData {
    signature: [u8; 4],
    vendor_id: u16,
    device_id: u16,
    device_list: u16,
    len: u16,
    revision: u8,
    class_code: [u8; 3],
    image_len: u16,
    code_revision: u16,
    code_type: u8,
    indicator: u8,
    max_runtime_image_len: u16,
}

/// The NVIDIA PCI data extension before its flags byte (`NV_PCI_DATA_EXT_STRUCT`),
/// little-endian. The flags byte (with [`LAST_IMAGE`]) follows when `len` covers it.
#[repr(C)]
#[derive(Clone, Copy)]
struct NpdeHeader {
    signature: [u8; 4],
    revision: u16,
    len: u16,
    subimage_len: u16,
}

/// The IFR header (`dev_bus.h`, little-endian): the version in bits 15:8 and the fixed data size
/// in bits 30:16 of `fixed_data`, the total data size in bits 19:0 of `total_data`.
#[repr(C)]
#[derive(Clone, Copy)]
struct IfrHeader {
    signature: [u8; 4],
    fixed_data: u32,
    total_data: u32,
}

/// The ROM directory of IFR version 3 (little-endian).
#[repr(C)]
#[derive(Clone, Copy)]
struct RomDirectory {
    signature: [u8; 4],
    version: u32,
    pci_rom_offset: u32,
}

static_assert!(size_of::<RomHeader>() == 0x1a);
static_assert!(size_of::<PciData>() == 0x18);
static_assert!(size_of::<NpdeHeader>() == 0x0a);
static_assert!(size_of::<IfrHeader>() == 0x0c);
static_assert!(size_of::<RomDirectory>() == 0x0c);

// SAFETY: the structures below are integers and byte arrays without padding (their sizes are
// asserted above), so every bit pattern is a valid value.
unsafe impl FromBytes for RomHeader {}
// SAFETY: as above.
unsafe impl FromBytes for PciData {}
// SAFETY: as above.
unsafe impl FromBytes for NpdeHeader {}
// SAFETY: as above.
unsafe impl FromBytes for IfrHeader {}
// SAFETY: as above.
unsafe impl FromBytes for RomDirectory {}

/// PCI code type of the x86 (PC-AT) image, which holds the BIT.
pub(crate) const CODE_TYPE_PCAT: u8 = 0x00;
/// PCI code type of NVIDIA's firmware images, where the falcon ucodes live
/// (`NV_BCRT_HASH_INFO_BASE_CODE_TYPE_VBIOS_EXT`).
pub(crate) const CODE_TYPE_NVIDIA: u8 = 0xe0;

/// Reads the PROM window a 32-bit word at a time.
pub(crate) trait WordReader {
    /// Returns the word at byte `offset` of the window (a multiple of four, below
    /// [`PROM_WINDOW_SIZE`]), its first byte in the low eight bits.
    fn read_word(&self, offset: usize) -> Result<u32, VbiosError>;
}

/// The bytes of the PROM window read so far.
///
/// Only what the parsers look at is read: the image headers, the PC-AT image and the FWSEC
/// ucode, not the EFI image or the other NVIDIA ucodes. Each word is read once.
pub(crate) struct Prom<R: WordReader> {
    reader: R,
    // INVARIANT: `data.len()` is a multiple of four and at most `PROM_WINDOW_SIZE`; bit `w % 64`
    // of `read[w / 64]` is set when word `w` of `data` holds what the window read.
    data: KVVec<u8>,
    read: KVVec<u64>,
}

impl<R: WordReader> Prom<R> {
    /// Creates an empty cache over `reader`.
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            data: KVVec::new(),
            read: KVVec::new(),
        }
    }

    /// Makes the window bytes `start..end` available, reading the words not read yet. `what`
    /// names the structure that needs them, for the error.
    fn fill(&mut self, start: usize, end: usize, what: &'static str) -> Result<(), VbiosError> {
        if end > PROM_WINDOW_SIZE {
            return Err(VbiosError::OutsideWindow { what, end });
        }
        // `end` is at most the window size, so this cannot overflow.
        let end = end.next_multiple_of(4);
        if self.data.len() < end {
            self.data
                .resize(end, 0, GFP_KERNEL)
                .map_err(|_| VbiosError::NoMemory)?;
            self.read
                .resize((end / 4).div_ceil(64), 0, GFP_KERNEL)
                .map_err(|_| VbiosError::NoMemory)?;
        }
        for w in start / 4..end / 4 {
            let bit = 1u64 << (w % 64);
            let flags = self
                .read
                .get_mut(w / 64)
                .ok_or(VbiosError::OutsideWindow { what, end })?;
            if *flags & bit != 0 {
                continue;
            }
            let word = self.reader.read_word(w * 4)?;
            self.data
                .get_mut(w * 4..w * 4 + 4)
                .ok_or(VbiosError::OutsideWindow { what, end })?
                .copy_from_slice(&word.to_le_bytes());
            *flags |= bit;
        }
        Ok(())
    }

    /// Returns the `T` at `offset`, reading its bytes if needed.
    fn read<T: FromBytes>(&mut self, offset: usize, what: &'static str) -> Result<T, VbiosError> {
        let end = offset
            .checked_add(size_of::<T>())
            .ok_or(VbiosError::OutsideWindow {
                what,
                end: usize::MAX,
            })?;
        self.fill(offset, end, what)?;
        self.data
            .get(offset..end)
            .and_then(T::from_bytes_copy)
            .ok_or(VbiosError::OutsideWindow { what, end })
    }

    /// Returns the little-endian `u32` at `offset`.
    fn u32_at(&mut self, offset: usize, what: &'static str) -> Result<u32, VbiosError> {
        self.read::<u32>(offset, what).map(u32::from_le)
    }

    /// Returns where the PCI expansion ROM starts in the window: after the IFR header when the
    /// window shows one, else at 0 (`s_romImgFindPciHeader_TU102`).
    fn pci_rom_offset(&mut self) -> Result<usize, VbiosError> {
        if self.read::<[u8; 4]>(0, "IFR header")? != IFR_SIGNATURE {
            return Ok(0);
        }
        let ifr: IfrHeader = self.read(0, "IFR header")?;
        let fixed1 = u32::from_le(ifr.fixed_data);
        let version = (fixed1 >> 8) & 0xff;
        let offset = match version {
            1 | 2 => {
                // Bits 30:16: at most 0x7fff.
                let fixed_size = usize::from_safe_cast((fixed1 >> 16) & 0x7fff);
                self.u32_at(fixed_size + IFR_ROM_ADDR_AFTER_FIXED, "IFR extended data")?
            }
            3 => {
                // Bits 19:0: below the window size.
                let total_size = usize::from_safe_cast(u32::from_le(ifr.total_data) & 0xf_ffff);
                let status = self.u32_at(total_size, "IFR flash status pointer")?;
                let directory = usize::try_from(status)
                    .ok()
                    .and_then(|s| s.checked_add(IFR_FLASH_STATUS_SIZE))
                    .ok_or(VbiosError::Ifr("ROM directory pointer overflows"))?;
                let dir: RomDirectory = self.read(directory, "IFR ROM directory")?;
                if dir.signature != ROM_DIRECTORY_SIGNATURE {
                    return Err(VbiosError::Ifr("ROM directory signature is not RFRD"));
                }
                u32::from_le(dir.pci_rom_offset)
            }
            _ => return Err(VbiosError::IfrVersion(version)),
        };
        let offset =
            usize::try_from(offset).map_err(|_| VbiosError::Ifr("ROM offset too large"))?;
        if offset % 4 != 0 || offset >= PROM_WINDOW_SIZE {
            return Err(VbiosError::Ifr(
                "expansion ROM offset unaligned or outside the window",
            ));
        }
        Ok(offset)
    }

    /// Walks the image chain starting at `base`, reading every image, and returns the images.
    fn walk(&mut self, base: usize) -> Result<KVec<Image>, VbiosError> {
        let mut images = KVec::new();
        let mut offset = base;
        loop {
            let index = images.len();
            let image = self.image_at(index, offset)?;
            let start = offset;
            offset = offset
                .checked_add(image.len)
                .ok_or(VbiosError::ImageOutside { index, offset })?;
            if offset > PROM_WINDOW_SIZE {
                return Err(VbiosError::ImageOutside {
                    index,
                    offset: start,
                });
            }
            let last = image.last;
            images
                .push(
                    Image {
                        offset: start - base,
                        ..image
                    },
                    GFP_KERNEL,
                )
                .map_err(|_| VbiosError::NoMemory)?;
            if last {
                return Ok(images);
            }
        }
    }

    /// Returns the NVIDIA PCI data extension at window offset `npde`, if there is one of a
    /// revision nova knows. Only its signature is read when there is none.
    fn npde_at(&mut self, npde: usize) -> Result<Option<NpdeHeader>, VbiosError> {
        if self.read::<[u8; 4]>(npde, "NPDE")? != NPDE_SIGNATURE {
            return Ok(None);
        }
        let ext: NpdeHeader = self.read(npde, "NPDE")?;
        Ok(NPDE_REVISIONS
            .contains(&u16::from_le(ext.revision))
            .then_some(ext))
    }

    /// Parses the headers of image `index` at window offset `offset`. The returned image's
    /// offset is `offset`; the caller rebases it.
    fn image_at(&mut self, index: usize, offset: usize) -> Result<Image, VbiosError> {
        let at = |rel: usize| {
            offset
                .checked_add(rel)
                .ok_or(VbiosError::ImageOutside { index, offset })
        };
        // The signature alone first: a bad one is reported as such even at the window's end.
        let signature = u16::from_le(self.read(at(0)?, "ROM header")?);
        if !ROM_SIGNATURES.contains(&signature) {
            return Err(VbiosError::RomSignature {
                index,
                offset,
                signature,
            });
        }
        let header: RomHeader = self.read(offset, "ROM header")?;
        let pcir_rel = usize::from(u16::from_le(header.pci_data_offset));
        let pcir = at(pcir_rel)?;
        let data: PciData = self.read(pcir, "PCI data structure")?;
        if !PCIR_SIGNATURES.contains(&data.signature) {
            return Err(VbiosError::PcirSignature {
                index,
                offset,
                signature: u32::from_le_bytes(data.signature),
            });
        }
        let pcir_len = usize::from(u16::from_le(data.len));
        let mut blocks = u16::from_le(data.image_len);
        let code_type = data.code_type;
        let mut last = data.indicator & LAST_IMAGE != 0;

        // The NPDE follows the PCI data structure at the next 16-byte boundary of the image.
        let npde_rel = (pcir_rel + pcir_len).next_multiple_of(16);
        let npde = at(npde_rel)?;
        if let Some(ext) = self.npde_at(npde)? {
            let npde_len = usize::from(u16::from_le(ext.len));
            let sub_blocks = u16::from_le(ext.subimage_len);
            if npde_len >= NPDE_SIZE_WITH_LAST {
                let flags: u8 = self.read(npde + size_of::<NpdeHeader>(), "NPDE")?;
                last = flags & LAST_IMAGE != 0;
            } else if sub_blocks < blocks {
                // An NPDE without the flag that shortens the image leaves more images after it.
                last = false;
            }
            blocks = sub_blocks;
        }
        if blocks == 0 {
            return Err(VbiosError::ZeroLength { index, offset });
        }
        Ok(Image {
            offset,
            len: usize::from(blocks) * ROM_BLOCK_SIZE,
            code_type,
            last,
        })
    }
}

/// One image of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Image {
    /// Offset of the image from the start of the expansion ROM.
    pub(crate) offset: usize,
    /// Length in bytes.
    pub(crate) len: usize,
    /// PCI code type.
    pub(crate) code_type: u8,
    /// Whether the image says it is the last one.
    pub(crate) last: bool,
}

/// The expansion ROM, split into its images; its bytes are read when first asked for.
pub(crate) struct Rom<R: WordReader> {
    prom: Prom<R>,
    /// Offset of the expansion ROM in the window.
    base: usize,
    /// Length of the image chain.
    len: usize,
    /// The images, in ROM order.
    pub(crate) images: KVec<Image>,
}

impl<R: WordReader> Rom<R> {
    /// Finds the expansion ROM through `reader` and walks its image chain.
    pub(crate) fn read(reader: R) -> Result<Self, VbiosError> {
        let mut prom = Prom::new(reader);
        let base = prom.pci_rom_offset()?;
        let images = prom.walk(base)?;
        let len = images
            .last()
            .map(|i| i.offset + i.len)
            .ok_or(VbiosError::ZeroLength {
                index: 0,
                offset: base,
            })?;
        Ok(Rom {
            prom,
            base,
            len,
            images,
        })
    }

    /// Returns the length of the expansion ROM.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns the range of the first PC-AT image, where the BIT is.
    pub(crate) fn pcat_image(&self) -> Option<Range<usize>> {
        self.images
            .iter()
            .find(|i| i.code_type == CODE_TYPE_PCAT)
            .map(|i| i.offset..i.offset + i.len)
    }

    /// Returns what to add to a pointer into the NVIDIA images to make it an offset in the
    /// ROM.
    ///
    /// Pointers in the BIT to data in the NVIDIA images count bytes as if the first NVIDIA
    /// image directly followed the PC-AT image; images in between (the EFI image) are skipped
    /// over by adding the distance (`s_locateExpansionRoms`, `expansionRomOffset`).
    pub(crate) fn nvidia_pointer_base(&self) -> usize {
        let first_nvidia = self.images.iter().find(|i| i.code_type == CODE_TYPE_NVIDIA);
        let first_pcat = self.images.iter().find(|i| i.code_type == CODE_TYPE_PCAT);
        match (first_nvidia, first_pcat) {
            (Some(nv), Some(pcat)) => nv.offset.saturating_sub(pcat.len),
            _ => 0,
        }
    }
}

impl<R: WordReader> Source for Rom<R> {
    fn get(&mut self, offset: usize, len: usize, what: &'static str) -> Result<&[u8], VbiosError> {
        let truncated = VbiosError::Truncated { what, offset };
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= self.len)
            .ok_or(truncated)?;
        // Both are at most `base + len`, inside the window.
        let (start, end) = (self.base + offset, self.base + end);
        self.prom.fill(start, end, what)?;
        self.prom.data.get(start..end).ok_or(truncated)
    }
}
