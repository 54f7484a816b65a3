// SPDX-License-Identifier: GPL-2.0

//! Register definitions.
//!
//! Offsets and layouts follow NVIDIA's reference manuals (open-gpu-doc) for the units nova
//! touches. Registers are grouped by unit; each unit's registers are declared in one
//! `register!` block.
//!
//! Falcon registers are relative to an engine's base (see [`crate::falcon::FalconEngine`]); the
//! framebuffer unit's registers live in `fb/regs.rs`, next to the only code that uses them.

use kernel::{io::register, num::Bounded};

use crate::falcon::{PFalcon2Base, PFalconBase};

/// Returns whether a 32-bit register read came back as an error instead of a value: all ones
/// when the device is gone from the bus, or NVIDIA's PRI error code (0xbad in the top twelve
/// bits; `0xbadf1100` is a register that does not decode, see `NV_PPRIV_SYS_PRI_ERROR_CODE` in
/// open-gpu-kernel-modules `maxwell/gm107/dev_pri_ringstation_sys.h`).
pub(crate) const fn is_pri_error(value: u32) -> bool {
    value == u32::MAX || (value & 0xfff0_0000) == 0xbad0_0000
}

/// Where a falcon context DMA reaches (`NV_PFALCON_FBIF_TRANSCFG_TARGET`): open-gpu-kernel-
/// modules `turing/tu102/dev_fbif_v4.h` names `_COHERENT_SYSMEM` (1); the local FB (0) and
/// non-coherent system memory (2) are nouveau's `nvkm_falcon_dma` targets. 3 is not a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FbifTarget {
    /// The GPU's own memory.
    LocalFb,
    /// System memory, snooped.
    CoherentSysmem,
    /// System memory, not snooped.
    NoncoherentSysmem,
}

impl TryFrom<Bounded<u32, 2>> for FbifTarget {
    type Error = u32;

    fn try_from(v: Bounded<u32, 2>) -> Result<Self, u32> {
        match v.get() {
            0 => Ok(Self::LocalFb),
            1 => Ok(Self::CoherentSysmem),
            2 => Ok(Self::NoncoherentSysmem),
            n => Err(n),
        }
    }
}

impl From<FbifTarget> for Bounded<u32, 2> {
    fn from(t: FbifTarget) -> Self {
        match t {
            FbifTarget::LocalFb => Bounded::<u32, 2>::new::<0>(),
            FbifTarget::CoherentSysmem => Bounded::<u32, 2>::new::<1>(),
            FbifTarget::NoncoherentSysmem => Bounded::<u32, 2>::new::<2>(),
        }
    }
}

/// How a falcon context DMA's addresses are read (`NV_PFALCON_FBIF_TRANSCFG_MEM_TYPE`,
/// `dev_fbif_v4.h`: `_PHYSICAL` is 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FbifMemType {
    /// GPU virtual addresses, through the MMU.
    Virtual,
    /// Physical addresses.
    Physical,
}

impl From<Bounded<u32, 1>> for FbifMemType {
    fn from(v: Bounded<u32, 1>) -> Self {
        if v.get() == 0 {
            Self::Virtual
        } else {
            Self::Physical
        }
    }
}

impl From<FbifMemType> for Bounded<u32, 1> {
    fn from(t: FbifMemType) -> Self {
        Bounded::<u32, 1>::from(t == FbifMemType::Physical)
    }
}

/// The size of a falcon DMA transfer (`NV_PFALCON_FALCON_DMATRFCMD_SIZE`): open-gpu-kernel-
/// modules `turing/tu102/dev_falcon_v4.h` names only `_256B` (6), the size nova uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DmaTrfSize {
    /// 256 bytes, one memory block.
    Block256,
}

impl TryFrom<Bounded<u32, 3>> for DmaTrfSize {
    type Error = u32;

    fn try_from(v: Bounded<u32, 3>) -> Result<Self, u32> {
        match v.get() {
            6 => Ok(Self::Block256),
            n => Err(n),
        }
    }
}

