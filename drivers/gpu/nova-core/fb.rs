// SPDX-License-Identifier: GPL-2.0

//! Framebuffer (VRAM) layout.
//!
//! Before GSP-RM boots, the driver places a few regions at the top of VRAM, working down from
//! the end (open-gpu-kernel-modules `kgspPopulateWprMeta_TU102` in `kernel_gsp_tu102.c`):
//!
//! ```text
//!   +--------------------------+ <- VRAM size
//!   | VGA workspace            |    kept for the VBIOS
//!   +--------------------------+ <- VGA workspace base
//!   | (alignment gap)          |
//!   +--------------------------+ <- FRTS end, 128 KiB aligned
//!   | FRTS                     |    FWSEC-FRTS puts its data here and raises WPR2 over it
//!   +--------------------------+ <- FRTS start
//!   | ... (GSP-RM regions)     |
//! ```
//!
//! This module computes that much of the layout from the VRAM size and the VGA workspace base,
//! decodes the WPR2 range the hardware reports, and registers the sysmem flush page. The
//! arithmetic is pure and checked, so that hardware values that make no sense become errors.

use core::ops::Range;

use kernel::{device, dma::CoherentHandle, fmt, io::Io, prelude::*, sizes::SizeConstants};

use crate::{driver::Bar0, gpu::Chipset, regs::is_pri_error};

pub(crate) mod hal;
mod regs;

/// Size of the PRAMIN window, which the VGA workspace defaults to at the end of VRAM
/// (`NV_PRAMIN` is 0x700000..=0x7fffff in open-gpu-kernel-modules `turing/tu102/dev_ram.h`).
const PRAMIN_SIZE: u64 = u64::SZ_1M;

/// Size of the VBIOS workspace when the one the display engine reports is too low
/// (`VBIOS_WORKSPACE_SIZE` in `kgspPopulateWprMeta_TU102`).
const VBIOS_WORKSPACE_SIZE: u64 = u64::SZ_128K;

/// Alignment of the end of the GSP's write-protected region, which FRTS ends
/// (`WPR_ALIGNMENT` in open-gpu-kernel-modules `gsp_init_args.h`).
const WPR_ALIGNMENT: u64 = u64::SZ_128K;

/// FRTS size on chips that have one: `NV_PGC6_AON_FRTS_INPUT_WPR_SIZE_SECURE_SCRATCH_GROUP_03_0_
/// WPR_SIZE_1MB_IN_4K` (0x100) 4 KiB pages, from `kgspGetFrtsSize_TU102`.
const FRTS_SIZE: u64 = 0x100 * 0x1000;

/// Smallest VRAM the layout accepts: GSP-RM's boot regions live in the last 256 MiB, which the
/// firmware scrubs before anything else (comment of `kgspPopulateWprMeta_TU102`).
pub(crate) const MIN_VRAM: u64 = 256 * u64::SZ_1M;

/// Largest VRAM the layout accepts: the WPR2 registers hold address bits 39:12, so nothing above
/// 1 TiB can be protected.
pub(crate) const MAX_VRAM: u64 = 1 << 40;

/// Why the FB layout could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FbError {
    /// A register read back as a PRI error.
    NoResponse {
        /// The register's name.
        reg: &'static str,
        /// The value read.
        value: u32,
    },
    /// The VRAM size is outside [`MIN_VRAM`]..=[`MAX_VRAM`].
    VramSize(u64),
    /// The VGA workspace base the display engine reports is not inside VRAM.
    VgaWorkspace(u64),
    /// The regions do not fit below the VGA workspace.
    NoRoom,
}

impl fmt::Display for FbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoResponse { reg, value } => {
                f.write_fmt(fmt!("{} does not answer ({:#010x})", reg, value))
            }
            Self::VramSize(size) => f.write_fmt(fmt!(
                "VRAM size {:#x} is out of range ({:#x}..={:#x})",
                size,
                MIN_VRAM,
                MAX_VRAM
            )),
            Self::VgaWorkspace(base) => {
                f.write_fmt(fmt!("VGA workspace base {:#x} is outside VRAM", base))
            }
            Self::NoRoom => f.write_str("FB regions do not fit in VRAM"),
        }
    }
}

