// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The boundary between the engine models and the GSP-RM model.
//!
//! The falcon, SEC2 and booter models ([`crate::bar0`] units) know when the GSP's RISC-V core
//! is given an image, started, rung or reset; what runs on that core is GSP-RM, modelled
//! elsewhere. The engine side drives a [`GspCore`]; the core reaches the rest of the GPU only
//! through the [`GspBus`] it is handed on each call, so neither side owns the other.
//!
//! Calls happen on the device loop's thread, in the order the guest's register accesses cause
//! them. None may block: a model that needs time to pass keeps state and acts on a later call.

/// What the GSP-RM model can reach of the GPU and the host around it.
pub trait GspBus {
    /// Reads guest memory at DMA address `addr` (the GSP's system-memory aperture).
    fn dma_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String>;
    /// Writes guest memory at DMA address `addr`.
    fn dma_write(&self, addr: u64, data: &[u8]) -> Result<(), String>;
    /// The GSP falcon's `NV_PFALCON_FALCON_MAILBOX0` (`index` 0) or `MAILBOX1` (`index` 1).
    fn mailbox(&self, index: usize) -> u32;
    /// Sets a GSP falcon mailbox register, as code running on the GSP does.
    fn set_mailbox(&mut self, index: usize, value: u32);
    /// The WPR2 region `[start, end)` in VRAM, if FWSEC-FRTS set it up.
    fn wpr2(&self) -> Option<(u64, u64)>;
    /// Raises the GSP's software interrupt to the CPU (`IRQSTAT.SWGEN0` on the GSP falcon),
    /// which reaches the guest if the driver unmasked and routed it.
    fn raise_swgen0(&mut self);
    /// Counts a protocol violation by the driver, with one line saying what was wrong.
    fn violation(&mut self, what: &str);
    /// Counts RM objects the driver allocated and freed in GSP-RM (its resource server).
    fn rm_objects(&mut self, _allocated: u64, _freed: u64) {}
}

/// The program running on the GSP's RISC-V core, as the engine models see it.
pub trait GspCore: Send + std::fmt::Debug {
    /// booter_load's work on SEC2: read the `GspFwWprMeta` at DMA address `wpr_meta` (SEC2's
    /// MAILBOX0/1 when booter started), check it and the GSP image it describes, and place
    /// GSP-RM in WPR2. An `Err` says why booter refuses; booter then reports a non-zero
    /// status in SEC2's MAILBOX0 and the core is not started.
    fn load(&mut self, bus: &mut dyn GspBus, wpr_meta: u64) -> Result<(), String>;
    /// The RISC-V core starts running the loaded image (after [`GspCore::load`], or when it is
    /// resumed). The LibOS argument array's DMA address is in the GSP falcon's MAILBOX0/1.
    fn start(&mut self, bus: &mut dyn GspBus);
    /// The driver wrote `value` to `NV_PGSP_QUEUE_HEAD(queue)`: new commands may be queued.
    fn doorbell(&mut self, bus: &mut dyn GspBus, queue: u32, value: u32);
    /// The GSP falcon was reset: whatever ran on the core stops, the image stays in WPR2.
    fn reset(&mut self);
    /// Booter_unload ran: WPR2 is going away, the loaded image is forgotten.
    fn unload(&mut self);
    /// Whether the RISC-V core is running (`NV_PRISCV_RISCV_CPUCTL.ACTIVE_STAT`).
    fn running(&self) -> bool;
    /// Whether the program holds messages the driver's queue had no room for; the engine side
    /// then calls [`GspCore::poll`] again after a while.
    fn backlog(&self) -> bool {
        false
    }
    /// The program looks at the driver's read pointer and sends what now fits.
    fn poll(&mut self, _bus: &mut dyn GspBus) {}
}