impl From<DmaTrfSize> for Bounded<u32, 3> {
    fn from(s: DmaTrfSize) -> Self {
        match s {
            DmaTrfSize::Block256 => Bounded::<u32, 3>::new::<6>(),
        }
    }
}

// PMC: the master control unit, which holds the chip's identity.

register! {
    /// Chip identity, as every NVIDIA GPU has reported it since NV04.
    pub(crate) NV_PMC_BOOT_0(u32) @ 0x00000000 {
        /// Low five bits of the architecture code.
        28:24   architecture_0;
        /// Implementation (chip) within the architecture.
        23:20   implementation;
        /// High bit of the architecture code, zero on every chip up to Blackwell.
        8:8     architecture_1;
        /// Major revision (stepping letter; 0xa is A).
        7:4     major_revision;
        /// Minor revision (stepping digit).
        3:0     minor_revision;
    }

    /// Chip identity on Fermi and later: the register NVIDIA documents for identifying
    /// current chips.
    pub(crate) NV_PMC_BOOT_42(u32) @ 0x00000a00 {
        /// The architecture (code 0x16 Turing ... 0x1b Blackwell GB20x).
        29:24   architecture ?=> crate::gpu::Architecture;
        /// Implementation (chip) within the architecture.
        23:20   implementation;
        /// Major revision (stepping letter).
        19:16   major_revision;
        /// Minor revision (stepping digit).
        15:12   minor_revision;
    }
}

impl NV_PMC_BOOT_0 {
    /// Returns whether this chip predates Fermi (architecture 0xc), which means it has no
    /// `NV_PMC_BOOT_42`: such chips leave `architecture_1` clear and report an architecture
    /// below 0xc in `architecture_0`.
    pub(crate) fn is_older_than_fermi(self) -> bool {
        const ARCHITECTURE_GF100: u32 = 0xc;

        self.architecture_1().get() == 0 && self.architecture_0().get() < ARCHITECTURE_GF100
    }
}

// PROM: the VBIOS flash, visible in BAR0.

/// Number of 32-bit words in the PROM window (1 MiB; open-gpu-kernel-modules
/// `kernel_gsp_vbios_tu102.c`, `s_getBaseBiosMaxSize_TU102`).
pub(crate) const NV_PROM_DATA_WORDS: usize = 0x4_0000;

register! {
    /// The VBIOS flash, read a 32-bit word at a time: word `i` holds bytes `4 * i` to
    /// `4 * i + 3`, the first in the low bits. NVIDIA's manual declares the window as the byte
    /// array `NV_PROM_DATA(i)` at `0x300000 + i` (open-gpu-kernel-modules
    /// `src/common/inc/swref/published/turing/tu102/dev_ext_devices.h`); drivers read it in
    /// aligned words (`s_promRead32` in `kernel_gsp_vbios_tu102.c`).
    pub(crate) NV_PROM_DATA_WORD(u32)[NV_PROM_DATA_WORDS] @ 0x00300000 {
        31:0    value;
    }
}

// PFALCON: the falcon core's registers, at the start of each engine's register range.
//
// Offsets and fields: open-gpu-kernel-modules `src/common/inc/swref/published/{turing/tu102,
// ampere/ga102}/dev_falcon_v4.h` (and `dev_falcon_v4_addendum.h` for RESET_READY), the FBIF
// registers from `dev_fbif_v4.h` (FBIF starts 0x600 into the falcon: `NV_PGSP_FBIF_BASE` =
// 0x110600 in `dev_gsp_addendum.h`), the ENGINE register from `dev_gsp.h`/`dev_sec_pri.h`.

