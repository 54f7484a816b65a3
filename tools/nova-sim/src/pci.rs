// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! PCI configuration space of the simulated GPU.
//!
//! The layout follows what NVIDIA boards present: a type-0 header, base address registers for
//! BAR0 (32-bit, non-prefetchable), BAR1 (64-bit prefetchable VRAM aperture), BAR2 (NVIDIA's
//! name; PCI slots 3/4) and an optional I/O BAR in slot 5, then the capability list Power
//! Management (0x60) -> MSI (0x68) -> PCI Express (0x78). The extended space (0x100..0x1000)
//! is present but holds no capability.
//!
//! Every byte has a write mask and a write-one-to-clear mask, so BAR sizing, the command
//! register and the MSI registers behave like hardware. QEMU virtualises the BARs and MSI on
//! its side, but still reads and writes this space.

use std::fmt;

/// Size of the whole configuration space (PCI Express extended).
pub const CONFIG_SPACE_SIZE: usize = 4096;

/// Size of the conventional configuration space.
pub const STANDARD_CONFIG_SIZE: usize = 256;

/// Vendor ID register.
pub const VENDOR_ID: usize = 0x00;
/// Device ID register.
pub const DEVICE_ID: usize = 0x02;
/// Command register.
pub const COMMAND: usize = 0x04;
/// Status register.
pub const STATUS: usize = 0x06;
/// Revision ID register.
pub const REVISION_ID: usize = 0x08;
/// Class code (3 bytes: programming interface, subclass, base class).
pub const CLASS_CODE: usize = 0x09;
/// Cache line size register.
pub const CACHE_LINE_SIZE: usize = 0x0c;
/// Header type register.
pub const HEADER_TYPE: usize = 0x0e;
/// First base address register.
pub const BAR_0: usize = 0x10;
/// Subsystem vendor ID register.
pub const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
/// Subsystem ID register.
pub const SUBSYSTEM_ID: usize = 0x2e;
/// Expansion ROM base address register.
pub const ROM_ADDRESS: usize = 0x30;
/// Capabilities pointer.
pub const CAPABILITIES_POINTER: usize = 0x34;
/// Interrupt line register.
pub const INTERRUPT_LINE: usize = 0x3c;
/// Interrupt pin register.
pub const INTERRUPT_PIN: usize = 0x3d;

/// Offset of the Power Management capability.
pub const PM_CAP: usize = 0x60;
/// Offset of the MSI capability.
pub const MSI_CAP: usize = 0x68;
/// Offset of the PCI Express capability.
pub const PCIE_CAP: usize = 0x78;
/// DevCap's Function Level Reset Capability bit.
pub const DEVCAP_FLR: u32 = 1 << 28;

/// Capability ID of Power Management.
pub const CAP_ID_PM: u8 = 0x01;
/// Capability ID of MSI.
pub const CAP_ID_MSI: u8 = 0x05;
/// Capability ID of PCI Express.
pub const CAP_ID_PCIE: u8 = 0x10;

/// Command register: I/O space enable.
pub const COMMAND_IO: u16 = 1 << 0;
/// Command register: memory space enable.
pub const COMMAND_MEMORY: u16 = 1 << 1;
/// Command register: bus master enable.
pub const COMMAND_MASTER: u16 = 1 << 2;
/// Command register: parity error response.
pub const COMMAND_PARITY: u16 = 1 << 6;
/// Command register: SERR# enable.
pub const COMMAND_SERR: u16 = 1 << 8;
/// Command register: INTx emulation disable.
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;

/// Status register: capabilities list present.
pub const STATUS_CAP_LIST: u16 = 1 << 4;

/// MSI control: enable.
pub const MSI_CONTROL_ENABLE: u16 = 1 << 0;
/// MSI control: 64-bit address capable.
pub const MSI_CONTROL_64BIT: u16 = 1 << 7;

/// The kind of a base address register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// 32-bit memory BAR.
    Memory32 {
        /// Prefetchable memory.
        prefetchable: bool,
    },
    /// 64-bit memory BAR; occupies this slot and the next.
    Memory64 {
        /// Prefetchable memory.
        prefetchable: bool,
    },
    /// I/O space BAR.
    Io,
}

/// One base address register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Kind of the BAR.
    pub kind: BarKind,
    /// Size in bytes, a power of two.
    pub size: u64,
}

