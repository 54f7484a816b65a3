// SPDX-License-Identifier: GPL-2.0

//! Falcon engines.
//!
//! A falcon is one of NVIDIA's small embedded microcontrollers. nova drives two of them to boot
//! GSP-RM: the GSP's own falcon, which runs FWSEC from the VBIOS, and SEC2, which runs the
//! booter. On GA102 and later both also have a RISC-V core next to the falcon core ("Peregrine"),
//! and the GSP-RM firmware itself runs on the GSP's RISC-V core.
//!
//! [`Falcon`] is generic over the engine ([`FalconEngine`]: [`gsp::Gsp`], [`sec2::Sec2`]), whose
//! register bases make every access a compile-time offset, and holds a per-chip HAL
//! (`hal::tu102` for Turing and GA100, `hal::ga102` for GA102 and later) for the steps that
//! differ between generations. Images to run implement [`FalconImage`].
//!
//! Loading is by DMA from a DMA-coherent copy of the image, in 256-byte blocks, as NVIDIA's
//! drivers do it (open-gpu-kernel-modules `kernel_falcon.c`, nouveau `nvkm_falcon_dma_wr`).

use kernel::{
    device,
    dma::{Coherent, CoherentBox, DmaAddress},
    io::{
        poll::read_poll_timeout,
        register::{RegisterBase, WithBase},
        Io,
    },
    prelude::*,
    time::Delta,
};

use crate::{driver::Bar0, gpu::Chipset, num, regs};

pub(crate) mod gsp;
mod hal;
pub(crate) mod sec2;

/// A context DMA: which `NV_PFALCON_FBIF_TRANSCFG` entry a DMA request goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtxDma {
    /// Entry 0, which nova's own DMA loads use.
    Zero,
    /// Entry 4, physical non-coherent system memory by Open RM's convention, which the
    /// generic bootloader's loads use (`ctxDma = 4` in `s_prepareHsFalconWithLoader`).
    PhysSysNcoh,
}

impl CtxDma {
    /// The entry's index, as `RM_FLCN_BL_DMEM_DESC.ctxDma` holds it.
    pub(crate) const fn index(self) -> u32 {
        match self {
            Self::Zero => 0,
            Self::PhysSysNcoh => 4,
        }
    }
}

/// Words per falcon memory block.
const BLOCK_WORDS: usize = 64;

/// The little-endian 32-bit word `bytes` (four of them).
fn le_word(bytes: &[u8]) -> Result<u32> {
    Ok(u32::from_le_bytes(bytes.try_into().map_err(|_| EINVAL)?))
}

/// Size of a falcon memory block, the unit of DMA transfers and of the `HWCFG` sizes.
pub(crate) const MEM_BLOCK_SIZE: u32 = 256;

/// The DMA base registers hold address bits 48:8 (`DMATRFBASE` 31:0 and `DMATRFBASE1` 8:0).
const DMA_ADDRESS_BITS: u32 = 49;

/// How long a single 256-byte DMA transfer may take. Generous: nouveau allows two seconds.
const DMA_TIMEOUT: Delta = Delta::from_secs(2);

/// How long a firmware image may run before it must have halted. The HS images nova runs
/// (FWSEC, booter) finish in milliseconds on real hardware.
const HALT_TIMEOUT: Delta = Delta::from_secs(2);

/// How long memory scrubbing after a reset may take. Scrubbing the falcon's few hundred KiB of
/// memories takes microseconds; this bound only catches a dead engine.
pub(crate) const SCRUB_TIMEOUT: Delta = Delta::from_millis(100);

/// Type identifying the `PFALCON` register range of an engine (see [`FalconEngine`]).
pub(crate) struct PFalconBase(());

/// Type identifying the `PFALCON2` (and `PRISCV`) register range of an engine.
pub(crate) struct PFalcon2Base(());

/// A falcon engine: its two register ranges and its name.
pub(crate) trait FalconEngine:
    RegisterBase<PFalconBase> + RegisterBase<PFalcon2Base> + Send + Sync + 'static
{
    /// The engine's name, for log lines.
    const NAME: &'static str;
}

/// The memories of a falcon that an image is loaded into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FalconMem {
    /// Instruction memory, blocks marked secure (heavy-secure code).
    ImemSecure,
    /// Instruction memory, blocks marked non-secure.
    ImemNonSecure,
    /// Data memory.
    Dmem,
}

/// One contiguous piece of an image, to be copied into one falcon memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FalconSection {
    /// Offset of the piece in [`FalconImage::bytes`].
    pub(crate) src: u32,
    /// Physical offset in the falcon memory to copy it to; a multiple of 256.
    pub(crate) dst: u32,
    /// For IMEM, the virtual address of the first byte, which tags its blocks and which code
    /// addresses and the boot vector refer to; it must lie at the same offset within a 256-byte
    /// block as `src`. Ignored for DMEM.
    pub(crate) virt: u32,
    /// Length in bytes. Transfers are whole 256-byte blocks; the last one is padded with zeros.
    pub(crate) len: u32,
}