/// Decodes `NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE` (Turing, GA100) into a VRAM size in bytes:
/// `lower_mag << lower_scale` MiB, less one sixteenth with ECC on (upstream nova-core
/// `fb/regs.rs`).
pub(crate) fn local_memory_range_size(raw: u32) -> u64 {
    let reg = regs::NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE::from(raw);
    // At most 63 << 15 MiB, about 2^41 bytes: no overflow.
    let size = (u64::from(reg.lower_mag().get()) << reg.lower_scale().get()) * u64::SZ_1M;
    if reg.ecc_mode_enabled() {
        size / 16 * 15
    } else {
        size
    }
}

/// Decodes `NV_USABLE_FB_SIZE_IN_MB` (GA102 and later) into a VRAM size in bytes.
pub(crate) fn usable_fb_size(raw: u32) -> u64 {
    // At most 2^52: no overflow.
    u64::from(raw) * u64::SZ_1M
}

/// Decodes `NV_PDISP_VGA_WORKSPACE_BASE` into the workspace base, if the register says valid.
pub(crate) fn vga_workspace_base(raw: u32) -> Option<u64> {
    let reg = regs::NV_PDISP_VGA_WORKSPACE_BASE::from(raw);
    reg.status_valid()
        .then(|| u64::from(reg.addr().get()) << 16)
}

/// Decodes `NV_PFB_PRI_MMU_WPR2_ADDR_LO`/`_HI` into the WPR2 range, `None` while WPR2 is down
/// (HI reads zero). Both hold address bits 39:12 in bits 31:4; LO is inclusive, HI is the
/// exclusive end: open-gpu-kernel-modules `kbusGetWprRegions_GH100()` (`kern_bus_gh100.c`)
/// and `_GB100()` decode the same registers into the inclusive range `[LO << 12, (HI << 12) -
/// 1]` and call the region empty when LO equals HI; `kgspIsWpr2Up_TU102()` calls WPR2 up when
/// HI is non-zero. (The sibling `NV_PFB_PRI_MMU_LOCK_ADDR_HI` is different: Open RM's
/// `memmgrBlockMemLockedMemory_GA100()` aligns it up to cover its last page, so it holds the
/// last page, not the end.)
pub(crate) fn wpr2_range(lo: u32, hi: u32) -> Option<Range<u64>> {
    let hi = u64::from(regs::NV_PFB_PRI_MMU_WPR2_ADDR_HI::from(hi).val().get()) << 12;
    let lo = u64::from(regs::NV_PFB_PRI_MMU_WPR2_ADDR_LO::from(lo).val().get()) << 12;
    (hi != 0).then_some(lo..hi)
}

/// The top of VRAM, as laid out before GSP-RM boots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FbLayout {
    /// All of VRAM, from 0.
    pub(crate) vram: Range<u64>,
    /// The VBIOS's VGA workspace, at the end of VRAM.
    pub(crate) vga_workspace: Range<u64>,
    /// The FRTS region, which FWSEC-FRTS fills and protects with WPR2. Empty on GA100, whose
    /// FWSEC keeps no FRTS data, but still placed.
    pub(crate) frts: Range<u64>,
}

impl FbLayout {
    /// Computes the layout of `vram_size` bytes of VRAM whose display engine reports the VGA
    /// workspace at `vga_base` (`None` without a display engine or a valid base), with an FRTS
    /// region of `frts_size` bytes. The placement follows `kgspPopulateWprMeta_TU102`.
    pub(crate) fn compute(
        vram_size: u64,
        vga_base: Option<u64>,
        frts_size: u64,
    ) -> Result<Self, FbError> {
        if !(MIN_VRAM..=MAX_VRAM).contains(&vram_size) {
            return Err(FbError::VramSize(vram_size));
        }

        // Without a display engine the workspace is assumed to fill the PRAMIN-sized top of
        // VRAM; a reported base below that is moved up to a 128 KiB workspace at the very end.
        let vga_start = match vga_base {
            None => vram_size - PRAMIN_SIZE,
            Some(base) if base >= vram_size => return Err(FbError::VgaWorkspace(base)),
            Some(base) if base < vram_size - PRAMIN_SIZE => vram_size - VBIOS_WORKSPACE_SIZE,
            Some(base) => base,
        };

        let frts_end = vga_start & !(WPR_ALIGNMENT - 1);
        let frts_start = frts_end.checked_sub(frts_size).ok_or(FbError::NoRoom)?;

        Ok(Self {
            vram: 0..vram_size,
            vga_workspace: vga_start..vram_size,
            frts: frts_start..frts_end,
        })
    }