impl Bar {
    /// The read-only flag bits in the low dword of the BAR.
    fn flags(&self) -> u32 {
        match self.kind {
            BarKind::Memory32 { prefetchable } => {
                if prefetchable {
                    0x8
                } else {
                    0x0
                }
            }
            BarKind::Memory64 { prefetchable } => {
                if prefetchable {
                    0xc
                } else {
                    0x4
                }
            }
            BarKind::Io => 0x1,
        }
    }

    /// Writable address bits across the BAR's (one or two) dwords.
    fn address_mask(&self) -> u64 {
        let low_flags: u64 = match self.kind {
            BarKind::Io => 0x3,
            _ => 0xf,
        };
        // A size of 0 (refused by validation) would leave no address bit writable.
        let mask = self.size.checked_sub(1).map_or(0, |m| !m) & !low_flags;
        match self.kind {
            BarKind::Memory64 { .. } => mask,
            _ => mask & 0xffff_ffff,
        }
    }
}

/// Everything that varies between simulated boards' configuration spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciDescription {
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Subsystem vendor ID.
    pub subsystem_vendor_id: u16,
    /// Subsystem ID.
    pub subsystem_id: u16,
    /// Revision ID.
    pub revision: u8,
    /// Class code: base class << 16 | subclass << 8 | programming interface.
    pub class_code: u32,
    /// The six BAR slots. A 64-bit BAR in slot n leaves slot n + 1 empty.
    pub bars: [Option<Bar>; 6],
    /// PCIe generation advertised in the link capabilities (1..=6).
    pub link_gen: u8,
    /// PCIe link width advertised and reported (lanes).
    pub link_width: u8,
}

