// SPDX-License-Identifier: GPL-2.0

//! Falcon HAL for Turing and GA100.

use core::marker::PhantomData;

use kernel::{
    device,
    io::{poll::read_poll_timeout, register::WithBase, Io},
    prelude::*,
    time::Delta,
};

use crate::{
    driver::Bar0,
    falcon::{
        hal::{FalconHal, LoadMethod},
        BromParams, FalconEngine, SCRUB_TIMEOUT,
    },
    regs,
};

/// Turing and GA100: memory scrubbing is reported in DMACTL, there is no core switch (the
/// RISC-V core is started explicitly), and heavy-secure images carry their own signature, so the
/// boot ROM takes no parameters (open-gpu-kernel-modules `kernel_falcon_tu102.c`).
pub(super) struct Tu102<E: FalconEngine> {
    /// Whether the chip has `NV_PFALCON_FALCON_INTR_RETRIGGER` (GA100 does, Turing does not).
    retrigger: bool,
    _engine: PhantomData<E>,
}

impl<E: FalconEngine> Tu102<E> {
    /// The HAL of a Turing chip, or of GA100 with `retrigger`.
    pub(super) fn new(retrigger: bool) -> Self {
        Self {
            retrigger,
            _engine: PhantomData,
        }
    }
}

impl<E: FalconEngine> FalconHal<E> for Tu102<E> {
    fn reset(&self, bar: Bar0<'_>) -> Result {
        super::pulse_engine_reset::<E>(bar);

        // `kflcnWaitForResetToFinish_TU102`: both scrubbing bits of DMACTL read zero when done.
        read_poll_timeout(
            || Ok(bar.read(regs::NV_PFALCON_FALCON_DMACTL::of::<E>())),
            |r| !r.imem_scrubbing() && !r.dmem_scrubbing(),
            Delta::from_micros(10),
            SCRUB_TIMEOUT,
        )
        .map(|_| ())
    }

    fn select_falcon_core(&self, _bar: Bar0<'_>) -> Result {
        // `kflcnSwitchToFalcon_TU102`: nothing to switch, the falcon core runs after reset.
        Ok(())
    }

    fn program_brom(&self, _bar: Bar0<'_>, _params: &BromParams) {}

    fn load_method(&self) -> LoadMethod {
        LoadMethod::Pio
    }

    fn is_riscv_active(&self, bar: Bar0<'_>) -> bool {
        bar.read(regs::NV_PRISCV_RISCV_CORE_SWITCH_RISCV_STATUS::of::<E>())
            .active_stat()
    }

    fn host_irq_mask(&self, bar: Bar0<'_>) -> regs::NV_PFALCON_FALCON_IRQSTAT {
        let mask = bar.read(regs::NV_PRISCV_RISCV_IRQMASK_TU102::of::<E>());
        regs::NV_PFALCON_FALCON_IRQSTAT::from(mask.value().get())
    }

    fn retrigger_irq(&self, bar: Bar0<'_>) {
        if self.retrigger {
            bar.write(
                WithBase::of::<E>(),
                regs::NV_PFALCON_FALCON_INTR_RETRIGGER::zeroed().with_trigger(true),
            );
        }
    }

    fn signature_fuse_version(
        &self,
        _dev: &device::Device,
        _bar: Bar0<'_>,
        _engine_id_mask: u16,
        _ucode_id: u8,
    ) -> Result<u32> {
        Ok(0)
    }
}