    /// Reads what the layout depends on from a `chipset` GPU and computes it.
    ///
    /// Returns `Ok(None)` (and says why in one line) when this driver cannot lay out the FB of
    /// this GPU yet: chips that boot through the FSP (Hopper, Blackwell), and GPUs whose VRAM
    /// size register does not decode (a simulator without an FB model). Fails with `EBUSY` if
    /// WPR2 is already up: a previous driver left GSP-RM's protected region behind, and only a
    /// GPU reset clears it.
    pub(crate) fn probe(
        dev: &device::Device,
        bar: Bar0<'_>,
        chipset: Chipset,
    ) -> Result<Option<Self>> {
        let Some(hal) = hal::fb_hal(chipset) else {
            dev_info!(dev, "FB layout of {} is not supported yet\n", chipset);
            return Ok(None);
        };

        let vram_size = match hal.vram_size(bar) {
            Ok(size) => size,
            Err(FbError::NoResponse { reg, value }) => {
                dev_warn!(
                    dev,
                    "{} reads {:#010x}: no FB unit to lay out, skipping FB and falcon setup\n",
                    reg,
                    value
                );
                return Ok(None);
            }
            Err(e) => {
                dev_err!(dev, "{}\n", e);
                return Err(EIO);
            }
        };

        if let Some(wpr2) = read_wpr2(bar).map_err(|e| {
            dev_err!(dev, "{}\n", e);
            EIO
        })? {
            // A function-level reset takes WPR2 down: Open RM resets such a GPU by FLR
            // (`kbifDoFullChipReset_GA100`) and skips booter_unload while it does
            // (`kgspExecuteBooterUnloadIfNeeded_TU102`).
            dev_err!(
                dev,
                "[wpr2-up] [needs-reset] WPR2 is already up ({:#x}..{:#x}): the GPU needs a reset \
                 (echo 1 > /sys/bus/pci/devices/{}/reset)\n",
                wpr2.start,
                wpr2.end,
                dev.name()
            );
            return Err(EBUSY);
        }

        let vga_base = if hal.display_present(bar).map_err(|e| {
            dev_err!(dev, "{}\n", e);
            EIO
        })? {
            let raw = u32::from(bar.read(regs::NV_PDISP_VGA_WORKSPACE_BASE));
            if is_pri_error(raw) {
                dev_err!(
                    dev,
                    "{}\n",
                    FbError::NoResponse {
                        reg: "NV_PDISP_VGA_WORKSPACE_BASE",
                        value: raw
                    }
                );
                return Err(EIO);
            }
            vga_workspace_base(raw)
        } else {
            None
        };

        Self::compute(vram_size, vga_base, hal.frts_size())
            .map(Some)
            .map_err(|e| {
                dev_err!(dev, "{}\n", e);
                EIO
            })
    }
}

impl fmt::Display for FbLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!(
            "VRAM {} MiB, VGA workspace {:#x}..{:#x}, FRTS {:#x}..{:#x} ({} KiB)",
            self.vram.end / u64::SZ_1M,
            self.vga_workspace.start,
            self.vga_workspace.end,
            self.frts.start,
            self.frts.end,
            (self.frts.end - self.frts.start) / u64::SZ_1K
        ))
    }
}

