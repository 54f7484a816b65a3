// SPDX-License-Identifier: GPL-2.0

//! Runs the register sequences GSP-RM asks the CPU to run (`GSP_RUN_CPU_SEQUENCER`).
//!
//! The operations and their meaning are those of open-gpu-kernel-modules
//! `kgspExecuteSequencerBuffer_IMPL()` (`kernel_gsp.c`), which upstream nova-core
//! `gsp/sequencer.rs` also follows. [`crate::gsp::rpc::run_sequencer`] decodes the message;
//! this module carries the operations out through BAR0 and the falcon code.

use kernel::{
    device,
    io::{poll::read_poll_timeout, Io},
    prelude::*,
    time::{delay::fsleep, Delta},
};

use super::regs;
use crate::{
    driver::Bar0,
    falcon::{gsp::Gsp, sec2::Sec2, Falcon},
    gsp::{fw::SeqOp, rpc::SequencerExecutor},
    num,
};

/// How long a register poll may take when GSP-RM gives no timeout (upstream nova-core
/// `gsp/sequencer.rs`).
const DEFAULT_POLL_TIMEOUT_US: u32 = 4_000_000;

/// The longest delay nova carries out for GSP-RM: anything longer is a malformed request.
const MAX_DELAY_US: u32 = 1_000_000;

/// How long the GSP falcon may take to halt, and booter to hand the GSP back after a resume.
const CORE_TIMEOUT: Delta = Delta::from_secs(2);

/// Number of `REG_STORE` slots kept (`GSP_SEQ_BUF_REG_SAVE_SIZE` in open-gpu-kernel-modules
/// `gsp_seq_buf.h` is 8).
const SAVE_SLOTS: usize = 8;

/// Carries out sequencer operations on one GPU.
pub(crate) struct Sequencer<'a> {
    /// The device, for log lines.
    pub(crate) dev: &'a device::Device,
    /// BAR0.
    pub(crate) bar: Bar0<'a>,
    /// The GSP falcon, which `CORE_*` operations act on.
    pub(crate) gsp: &'a Falcon<'a, Gsp>,
    /// SEC2, which booter runs on when the GSP is resumed.
    pub(crate) sec2: &'a Falcon<'a, Sec2>,
    /// Bus address of the LibOS arguments, given to the GSP again on resume.
    pub(crate) libos_addr: u64,
    /// The bootloader's application version, written to the GSP's OS register on resume.
    pub(crate) app_version: u32,
    /// Values saved by `REG_STORE`.
    pub(crate) saved: [u32; SAVE_SLOTS],
}

impl Sequencer<'_> {
    fn addr(addr: u32) -> Result<usize> {
        // BAR0 accessors check the offset against the BAR.
        usize::try_from(addr).map_err(|_| EINVAL)
    }

    /// `CORE_RESUME`: hand the GSP back to GSP-RM through booter, which is still loaded in SEC2
    /// (upstream nova-core `gsp/sequencer.rs`).
    fn resume(&mut self) -> Result {
        self.gsp.reset()?;
        // The two halves of the 64-bit address.
        self.gsp.write_mailboxes(
            Some(num::lower_32(self.libos_addr)),
            Some(num::upper_32(self.libos_addr)),
        );
        self.sec2.start();
        read_poll_timeout(
            || Ok(self.bar.read(regs::NV_PGC6_BSI_SECURE_SCRATCH_14)),
            |r| r.boot_stage_3_handoff(),
            Delta::from_micros(100),
            CORE_TIMEOUT,
        )?;
        let (mbox0, _) = self.sec2.read_mailboxes();
        if mbox0 != 0 {
            dev_err!(
                self.dev,
                "GSP sequencer: booter failed to resume the GSP ({:#x})\n",
                mbox0
            );
            return Err(EIO);
        }
        self.gsp.write_os_version(self.app_version);
        if !self.gsp.is_riscv_active() {
            dev_err!(
                self.dev,
                "GSP sequencer: the GSP's RISC-V core is not active after resume\n"
            );
            return Err(EIO);
        }
        Ok(())
    }
}

impl SequencerExecutor for Sequencer<'_> {
    fn execute(&mut self, op: &SeqOp) -> Result {
        match *op {
            SeqOp::RegWrite { addr, val } => self.bar.try_write32(val, Self::addr(addr)?),
            SeqOp::RegModify { addr, mask, val } => {
                let at = Self::addr(addr)?;
                let old = self.bar.try_read32(at)?;
                self.bar.try_write32((old & !mask) | (val & mask), at)
            }
            SeqOp::RegPoll {
                addr,
                mask,
                val,
                timeout_us,
                error,
            } => {
                let at = Self::addr(addr)?;
                let timeout = if timeout_us == 0 {
                    DEFAULT_POLL_TIMEOUT_US
                } else {
                    timeout_us.min(DEFAULT_POLL_TIMEOUT_US)
                };
                read_poll_timeout(
                    || self.bar.try_read32(at),
                    |v| v & mask == val,
                    Delta::from_micros(1),
                    Delta::from_micros(i64::from(timeout)),
                )
                .map(|_| ())
                .inspect_err(|_| {
                    dev_err!(
                        self.dev,
                        "GSP sequencer: {:#x} never read {:#x} under mask {:#x} (error {:#x})\n",
                        addr,
                        val,
                        mask,
                        error
                    )
                })
            }
            SeqOp::DelayUs(us) => {
                if us > MAX_DELAY_US {
                    return Err(EINVAL);
                }
                fsleep(Delta::from_micros(i64::from(us)));
                Ok(())
            }
            SeqOp::RegStore { addr, index } => {
                let value = self.bar.try_read32(Self::addr(addr)?)?;
                let slot = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.saved.get_mut(i))
                    .ok_or(EINVAL)?;
                *slot = value;
                Ok(())
            }
            SeqOp::CoreReset => self.gsp.reset(),
            SeqOp::CoreStart => {
                self.gsp.start();
                Ok(())
            }
            SeqOp::CoreWaitForHalt => self.gsp.wait_halted(CORE_TIMEOUT),
            SeqOp::CoreResume => self.resume(),
        }
    }
}