/// Boot ROM parameters of a heavy-secure image on GA102 and later
/// (`NV_PFALCON2_FALCON_BROM_*`, `NV_PFALCON2_FALCON_MOD_SEL`). Turing's boot ROM takes none:
/// the image carries its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BromParams {
    /// Offset in DMEM of the signature data (PKC) the boot ROM checks.
    pub(crate) pkc_data_offset: u32,
    /// Engines the image is signed for (bit 0 SEC2, bit 2 NVDEC, bit 10 GSP).
    pub(crate) engine_id_mask: u16,
    /// Id of the ucode, which selects the fuse holding its minimum version.
    pub(crate) ucode_id: u8,
}

/// A firmware image that can be run on a falcon of engine [`FalconImage::Engine`].
///
/// The image describes where its pieces go; [`Falcon::load`] copies the bytes into DMA-coherent
/// memory, checks every section against the image and against the falcon's memory sizes, and
/// transfers them. Implemented by the FWSEC image from the VBIOS and by the booter.
pub(crate) trait FalconImage {
    /// The engine this image is built for.
    type Engine: FalconEngine;

    /// The whole image, which the sections index into.
    fn bytes(&self) -> &[u8];

    /// The code to load into secure IMEM, if any.
    fn imem_secure(&self) -> Option<FalconSection>;

    /// The code to load into non-secure IMEM, if any (Turing and GA100 images).
    fn imem_nonsecure(&self) -> Option<FalconSection> {
        None
    }

    /// The data to load into DMEM.
    fn dmem(&self) -> FalconSection;

    /// The IMEM address (tag) the CPU starts at.
    fn boot_vector(&self) -> u32;

    /// Boot ROM parameters, for heavy-secure images on GA102 and later.
    fn brom_params(&self) -> Option<BromParams>;
}

/// Why a section of an image cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SectionError {
    /// The section reaches past the end of the image.
    OutsideImage,
    /// The section reaches past the end of the falcon memory.
    OutsideMemory,
    /// The destination is not at the start of a 256-byte block.
    MisalignedDestination,
    /// The source is not where the transfers can reach it: a DMEM section must start at a
    /// 256-byte boundary of the image, an IMEM section at the same offset within a block as its
    /// virtual address.
    MisalignedSource,
}

/// The 256-byte DMA transfers that load one section: `count` blocks, the `n`th from offset
/// `fb_offset + n * 256` from the DMA base, which is `base_offset` bytes into the DMA buffer, to
/// memory offset `mem_offset + n * 256`.
///
/// The DMA engine tags each IMEM block with its source offset (`DMATRFFBOFFS`), so for IMEM
/// `fb_offset` is the section's virtual address and the base is placed that far before the
/// section; for DMEM the base is the section's start (nouveau `nvkm_falcon_dma_wr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DmaPlan {
    /// Offset into the DMA buffer of the DMA base; a multiple of 256.
    pub(crate) base_offset: u32,
    /// Offset of the first block from the DMA base.
    pub(crate) fb_offset: u32,
    /// Memory offset of the first block.
    pub(crate) mem_offset: u32,
    /// Number of blocks.
    pub(crate) count: u32,
}

impl DmaPlan {
    /// Returns the offset into the DMA buffer just past the last block the transfers read.
    fn buffer_end(&self) -> Option<u32> {
        self.count
            .checked_mul(MEM_BLOCK_SIZE)?
            .checked_add(self.fb_offset)?
            .checked_add(self.base_offset)
    }
}

/// Most sections an image has: non-secure IMEM, secure IMEM, DMEM.
const MAX_SECTIONS: usize = 3;

/// How an image is laid out in its DMA buffer and transferred from there.
///
/// The buffer holds the image at offset `pad`, zero-filled before (so that an IMEM section whose
/// virtual address is above its offset in the image still has its DMA base inside the buffer)
/// and after (so that every last block is whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoadPlan {
    /// Offset of the image in the buffer; a multiple of 256.
    pub(crate) pad: u32,
    /// Length of the buffer; a multiple of 256.
    pub(crate) buffer_len: u32,
    /// The transfers, in order.
    pub(crate) transfers: [Option<(FalconMem, DmaPlan)>; MAX_SECTIONS],
}

impl LoadPlan {
    /// Plans the loading of an image of `image_len` bytes with `sections` into a falcon with
    /// memories of `sizes`, checking every section against the image and the memories.
    pub(crate) fn new(
        image_len: usize,
        sections: [Option<(FalconMem, FalconSection)>; MAX_SECTIONS],
        sizes: FalconMemSizes,
    ) -> Result<Self, SectionError> {
        let image_len = u32::try_from(image_len).map_err(|_| SectionError::OutsideImage)?;

        // The front padding: the largest distance an IMEM section's virtual address lies
        // above its place in the image.
        let mut pad = 0u32;
        for (mem, section) in sections.iter().flatten() {
            if *mem != FalconMem::Dmem {
                pad = pad.max(section.virt.saturating_sub(section.src));
            }
        }
        let pad = pad
            .checked_next_multiple_of(MEM_BLOCK_SIZE)
            .ok_or(SectionError::OutsideImage)?;

        let mut buffer_end = pad
            .checked_add(image_len)
            .ok_or(SectionError::OutsideImage)?;
        let mut transfers = [None; MAX_SECTIONS];
        for (slot, (mem, section)) in transfers.iter_mut().zip(sections.iter().flatten()) {
            let plan = Self::plan(pad, image_len, *mem, section, sizes)?;
            buffer_end = buffer_end.max(plan.buffer_end().ok_or(SectionError::OutsideImage)?);
            *slot = Some((*mem, plan));
        }

        Ok(Self {
            pad,
            buffer_len: buffer_end
                .checked_next_multiple_of(MEM_BLOCK_SIZE)
                .ok_or(SectionError::OutsideImage)?,
            transfers,
        })
    }

