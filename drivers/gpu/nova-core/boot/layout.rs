// SPDX-License-Identifier: GPL-2.0

//! The part of the FB layout below FRTS that GSP-RM's boot structures describe.
//!
//! [`crate::fb::FbLayout`] places the VGA workspace and FRTS at the top of VRAM. Below FRTS the
//! GSP bootloader copies itself and the GSP-RM image, and GSP-RM keeps its heap; WPR2 covers all
//! of that up to the end of FRTS, and a small unprotected heap sits just below WPR2. The
//! placement and the alignments are those of open-gpu-kernel-modules
//! `kgspPopulateWprMeta_TU102()` (`kernel_gsp_tu102.c`), as upstream nova-core `fb.rs`
//! (`FbRanges::new`) also computes them:
//!
//! ```text
//!   +--------------------------+ <- FRTS end = WPR2 end
//!   | FRTS                     |
//!   +--------------------------+ <- FRTS start
//!   | bootloader               |    4 KiB aligned start
//!   +--------------------------+
//!   | GSP-RM image (ELF)       |    64 KiB aligned start
//!   +--------------------------+
//!   | GSP-RM heap              |    1 MiB aligned start and end
//!   +--------------------------+
//!   | GspFwWprMeta             |    WPR2 start, 1 MiB aligned
//!   +--------------------------+
//!   | non-WPR heap             |
//!   +--------------------------+
//! ```

use kernel::prelude::*;

use crate::{
    fb,
    gpu::Chipset,
    gsp::fw::{FbLayout, FbRange},
};

const SZ_4K: u64 = 4 << 10;
const SZ_64K: u64 = 64 << 10;
const SZ_1M: u64 = 1 << 20;
const SZ_1G: u64 = 1 << 30;

/// Alignment of the GSP-RM heap sizes (`GSP_HEAP_ALIGNMENT` in upstream nova-core `gsp/fw.rs`).
const HEAP_ALIGNMENT: u64 = SZ_1M;

/// Size of the heap GSP-RM keeps below WPR2 on Turing, Ampere and Ada (`kgspGetNonWprHeapSize`;
/// upstream nova-core `fb/hal/tu102.rs`).
const NON_WPR_HEAP_SIZE: u64 = SZ_1M;

/// The GSP-RM heap parameters of r570.144 (`GSP_FW_HEAP_PARAM_*` and
/// `GSP_FW_HEAP_SIZE_OVERRIDE_*` in open-gpu-kernel-modules `gsp_fw_heap.h`).
mod heap {
    /// Memory LibOS 3 (GA102 and later, bare metal) reserves for itself.
    pub(super) const OS_SIZE_LIBOS3: u64 = 22 << 20;
    /// Memory LibOS 2 (Turing, GA100) reserves for itself.
    pub(super) const OS_SIZE_LIBOS2: u64 = 0;
    /// The base size of RM on Turing to Ada.
    pub(super) const BASE_RM_SIZE_TU10X: u64 = 8 << 20;
    /// Memory for client allocations.
    pub(super) const CLIENT_ALLOC_SIZE: u64 = 96 << 20;
    /// Management overhead per GiB of FB.
    pub(super) const SIZE_PER_GB_FB: u64 = 96 << 10;
    /// Smallest heap with LibOS 3.
    pub(super) const LIBOS3_MIN: u64 = 88 << 20;
    /// Largest heap with LibOS 3, exclusive.
    pub(super) const LIBOS3_MAX: u64 = 280 << 20;
    /// Smallest heap with LibOS 2.
    pub(super) const LIBOS2_MIN: u64 = 64 << 20;
    /// Largest heap with LibOS 2, exclusive.
    pub(super) const LIBOS2_MAX: u64 = 256 << 20;
}

/// Rounds `v` down to a multiple of `align`, a power of two.
fn align_down(v: u64, align: u64) -> u64 {
    v & !align.wrapping_sub(1)
}

/// Rounds `v` up to a multiple of `align`, a power of two.
fn align_up(v: u64, align: u64) -> Option<u64> {
    v.checked_add(align.wrapping_sub(1))
        .map(|v| align_down(v, align))
}

/// Returns the size of GSP-RM's heap in WPR2 for `fb_size` bytes of FB on `chipset`
/// (`kgspCalculateGspFwHeapSize` in open-gpu-kernel-modules; upstream nova-core
/// `LibosParams::wpr_heap_size`).
pub(crate) fn wpr2_heap_size(chipset: Chipset, fb_size: u64) -> Result<u64> {
    let (os, min, max) = if chipset >= Chipset::GA102 {
        (heap::OS_SIZE_LIBOS3, heap::LIBOS3_MIN, heap::LIBOS3_MAX)
    } else {
        (heap::OS_SIZE_LIBOS2, heap::LIBOS2_MIN, heap::LIBOS2_MAX)
    };
    let client = align_up(heap::CLIENT_ALLOC_SIZE, HEAP_ALIGNMENT).ok_or(EOVERFLOW)?;
    let overhead = heap::SIZE_PER_GB_FB
        .checked_mul(fb_size.div_ceil(SZ_1G))
        .and_then(|v| align_up(v, HEAP_ALIGNMENT))
        .ok_or(EOVERFLOW)?;
    let size = os
        .saturating_add(heap::BASE_RM_SIZE_TU10X)
        .saturating_add(client)
        .saturating_add(overhead);
    // The upper bound is exclusive in upstream nova-core; keep one byte below it likewise.
    Ok(size.clamp(min, max.saturating_sub(1)))
}

