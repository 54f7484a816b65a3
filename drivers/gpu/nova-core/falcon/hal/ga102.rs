// SPDX-License-Identifier: GPL-2.0

//! Falcon HAL for GA102 and later.

use core::marker::PhantomData;

use kernel::{
    device,
    io::{
        poll::read_poll_timeout,
        register::{Array, WithBase},
        Io,
    },
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

/// How long the engine may take to say it is ready for a reset. Real engines sometimes never
/// do, so the wait ends without an error (open-gpu-kernel-modules `kflcnPreResetWait_GA102`,
/// `PRE_RESET_TIMEOUT_US`).
const PRE_RESET_TIMEOUT: Delta = Delta::from_micros(150);

/// How long a core switch may take to become valid.
const CORE_SWITCH_TIMEOUT: Delta = Delta::from_millis(10);

/// `NV_PFALCON2_FALCON_MOD_SEL_ALGO_RSA3K`.
const MOD_SEL_ALGO_RSA3K: u32 = 1;

/// Engine id mask bits of the engines with ucode version fuses (upstream nova-core
/// `falcon/hal/ga102.rs`).
const ENGINE_ID_SEC2: u16 = 1 << 0;
const ENGINE_ID_NVDEC: u16 = 1 << 2;
const ENGINE_ID_GSP: u16 = 1 << 10;

/// GA102 and later: memory scrubbing is reported in HWCFG2, a boot configuration register
/// selects between the falcon and the RISC-V core, and the boot ROM takes the parameters of a
/// heavy-secure image in `NV_PFALCON2_FALCON_BROM_*` (open-gpu-kernel-modules
/// `kernel_falcon_ga102.c`).
pub(super) struct Ga102<E: FalconEngine>(PhantomData<E>);

impl<E: FalconEngine> Ga102<E> {
    pub(super) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<E: FalconEngine> FalconHal<E> for Ga102<E> {
    fn reset(&self, bar: Bar0<'_>) -> Result {
        // `kflcnPreResetWait_GA102`: a bounded wait for RESET_READY whose timeout is not an error.
        let _ = read_poll_timeout(
            || Ok(bar.read(regs::NV_PFALCON_FALCON_HWCFG2::of::<E>())),
            |r| r.reset_ready(),
            Delta::ZERO,
            PRE_RESET_TIMEOUT,
        );

        super::pulse_engine_reset::<E>(bar);

        // `kflcnWaitForResetToFinish_GA102`: HWCFG2.MEM_SCRUBBING reads zero when done.
        read_poll_timeout(
            || Ok(bar.read(regs::NV_PFALCON_FALCON_HWCFG2::of::<E>())),
            |r| !r.mem_scrubbing(),
            Delta::from_micros(10),
            SCRUB_TIMEOUT,
        )
        .map(|_| ())
    }

    fn select_falcon_core(&self, bar: Bar0<'_>) -> Result {
        // `kflcnSwitchToFalcon_GA102`: only engines with a RISC-V core have a switch, and only a
        // switch away from RISC-V needs to wait for VALID.
        if !bar.read(regs::NV_PFALCON_FALCON_HWCFG2::of::<E>()).riscv() {
            return Ok(());
        }
        if !bar
            .read(regs::NV_PRISCV_RISCV_BCR_CTRL::of::<E>())
            .core_select()
        {
            return Ok(());
        }

        bar.write(
            WithBase::of::<E>(),
            regs::NV_PRISCV_RISCV_BCR_CTRL::zeroed().with_core_select(false),
        );
        read_poll_timeout(
            || Ok(bar.read(regs::NV_PRISCV_RISCV_BCR_CTRL::of::<E>())),
            |r| r.valid(),
            Delta::from_micros(10),
            CORE_SWITCH_TIMEOUT,
        )
        .map(|_| ())
    }

    fn load_method(&self) -> LoadMethod {
        LoadMethod::Dma
    }

    fn program_brom(&self, bar: Bar0<'_>, params: &BromParams) {
        bar.write(
            WithBase::of::<E>().at(0),
            regs::NV_PFALCON2_FALCON_BROM_PARAADDR::zeroed().with_value(params.pkc_data_offset),
        );
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON2_FALCON_BROM_ENGIDMASK::zeroed()
                .with_value(u32::from(params.engine_id_mask)),
        );
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID::zeroed().with_val(params.ucode_id),
        );
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON2_FALCON_MOD_SEL::zeroed().with_const_algo::<MOD_SEL_ALGO_RSA3K>(),
        );
    }

    fn is_riscv_active(&self, bar: Bar0<'_>) -> bool {
        bar.read(regs::NV_PRISCV_RISCV_CPUCTL::of::<E>())
            .active_stat()
    }

    fn host_irq_mask(&self, bar: Bar0<'_>) -> regs::NV_PFALCON_FALCON_IRQSTAT {
        let mask = bar.read(regs::NV_PRISCV_RISCV_IRQMASK::of::<E>());
        regs::NV_PFALCON_FALCON_IRQSTAT::from(mask.value().get())
    }

    fn retrigger_irq(&self, bar: Bar0<'_>) {
        bar.write(
            WithBase::of::<E>(),
            regs::NV_PFALCON_FALCON_INTR_RETRIGGER::zeroed().with_trigger(true),
        );
    }

    fn signature_fuse_version(
        &self,
        dev: &device::Device,
        bar: Bar0<'_>,
        engine_id_mask: u16,
        ucode_id: u8,
    ) -> Result<u32> {
        // Ucode ids count from one; there is one fuse register per id.
        let index = match usize::from(ucode_id).checked_sub(1) {
            Some(index) if index < regs::NV_FUSE_OPT_FPF_SIZE => index,
            _ => {
                dev_err!(dev, "invalid ucode id {}\n", ucode_id);
                return Err(EINVAL);
            }
        };

        let fuse = if engine_id_mask & ENGINE_ID_SEC2 != 0 {
            regs::NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION::try_at(index)
                .map(|loc| bar.read(loc).data().get())
        } else if engine_id_mask & ENGINE_ID_NVDEC != 0 {
            regs::NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION::try_at(index)
                .map(|loc| bar.read(loc).data().get())
        } else if engine_id_mask & ENGINE_ID_GSP != 0 {
            regs::NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION::try_at(index)
                .map(|loc| bar.read(loc).data().get())
        } else {
            dev_err!(
                dev,
                "no ucode fuses for engine mask {:#x}\n",
                engine_id_mask
            );
            return Err(EINVAL);
        };

        // The version is the number of the highest fuse bit that is blown.
        let fuse = fuse.ok_or(EINVAL)?;
        Ok(u32::BITS - fuse.leading_zeros())
    }
}