/// Reads the WPR2 range; `None` while WPR2 is down.
pub(crate) fn read_wpr2(bar: Bar0<'_>) -> Result<Option<Range<u64>>, FbError> {
    let hi = u32::from(bar.read(regs::NV_PFB_PRI_MMU_WPR2_ADDR_HI));
    let lo = u32::from(bar.read(regs::NV_PFB_PRI_MMU_WPR2_ADDR_LO));
    for (reg, value) in [
        ("NV_PFB_PRI_MMU_WPR2_ADDR_HI", hi),
        ("NV_PFB_PRI_MMU_WPR2_ADDR_LO", lo),
    ] {
        if is_pri_error(value) {
            return Err(FbError::NoResponse { reg, value });
        }
    }
    Ok(wpr2_range(lo, hi))
}

/// The sysmem flush page: a page of system memory whose address the GPU holds in
/// `NV_PFB_NISO_FLUSH_SYSMEM_ADDR` and writes to on a sysmem barrier, which flushes its writes
/// to system memory. Falcon resets go through such a barrier, so the page must be registered
/// before any falcon is reset (upstream nova-core `fb.rs`; open-gpu-kernel-modules
/// `kbusInitSysmemFlush`).
///
/// Unregister it with [`SysmemFlush::unregister`] before the GPU is released; if it is dropped
/// still registered, the page (and the device reference it holds) is leaked rather than freed
/// while the GPU may still write to it.
pub(crate) struct SysmemFlush {
    chipset: Chipset,
    page: Option<CoherentHandle>,
}

impl SysmemFlush {
    /// Allocates a page and registers it with the GPU.
    pub(crate) fn register(
        dev: &device::Device<device::Bound>,
        bar: Bar0<'_>,
        chipset: Chipset,
    ) -> Result<Self> {
        let hal = hal::fb_hal(chipset).ok_or(ENOTSUPP)?;
        let page = CoherentHandle::alloc(dev, kernel::page::PAGE_SIZE, GFP_KERNEL)?;
        hal.write_sysmem_flush(bar, page.dma_address())
            .inspect_err(|_| {
                dev_err!(
                    dev,
                    "sysmem flush page at {:#x} is out of the GPU's reach\n",
                    page.dma_address()
                )
            })?;

        Ok(Self {
            chipset,
            page: Some(page),
        })
    }

    /// Clears the GPU's flush address, if it still is this page, and frees the page.
    pub(crate) fn unregister(mut self, bar: Bar0<'_>) {
        let Some(page) = self.page.take() else {
            return;
        };
        let Some(hal) = hal::fb_hal(self.chipset) else {
            return;
        };
        // If the GPU holds another address, it no longer writes to this page.
        if hal.read_sysmem_flush(bar) == page.dma_address() {
            // Zero cannot fail the range check.
            let _ = hal.write_sysmem_flush(bar, 0);
        }
        drop(page);
    }
}

impl Drop for SysmemFlush {
    fn drop(&mut self) {
        // Still registered: the GPU may write to the page, so it must not be freed.
        if let Some(page) = self.page.take() {
            core::mem::forget(page);
        }
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_fb)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    #[test]
    fn layout_without_display() {
        let layout = FbLayout::compute(24 * GIB, None, FRTS_SIZE);
        assert_eq!(
            layout,
            Ok(FbLayout {
                vram: 0..24 * GIB,
                vga_workspace: 24 * GIB - MIB..24 * GIB,
                frts: 24 * GIB - 2 * MIB..24 * GIB - MIB,
            })
        );
    }

    #[test]
    fn layout_with_display_workspace() {
        // A workspace in the top MiB is used as reported; FRTS ends at the 128 KiB boundary
        // below it.
        let base = 8 * GIB - 0x30000;
        let layout = FbLayout::compute(8 * GIB, Some(base), FRTS_SIZE);
        let frts_end = 8 * GIB - 0x40000;
        assert_eq!(
            layout
                .as_ref()
                .map(|l| (l.vga_workspace.clone(), l.frts.clone())),
            Ok((base..8 * GIB, frts_end - MIB..frts_end))
        );

        // A workspace reported further down is moved to the last 128 KiB.
        let layout = FbLayout::compute(8 * GIB, Some(4 * GIB), FRTS_SIZE);
        assert_eq!(
            layout.map(|l| l.vga_workspace),
            Ok(8 * GIB - 0x20000..8 * GIB)
        );

        // A workspace outside VRAM is refused.
        assert_eq!(
            FbLayout::compute(8 * GIB, Some(8 * GIB), FRTS_SIZE),
            Err(FbError::VgaWorkspace(8 * GIB))
        );
    }