/// Computes the layout GSP-RM is given, from the top of VRAM that `top` describes, a bootloader
/// of `boot_size` bytes, a GSP-RM image of `elf_size` bytes and a `GspFwWprMeta` of
/// `wpr_meta_size` bytes. Fails with `ENOSPC` if the regions do not fit in VRAM.
pub(crate) fn gsp_layout(
    chipset: Chipset,
    top: &fb::FbLayout,
    boot_size: u64,
    elf_size: u64,
    wpr_meta_size: u64,
) -> Result<FbLayout> {
    let below = |end: u64, size: u64, align: u64| -> Result<u64> {
        end.checked_sub(size)
            .map(|start| align_down(start, align))
            .ok_or(ENOSPC)
    };
    let range = |start: u64, end: u64| -> Result<FbRange> {
        Ok(FbRange {
            start,
            size: end.checked_sub(start).ok_or(ENOSPC)?,
        })
    };

    let fb_size = top.vram.end;
    let boot_start = below(top.frts.start, boot_size, SZ_4K)?;
    let elf_start = below(boot_start, elf_size, SZ_64K)?;
    let heap_start = below(elf_start, wpr2_heap_size(chipset, fb_size)?, SZ_1M)?;
    let heap_end = align_down(elf_start, SZ_1M);
    let wpr2_start = below(heap_start, wpr_meta_size, SZ_1M)?;
    let non_wpr_start = wpr2_start.checked_sub(NON_WPR_HEAP_SIZE).ok_or(ENOSPC)?;

    let layout = FbLayout {
        fb_size,
        vga_workspace: range(top.vga_workspace.start, top.vga_workspace.end)?,
        frts: range(top.frts.start, top.frts.end)?,
        boot_bin: FbRange {
            start: boot_start,
            size: boot_size,
        },
        elf: FbRange {
            start: elf_start,
            size: elf_size,
        },
        wpr2_heap: range(heap_start, heap_end)?,
        wpr2: range(wpr2_start, top.frts.end)?,
        non_wpr_heap: range(non_wpr_start, wpr2_start)?,
        // No PMU reservation before Blackwell (upstream nova-core `fb/hal/tu102.rs`).
        pmu_reserved_size: 0,
    };
    layout.validate().map_err(|_| ENOSPC)?;
    Ok(layout)
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_boot_layout)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    fn top(vram: u64) -> fb::FbLayout {
        fb::FbLayout {
            vram: 0..vram,
            vga_workspace: vram - MIB..vram,
            frts: vram - 2 * MIB..vram - MIB,
        }
    }

    #[test]
    fn heap_size_follows_fb_size_and_clamps() {
        // 22 + 8 + 96 MiB, plus 96 KiB per GiB rounded up to 1 MiB: 24 GiB -> 3 MiB.
        assert_eq!(wpr2_heap_size(Chipset::AD102, 24 * GIB), Ok(129 * MIB));
        // 4 TiB of FB would need 22 + 8 + 96 + 384 MiB: the LibOS 3 maximum applies.
        assert_eq!(wpr2_heap_size(Chipset::GA102, 1 << 42), Ok(280 * MIB - 1));
        // LibOS 2: 0 + 8 + 96 + 1 MiB for a 1 GiB board.
        assert_eq!(wpr2_heap_size(Chipset::TU102, GIB), Ok(105 * MIB));
    }

    #[test]
    fn regions_stack_down_from_frts() -> Result {
        let l = gsp_layout(Chipset::AD102, &top(24 * GIB), 0x1_2345, 0x3c9_9000, 256)?;
        let frts = 24 * GIB - 2 * MIB;
        assert_eq!(l.frts.start, frts);
        assert_eq!(l.boot_bin.start, (frts - 0x1_2345) & !0xfff);
        assert_eq!(l.elf.start, (l.boot_bin.start - 0x3c9_9000) & !0xffff);
        assert_eq!(l.wpr2_heap.start % MIB, 0);
        assert_eq!(
            l.wpr2_heap.start + l.wpr2_heap.size,
            l.elf.start & !(MIB - 1)
        );
        assert_eq!(l.wpr2.start + l.wpr2.size, frts + MIB);
        assert_eq!(l.wpr2.start % MIB, 0);
        assert!(l.wpr2.start < l.wpr2_heap.start);
        assert_eq!(l.non_wpr_heap.start + l.non_wpr_heap.size, l.wpr2.start);
        assert_eq!(l.validate(), Ok(()));
        Ok(())
    }

    #[test]
    fn too_little_vram_is_refused() {
        // An image larger than all of VRAM below FRTS.
        assert_eq!(
            gsp_layout(Chipset::GA102, &top(256 * MIB), 0x1000, 300 * MIB, 256),
            Err(ENOSPC)
        );
    }
}