/// A malformed [`PciDescription`] or an access outside the configuration space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The description cannot be turned into a configuration space.
    BadDescription(String),
    /// An access does not lie inside the configuration space.
    OutOfRange {
        /// Offset of the access.
        offset: u64,
        /// Length of the access.
        len: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadDescription(why) => write!(f, "invalid PCI description: {why}"),
            ConfigError::OutOfRange { offset, len } => write!(
                f,
                "config space access of {len} bytes at {offset:#x} is out of range"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Contents and write behaviour of the configuration space.
#[derive(Clone)]
struct Layout {
    data: Vec<u8>,
    wmask: Vec<u8>,
    w1cmask: Vec<u8>,
}

impl Layout {
    fn new() -> Self {
        Layout {
            data: vec![0; CONFIG_SPACE_SIZE],
            wmask: vec![0; CONFIG_SPACE_SIZE],
            w1cmask: vec![0; CONFIG_SPACE_SIZE],
        }
    }

    fn set8(&mut self, offset: usize, value: u8, wmask: u8) {
        self.data[offset] = value;
        self.wmask[offset] = wmask;
    }

    fn set16(&mut self, offset: usize, value: u16, wmask: u16) {
        self.data[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
        self.wmask[offset..offset + 2].copy_from_slice(&wmask.to_le_bytes());
    }

    fn set32(&mut self, offset: usize, value: u32, wmask: u32) {
        self.data[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        self.wmask[offset..offset + 4].copy_from_slice(&wmask.to_le_bytes());
    }

    fn w1c16(&mut self, offset: usize, mask: u16) {
        self.w1cmask[offset..offset + 2].copy_from_slice(&mask.to_le_bytes());
    }
}

fn validate(desc: &PciDescription) -> Result<(), ConfigError> {
    let bad = |why: String| Err(ConfigError::BadDescription(why));
    for (slot, bar) in desc.bars.iter().enumerate() {
        let Some(bar) = bar else { continue };
        let min = if bar.kind == BarKind::Io { 4 } else { 16 };
        if !bar.size.is_power_of_two() || bar.size < min {
            return bad(format!(
                "BAR{slot} size {:#x} is not a power of two >= {min}",
                bar.size
            ));
        }
        match bar.kind {
            BarKind::Memory64 { .. } => {
                if slot == 5 || desc.bars[slot + 1].is_some() {
                    return bad(format!("64-bit BAR{slot} needs slot {} free", slot + 1));
                }
            }
            _ => {
                if bar.size > 1 << 31 {
                    return bad(format!(
                        "32-bit BAR{slot} of {:#x} bytes is too large",
                        bar.size
                    ));
                }
            }
        }
    }
    if !(1..=6).contains(&desc.link_gen) {
        return bad(format!("PCIe generation {} is not 1..=6", desc.link_gen));
    }
    if !matches!(desc.link_width, 1 | 2 | 4 | 8 | 12 | 16 | 32) {
        return bad(format!("PCIe link width x{} is invalid", desc.link_width));
    }
    if desc.class_code > 0xff_ffff {
        return bad(format!(
            "class code {:#x} has more than 24 bits",
            desc.class_code
        ));
    }
    Ok(())
}

fn power_on_layout(desc: &PciDescription) -> Layout {
    let mut l = Layout::new();
    let has_io = desc
        .bars
        .iter()
        .flatten()
        .any(|bar| bar.kind == BarKind::Io);

    l.set16(VENDOR_ID, desc.vendor_id, 0);
    l.set16(DEVICE_ID, desc.device_id, 0);
    let mut command_mask =
        COMMAND_MEMORY | COMMAND_MASTER | COMMAND_PARITY | COMMAND_SERR | COMMAND_INTX_DISABLE;
    if has_io {
        command_mask |= COMMAND_IO;
    }
    l.set16(COMMAND, 0, command_mask);
    l.set16(STATUS, STATUS_CAP_LIST, 0);
    // Master/target abort, SERR and parity error bits are write-one-to-clear.
    l.w1c16(STATUS, 0xf900);
    l.set8(REVISION_ID, desc.revision, 0);
    let class = desc.class_code.to_le_bytes();
    l.data[CLASS_CODE..CLASS_CODE + 3].copy_from_slice(&class[..3]);
    l.set8(CACHE_LINE_SIZE, 0, 0xff);
    // Latency timer (0x0d) and BIST (0x0f) are zero and read-only on PCI Express.
    l.set8(HEADER_TYPE, 0x00, 0);

    for (slot, bar) in desc.bars.iter().enumerate() {
        let Some(bar) = bar else { continue };
        let offset = BAR_0 + 4 * slot;
        let mask = bar.address_mask();
        l.set32(offset, bar.flags(), mask as u32);
        if let BarKind::Memory64 { .. } = bar.kind {
            l.set32(offset + 4, 0, (mask >> 32) as u32);
        }
    }
    l.set16(SUBSYSTEM_VENDOR_ID, desc.subsystem_vendor_id, 0);
    l.set16(SUBSYSTEM_ID, desc.subsystem_id, 0);
    // No expansion ROM: the ROM BAR reads as zero and cannot be sized.
    l.set32(ROM_ADDRESS, 0, 0);
    l.set8(CAPABILITIES_POINTER, PM_CAP as u8, 0);
    l.set8(INTERRUPT_LINE, 0, 0xff);
    l.set8(INTERRUPT_PIN, 1, 0);

    // Power Management, version 3, no D1/D2, no PME.
    l.set8(PM_CAP, CAP_ID_PM, 0);
    l.set8(PM_CAP + 1, MSI_CAP as u8, 0);
    l.set16(PM_CAP + 2, 0x0003, 0);
    // PMCSR: PowerState (1:0) writable, No_Soft_Reset (bit 3) set.
    l.set16(PM_CAP + 4, 0x0008, 0x0003);

    // MSI: one vector, 64-bit address, no per-vector masking.
    l.set8(MSI_CAP, CAP_ID_MSI, 0);
    l.set8(MSI_CAP + 1, PCIE_CAP as u8, 0);
    // Enable (0) and Multiple Message Enable (6:4) are writable.
    l.set16(MSI_CAP + 2, MSI_CONTROL_64BIT, 0x0071);
    l.set32(MSI_CAP + 4, 0, 0xffff_fffc);
    l.set32(MSI_CAP + 8, 0, 0xffff_ffff);
    l.set16(MSI_CAP + 12, 0, 0xffff);

    // PCI Express capability, version 2, device/port type 0 (PCI Express Endpoint).
    let p = PCIE_CAP;
    let gen = u32::from(desc.link_gen);
    let width = u32::from(desc.link_width);
    l.set8(p, CAP_ID_PCIE, 0);
    l.set8(p + 1, 0, 0);
    l.set16(p + 0x02, 0x0002, 0);
    // DevCap: MPS 256 B, extended tags, L0s latency unlimited, L1 < 64 us, role-based errors,
    // Function Level Reset (bit 28; Open RM's `kbifCacheFlrSupport_TU102` reads it from
    // `NV_XVE_DEVICE_CAPABILITY`, and resets the GPU by FLR where it is set).
    l.set32(
        p + 0x04,
        0x1 | (1 << 5) | (7 << 6) | (6 << 9) | (1 << 15) | DEVCAP_FLR,
        0,
    );
    // DevCtl: relaxed ordering and no-snoop enabled, MRRS 512 B (the reset defaults). Bit 15,
    // Initiate Function Level Reset, always reads 0: see [`ConfigSpace::initiates_flr`].
    l.set16(p + 0x08, 0x2810, 0x7fff);
    // DevSta: error-detected bits are write-one-to-clear.
    l.set16(p + 0x0a, 0, 0);
    l.w1c16(p + 0x0a, 0x000f);
    // LinkCap: speed, width, ASPM L0s and L1 supported.
    l.set32(p + 0x0c, gen | (width << 4) | (3 << 10), 0);
    // LinkCtl: ASPM control, RCB, common clock, extended synch, HW autonomous width disable.
    l.set16(p + 0x10, 0, 0x02cb);
    // LinkSta: trained at full speed and width, slot clock configuration.
    l.set16(p + 0x12, (gen | (width << 4) | (1 << 12)) as u16, 0);
    // DevCap2: completion timeout ranges A-D, completion timeout disable.
    l.set32(p + 0x24, 0x1f, 0);
    // DevCtl2: completion timeout value and disable.
    l.set16(p + 0x28, 0, 0x001f);
    // LinkCap2: supported link speeds vector, 2.5 GT/s up to the maximum.
    l.set32(p + 0x2c, ((1 << gen) - 1) << 1, 0);
    // LinkCtl2: target link speed, enter compliance, HW autonomous speed disable.
    l.set16(p + 0x30, gen as u16, 0x003f);

    l
}

/// The configuration space of one PCI function.
#[derive(Clone)]
pub struct ConfigSpace {
    desc: PciDescription,
    layout: Layout,
}

impl fmt::Debug for ConfigSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigSpace")
            .field("desc", &self.desc)
            .field("command", &self.read_u16(COMMAND))
            .finish()
    }
}

impl ConfigSpace {
    /// Builds the power-on configuration space for `desc`.
    pub fn new(desc: PciDescription) -> Result<Self, ConfigError> {
        validate(&desc)?;
        let layout = power_on_layout(&desc);
        Ok(ConfigSpace { desc, layout })
    }

    /// The description this space was built from.
    pub fn description(&self) -> &PciDescription {
        &self.desc
    }

    /// Returns every register to its power-on value.
    pub fn reset(&mut self) {
        self.layout = power_on_layout(&self.desc);
    }

    fn span(offset: u64, len: usize) -> Result<std::ops::Range<usize>, ConfigError> {
        let out_of_range = ConfigError::OutOfRange { offset, len };
        let start = usize::try_from(offset).map_err(|_| out_of_range.clone())?;
        let end = start.checked_add(len).ok_or(out_of_range.clone())?;
        if end > CONFIG_SPACE_SIZE {
            return Err(out_of_range);
        }
        Ok(start..end)
    }

    /// Reads `buf.len()` bytes at `offset`.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), ConfigError> {
        let span = Self::span(offset, buf.len())?;
        buf.copy_from_slice(&self.layout.data[span]);
        Ok(())
    }

    /// Writes `data` at `offset`, honouring read-only and write-one-to-clear bits.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), ConfigError> {
        let span = Self::span(offset, data.len())?;
        let l = &mut self.layout;
        for (i, &byte) in span.zip(data) {
            let wmask = l.wmask[i];
            l.data[i] = (l.data[i] & !wmask) | (byte & wmask);
            l.data[i] &= !(byte & l.w1cmask[i]);
        }
        Ok(())
    }

    /// Whether a write of `data` at `offset` sets DevCtl's Initiate Function Level Reset bit
    /// (PCI Express Base Specification, Device Control register, bit 15).
    pub fn initiates_flr(offset: u64, data: &[u8]) -> bool {
        let at = (PCIE_CAP + 0x09) as u64;
        offset <= at
            && at < offset + data.len() as u64
            && data
                .get((at - offset) as usize)
                .is_some_and(|b| b & 0x80 != 0)
    }

    /// Reads a byte (0xff outside the space).
    pub fn read_u8(&self, offset: usize) -> u8 {
        self.layout.data.get(offset).copied().unwrap_or(0xff)
    }

    /// Reads a little-endian 16-bit register (0xffff outside the space).
    pub fn read_u16(&self, offset: usize) -> u16 {
        let mut buf = [0xff; 2];
        let _ = self.read(offset as u64, &mut buf);
        u16::from_le_bytes(buf)
    }

    /// Reads a little-endian 32-bit register (0xffffffff outside the space).
    pub fn read_u32(&self, offset: usize) -> u32 {
        let mut buf = [0xff; 4];
        let _ = self.read(offset as u64, &mut buf);
        u32::from_le_bytes(buf)
    }

    /// The command register.
    pub fn command(&self) -> u16 {
        self.read_u16(COMMAND)
    }

    /// Whether the guest enabled bus mastering (DMA).
    pub fn bus_master_enabled(&self) -> bool {
        self.command() & COMMAND_MASTER != 0
    }

    /// Whether the guest disabled INTx.
    pub fn intx_disabled(&self) -> bool {
        self.command() & COMMAND_INTX_DISABLE != 0
    }

    /// Whether the guest enabled MSI.
    pub fn msi_enabled(&self) -> bool {
        self.read_u16(MSI_CAP + 2) & MSI_CONTROL_ENABLE != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(has_bar3: bool, io: bool) -> PciDescription {
        let mut bars = [None; 6];
        bars[0] = Some(Bar {
            kind: BarKind::Memory32 {
                prefetchable: false,
            },
            size: 16 << 20,
        });
        bars[1] = Some(Bar {
            kind: BarKind::Memory64 { prefetchable: true },
            size: 256 << 20,
        });
        if has_bar3 {
            bars[3] = Some(Bar {
                kind: BarKind::Memory64 { prefetchable: true },
                size: 32 << 20,
            });
        }
        if io {
            bars[5] = Some(Bar {
                kind: BarKind::Io,
                size: 128,
            });
        }
        PciDescription {
            vendor_id: 0x10de,
            device_id: 0x2684,
            subsystem_vendor_id: 0x10de,
            subsystem_id: 0,
            revision: 0xa1,
            class_code: 0x030000,
            bars,
            link_gen: 4,
            link_width: 16,
        }
    }

    fn size_bar(cs: &mut ConfigSpace, slot: usize) -> u32 {
        let offset = (BAR_0 + 4 * slot) as u64;
        cs.write(offset, &0xffff_ffffu32.to_le_bytes()).unwrap();
        cs.read_u32(BAR_0 + 4 * slot)
    }

    #[test]
    fn header_identifies_the_board() {
        let cs = ConfigSpace::new(gpu(true, true)).unwrap();
        assert_eq!(cs.read_u16(VENDOR_ID), 0x10de);
        assert_eq!(cs.read_u16(DEVICE_ID), 0x2684);
        assert_eq!(cs.read_u8(REVISION_ID), 0xa1);
        assert_eq!(cs.read_u32(REVISION_ID) >> 8, 0x030000);
        assert_eq!(cs.read_u8(HEADER_TYPE), 0);
        assert_eq!(cs.read_u8(INTERRUPT_PIN), 1);
        assert_ne!(cs.read_u16(STATUS) & STATUS_CAP_LIST, 0);
        assert_eq!(cs.read_u16(SUBSYSTEM_VENDOR_ID), 0x10de);
    }

    #[test]
    fn bar_sizing_returns_size_masks() {
        let mut cs = ConfigSpace::new(gpu(true, true)).unwrap();
        // BAR0: 16 MiB, 32-bit, non-prefetchable.
        assert_eq!(cs.read_u32(BAR_0), 0);
        assert_eq!(size_bar(&mut cs, 0), 0xff00_0000);
        // BAR1: 256 MiB, 64-bit prefetchable; upper dword fully writable.
        assert_eq!(cs.read_u32(BAR_0 + 4), 0xc);
        assert_eq!(size_bar(&mut cs, 1), 0xf000_000c);
        assert_eq!(size_bar(&mut cs, 2), 0xffff_ffff);
        // BAR3: 32 MiB, 64-bit prefetchable.
        assert_eq!(size_bar(&mut cs, 3), 0xfe00_000c);
        assert_eq!(size_bar(&mut cs, 4), 0xffff_ffff);
        // BAR5: 128 bytes of I/O.
        assert_eq!(size_bar(&mut cs, 5), 0xffff_ff81);
        // ROM: absent.
        cs.write(ROM_ADDRESS as u64, &[0xff; 4]).unwrap();
        assert_eq!(cs.read_u32(ROM_ADDRESS), 0);
        // Programming an address keeps the flag bits.
        cs.write((BAR_0 + 4) as u64, &0xe000_0000u32.to_le_bytes())
            .unwrap();
        assert_eq!(cs.read_u32(BAR_0 + 4), 0xe000_000c);
    }

    #[test]
    fn resizable_bar1_sizing_spans_both_dwords() {
        let with_bar1 = |size: u64| {
            let mut desc = gpu(true, true);
            desc.bars[1] = Some(Bar {
                kind: BarKind::Memory64 { prefetchable: true },
                size,
            });
            ConfigSpace::new(desc).unwrap()
        };
        // 32 GiB: no address bit in the low dword is writable, the flags stay; the upper
        // dword gives the size, ~(32 GiB - 1) >> 32.
        let mut cs = with_bar1(32 << 30);
        assert_eq!(cs.read_u32(BAR_0 + 4), 0x0000_000c);
        let low = size_bar(&mut cs, 1);
        let high = size_bar(&mut cs, 2);
        assert_eq!((low, high), (0x0000_000c, 0xffff_fff8));
        // Decoded the way an OS does: the two's complement of the address mask.
        let mask = (u64::from(high) << 32) | u64::from(low & !0xf);
        assert_eq!(mask.wrapping_neg(), 32 << 30);
        // Program an address above 4 GiB: both halves hold it, aligned to the size.
        cs.write((BAR_0 + 4) as u64, &0u32.to_le_bytes()).unwrap();
        cs.write((BAR_0 + 8) as u64, &0x0000_0038u32.to_le_bytes())
            .unwrap();
        assert_eq!(cs.read_u32(BAR_0 + 4), 0x0000_000c);
        assert_eq!(cs.read_u32(BAR_0 + 8), 0x0000_0038);
        cs.write((BAR_0 + 8) as u64, &0x0000_003cu32.to_le_bytes())
            .unwrap();
        assert_eq!(
            cs.read_u32(BAR_0 + 8),
            0x0000_0038,
            "unaligned bits are read-only"
        );
        // Other BARs are unaffected.
        assert_eq!(size_bar(&mut cs, 0), 0xff00_0000);
        assert_eq!(size_bar(&mut cs, 3), 0xfe00_000c);
        // 256 GiB, the largest --bar1-size, and 32 MiB, the smallest.
        let mut cs = with_bar1(256 << 30);
        assert_eq!(size_bar(&mut cs, 1), 0x0000_000c);
        assert_eq!(size_bar(&mut cs, 2), 0xffff_ffc0);
        let mut cs = with_bar1(32 << 20);
        assert_eq!(size_bar(&mut cs, 1), 0xfe00_000c);
        assert_eq!(size_bar(&mut cs, 2), 0xffff_ffff);
    }

    #[test]
    fn absent_bars_read_zero_and_ignore_writes() {
        let mut cs = ConfigSpace::new(gpu(false, false)).unwrap();
        // Slot 2 is the upper half of the 64-bit BAR1.
        assert_eq!(size_bar(&mut cs, 2), 0xffff_ffff);
        for slot in 3..6 {
            assert_eq!(size_bar(&mut cs, slot), 0, "slot {slot}");
        }
    }

    #[test]
    fn capability_chain_walks_pm_msi_pcie() {
        let cs = ConfigSpace::new(gpu(true, true)).unwrap();
        let mut next = usize::from(cs.read_u8(CAPABILITIES_POINTER));
        let mut found = Vec::new();
        while next != 0 {
            assert!(found.len() < 48, "capability list loops");
            assert_eq!(next % 4, 0);
            assert!((0x40..STANDARD_CONFIG_SIZE).contains(&next));
            found.push((next, cs.read_u8(next)));
            next = usize::from(cs.read_u8(next + 1));
        }
        assert_eq!(
            found,
            vec![
                (PM_CAP, CAP_ID_PM),
                (MSI_CAP, CAP_ID_MSI),
                (PCIE_CAP, CAP_ID_PCIE)
            ]
        );
        // MSI: 64-bit capable, one vector (MMC = 0), disabled.
        let control = cs.read_u16(MSI_CAP + 2);
        assert_ne!(control & MSI_CONTROL_64BIT, 0);
        assert_eq!(control & 0x000e, 0);
        assert!(!cs.msi_enabled());
        // PCIe v2 endpoint.
        assert_eq!(cs.read_u16(PCIE_CAP + 2), 0x0002);
        // No extended capabilities.
        assert_eq!(cs.read_u32(0x100), 0);
    }

    #[test]
    fn command_register_keeps_only_writable_bits() {
        let mut cs = ConfigSpace::new(gpu(true, false)).unwrap();
        cs.write(COMMAND as u64, &[0xff, 0xff]).unwrap();
        // No I/O BAR: the I/O enable bit stays clear.
        assert_eq!(cs.command(), 0x0546);
        assert!(cs.bus_master_enabled());
        assert!(cs.intx_disabled());
        let mut cs = ConfigSpace::new(gpu(true, true)).unwrap();
        cs.write(COMMAND as u64, &[0xff, 0xff]).unwrap();
        assert_eq!(cs.command(), 0x0547);
        cs.reset();
        assert_eq!(cs.command(), 0);
    }

    #[test]
    fn msi_registers_are_writable() {
        let mut cs = ConfigSpace::new(gpu(true, false)).unwrap();
        let msi = MSI_CAP as u64;
        cs.write(msi + 4, &0xfee0_1003u32.to_le_bytes()).unwrap();
        cs.write(msi + 8, &0x0000_0001u32.to_le_bytes()).unwrap();
        cs.write(msi + 12, &0x4021u16.to_le_bytes()).unwrap();
        cs.write(msi + 2, &0xffffu16.to_le_bytes()).unwrap();
        assert_eq!(cs.read_u32(MSI_CAP + 4), 0xfee0_1000);
        assert_eq!(cs.read_u32(MSI_CAP + 8), 1);
        assert_eq!(cs.read_u16(MSI_CAP + 12), 0x4021);
        assert_eq!(cs.read_u16(MSI_CAP + 2), 0x00f1);
        assert!(cs.msi_enabled());
    }

    #[test]
    fn status_bits_are_write_one_to_clear() {
        let mut cs = ConfigSpace::new(gpu(true, false)).unwrap();
        cs.layout.data[STATUS + 1] = 0xf9;
        cs.write(STATUS as u64, &0x2000u16.to_le_bytes()).unwrap();
        assert_eq!(cs.read_u16(STATUS), 0xd900 | STATUS_CAP_LIST);
        // Writing zero changes nothing, and the capability bit is read-only.
        cs.write(STATUS as u64, &0u16.to_le_bytes()).unwrap();
        assert_eq!(cs.read_u16(STATUS), 0xd900 | STATUS_CAP_LIST);
    }

    #[test]
    fn accesses_outside_the_space_fail() {
        let mut cs = ConfigSpace::new(gpu(true, false)).unwrap();
        let mut buf = [0u8; 4];
        assert!(cs.read(4094, &mut buf).is_err());
        assert!(cs.read(u64::MAX, &mut buf).is_err());
        assert!(cs.write(4096, &buf).is_err());
        let mut whole = vec![0u8; CONFIG_SPACE_SIZE];
        cs.read(0, &mut whole).unwrap();
        assert_eq!(&whole[0..2], &[0xde, 0x10]);
    }

    #[test]
    fn malformed_descriptions_are_rejected() {
        let mut desc = gpu(true, false);
        desc.bars[2] = Some(Bar {
            kind: BarKind::Io,
            size: 128,
        });
        assert!(ConfigSpace::new(desc).is_err());
        let mut desc = gpu(true, false);
        desc.bars[0] = Some(Bar {
            kind: BarKind::Memory32 {
                prefetchable: false,
            },
            size: 3 << 20,
        });
        assert!(ConfigSpace::new(desc).is_err());
        let mut desc = gpu(true, false);
        desc.link_gen = 0;
        assert!(ConfigSpace::new(desc).is_err());
    }
}
