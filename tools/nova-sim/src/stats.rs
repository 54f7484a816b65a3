// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Event counters shared by the device models and the process that reports them.
//!
//! The counters are atomics so that a signal-handling thread can report them while the
//! device loop is blocked.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of what the guest did to the device.
#[derive(Debug, Default)]
pub struct Counters {
    /// BAR0 read accesses.
    pub reads: AtomicU64,
    /// BAR0 write accesses.
    pub writes: AtomicU64,
    /// BAR0 reads that touched an unimplemented register.
    pub unimplemented_reads: AtomicU64,
    /// BAR0 writes that touched an unimplemented register.
    pub unimplemented_writes: AtomicU64,
    /// Accesses that real hardware would not accept as meant: writes to read-only registers,
    /// accesses outside a region or of an unsupported size.
    pub violations: AtomicU64,
    /// Configuration-space read accesses.
    pub config_reads: AtomicU64,
    /// Configuration-space write accesses.
    pub config_writes: AtomicU64,
    /// Accesses to the other trapped regions (BAR1, BAR2, I/O BAR).
    pub other_region_accesses: AtomicU64,
    /// DMA_MAP requests accepted.
    pub dma_maps: AtomicU64,
    /// DMA_UNMAP requests accepted.
    pub dma_unmaps: AtomicU64,
    /// Device resets.
    pub resets: AtomicU64,
    /// Interrupts delivered to an eventfd.
    pub interrupts: AtomicU64,
    /// Falcon CPU starts (GSP and SEC2).
    pub falcon_starts: AtomicU64,
    /// Falcon DMA transfers requested (`DMATRFCMD` writes).
    pub falcon_dma: AtomicU64,
    /// `NV_PGSP_QUEUE_HEAD` writes (doorbells to GSP-RM).
    pub gsp_doorbells: AtomicU64,
    /// RM objects the driver allocated in GSP-RM.
    pub rm_allocs: AtomicU64,
    /// RM objects of the driver GSP-RM freed (on request, or as part of a freed parent).
    pub rm_frees: AtomicU64,
}

/// Increments a counter by one.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// The counters as `(key, value)` pairs, in a stable order.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("reads", get(&self.reads)),
            ("writes", get(&self.writes)),
            ("unimplemented_reads", get(&self.unimplemented_reads)),
            ("unimplemented_writes", get(&self.unimplemented_writes)),
            ("violations", get(&self.violations)),
            ("config_reads", get(&self.config_reads)),
            ("config_writes", get(&self.config_writes)),
            ("other_region_accesses", get(&self.other_region_accesses)),
            ("dma_maps", get(&self.dma_maps)),
            ("dma_unmaps", get(&self.dma_unmaps)),
            ("resets", get(&self.resets)),
            ("interrupts", get(&self.interrupts)),
            ("falcon_starts", get(&self.falcon_starts)),
            ("falcon_dma", get(&self.falcon_dma)),
            ("gsp_doorbells", get(&self.gsp_doorbells)),
            ("rm_allocs", get(&self.rm_allocs)),
            ("rm_frees", get(&self.rm_frees)),
        ]
    }

    /// The number of violations counted so far.
    pub fn violations(&self) -> u64 {
        self.violations.load(Ordering::Relaxed)
    }

    /// Writes `extra` and then every counter as `key=value` lines.
    pub fn write_key_values(
        &self,
        out: &mut dyn Write,
        extra: &[(&str, String)],
    ) -> io::Result<()> {
        for (key, value) in extra {
            writeln!(out, "{key}={value}")?;
        }
        for (key, value) in self.snapshot() {
            writeln!(out, "{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_list_every_counter() {
        let counters = Counters::default();
        bump(&counters.reads);
        bump(&counters.reads);
        bump(&counters.violations);
        let mut out = Vec::new();
        counters
            .write_key_values(&mut out, &[("chip", "ad102".to_string())])
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "chip=ad102");
        assert!(lines.contains(&"reads=2"));
        assert!(lines.contains(&"violations=1"));
        assert!(lines.contains(&"unimplemented_writes=0"));
        assert_eq!(lines.len(), 1 + counters.snapshot().len());
        assert_eq!(counters.violations(), 1);
    }
}
