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

use kernel::{num::casts::FromSafeCast, prelude::*};

use core::ops::Range;

use super::{Source, VbiosError};

/// Size of the PROM window that holds the ROM: 1 MiB.
pub(crate) const PROM_WINDOW_SIZE: usize = 0x10_0000;

/// Unit of image lengths in the PCI data structure and the NPDE (`PCI_ROM_IMAGE_BLOCK_SIZE`).
const ROM_BLOCK_SIZE: usize = 512;

/// Valid ROM header signatures: the PCI one (0x55 0xaa) and NVIDIA's two (`pci_exp_table.h`,
/// `IS_VALID_PCI_ROM_SIG`).
const ROM_SIGNATURES: [u16; 3] = [0xaa55, 0x4e56, 0xbb77];

/// Offset in the ROM header of the pointer to the PCI data structure.
const ROM_HEADER_PCIR_POINTER: usize = 0x18;

/// Valid PCI data structure signatures: "PCIR", "NPDS" and "RGIS" (`pci_exp_table.h`,
/// `IS_VALID_PCI_DATA_SIG`).
const PCIR_SIGNATURES: [[u8; 4]; 3] = [*b"PCIR", *b"NPDS", *b"RGIS"];

/// The fields of the PCI data structure that are used (`PCI_DATA_STRUCT`).
const PCIR_LEN: usize = 0x0a;
const PCIR_IMAGE_LEN: usize = 0x10;
const PCIR_CODE_TYPE: usize = 0x14;
const PCIR_LAST_IMAGE: usize = 0x15;
/// Bytes of the PCI data structure that must be readable.
const PCIR_SIZE: usize = 0x18;

/// The last-image bit, in the PCI data structure and the NPDE (`PCI_LAST_IMAGE`).
const LAST_IMAGE: u8 = 0x80;

/// NVIDIA PCI data extension (`NV_PCI_DATA_EXT_STRUCT`): signature, accepted revisions and
/// fields.
const NPDE_SIGNATURE: [u8; 4] = *b"NPDE";
const NPDE_REVISIONS: [u16; 2] = [0x100, 0x101];
const NPDE_REVISION: usize = 0x04;
const NPDE_LEN: usize = 0x06;
const NPDE_SUBIMAGE_LEN: usize = 0x08;
const NPDE_LAST_IMAGE: usize = 0x0a;
/// Bytes of the NPDE up to and including the last-image byte.
const NPDE_SIZE_WITH_LAST: usize = 0x0b;