register! {
    /// Interrupt status clear: writing one to a bit clears that interrupt.
    pub(crate) NV_PFALCON_FALCON_IRQSCLR(u32) @ PFalconBase + 0x00000004 {
        /// Software interrupt 0, which the GSP raises for the message queue.
        6:6     swgen0 => bool;
        /// The falcon halted.
        4:4     halt => bool;
    }

    /// Interrupt status: the falcon's latched interrupts. The same layout describes the
    /// interrupts enabled towards the host (`NV_PRISCV_RISCV_IRQMASK`).
    pub(crate) NV_PFALCON_FALCON_IRQSTAT(u32) @ PFalconBase + 0x00000008 {
        /// Software interrupt 0: on the GSP, GSP-RM has put messages in the message queue.
        6:6     swgen0 => bool;
        /// The falcon halted.
        4:4     halt => bool;
    }

    /// Interrupt mask clear: writing one to a bit disables that interrupt.
    pub(crate) NV_PFALCON_FALCON_IRQMCLR(u32) @ PFalconBase + 0x00000014 {
        31:0    value;
    }

    /// Interrupt retrigger (`NV_PFALCON_FALCON_INTR_RETRIGGER(0)`, GA100 and later): sends the
    /// falcon's interrupt message to the CPU interrupt tree again if an enabled interrupt is
    /// still latched, so that one raised while the previous was handled is not lost.
    pub(crate) NV_PFALCON_FALCON_INTR_RETRIGGER(u32) @ PFalconBase + 0x000003e8 {
        0:0     trigger => bool;
    }

    /// First mailbox between the host and the falcon's firmware.
    pub(crate) NV_PFALCON_FALCON_MAILBOX0(u32) @ PFalconBase + 0x00000040 {
        31:0    value;
    }

    /// Second mailbox between the host and the falcon's firmware.
    pub(crate) NV_PFALCON_FALCON_MAILBOX1(u32) @ PFalconBase + 0x00000044 {
        31:0    value;
    }

    /// Scratch register in which firmware reports its version.
    pub(crate) NV_PFALCON_FALCON_OS(u32) @ PFalconBase + 0x00000080 {
        31:0    value;
    }

    /// Scratch register the host fills with the chip's `NV_PMC_BOOT_0` after a reset
    /// (open-gpu-kernel-modules `kflcnReset_TU102`).
    pub(crate) NV_PFALCON_FALCON_RM(u32) @ PFalconBase + 0x00000084 {
        31:0    value;
    }

    /// Hardware configuration and state, second word.
    pub(crate) NV_PFALCON_FALCON_HWCFG2(u32) @ PFalconBase + 0x000000f4 {
        /// The engine may be reset now (GA102 and later).
        31:31   reset_ready => bool;
        /// Memory scrubbing after reset is still running (GA102 and later); clear when done.
        12:12   mem_scrubbing => bool;
        /// The engine has a RISC-V core next to the falcon core.
        10:10   riscv => bool;
    }

    /// CPU control.
    pub(crate) NV_PFALCON_FALCON_CPUCTL(u32) @ PFalconBase + 0x00000100 {
        /// The CPU is started through `NV_PFALCON_FALCON_CPUCTL_ALIAS` instead of this register.
        6:6     alias_en => bool;
        /// The CPU is halted.
        4:4     halted => bool;
        /// Writing one starts the CPU at `NV_PFALCON_FALCON_BOOTVEC`.
        1:1     startcpu => bool;
    }

    /// Address at which the CPU starts.
    pub(crate) NV_PFALCON_FALCON_BOOTVEC(u32) @ PFalconBase + 0x00000104 {
        31:0    value;
    }

    /// Hardware configuration: the sizes of the falcon's memories.
    pub(crate) NV_PFALCON_FALCON_HWCFG(u32) @ PFalconBase + 0x00000108 {
        /// DMEM size in 256-byte blocks. Not in the open-gpu-kernel-modules headers; from
        /// NVIDIA's nvgpu `hw_falcon_gp106.h` (`falcon_falcon_hwcfg_dmem_size_v`) and nouveau
        /// `nvkm_falcon_oneinit`.
        17:9    dmem_size;
        /// IMEM size in 256-byte blocks.
        8:0     imem_size;
    }

    /// DMA control.
    pub(crate) NV_PFALCON_FALCON_DMACTL(u32) @ PFalconBase + 0x0000010c {
        /// IMEM scrubbing after reset is still running; clear when done.
        2:2     imem_scrubbing => bool;
        /// DMEM scrubbing after reset is still running; clear when done.
        1:1     dmem_scrubbing => bool;
        /// DMA transfers need a context DMA.
        0:0     require_ctx => bool;
    }

    /// Bits 39:8 of the system-memory address DMA transfers are relative to.
    pub(crate) NV_PFALCON_FALCON_DMATRFBASE(u32) @ PFalconBase + 0x00000110 {
        31:0    base;
    }

    /// Offset in IMEM or DMEM of the next DMA transfer.
    pub(crate) NV_PFALCON_FALCON_DMATRFMOFFS(u32) @ PFalconBase + 0x00000114 {
        23:0    offs;
    }

    /// DMA transfer command; writing it starts a transfer.
    pub(crate) NV_PFALCON_FALCON_DMATRFCMD(u32) @ PFalconBase + 0x00000118 {
        /// Context DMA (FBIF TRANSCFG index) of the transfer.
        14:12   ctxdma;
        /// Transfer size.
        10:8    size ?=> DmaTrfSize;
        /// Transfer from the falcon to memory instead of into the falcon.
        5:5     write => bool;
        /// Transfer into IMEM instead of DMEM.
        4:4     imem => bool;
        /// Security of the IMEM blocks written (1: secure).
        3:2     sec;
        /// No transfer is pending.
        1:1     idle => bool;
        /// The transfer queue is full.
        0:0     full => bool;
    }

    /// Offset, from `NV_PFALCON_FALCON_DMATRFBASE`, of the next DMA transfer's source.
    pub(crate) NV_PFALCON_FALCON_DMATRFFBOFFS(u32) @ PFalconBase + 0x0000011c {
        31:0    offs;
    }

    /// Bits 48:40 of the system-memory address DMA transfers are relative to.
    pub(crate) NV_PFALCON_FALCON_DMATRFBASE1(u32) @ PFalconBase + 0x00000128 {
        8:0     base;
    }

    /// IMEM access port control (port 0 of four): where the next `NV_PFALCON_FALCON_IMEMD`
    /// word goes (open-gpu-kernel-modules `dev_falcon_v4.h`).
    pub(crate) NV_PFALCON_FALCON_IMEMC(u32) @ PFalconBase + 0x00000180 {
        /// The blocks written are secure.
        28:28   secure => bool;
        /// Each write of IMEMD advances the offset by one word.
        24:24   aincw => bool;
        /// Byte offset in IMEM; bits 1:0 are ignored.
        15:0    offs;
    }

    /// IMEM access port data: a write stores a word at the IMEMC offset.
    pub(crate) NV_PFALCON_FALCON_IMEMD(u32) @ PFalconBase + 0x00000184 {
        31:0    data;
    }

    /// IMEM access port tag: the virtual block number (tag) of the block being written.
    pub(crate) NV_PFALCON_FALCON_IMEMT(u32) @ PFalconBase + 0x00000188 {
        15:0    tag;
    }

    /// DMEM access port control (port 0 of eight).
    pub(crate) NV_PFALCON_FALCON_DMEMC(u32) @ PFalconBase + 0x000001c0 {
        /// Each write of DMEMD advances the offset by one word.
        24:24   aincw => bool;
        /// Byte offset in DMEM; bits 1:0 are ignored.
        15:0    offs;
    }

    /// DMEM access port data: a write stores a word at the DMEMC offset.
    pub(crate) NV_PFALCON_FALCON_DMEMD(u32) @ PFalconBase + 0x000001c4 {
        31:0    data;
    }

    /// CPU control alias, used instead of `NV_PFALCON_FALCON_CPUCTL` when that has `alias_en`.
    pub(crate) NV_PFALCON_FALCON_CPUCTL_ALIAS(u32) @ PFalconBase + 0x00000130 {
        /// Writing one starts the CPU.
        1:1     startcpu => bool;
    }

    /// Engine reset (`NV_PGSP_FALCON_ENGINE` / `NV_PSEC_FALCON_ENGINE`).
    pub(crate) NV_PFALCON_FALCON_ENGINE(u32) @ PFalconBase + 0x000003c0 {
        /// Holds the engine in reset while set.
        0:0     reset => bool;
    }

    /// Framebuffer interface: how each context DMA reaches memory.
    pub(crate) NV_PFALCON_FBIF_TRANSCFG(u32)[8, stride = 4] @ PFalconBase + 0x00000600 {
        /// Physical or virtual addresses.
        2:2     mem_type => FbifMemType;
        /// Where the context DMA reaches.
        1:0     target ?=> FbifTarget;
    }

    /// Framebuffer interface control.
    pub(crate) NV_PFALCON_FBIF_CTL(u32) @ PFalconBase + 0x00000624 {
        /// Allow physical accesses without a context.
        7:7     allow_phys_no_ctx => bool;
    }
}