    /// Plans the transfers of one section of an image placed `pad` bytes into the buffer.
    fn plan(
        pad: u32,
        image_len: u32,
        mem: FalconMem,
        section: &FalconSection,
        sizes: FalconMemSizes,
    ) -> Result<DmaPlan, SectionError> {
        let end = section
            .src
            .checked_add(section.len)
            .ok_or(SectionError::OutsideImage)?;
        if end > image_len {
            return Err(SectionError::OutsideImage);
        }
        if section.dst % MEM_BLOCK_SIZE != 0 {
            return Err(SectionError::MisalignedDestination);
        }
        let count = section.len.div_ceil(MEM_BLOCK_SIZE);
        let mem_size = match mem {
            FalconMem::Dmem => sizes.dmem,
            FalconMem::ImemSecure | FalconMem::ImemNonSecure => sizes.imem,
        };
        let mem_end = count
            .checked_mul(MEM_BLOCK_SIZE)
            .and_then(|len| len.checked_add(section.dst))
            .ok_or(SectionError::OutsideMemory)?;
        if mem_end > mem_size {
            return Err(SectionError::OutsideMemory);
        }

        // Where the section starts in the buffer.
        let start = pad
            .checked_add(section.src)
            .ok_or(SectionError::OutsideImage)?;
        let (base_offset, fb_offset) = match mem {
            // `pad` makes `start >= virt` for every IMEM section.
            FalconMem::ImemSecure | FalconMem::ImemNonSecure => (
                start
                    .checked_sub(section.virt)
                    .ok_or(SectionError::MisalignedSource)?,
                section.virt,
            ),
            FalconMem::Dmem => (start, 0),
        };
        if base_offset % MEM_BLOCK_SIZE != 0 {
            return Err(SectionError::MisalignedSource);
        }

        Ok(DmaPlan {
            base_offset,
            fb_offset,
            mem_offset: section.dst,
            count,
        })
    }
}

/// Sizes of a falcon's memories, from `NV_PFALCON_FALCON_HWCFG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FalconMemSizes {
    /// IMEM size in bytes.
    pub(crate) imem: u32,
    /// DMEM size in bytes.
    pub(crate) dmem: u32,
}

impl From<regs::NV_PFALCON_FALCON_HWCFG> for FalconMemSizes {
    fn from(hwcfg: regs::NV_PFALCON_FALCON_HWCFG) -> Self {
        // Nine-bit block counts: at most 511 * 256 bytes, no overflow.
        FalconMemSizes {
            imem: hwcfg.imem_size().get() * MEM_BLOCK_SIZE,
            dmem: hwcfg.dmem_size().get() * MEM_BLOCK_SIZE,
        }
    }
}

/// The interrupt registers of falcon engine `E`, for an interrupt handler: it borrows no BAR
/// and allocates nothing once made.
pub(crate) struct FalconIrq<E: FalconEngine> {
    hal: KBox<dyn hal::FalconHal<E>>,
}

impl<E: FalconEngine> FalconIrq<E> {
    /// Returns the interrupt registers of engine `E` on a `chipset` GPU.
    pub(crate) fn new(chipset: Chipset) -> Result<Self> {
        Ok(Self {
            hal: hal::falcon_hal::<E>(chipset)?,
        })
    }

    /// Returns the interrupts that are latched and enabled towards the host.
    pub(crate) fn pending(&self, bar: Bar0<'_>) -> regs::NV_PFALCON_FALCON_IRQSTAT {
        let stat = u32::from(bar.read(regs::NV_PFALCON_FALCON_IRQSTAT::of::<E>()));
        let mask = u32::from(self.hal.host_irq_mask(bar));
        regs::NV_PFALCON_FALCON_IRQSTAT::from(stat & mask)
    }

    /// Acknowledges `irqs` (`IRQSCLR`).
    pub(crate) fn clear(&self, bar: Bar0<'_>, irqs: regs::NV_PFALCON_FALCON_IRQSTAT) {
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_IRQSCLR::from(u32::from(irqs)),
        );
    }

    /// Disables `irqs` towards the host (`IRQMCLR`), for interrupts nothing handles.
    pub(crate) fn disable(&self, bar: Bar0<'_>, irqs: regs::NV_PFALCON_FALCON_IRQSTAT) {
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_IRQMCLR::from(u32::from(irqs)),
        );
    }

    /// Makes the engine send its interrupt message again if an enabled interrupt is still
    /// latched (GA100 and later; nothing on Turing).
    pub(crate) fn retrigger(&self, bar: Bar0<'_>) {
        self.hal.retrigger_irq(bar);
    }
}

