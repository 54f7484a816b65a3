// SPDX-License-Identifier: GPL-2.0

//! FWSEC from the VBIOS as an image the GSP falcon loads: by DMA from GA102 on
//! ([`FwsecLoad`]), through the generic bootloader on Turing and GA100
//! ([`FwsecThroughBootloader`]).

use kernel::{
    device,
    dma::{Coherent, CoherentBox},
    num::casts::FromSafeCast,
    prelude::*,
    transmute::AsBytes,
};

use crate::{
    falcon::{gsp::Gsp, BromParams, CtxDma, Falcon, FalconImage, FalconSection, MEM_BLOCK_SIZE},
    firmware::gen_bootloader::GenBootloader,
    num,
    vbios::{FwsecImage, Segment},
};

/// A [`FwsecImage`] with its segments converted to falcon sections.
pub(crate) struct FwsecLoad {
    image: FwsecImage,
    imem_ns: Option<FalconSection>,
    imem_sec: FalconSection,
    dmem: FalconSection,
    brom: Option<BromParams>,
}

/// Converts `seg` to a falcon section, refusing offsets that do not fit the falcon's 32 bits.
fn section(seg: &Segment) -> Result<FalconSection> {
    let len = seg.src.end.checked_sub(seg.src.start).ok_or(EINVAL)?;
    Ok(FalconSection {
        src: u32::try_from(seg.src.start)?,
        dst: seg.dst,
        virt: seg.virt,
        len: u32::try_from(len)?,
    })
}

impl FwsecLoad {
    /// Wraps `image`.
    pub(crate) fn new(image: FwsecImage) -> Result<Self> {
        Ok(Self {
            imem_ns: image.imem_ns.as_ref().map(section).transpose()?,
            imem_sec: section(&image.imem_sec)?,
            dmem: section(&image.dmem)?,
            brom: image.brom,
            image,
        })
    }
}

impl FalconImage for FwsecLoad {
    type Engine = Gsp;

    fn bytes(&self) -> &[u8] {
        &self.image.bytes
    }

    fn imem_secure(&self) -> Option<FalconSection> {
        Some(self.imem_sec)
    }

    fn imem_nonsecure(&self) -> Option<FalconSection> {
        self.imem_ns
    }

    fn dmem(&self) -> FalconSection {
        self.dmem
    }

    fn boot_vector(&self) -> u32 {
        self.image.boot_vector
    }

    fn brom_params(&self) -> Option<BromParams> {
        self.brom
    }
}

/// `RM_FLCN_BL_DMEM_DESC` (open-gpu-kernel-modules `rmflcnbl.h`): what the generic bootloader
/// loads and where it jumps. Every field is a little-endian word; the 64-bit addresses are
/// `RM_FLCN_U64`, two words, low first.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct BlDmemDesc {
    /// `reserved`.
    reserved: [u32; 4],
    /// `signature`: zero, FWSEC V2 carries its own.
    signature: [u32; 4],
    /// `ctxDma`: the context DMA the bootloader loads through.
    ctx_dma: u32,
    /// `codeDmaBase`: the bus address of the code, 256-byte aligned.
    code_dma_base: [u32; 2],
    /// `nonSecureCodeOff`: offset of the non-secure code from the code base, which is also its
    /// IMEM offset.
    non_secure_code_off: u32,
    /// `nonSecureCodeSize`.
    non_secure_code_size: u32,
    /// `secureCodeOff`: as `nonSecureCodeOff`, for the secure code.
    secure_code_off: u32,
    /// `secureCodeSize`.
    secure_code_size: u32,
    /// `codeEntryPoint`: where the bootloader jumps once the code is loaded.
    code_entry_point: u32,
    /// `dataDmaBase`: the bus address of the data, 256-byte aligned, loaded to DMEM 0.
    data_dma_base: [u32; 2],
    /// `dataSize`: a multiple of 256 bytes.
    data_size: u32,
    /// `argc`.
    argc: u32,
    /// `argv`.
    argv: u32,
}

// SAFETY: `BlDmemDesc` is `repr(C)` and made of `u32`s only, so it has no padding, and any
// value is valid.
unsafe impl AsBytes for BlDmemDesc {}