// PFALCON2 and PRISCV: the second register range of a falcon (0x1000 after the first on GSP and
// SEC2: `NV_FALCON2_GSP_BASE` and `NV_FALCON2_SEC_BASE` in open-gpu-kernel-modules
// `ampere/ga102/dev_falcon_second_pri.h`), holding the boot ROM parameters and the RISC-V
// core's controls (`turing/tu102/dev_riscv_pri.h`, `ampere/ga102/dev_riscv_pri.h`).

register! {
    /// Signature algorithm the boot ROM checks a heavy-secure image with (GA102 and later).
    pub(crate) NV_PFALCON2_FALCON_MOD_SEL(u32) @ PFalcon2Base + 0x00000180 {
        /// 1 is RSA-3K (`NV_PFALCON2_FALCON_MOD_SEL_ALGO_RSA3K`).
        7:0     algo;
    }

    /// Id of the ucode the boot ROM checks, which selects its fuse version (GA102 and later).
    pub(crate) NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID(u32) @ PFalcon2Base + 0x00000198 {
        7:0     val;
    }

    /// Engines the image is signed for (GA102 and later).
    pub(crate) NV_PFALCON2_FALCON_BROM_ENGIDMASK(u32) @ PFalcon2Base + 0x0000019c {
        31:0    value;
    }

    /// Boot ROM parameter: DMEM offset of the image's signature data (GA102 and later). The
    /// manuals declare an array of unspecified size; only element 0 is used.
    pub(crate) NV_PFALCON2_FALCON_BROM_PARAADDR(u32)[1, stride = 4] @ PFalcon2Base + 0x00000210 {
        31:0    value;
    }

    /// RISC-V core status on Turing and GA100.
    pub(crate) NV_PRISCV_RISCV_CORE_SWITCH_RISCV_STATUS(u32) @ PFalcon2Base + 0x00000240 {
        /// The RISC-V core is active.
        0:0     active_stat => bool;
    }

    /// The falcon interrupts enabled towards the host, as the RISC-V core's registers show
    /// them, on Turing and GA100 (`NV_PRISCV_RISCV_IRQMASK`, `tu102/dev_riscv_pri.h`).
    pub(crate) NV_PRISCV_RISCV_IRQMASK_TU102(u32) @ PFalcon2Base + 0x000002b4 {
        31:0    value;
    }

    /// The falcon interrupts enabled towards the host, on GA102 and later
    /// (`NV_PRISCV_RISCV_IRQMASK`, `ga102/dev_riscv_pri.h`).
    pub(crate) NV_PRISCV_RISCV_IRQMASK(u32) @ PFalcon2Base + 0x00000528 {
        31:0    value;
    }

    /// RISC-V CPU control on GA102 and later.
    pub(crate) NV_PRISCV_RISCV_CPUCTL(u32) @ PFalcon2Base + 0x00000388 {
        /// The RISC-V core is active.
        7:7     active_stat => bool;
        /// The RISC-V core is halted.
        4:4     halted => bool;
    }

    /// Boot configuration on GA102 and later: which core (falcon or RISC-V) runs.
    pub(crate) NV_PRISCV_RISCV_BCR_CTRL(u32) @ PFalcon2Base + 0x00000668 {
        /// Fetch the boot configuration from the boot ROM.
        8:8     brfetch => bool;
        /// 1: the RISC-V core is selected; 0: the falcon core.
        4:4     core_select => bool;
        /// The selection has taken effect.
        0:0     valid => bool;
    }
}

