// SPDX-License-Identifier: GPL-2.0

//! The parts of falcon handling that differ between GPU generations.

use kernel::{device, io::register::WithBase, io::Io, prelude::*};

use crate::{
    driver::Bar0,
    falcon::{BromParams, FalconEngine},
    gpu::{Architecture, Chipset},
    regs,
};

mod ga102;
mod tu102;

/// How images are written into a falcon's memories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LoadMethod {
    /// By the falcon's DMA engine, from system memory (GA102 and later, as Open RM's
    /// `s_dmaTransfer_GA102` in `kernel_gsp_falcon_ga102.c` does).
    Dma,
    /// Through the IMEM and DMEM access ports (Turing and GA100, as Open RM's
    /// `s_prepareHsFalconDirect` in `kernel_gsp_falcon_tu102.c` does).
    Pio,
}

/// Chip-specific falcon operations, for engine `E`.
pub(super) trait FalconHal<E: FalconEngine>: Send + Sync {
    /// Resets the engine and waits until its memories are scrubbed.
    fn reset(&self, bar: Bar0<'_>) -> Result;

    /// Makes the falcon core (rather than the RISC-V core) the one that runs, where the engine
    /// has both and a choice.
    fn select_falcon_core(&self, bar: Bar0<'_>) -> Result;

    /// Writes the boot ROM parameters of a heavy-secure image.
    fn program_brom(&self, bar: Bar0<'_>, params: &BromParams);

    /// How [`super::Falcon::load`] writes an image into the falcon's memories.
    fn load_method(&self) -> LoadMethod;

    /// Returns whether the engine's RISC-V core is active.
    fn is_riscv_active(&self, bar: Bar0<'_>) -> bool;

    /// Returns the interrupts the engine has enabled towards the host, as its RISC-V core's
    /// `IRQMASK` shows them (the register nouveau's `r535_gsp_intr()` reads).
    fn host_irq_mask(&self, bar: Bar0<'_>) -> regs::NV_PFALCON_FALCON_IRQSTAT;

    /// Makes the engine send its interrupt message again if an enabled interrupt is still
    /// latched, where the chip can (`INTR_RETRIGGER`, GA100 and later).
    fn retrigger_irq(&self, bar: Bar0<'_>);

    /// Returns the fused version of ucode `ucode_id` for the engines in `engine_id_mask`.
    fn signature_fuse_version(
        &self,
        dev: &device::Device,
        bar: Bar0<'_>,
        engine_id_mask: u16,
        ucode_id: u8,
    ) -> Result<u32>;
}

/// Returns the HAL for `chipset`. Turing and GA100 have no core switch and no boot ROM
/// registers; GA102 and later do (open-gpu-kernel-modules `kernel_falcon_tu102.c`,
/// `kernel_falcon_ga102.c`).
pub(super) fn falcon_hal<E: FalconEngine>(chipset: Chipset) -> Result<KBox<dyn FalconHal<E>>> {
    let hal: KBox<dyn FalconHal<E>> = match chipset.arch() {
        Architecture::Turing => KBox::new(tu102::Tu102::<E>::new(false), GFP_KERNEL)?,
        // GA100 loads like Turing but has `INTR_RETRIGGER` (nouveau `gsp/ga100.c`).
        Architecture::Ampere if chipset == Chipset::GA100 => {
            KBox::new(tu102::Tu102::<E>::new(true), GFP_KERNEL)?
        }
        Architecture::Ampere
        | Architecture::Ada
        | Architecture::Hopper
        | Architecture::BlackwellGB10x
        | Architecture::BlackwellGB20x => KBox::new(ga102::Ga102::<E>::new(), GFP_KERNEL)?,
    };
    Ok(hal)
}

/// Number of register reads that let a reset signal propagate through the engine
/// (`FLCN_RESET_PROPAGATION_DELAY_COUNT` in open-gpu-kernel-modules `falcon_common.h`).
const RESET_PROPAGATION_READS: usize = 10;

/// Pulses the engine's reset (open-gpu-kernel-modules `kgspResetHw_TU102`,
/// `ksec2ResetHw_TU102`): assert, let it propagate, deassert, let it propagate.
fn pulse_engine_reset<E: FalconEngine>(bar: Bar0<'_>) {
    for reset in [true, false] {
        bar.update(regs::NV_PFALCON_FALCON_ENGINE::of::<E>(), |r| {
            r.with_reset(reset)
        });
        for _ in 0..RESET_PROPAGATION_READS {
            let _ = bar.read(regs::NV_PFALCON_FALCON_ENGINE::of::<E>());
        }
    }
}