    #[test]
    fn layout_of_ga100_has_empty_frts() {
        let layout = FbLayout::compute(40 * GIB, None, 0);
        assert_eq!(layout.map(|l| l.frts), Ok(40 * GIB - MIB..40 * GIB - MIB));
    }

    #[test]
    fn tiny_and_huge_vram_are_refused() {
        assert_eq!(
            FbLayout::compute(0, None, FRTS_SIZE),
            Err(FbError::VramSize(0))
        );
        assert_eq!(
            FbLayout::compute(MIN_VRAM - MIB, None, FRTS_SIZE),
            Err(FbError::VramSize(MIN_VRAM - MIB))
        );
        assert!(FbLayout::compute(MIN_VRAM, None, FRTS_SIZE).is_ok());
        assert!(FbLayout::compute(MAX_VRAM, None, FRTS_SIZE).is_ok());
        assert_eq!(
            FbLayout::compute(MAX_VRAM + MIB, None, FRTS_SIZE),
            Err(FbError::VramSize(MAX_VRAM + MIB))
        );
        // The PRI error pattern read as a size in MiB.
        let bogus = usable_fb_size(0xbadf_1100);
        assert_eq!(
            FbLayout::compute(bogus, None, FRTS_SIZE),
            Err(FbError::VramSize(bogus))
        );
    }

    #[test]
    fn frts_that_does_not_fit_is_refused() {
        assert_eq!(
            FbLayout::compute(MIN_VRAM, None, u64::MAX),
            Err(FbError::NoRoom)
        );
        assert_eq!(
            FbLayout::compute(MIN_VRAM, None, MIN_VRAM),
            Err(FbError::NoRoom)
        );
    }

    #[test]
    fn vram_size_registers_decode() {
        // 24 GiB on GA102+.
        assert_eq!(usable_fb_size(24 * 1024), 24 * GIB);
        // 11 << 10 MiB = 11 GiB, without and with ECC.
        let raw = (11 << 4) | 10;
        assert_eq!(local_memory_range_size(raw), 11 * GIB);
        assert_eq!(local_memory_range_size(raw | 1 << 30), 11 * GIB / 16 * 15);
        // The largest encodable size does not overflow.
        assert_eq!(local_memory_range_size(0x3ff), 63 * (MIB << 15));
    }

    #[test]
    fn wpr2_decodes() {
        assert_eq!(wpr2_range(0, 0), None);
        // Bits 3:0 are not part of the address.
        assert_eq!(wpr2_range(0x5ffd_000f, 0), None);
        assert_eq!(
            wpr2_range(0x05ff_d000, 0x05ff_e000),
            Some(0x5_ffd0_0000..0x5_ffe0_0000)
        );
    }

    #[test]
    fn sysmem_flush_address_encodes() {
        use super::hal::{flush_addr_reg_tu102, flush_addr_regs_ga100};

        assert_eq!(flush_addr_regs_ga100(0x1_2345_6000), Some((0x0123_4560, 0)));
        // The highest page the registers take: address bits 46:8 all set.
        assert_eq!(
            flush_addr_regs_ga100(0x7fff_ffff_ff00),
            Some((0xffff_ffff, 0x7f))
        );
        assert_eq!(flush_addr_regs_ga100(0x8000_0000_0000), None);
        assert_eq!(flush_addr_regs_ga100(!0xff), None);
        assert_eq!(flush_addr_regs_ga100(0x1000_0080), None);
        assert_eq!(flush_addr_reg_tu102(0xff_ffff_ff00), Some(0xffff_ffff));
        assert_eq!(flush_addr_reg_tu102(0x100_0000_0000), None);
        assert_eq!(flush_addr_reg_tu102(0x1010), None);
    }

    #[test]
    fn vga_workspace_register_decodes() {
        assert_eq!(vga_workspace_base(0x05ff_fe00), None);
        assert_eq!(vga_workspace_base(0x05ff_fe08), Some(0x5_fffe_0000));
    }
}