/// A falcon engine of one GPU.
pub(crate) struct Falcon<'a, E: FalconEngine> {
    dev: &'a device::Device<device::Bound>,
    bar: Bar0<'a>,
    hal: KBox<dyn hal::FalconHal<E>>,
    mem: FalconMemSizes,
}

impl<'a, E: FalconEngine> Falcon<'a, E> {
    /// Returns the falcon of engine `E` on a `chipset` GPU, after checking that it answers.
    ///
    /// Fails with `ENODEV` and one log line if the engine's registers read back as PRI errors
    /// (the engine is absent, powered off or not modelled by a simulator).
    pub(crate) fn new(
        dev: &'a device::Device<device::Bound>,
        bar: Bar0<'a>,
        chipset: Chipset,
    ) -> Result<Self> {
        let hwcfg = bar.read(regs::NV_PFALCON_FALCON_HWCFG::of::<E>());
        let hwcfg2 = bar.read(regs::NV_PFALCON_FALCON_HWCFG2::of::<E>());
        for raw in [u32::from(hwcfg), u32::from(hwcfg2)] {
            if regs::is_pri_error(raw) {
                dev_err!(
                    dev,
                    "{} falcon does not answer register reads ({:#010x})\n",
                    E::NAME,
                    raw
                );
                return Err(ENODEV);
            }
        }

        Ok(Self {
            dev,
            bar,
            hal: hal::falcon_hal::<E>(chipset)?,
            mem: FalconMemSizes::from(hwcfg),
        })
    }

    /// Returns the falcon of engine `E`, reset and ready to load an image, and logs the sizes
    /// of its memories at debug level.
    pub(crate) fn new_reset(
        dev: &'a device::Device<device::Bound>,
        bar: Bar0<'a>,
        chipset: Chipset,
    ) -> Result<Self> {
        let falcon = Self::new(dev, bar, chipset)?;
        falcon.reset().inspect_err(|e| {
            dev_err!(dev, "{} falcon reset failed: {:?}\n", E::NAME, e);
        })?;
        dev_dbg!(
            dev,
            "{} falcon reset: IMEM {} KiB, DMEM {} KiB\n",
            E::NAME,
            falcon.mem.imem / 1024,
            falcon.mem.dmem / 1024
        );
        Ok(falcon)
    }

    /// Returns the sizes of the falcon's memories.
    pub(crate) fn mem_sizes(&self) -> FalconMemSizes {
        self.mem
    }

    /// Resets the engine, waits for its memories to be scrubbed and selects the falcon core
    /// (on engines that also have a RISC-V core), ready for [`Falcon::load`].
    pub(crate) fn reset(&self) -> Result {
        self.hal.reset(self.bar)?;
        self.hal.select_falcon_core(self.bar)?;

        // The host tells the falcon which chip it runs on (open-gpu-kernel-modules
        // `kflcnReset_TU102` writes the chip id, `NV_PMC_BOOT_0`, into the RM register).
        let boot0 = u32::from(self.bar.read(regs::NV_PMC_BOOT_0));
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_RM::zeroed().with_value(boot0),
        );