/// A 64-bit bus address as `RM_FLCN_U64`: the low word, then the high one, little-endian.
fn flcn_u64(addr: u64) -> [u32; 2] {
    [num::lower_32(addr).to_le(), num::upper_32(addr).to_le()]
}

/// FWSEC as Turing and GA100 run it: the generic bootloader, written into the GSP falcon's
/// IMEM by PIO, loads FWSEC from system memory by DMA and jumps to it (open-gpu-kernel-modules
/// `s_prepareHsFalconWithLoader` in `kernel_gsp_falcon_tu102.c`).
pub(crate) struct FwsecThroughBootloader {
    /// FWSEC's IMEM image: each part at its IMEM offset, as the bootloader copies it.
    _code: Coherent<[u8]>,
    /// FWSEC's DMEM image, zero-padded to whole blocks.
    _data: Coherent<[u8]>,
    /// The descriptor naming both.
    desc: BlDmemDesc,
    /// Where in DMEM the bootloader reads the descriptor.
    desc_offset: u32,
    /// The bootloader's code, zero-padded to whole blocks.
    bl_code: KVec<u8>,
    /// The IMEM tag of the bootloader's first block, where the falcon starts.
    start_tag: u16,
}

impl FwsecThroughBootloader {
    /// Prepares `fwsec` to be loaded by the generic bootloader `bl` on `dev`'s GSP falcon.
    ///
    /// Fails with `EINVAL` if FWSEC is not laid out the way the bootloader loads an image: IMEM
    /// parts at block-aligned offsets, DMEM from offset 0.
    pub(crate) fn new(
        dev: &device::Device<device::Bound>,
        fwsec: &FwsecLoad,
        bl: &GenBootloader<'_>,
    ) -> Result<Self> {
        let image = fwsec.bytes();
        let ns = fwsec.imem_ns.ok_or(EINVAL)?;
        let sec = fwsec.imem_sec;
        let dmem = fwsec.dmem;
        if dmem.dst != 0 || ns.dst % MEM_BLOCK_SIZE != 0 || sec.dst % MEM_BLOCK_SIZE != 0 {
            dev_err!(
                dev,
                "FWSEC (IMEM at {:#x} and {:#x}, DMEM at {:#x}) is not loadable by the generic \
                 bootloader\n",
                ns.dst,
                sec.dst,
                dmem.dst
            );
            return Err(EINVAL);
        }

        // The code buffer mirrors IMEM: offset n holds what goes to IMEM offset n.
        let code_end = [ns, sec]
            .iter()
            .map(|s| s.dst.checked_add(s.len).ok_or(EOVERFLOW))
            .try_fold(0u32, |end, e| e.map(|e| end.max(e)))?;
        let code_len = align_block(usize::from_safe_cast(code_end))?;
        let mut code = CoherentBox::<[u8]>::zeroed_slice(dev, code_len, GFP_KERNEL)?;
        for part in [ns, sec] {
            let src = section_bytes(image, part)?;
            let dst = usize::from_safe_cast(part.dst);
            code.get_mut(dst..)
                .and_then(|c| c.get_mut(..src.len()))
                .ok_or(EINVAL)?
                .copy_from_slice(src);
        }

        let src = section_bytes(image, dmem)?;
        let data_len = align_block(src.len())?;
        let mut data = CoherentBox::<[u8]>::zeroed_slice(dev, data_len, GFP_KERNEL)?;
        data.get_mut(..src.len())
            .ok_or(EINVAL)?
            .copy_from_slice(src);

        let code: Coherent<[u8]> = code.into();
        let data: Coherent<[u8]> = data.into();
        let desc = BlDmemDesc {
            ctx_dma: CtxDma::PhysSysNcoh.index().to_le(),
            code_dma_base: flcn_u64(code.dma_address()),
            non_secure_code_off: ns.dst.to_le(),
            non_secure_code_size: ns.len.to_le(),
            secure_code_off: sec.dst.to_le(),
            secure_code_size: sec.len.to_le(),
            // As Open RM sets it: FWSEC V2 starts at IMEM virtual address 0.
            code_entry_point: 0,
            data_dma_base: flcn_u64(data.dma_address()),
            data_size: u32::try_from(data_len)?.to_le(),
            ..BlDmemDesc::default()
        };

        let mut bl_code = KVec::with_capacity(align_block(bl.code.len())?, GFP_KERNEL)?;
        bl_code.extend_from_slice(bl.code, GFP_KERNEL)?;
        bl_code.resize(align_block(bl.code.len())?, 0, GFP_KERNEL)?;

        Ok(Self {
            _code: code,
            _data: data,
            desc,
            desc_offset: bl.dmem_desc_offset,
            bl_code,
            start_tag: bl.start_tag,
        })
    }