// FUSE: the fused ucode versions heavy-secure images are checked against (GA102 and later).
// Offsets: upstream nova-core `regs.rs`; one register per ucode id 1..=16, a version per set bit.

/// Number of ucode version fuses per engine (ucode ids 1 to 16).
pub(crate) const NV_FUSE_OPT_FPF_SIZE: usize = 16;

register! {
    /// NVDEC ucode version fuses.
    pub(crate) NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION(u32)[NV_FUSE_OPT_FPF_SIZE, stride = 4]
        @ 0x00824100 {
        15:0    data;
    }

    /// SEC2 ucode version fuses.
    pub(crate) NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(u32)[NV_FUSE_OPT_FPF_SIZE, stride = 4]
        @ 0x00824140 {
        15:0    data;
    }

    /// GSP ucode version fuses, one register per ucode id starting with id 1: the version is
    /// the position of the highest set bit of `data`, plus one (0 when none is set). Offset
    /// and field from open-gpu-kernel-modules
    /// `src/common/inc/swref/published/ampere/ga100/dev_fuse.h`
    /// (`NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION`), decoding from `kgspReadUcodeFuseVersion_GA100`
    /// in `kernel_gsp_ga100.c`. Hopper and Blackwell moved these fuses.
    pub(crate) NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION(u32)[NV_FUSE_OPT_FPF_SIZE, stride = 4]
        @ 0x008241c0 {
        15:0    data;
    }
}

