// SPDX-License-Identifier: GPL-2.0

//! The parts of the FB layout that differ between GPU generations.

use kernel::{io::Io, prelude::*};

use crate::{
    driver::Bar0,
    fb::{local_memory_range_size, regs, usable_fb_size, FbError, FRTS_SIZE},
    gpu::Chipset,
    gsp::hal::GspHal,
    num,
    regs::is_pri_error,
};

/// Chip-specific FB operations.
pub(crate) trait FbHal: Sync {
    /// Reads the VRAM size in bytes.
    fn vram_size(&self, bar: Bar0<'_>) -> Result<u64, FbError>;

    /// Returns whether the GPU has a display engine (read from its fuse).
    fn display_present(&self, bar: Bar0<'_>) -> Result<bool, FbError>;

    /// Returns the size of the FRTS region.
    fn frts_size(&self) -> u64;

    /// Registers `addr` as the sysmem flush page. Fails if the registers cannot hold it.
    fn write_sysmem_flush(&self, bar: Bar0<'_>, addr: u64) -> Result;

    /// Returns the registered sysmem flush page address.
    fn read_sysmem_flush(&self, bar: Bar0<'_>) -> u64;
}

/// Returns the FB HAL of `chipset`, or `None` for chips whose FB this driver cannot lay out
/// yet (Hopper and Blackwell, which boot GSP-RM through the FSP and flush through other
/// registers). Which chip uses which is the GSP HAL's policy ([`GspHal::fb`]).
pub(super) fn fb_hal(chipset: Chipset) -> Option<&'static dyn FbHal> {
    GspHal::of(chipset).fb
}

/// The flush address registers hold address bits 39:8 (and, from GA100 on, 63:40 in the HI
/// register).
const FLUSH_ADDR_SHIFT: u32 = 8;
const FLUSH_ADDR_HI_SHIFT: u32 = 40;

/// Reads a register that must not read back as a PRI error.
fn checked(reg: &'static str, value: u32) -> Result<u32, FbError> {
    if is_pri_error(value) {
        Err(FbError::NoResponse { reg, value })
    } else {
        Ok(value)
    }
}

fn vram_size_local_memory_range(bar: Bar0<'_>) -> Result<u64, FbError> {
    let raw = u32::from(bar.read(regs::NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE));
    checked("NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE", raw).map(local_memory_range_size)
}

fn display_present_ga100(bar: Bar0<'_>) -> Result<bool, FbError> {
    let raw = u32::from(bar.read(regs::NV_FUSE_STATUS_OPT_DISPLAY_GA100));
    checked("NV_FUSE_STATUS_OPT_DISPLAY", raw)
        .map(|raw| !regs::NV_FUSE_STATUS_OPT_DISPLAY_GA100::from(raw).disabled())
}

/// Splits a sysmem flush page address into the values of `NV_PFB_NISO_FLUSH_SYSMEM_ADDR` (bits
/// 39:8) and `_HI` (bits 63:40), or `None` if the page is not 256-byte aligned or above what
/// the HI register takes: `NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI_MASK` is 0x7f, so 128 TiB
/// (open-gpu-kernel-modules `ampere/ga100/dev_fb.h`, `kmemsysProgramSysmemFlushBuffer_GA100`).
pub(super) fn flush_addr_regs_ga100(addr: u64) -> Option<(u32, u32)> {
    const HI_MASK: u64 = 0x7f;

    if addr % (1 << FLUSH_ADDR_SHIFT) != 0 || (addr >> FLUSH_ADDR_HI_SHIFT) & !HI_MASK != 0 {
        return None;
    }
    // Bits 39:8, and bits 46:40, which the check above keeps within the mask.
    Some((
        num::lower_32(addr >> FLUSH_ADDR_SHIFT),
        num::lower_32(addr >> FLUSH_ADDR_HI_SHIFT),
    ))
}

/// The value of `NV_PFB_NISO_FLUSH_SYSMEM_ADDR` for a sysmem flush page on Turing, which has no
/// HI register: `None` unless the page is 256-byte aligned and below 1 TiB.
pub(super) fn flush_addr_reg_tu102(addr: u64) -> Option<u32> {
    if addr % (1 << FLUSH_ADDR_SHIFT) != 0 {
        return None;
    }
    u32::try_from(addr >> FLUSH_ADDR_SHIFT).ok()
}

fn write_sysmem_flush_ga100(bar: Bar0<'_>, addr: u64) -> Result {
    let (lo, hi) = flush_addr_regs_ga100(addr).ok_or(EINVAL)?;
    bar.write_reg(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI::zeroed().try_with_adr_63_40(hi)?);
    bar.write_reg(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR::zeroed().with_adr_39_08(lo));
    Ok(())
}

fn read_sysmem_flush_ga100(bar: Bar0<'_>) -> u64 {
    let lo = bar
        .read(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR)
        .adr_39_08()
        .get();
    let hi = bar
        .read(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI)
        .adr_63_40()
        .get();
    (u64::from(hi) << FLUSH_ADDR_HI_SHIFT) | (u64::from(lo) << FLUSH_ADDR_SHIFT)
}

/// Turing.
pub(crate) struct Tu102;

impl FbHal for Tu102 {
    fn vram_size(&self, bar: Bar0<'_>) -> Result<u64, FbError> {
        vram_size_local_memory_range(bar)
    }

    fn display_present(&self, bar: Bar0<'_>) -> Result<bool, FbError> {
        let raw = u32::from(bar.read(regs::NV_FUSE_STATUS_OPT_DISPLAY_TU102));
        checked("NV_FUSE_STATUS_OPT_DISPLAY", raw)
            .map(|raw| !regs::NV_FUSE_STATUS_OPT_DISPLAY_TU102::from(raw).disabled())
    }

    fn frts_size(&self) -> u64 {
        FRTS_SIZE
    }

    fn write_sysmem_flush(&self, bar: Bar0<'_>, addr: u64) -> Result {
        let lo = flush_addr_reg_tu102(addr).ok_or(EINVAL)?;
        bar.write_reg(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR::zeroed().with_adr_39_08(lo));
        Ok(())
    }

    fn read_sysmem_flush(&self, bar: Bar0<'_>) -> u64 {
        u64::from(
            bar.read(regs::NV_PFB_NISO_FLUSH_SYSMEM_ADDR)
                .adr_39_08()
                .get(),
        ) << FLUSH_ADDR_SHIFT
    }
}

/// GA100: sized like Turing, flushed like GA102, and without FRTS data (its `kgspGetFrtsSize`
/// is a stub returning zero in open-gpu-kernel-modules `g_kernel_gsp_nvoc.c`; the region is
/// still placed).
pub(crate) struct Ga100;

impl FbHal for Ga100 {
    fn vram_size(&self, bar: Bar0<'_>) -> Result<u64, FbError> {
        vram_size_local_memory_range(bar)
    }

    fn display_present(&self, bar: Bar0<'_>) -> Result<bool, FbError> {
        display_present_ga100(bar)
    }

    fn frts_size(&self) -> u64 {
        0
    }

    fn write_sysmem_flush(&self, bar: Bar0<'_>, addr: u64) -> Result {
        write_sysmem_flush_ga100(bar, addr)
    }

    fn read_sysmem_flush(&self, bar: Bar0<'_>) -> u64 {
        read_sysmem_flush_ga100(bar)
    }
}

/// GA102 and Ada: the VBIOS reports the usable FB size in a GC6 scratch register
/// (open-gpu-kernel-modules `kern_mem_sys_ga102.c`).
pub(crate) struct Ga102;

impl FbHal for Ga102 {
    fn vram_size(&self, bar: Bar0<'_>) -> Result<u64, FbError> {
        let raw = u32::from(bar.read(regs::NV_PGC6_AON_SECURE_SCRATCH_GROUP_42));
        checked("NV_USABLE_FB_SIZE_IN_MB", raw).map(usable_fb_size)
    }

    fn display_present(&self, bar: Bar0<'_>) -> Result<bool, FbError> {
        display_present_ga100(bar)
    }

    fn frts_size(&self) -> u64 {
        FRTS_SIZE
    }

    fn write_sysmem_flush(&self, bar: Bar0<'_>, addr: u64) -> Result {
        write_sysmem_flush_ga100(bar, addr)
    }

    fn read_sysmem_flush(&self, bar: Bar0<'_>) -> u64 {
        read_sysmem_flush_ga100(bar)
    }
}