    /// Resets the GSP falcon, writes the bootloader to the top of IMEM and its descriptor to
    /// DMEM, and starts it at the bootloader's tag; returns MAILBOX0 once FWSEC halts, with
    /// `mbox0` as its input.
    pub(crate) fn run(&self, falcon: &Falcon<'_, Gsp>, mbox0: u32) -> Result<u32> {
        falcon.reset()?;
        falcon.allow_phys_dma(CtxDma::PhysSysNcoh);
        falcon.pio_write_dmem(self.desc_offset, self.desc.as_bytes())?;
        let imem = falcon.mem_sizes().imem;
        let at = imem
            .checked_sub(u32::try_from(self.bl_code.len())?)
            .ok_or(EINVAL)?;
        falcon.pio_write_imem(at, &self.bl_code, self.start_tag, false)?;
        falcon.set_boot_vector(u32::from(self.start_tag) << 8);
        let (status, _) = falcon.boot(Some(mbox0), None)?;
        Ok(status)
    }
}

/// `len` rounded up to whole falcon memory blocks.
fn align_block(len: usize) -> Result<usize> {
    let block = usize::from_safe_cast(MEM_BLOCK_SIZE);
    len.checked_next_multiple_of(block).ok_or(EOVERFLOW)
}

/// The bytes of `image` that `section` covers.
fn section_bytes(image: &[u8], section: FalconSection) -> Result<&[u8]> {
    let start = usize::from_safe_cast(section.src);
    let end = start
        .checked_add(usize::from_safe_cast(section.len))
        .ok_or(EOVERFLOW)?;
    image.get(start..end).ok_or(EINVAL)
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_boot_fwsec)]
mod tests {
    use super::*;

    /// The descriptor's bytes sit where `RM_FLCN_BL_DMEM_DESC` has its fields: 84 bytes,
    /// `ctxDma` at 32, `codeDmaBase` at 36 (low word first), the code offsets and sizes from 44,
    /// `codeEntryPoint` at 60, `dataDmaBase` at 64, `dataSize` at 72.
    #[test]
    fn dmem_descriptor_layout() {
        let desc = BlDmemDesc {
            ctx_dma: CtxDma::PhysSysNcoh.index(),
            code_dma_base: flcn_u64(0x1_2345_6700),
            non_secure_code_off: 0,
            non_secure_code_size: 0x100,
            secure_code_off: 0x100,
            secure_code_size: 0x200,
            code_entry_point: 0,
            data_dma_base: flcn_u64(0x89ab_cd00),
            data_size: 0x300,
            ..BlDmemDesc::default()
        };
        let b = desc.as_bytes();
        let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        assert_eq!(b.len(), 84);
        assert_eq!(word(32), 4);
        assert_eq!((word(36), word(40)), (0x2345_6700, 1));
        assert_eq!(
            [word(44), word(48), word(52), word(56)],
            [0, 0x100, 0x100, 0x200]
        );
        assert_eq!(word(60), 0);
        assert_eq!((word(64), word(68)), (0x89ab_cd00, 0));
        assert_eq!(word(72), 0x300);
    }

    #[test]
    fn blocks_round_up() -> Result {
        assert_eq!(align_block(0)?, 0);
        assert_eq!(align_block(1)?, 256);
        assert_eq!(align_block(512)?, 512);
        assert!(align_block(usize::MAX).is_err());
        Ok(())
    }
}