        Ok(())
    }

    /// Loads `image` into the falcon: non-secure IMEM, secure IMEM and DMEM, by DMA or through
    /// the access ports as the chip's HAL says, then the boot ROM parameters (GA102 and later)
    /// and the boot vector. The falcon must be reset and
    /// halted; start it with [`Falcon::boot`].
    pub(crate) fn load<I: FalconImage<Engine = E>>(&self, image: &I) -> Result {
        let bytes = image.bytes();
        let sections = [
            image
                .imem_nonsecure()
                .map(|s| (FalconMem::ImemNonSecure, s)),
            image.imem_secure().map(|s| (FalconMem::ImemSecure, s)),
            Some((FalconMem::Dmem, image.dmem())),
        ];
        let plan = LoadPlan::new(bytes.len(), sections, self.mem).map_err(|e| {
            dev_err!(
                self.dev,
                "{} falcon (IMEM {:#x}, DMEM {:#x} bytes): cannot load image ({:?}): {:?}\n",
                E::NAME,
                self.mem.imem,
                self.mem.dmem,
                sections,
                e
            );
            EINVAL
        })?;

        match self.hal.load_method() {
            hal::LoadMethod::Dma => self.load_dma(bytes, &plan)?,
            hal::LoadMethod::Pio => self.load_pio(bytes, sections)?,
        }

        if let Some(params) = image.brom_params() {
            self.hal.program_brom(self.bar, &params);
        }
        self.set_boot_vector(image.boot_vector());

        Ok(())
    }

    /// Transfers the sections of `bytes` that `plan` describes by DMA.
    fn load_dma(&self, bytes: &[u8], plan: &LoadPlan) -> Result {
        // The DMA buffer: the image at `plan.pad`, zeros around it.
        let pad = usize::try_from(plan.pad)?;
        let mut buffer = CoherentBox::<[u8]>::zeroed_slice(
            self.dev,
            usize::try_from(plan.buffer_len)?,
            GFP_KERNEL,
        )?;
        buffer
            .get_mut(pad..)
            .and_then(|tail| tail.get_mut(..bytes.len()))
            .ok_or(EINVAL)?
            .copy_from_slice(bytes);
        let buffer: Coherent<[u8]> = buffer.into();

        self.setup_dma();
        for &(mem, transfer) in plan.transfers.iter().flatten() {
            self.dma_transfer(buffer.dma_address(), mem, transfer)?;
        }

        Ok(())
    }

    /// Writes `sections` of `bytes` through the access ports: each IMEM section tagged from
    /// its virtual address, secure or not, and DMEM at its offset (`LoadPlan::new` checked
    /// them against the image and the memories).
    fn load_pio(
        &self,
        bytes: &[u8],
        sections: [Option<(FalconMem, FalconSection)>; MAX_SECTIONS],
    ) -> Result {
        for (mem, section) in sections.into_iter().flatten() {
            let start = usize::try_from(section.src)?;
            let end = start
                .checked_add(usize::try_from(section.len)?)
                .ok_or(EOVERFLOW)?;
            let part = bytes.get(start..end).ok_or(EINVAL)?;
            match mem {
                FalconMem::Dmem => self.pio_write_dmem(section.dst, part)?,
                FalconMem::ImemSecure | FalconMem::ImemNonSecure => {
                    let tag = u16::try_from(section.virt / MEM_BLOCK_SIZE)?;
                    self.pio_write_imem(section.dst, part, tag, mem == FalconMem::ImemSecure)?;
                }
            }
        }
        Ok(())
    }

    /// Lets the falcon's DMA engine reach system memory at physical addresses through context
    /// DMA 0 (`NV_PFALCON_FBIF_*`, open-gpu-kernel-modules `dev_fbif_v4.h`).
    fn setup_dma(&self) {
        self.allow_phys_dma(CtxDma::Zero);
    }

    /// Lets DMA requests through context DMA `ctx` reach coherent system memory by physical
    /// address, without a bound instance block (open-gpu-kernel-modules
    /// `kflcnDisableCtxReq_TU102` and the `NV_PFALCON_FBIF_TRANSCFG` set-up of
    /// `s_prepareHsFalconWithLoader` in `kernel_gsp_falcon_tu102.c`).
    pub(crate) fn allow_phys_dma(&self, ctx: CtxDma) {
        self.bar.update(regs::NV_PFALCON_FBIF_CTL::of::<E>(), |r| {
            r.with_allow_phys_no_ctx(true)
        });
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_DMACTL::zeroed(),
        );
        let transcfg = match ctx {
            CtxDma::Zero => regs::NV_PFALCON_FBIF_TRANSCFG::of::<E>().at(0),
            CtxDma::PhysSysNcoh => regs::NV_PFALCON_FBIF_TRANSCFG::of::<E>().at(4),
        };
        self.bar.update(transcfg, |r| {
            r.with_target(regs::FbifTarget::CoherentSysmem)
                .with_mem_type(regs::FbifMemType::Physical)
        });
    }

    /// Writes `code` into IMEM at byte offset `dst` through access port 0, the falcon's CPU
    /// being halted: secure blocks if `secure`, the first tagged `tag` (an IMEM virtual address in
    /// 256-byte blocks) and each next one with the next tag (open-gpu-kernel-modules
    /// `s_imemCopyTo_TU102`). `dst` must start a block, and `code` be whole blocks that fit.
    pub(crate) fn pio_write_imem(&self, dst: u32, code: &[u8], tag: u16, secure: bool) -> Result {
        self.check_pio(dst, code, self.mem.imem, true)?;
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_IMEMC::zeroed()
                .try_with_offs(dst)?
                .with_aincw(true)
                .with_secure(secure),
        );
        let mut tag = tag;
        for (i, word) in code.chunks_exact(4).enumerate() {
            if i % BLOCK_WORDS == 0 {
                self.bar.write(
                    WithBase::of::<E>(),
                    regs::NV_PFALCON_FALCON_IMEMT::zeroed().with_tag(tag),
                );
                tag = tag.checked_add(1).ok_or(EOVERFLOW)?;
            }
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_IMEMD::zeroed().with_data(le_word(word)?),
            );
        }
        Ok(())
    }

    /// Writes `data` into DMEM at byte offset `dst` through access port 0 (open-gpu-kernel-modules
    /// `s_dmemCopyTo_TU102`). `dst` and the length must be whole words that fit.
    pub(crate) fn pio_write_dmem(&self, dst: u32, data: &[u8]) -> Result {
        self.check_pio(dst, data, self.mem.dmem, false)?;
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_DMEMC::zeroed()
                .try_with_offs(dst)?
                .with_aincw(true),
        );
        for word in data.chunks_exact(4) {
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_DMEMD::zeroed().with_data(le_word(word)?),
            );
        }
        Ok(())
    }

    /// Checks a PIO write of `bytes` at `dst` into a memory of `size` bytes: whole words, whole
    /// blocks for IMEM (whose tags are per block), inside the memory.
    fn check_pio(&self, dst: u32, bytes: &[u8], size: u32, blocks: bool) -> Result {
        let unit = if blocks { MEM_BLOCK_SIZE } else { 4 };
        let len = u32::try_from(bytes.len())?;
        let end = dst.checked_add(len).ok_or(EOVERFLOW)?;
        if dst % unit != 0 || len % unit != 0 || end > size {
            dev_err!(
                self.dev,
                "{} falcon: cannot write {:#x} bytes at {:#x} of {:#x} by PIO\n",
                E::NAME,
                len,
                dst,
                size
            );
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Sets the IMEM virtual address at which the CPU starts.
    pub(crate) fn set_boot_vector(&self, addr: u32) {
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_BOOTVEC::zeroed().with_value(addr),
        );
    }

    /// Runs the transfers of `plan` from the buffer at DMA address `buffer` into `mem`, waiting
    /// for each to finish.
    fn dma_transfer(&self, buffer: DmaAddress, mem: FalconMem, plan: DmaPlan) -> Result {
        let base = buffer
            .checked_add(DmaAddress::from(plan.base_offset))
            .ok_or(EOVERFLOW)?;
        if base % DmaAddress::from(MEM_BLOCK_SIZE) != 0 || base >> DMA_ADDRESS_BITS != 0 {
            dev_err!(
                self.dev,
                "{} falcon: DMA address {:#x} is not usable\n",
                E::NAME,
                base
            );
            return Err(EINVAL);
        }
        // Bits 39:8 of the address go into DMATRFBASE, bits 48:40 into DMATRFBASE1; the check
        // above keeps the latter within its nine bits (and `>> 40` leaves 24 bits of a `u64`).
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_DMATRFBASE::zeroed().with_base(num::lower_32(base >> 8)),
        );
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_DMATRFBASE1::zeroed()
                .try_with_base(num::lower_32(base >> 40))?,
        );

        let cmd = regs::NV_PFALCON_FALCON_DMATRFCMD::zeroed()
            .with_size(regs::DmaTrfSize::Block256)
            .with_imem(mem != FalconMem::Dmem);
        let cmd = match mem {
            FalconMem::ImemSecure => cmd.with_const_sec::<1>(),
            FalconMem::ImemNonSecure | FalconMem::Dmem => cmd,
        };

        for block in 0..plan.count {
            // `LoadPlan::new` checked that the last block ends within the memory and the buffer.
            let pos = block.checked_mul(MEM_BLOCK_SIZE).ok_or(EOVERFLOW)?;
            let mem_offset = plan.mem_offset.checked_add(pos).ok_or(EOVERFLOW)?;
            let fb_offset = plan.fb_offset.checked_add(pos).ok_or(EOVERFLOW)?;

            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_DMATRFMOFFS::zeroed().try_with_offs(mem_offset)?,
            );
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_DMATRFFBOFFS::zeroed().with_offs(fb_offset),
            );
            self.bar.write(WithBase::of::<E>(), cmd);

            read_poll_timeout(
                || Ok(self.bar.read(regs::NV_PFALCON_FALCON_DMATRFCMD::of::<E>())),
                |r| r.idle(),
                Delta::from_micros(1),
                DMA_TIMEOUT,
            )
            .inspect_err(|_| {
                dev_err!(
                    self.dev,
                    "{} falcon: DMA to {:?} offset {:#x} timed out\n",
                    E::NAME,
                    mem,
                    mem_offset
                )
            })?;
        }

        Ok(())
    }

    /// Writes the mailboxes that are given.
    pub(crate) fn write_mailboxes(&self, mbox0: Option<u32>, mbox1: Option<u32>) {
        if let Some(value) = mbox0 {
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_MAILBOX0::zeroed().with_value(value),
            );
        }
        if let Some(value) = mbox1 {
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_MAILBOX1::zeroed().with_value(value),
            );
        }
    }

    /// Reads both mailboxes.
    pub(crate) fn read_mailboxes(&self) -> (u32, u32) {
        let mbox0 = self.bar.read(regs::NV_PFALCON_FALCON_MAILBOX0::of::<E>());
        let mbox1 = self.bar.read(regs::NV_PFALCON_FALCON_MAILBOX1::of::<E>());
        (mbox0.value().get(), mbox1.value().get())
    }

    /// Starts the falcon CPU at the boot vector, through the CPUCTL alias when the engine has
    /// it enabled (open-gpu-kernel-modules `kflcnStartCpu_TU102`).
    pub(crate) fn start(&self) {
        if self
            .bar
            .read(regs::NV_PFALCON_FALCON_CPUCTL::of::<E>())
            .alias_en()
        {
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_CPUCTL_ALIAS::zeroed().with_startcpu(true),
            );
        } else {
            self.bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_CPUCTL::zeroed().with_startcpu(true),
            );
        }
    }

    /// Waits up to `timeout` for the falcon CPU to halt.
    pub(crate) fn wait_halted(&self, timeout: Delta) -> Result {
        read_poll_timeout(
            || Ok(self.bar.read(regs::NV_PFALCON_FALCON_CPUCTL::of::<E>())),
            |r| r.halted(),
            Delta::from_micros(10),
            timeout,
        )
        .map(|_| ())
    }

    /// Runs the loaded image: writes the mailboxes that are given, starts the CPU, waits for it
    /// to halt and returns both mailboxes, in which the image reports its result.
    pub(crate) fn boot(&self, mbox0: Option<u32>, mbox1: Option<u32>) -> Result<(u32, u32)> {
        self.write_mailboxes(mbox0, mbox1);
        self.start();
        self.wait_halted(HALT_TIMEOUT).inspect_err(|_| {
            dev_err!(self.dev, "{} falcon did not halt\n", E::NAME);
        })?;
        Ok(self.read_mailboxes())
    }

    /// Writes an application version into the falcon's OS register, where firmware that runs
    /// later finds it (upstream nova-core `gsp/boot.rs` writes the GSP RISC-V bootloader's
    /// application version to the GSP falcon's OS register before it runs booter).
    pub(crate) fn write_os_version(&self, version: u32) {
        self.bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_OS::zeroed().with_value(version),
        );
    }

    /// Returns whether the engine's RISC-V core is active.
    pub(crate) fn is_riscv_active(&self) -> bool {
        self.hal.is_riscv_active(self.bar)
    }

    /// Returns the fused minimum version of ucode `ucode_id` for the engines in
    /// `engine_id_mask`, which selects the signature a heavy-secure image must be patched with
    /// (GA102 and later; zero on Turing and GA100, whose images carry one signature).
    pub(crate) fn signature_fuse_version(&self, engine_id_mask: u16, ucode_id: u8) -> Result<u32> {
        self.hal
            .signature_fuse_version(self.dev, self.bar, engine_id_mask, ucode_id)
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_falcon)]
mod tests {
    use super::*;