// NV_VIRTUAL_FUNCTION: the CPU interrupt tree of Turing and later (open-gpu-doc
// `manuals/ampere/ga102/dev_vm.ref.txt`, open-gpu-kernel-modules `ampere/ga100/dev_vm.h`
// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_*`; nouveau `subdev/vfn/tu102.c` uses the same layout).
// Vector `v` is bit `v % 32` of leaf `v / 32`; TOP bit `t` summarises leaves `2t` and `2t + 1`.

/// Number of leaf registers of the tree.
pub(crate) const NV_CPU_INTR_LEAVES: usize = 16;

register! {
    /// Pending interrupts, one bit per vector; writing one to a bit acknowledges it.
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(u32)[NV_CPU_INTR_LEAVES, stride = 4]
        @ 0x00b81000 {
        31:0    vectors;
    }

    /// Writing one to a bit enables that vector.
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(u32)[NV_CPU_INTR_LEAVES, stride = 4]
        @ 0x00b81200 {
        31:0    vectors;
    }

    /// Writing one to a bit disables that vector.
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(u32)[NV_CPU_INTR_LEAVES, stride = 4]
        @ 0x00b81400 {
        31:0    vectors;
    }

    /// Which pairs of leaves have an enabled vector pending.
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP(u32) @ 0x00b81600 {
        31:0    subtrees;
    }

    /// Writing one to a bit lets that subtree interrupt the CPU. Setting a bit whose subtree
    /// has something pending sends a new interrupt message (MSI).
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_SET(u32) @ 0x00b81608 {
        31:0    subtrees;
    }

    /// Writing one to a bit stops that subtree from interrupting the CPU.
    pub(crate) NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_CLEAR(u32) @ 0x00b81610 {
        31:0    subtrees;
    }
}