/// IFR header (`dev_bus.h`): "NVGI" at offset 0, version in bits 15:8 and fixed data size in
/// bits 30:16 of the word at 4, total data size in bits 19:0 of the word at 8.
const IFR_SIGNATURE: [u8; 4] = *b"NVGI";
/// Offset of the expansion ROM's address after the fixed IFR data, for IFR versions 1 and 2.
const IFR_ROM_ADDR_AFTER_FIXED: usize = 4;
/// Size of the flash status area before the ROM directory (IFR version 3).
const IFR_FLASH_STATUS_SIZE: usize = 4096;
/// ROM directory signature "RFRD" and the offset in it of the expansion ROM's address.
const ROM_DIRECTORY_SIGNATURE: [u8; 4] = *b"RFRD";
const ROM_DIRECTORY_PCI_ROM: usize = 8;

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

    /// Returns the `N` bytes at `offset`, reading them if needed.
    fn bytes<const N: usize>(
        &mut self,
        offset: usize,
        what: &'static str,
    ) -> Result<[u8; N], VbiosError> {
        let end = offset.checked_add(N).ok_or(VbiosError::OutsideWindow {
            what,
            end: usize::MAX,
        })?;
        self.fill(offset, end, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(
            self.data
                .get(offset..end)
                .ok_or(VbiosError::OutsideWindow { what, end })?,
        );
        Ok(out)
    }

    fn u8_at(&mut self, offset: usize, what: &'static str) -> Result<u8, VbiosError> {
        let [b] = self.bytes::<1>(offset, what)?;
        Ok(b)
    }

    fn u16_at(&mut self, offset: usize, what: &'static str) -> Result<u16, VbiosError> {
        self.bytes::<2>(offset, what).map(u16::from_le_bytes)
    }

    fn u32_at(&mut self, offset: usize, what: &'static str) -> Result<u32, VbiosError> {
        self.bytes::<4>(offset, what).map(u32::from_le_bytes)
    }

    /// Returns where the PCI expansion ROM starts in the window: after the IFR header when the
    /// window shows one, else at 0 (`s_romImgFindPciHeader_TU102`).
    fn pci_rom_offset(&mut self) -> Result<usize, VbiosError> {
        if self.bytes::<4>(0, "IFR header")? != IFR_SIGNATURE {
            return Ok(0);
        }
        let fixed1 = self.u32_at(4, "IFR header")?;
        let version = (fixed1 >> 8) & 0xff;
        let offset = match version {
            1 | 2 => {
                // Bits 30:16: at most 0x7fff.
                let fixed_size = usize::from_safe_cast((fixed1 >> 16) & 0x7fff);
                self.u32_at(fixed_size + IFR_ROM_ADDR_AFTER_FIXED, "IFR extended data")?
            }
            3 => {
                // Bits 19:0: below the window size.
                let total_size = usize::from_safe_cast(self.u32_at(8, "IFR header")? & 0xf_ffff);
                let status = self.u32_at(total_size, "IFR flash status pointer")?;
                let directory = usize::try_from(status)
                    .ok()
                    .and_then(|s| s.checked_add(IFR_FLASH_STATUS_SIZE))
                    .ok_or(VbiosError::Ifr("ROM directory pointer overflows"))?;
                if self.bytes::<4>(directory, "IFR ROM directory")? != ROM_DIRECTORY_SIGNATURE {
                    return Err(VbiosError::Ifr("ROM directory signature is not RFRD"));
                }
                let at = directory
                    .checked_add(ROM_DIRECTORY_PCI_ROM)
                    .ok_or(VbiosError::Ifr("ROM directory pointer overflows"))?;
                self.u32_at(at, "IFR ROM directory")?
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

    /// Parses the headers of image `index` at window offset `offset`. The returned image's
    /// offset is `offset`; the caller rebases it.
    fn image_at(&mut self, index: usize, offset: usize) -> Result<Image, VbiosError> {
        let at = |rel: usize| {
            offset
                .checked_add(rel)
                .ok_or(VbiosError::ImageOutside { index, offset })
        };
        let signature = self.u16_at(at(0)?, "ROM header")?;
        if !ROM_SIGNATURES.contains(&signature) {
            return Err(VbiosError::RomSignature {
                index,
                offset,
                signature,
            });
        }
        let pcir_rel = usize::from(self.u16_at(at(ROM_HEADER_PCIR_POINTER)?, "ROM header")?);
        let pcir = at(pcir_rel)?;
        self.fill(pcir, at(pcir_rel + PCIR_SIZE)?, "PCI data structure")?;
        let signature = self.bytes::<4>(pcir, "PCI data structure")?;
        if !PCIR_SIGNATURES.contains(&signature) {
            return Err(VbiosError::PcirSignature {
                index,
                offset,
                signature: u32::from_le_bytes(signature),
            });
        }
        let pcir_len = usize::from(self.u16_at(pcir + PCIR_LEN, "PCI data structure")?);
        let mut blocks = self.u16_at(pcir + PCIR_IMAGE_LEN, "PCI data structure")?;
        let code_type = self.u8_at(pcir + PCIR_CODE_TYPE, "PCI data structure")?;
        let mut last = self.u8_at(pcir + PCIR_LAST_IMAGE, "PCI data structure")? & LAST_IMAGE != 0;

        // The NPDE follows the PCI data structure at the next 16-byte boundary of the image.
        let npde_rel = (pcir_rel + pcir_len).next_multiple_of(16);
        let npde = at(npde_rel)?;
        if self.bytes::<4>(npde, "NPDE")? == NPDE_SIGNATURE
            && NPDE_REVISIONS.contains(&self.u16_at(npde + NPDE_REVISION, "NPDE")?)
        {
            let npde_len = usize::from(self.u16_at(npde + NPDE_LEN, "NPDE")?);
            let sub_blocks = self.u16_at(npde + NPDE_SUBIMAGE_LEN, "NPDE")?;
            if npde_len >= NPDE_SIZE_WITH_LAST {
                last = self.u8_at(npde + NPDE_LAST_IMAGE, "NPDE")? & LAST_IMAGE != 0;
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