    const SIZES: FalconMemSizes = FalconMemSizes {
        imem: 64 * 1024,
        dmem: 64 * 1024,
    };

    fn section(src: u32, dst: u32, virt: u32, len: u32) -> FalconSection {
        FalconSection {
            src,
            dst,
            virt,
            len,
        }
    }

    /// Plans an image with secure IMEM `imem` and DMEM `dmem`.
    fn plan(
        image_len: usize,
        imem: FalconSection,
        dmem: FalconSection,
    ) -> Result<LoadPlan, SectionError> {
        LoadPlan::new(
            image_len,
            [
                None,
                Some((FalconMem::ImemSecure, imem)),
                Some((FalconMem::Dmem, dmem)),
            ],
            SIZES,
        )
    }

    #[test]
    fn fwsec_like_image() {
        // IMEM at the start, tagged from 0; DMEM after it, not a whole number of blocks.
        let p = plan(
            0x1700,
            section(0, 0, 0, 0x1400),
            section(0x1400, 0, 0, 0x2f0),
        );
        assert_eq!(
            p,
            Ok(LoadPlan {
                pad: 0,
                buffer_len: 0x1700,
                transfers: [
                    Some((
                        FalconMem::ImemSecure,
                        DmaPlan {
                            base_offset: 0,
                            fb_offset: 0,
                            mem_offset: 0,
                            count: 0x14,
                        }
                    )),
                    Some((
                        FalconMem::Dmem,
                        DmaPlan {
                            base_offset: 0x1400,
                            fb_offset: 0,
                            mem_offset: 0,
                            count: 3,
                        }
                    )),
                    None,
                ],
            })
        );
    }

