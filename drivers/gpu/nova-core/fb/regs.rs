// SPDX-License-Identifier: GPL-2.0

//! Registers of the framebuffer unit and the others the FB layout depends on.

use kernel::io::register;

// PFB. Offsets and fields: open-gpu-kernel-modules `turing/tu102/dev_fb.h` (WPR2),
// `ampere/ga100/dev_fb.h` (sysmem flush), upstream nova-core `fb/regs.rs` (local memory range).

register! {
    /// Bits 39:8 of the system memory page the GPU writes to on a sysmem barrier.
    pub(super) NV_PFB_NISO_FLUSH_SYSMEM_ADDR(u32) @ 0x00100c10 {
        31:0    adr_39_08;
    }

    /// Bits 63:40 of the sysmem flush page (GA100 and later).
    pub(super) NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI(u32) @ 0x00100c40 {
        23:0    adr_63_40;
    }

    /// Size of the local memory (VRAM) on Turing and GA100.
    pub(super) NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE(u32) @ 0x00100ce0 {
        /// ECC is on; one sixteenth of the memory holds the check bits.
        30:30   ecc_mode_enabled => bool;
        /// Size mantissa, in MiB.
        9:4     lower_mag;
        /// Size exponent: the size is `lower_mag << lower_scale` MiB.
        3:0     lower_scale;
    }

    /// Start of the WPR2 write-protected region, address bits 39:12 (inclusive bound).
    pub(super) NV_PFB_PRI_MMU_WPR2_ADDR_LO(u32) @ 0x001fa824 {
        31:4    val;
    }

    /// End of the WPR2 region, address bits 39:12, exclusive (Open RM's
    /// `kbusGetWprRegions_GH100()` makes the range `[LO << 12, (HI << 12) - 1]`); zero while
    /// WPR2 is down (`kgspIsWpr2Up_TU102()`).
    pub(super) NV_PFB_PRI_MMU_WPR2_ADDR_HI(u32) @ 0x001fa828 {
        31:4    val;
    }
}

// PGC6: scratch registers that keep their value in the GC6 low-power state.

register! {
    /// Usable FB size in MiB, written by the VBIOS on GA102 and later
    /// (`NV_USABLE_FB_SIZE_IN_MB` = `NV_PGC6_AON_SECURE_SCRATCH_GROUP_42` in
    /// open-gpu-kernel-modules `ampere/ga102/dev_gc6_island{,_addendum}.h`).
    pub(super) NV_PGC6_AON_SECURE_SCRATCH_GROUP_42(u32) @ 0x001183a4 {
        31:0    value;
    }
}

// PDISP and FUSE: whether the display engine exists and where the VBIOS put its VGA workspace
// (upstream nova-core `fb/regs.rs` and `regs.rs`; the GA100 fuse in open-gpu-kernel-modules
// `ampere/ga100/dev_fuse.h`).

register! {
    /// Base of the VGA workspace the VBIOS keeps at the end of VRAM.
    pub(super) NV_PDISP_VGA_WORKSPACE_BASE(u32) @ 0x00625f04 {
        /// Address bits 39:16.
        31:8    addr;
        /// `addr` is valid.
        3:3     status_valid => bool;
    }

    /// Display fuse on Turing.
    pub(super) NV_FUSE_STATUS_OPT_DISPLAY_TU102(u32) @ 0x00021c04 {
        0:0     disabled => bool;
    }

    /// Display fuse on GA100 and later.
    pub(super) NV_FUSE_STATUS_OPT_DISPLAY_GA100(u32) @ 0x00820c04 {
        0:0     disabled => bool;
    }
}
