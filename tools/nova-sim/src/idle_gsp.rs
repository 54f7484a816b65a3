// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! A minimal [`GspCore`]: GSP-RM that boots and then never answers.
//!
//! It is the default until the GSP-RM model is wired in (`--no-gsp` style): booter_load
//! accepts a `GspFwWprMeta` whose header is right while WPR2 exists, the RISC-V core reports
//! active, doorbells are counted and ignored. A driver therefore gets through FWSEC-FRTS,
//! booter and "RISC-V active" and then waits for GSP-RM's first message.
//!
//! `GspFwWprMeta` begins with `magic` (u64, `GSP_FW_WPR_META_MAGIC` = -2577556379034558285 as
//! i64) and `revision` (u64, `GSP_FW_WPR_META_REVISION` = 1): upstream nova-core
//! `gsp/fw/r570_144/bindings.rs`.

use crate::gsp_core::{GspBus, GspCore};

/// `GSP_FW_WPR_META_MAGIC`.
pub const WPR_META_MAGIC: u64 = (-2_577_556_379_034_558_285i64) as u64;
/// `GSP_FW_WPR_META_REVISION`.
pub const WPR_META_REVISION: u64 = 1;

/// GSP-RM that starts and stays silent.
#[derive(Debug, Default)]
pub struct IdleGspCore {
    loaded: bool,
    running: bool,
    doorbells: u64,
}

impl IdleGspCore {
    /// A core with nothing loaded.
    pub fn new() -> Self {
        IdleGspCore::default()
    }

    /// How many doorbells were rung since the core was created.
    pub fn doorbells(&self) -> u64 {
        self.doorbells
    }

    /// Whether an image is loaded in WPR2.
    pub fn loaded(&self) -> bool {
        self.loaded
    }
}

impl GspCore for IdleGspCore {
    fn load(&mut self, bus: &mut dyn GspBus, wpr_meta: u64) -> Result<(), String> {
        if bus.wpr2().is_none() {
            return Err("no WPR2 region to load GSP-RM into".into());
        }
        let mut header = [0u8; 16];
        bus.dma_read(wpr_meta, &mut header)
            .map_err(|e| format!("GspFwWprMeta at {wpr_meta:#x}: {e}"))?;
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(header.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(w)
        };
        if word(0) != WPR_META_MAGIC || word(1) != WPR_META_REVISION {
            return Err(format!(
                "GspFwWprMeta at {wpr_meta:#x} has magic {:#x} revision {}",
                word(0),
                word(1)
            ));
        }
        self.loaded = true;
        Ok(())
    }

    fn start(&mut self, _bus: &mut dyn GspBus) {
        self.running = self.loaded;
    }

    fn doorbell(&mut self, _bus: &mut dyn GspBus, _queue: u32, _value: u32) {
        self.doorbells = self.doorbells.saturating_add(1);
    }

    fn reset(&mut self) {
        self.running = false;
    }

    fn unload(&mut self) {
        self.running = false;
        self.loaded = false;
    }

    fn running(&self) -> bool {
        self.running
    }
}