    #[test]
    fn imem_tags_come_from_the_virtual_address() {
        // Code at image offset 0x100 that runs at virtual address 0x10100: the DMA base sits
        // 0x10000 before it, which needs 0x10000 bytes of padding in front of the image.
        let p = plan(
            0x400,
            section(0x100, 0x200, 0x1_0100, 0x200),
            section(0x300, 0, 0, 0x100),
        );
        let p = p.map(|p| (p.pad, p.buffer_len, p.transfers[0], p.transfers[1]));
        assert_eq!(
            p,
            Ok((
                0x10000,
                0x10400,
                Some((
                    FalconMem::ImemSecure,
                    DmaPlan {
                        base_offset: 0,
                        fb_offset: 0x1_0100,
                        mem_offset: 0x200,
                        count: 2,
                    }
                )),
                Some((
                    FalconMem::Dmem,
                    DmaPlan {
                        base_offset: 0x10300,
                        fb_offset: 0,
                        mem_offset: 0,
                        count: 1,
                    }
                )),
            ))
        );
        // A virtual address below the image offset needs no padding.
        let p = plan(
            0x400,
            section(0x200, 0, 0x100, 0x100),
            section(0x300, 0, 0, 0x100),
        );
        assert_eq!(
            p.map(|p| (p.pad, p.transfers[0])),
            Ok((
                0,
                Some((
                    FalconMem::ImemSecure,
                    DmaPlan {
                        base_offset: 0x100,
                        fb_offset: 0x100,
                        mem_offset: 0,
                        count: 1,
                    }
                ))
            ))
        );
    }

    #[test]
    fn misaligned_sections_are_refused() {
        // DMEM not at a block boundary of the image.
        assert_eq!(
            plan(0x400, section(0, 0, 0, 0x100), section(0x180, 0, 0, 0x100)),
            Err(SectionError::MisalignedSource)
        );
        // IMEM whose virtual address is at another offset within a block.
        assert_eq!(
            plan(
                0x400,
                section(0x100, 0, 0x80, 0x100),
                section(0x200, 0, 0, 0x100)
            ),
            Err(SectionError::MisalignedSource)
        );
        // A destination inside a block.
        assert_eq!(
            plan(
                0x400,
                section(0, 0x80, 0, 0x100),
                section(0x200, 0, 0, 0x100)
            ),
            Err(SectionError::MisalignedDestination)
        );
    }

    #[test]
    fn sections_stay_inside_image_and_memory() {
        let dmem = section(0, 0, 0, 0x100);
        assert_eq!(
            plan(0x1100, section(0x100, 0, 0x100, 0x1001), dmem),
            Err(SectionError::OutsideImage)
        );
        assert_eq!(
            plan(0x1100, section(u32::MAX, 0, u32::MAX, 2), dmem),
            Err(SectionError::OutsideImage)
        );
        assert_eq!(
            plan(usize::MAX, dmem, dmem),
            Err(SectionError::OutsideImage)
        );
        // Exactly filling the memory is fine; one byte more is a block too many.
        assert!(plan(0x100, dmem, section(0, 0xff00, 0, 0x100)).is_ok());
        assert_eq!(
            plan(0x101, dmem, section(0, 0xff00, 0, 0x101)),
            Err(SectionError::OutsideMemory)
        );
        assert_eq!(
            plan(0x200, section(0, 0xffff_ff00, 0, 0x200), dmem),
            Err(SectionError::OutsideMemory)
        );
        // A virtual address so high that the padding overflows.
        assert_eq!(
            plan(0x200, section(0, 0, 0xffff_ff80, 0x100), dmem),
            Err(SectionError::OutsideImage)
        );
    }

    #[test]
    fn empty_sections_transfer_nothing() {
        let empty = section(0, 0, 0, 0);
        let p = LoadPlan::new(0, [None, None, Some((FalconMem::Dmem, empty))], SIZES);
        assert_eq!(
            p.map(|p| (p.buffer_len, p.transfers[0].map(|(_, t)| t.count))),
            Ok((0, Some(0)))
        );
    }

    #[test]
    fn hwcfg_sizes_decode() {
        // 0x100 blocks (64 KiB) of IMEM and 0x180 blocks (96 KiB) of DMEM.
        let raw = (0x180u32 << 9) | 0x100;
        let sizes = FalconMemSizes::from(regs::NV_PFALCON_FALCON_HWCFG::from(raw));
        assert_eq!(
            sizes,
            FalconMemSizes {
                imem: 64 * 1024,
                dmem: 96 * 1024
            }
        );
        // Bits outside the two fields are ignored.
        let sizes = FalconMemSizes::from(regs::NV_PFALCON_FALCON_HWCFG::from(0xfffc_0001));
        assert_eq!(sizes, FalconMemSizes { imem: 256, dmem: 0 });
    }

    #[test]
    fn register_fields_decode() {
        let cpuctl = regs::NV_PFALCON_FALCON_CPUCTL::from(0x50);
        assert!(cpuctl.halted() && cpuctl.alias_en() && !cpuctl.startcpu());
        let hwcfg2 = regs::NV_PFALCON_FALCON_HWCFG2::from(0x8000_0400);
        assert!(hwcfg2.reset_ready() && hwcfg2.riscv() && !hwcfg2.mem_scrubbing());
        let cmd = regs::NV_PFALCON_FALCON_DMATRFCMD::zeroed()
            .with_size(regs::DmaTrfSize::Block256)
            .with_imem(true)
            .with_const_sec::<1>();
        assert_eq!(u32::from(cmd), 0x0000_0614);
        assert_eq!(cmd.size(), Ok(regs::DmaTrfSize::Block256));
        assert!(regs::NV_PFALCON_FALCON_DMATRFCMD::from(0x2).idle());
        assert_eq!(
            regs::NV_PFALCON_FALCON_DMATRFCMD::from(0x500).size(),
            Err(5)
        );
        // TRANSCFG: coherent system memory by physical address is 0b101; 3 is no target.
        let t = regs::NV_PFALCON_FBIF_TRANSCFG::from(0b101);
        assert_eq!(t.target(), Ok(regs::FbifTarget::CoherentSysmem));
        assert_eq!(t.mem_type(), regs::FbifMemType::Physical);
        assert_eq!(regs::NV_PFALCON_FBIF_TRANSCFG::from(0b011).target(), Err(3));
        assert_eq!(
            u32::from(
                regs::NV_PFALCON_FBIF_TRANSCFG::zeroed()
                    .with_target(regs::FbifTarget::NoncoherentSysmem)
                    .with_mem_type(regs::FbifMemType::Virtual)
            ),
            0b010
        );
        let bcr = regs::NV_PRISCV_RISCV_BCR_CTRL::from(0x111);
        assert!(bcr.core_select() && bcr.valid() && bcr.brfetch());
        assert!(regs::is_pri_error(0xbadf_1100));
        assert!(regs::is_pri_error(u32::MAX));
        assert!(!regs::is_pri_error(0x0000_0400));
    }
}
