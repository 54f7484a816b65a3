// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The engine models driven through BAR0 the way a driver boots the GSP on GA102 and later
//! (upstream nova-core's order: FWSEC-FRTS on the GSP falcon by DMA, booter_load on SEC2,
//! "RISC-V active", doorbells, then FWSEC-SB and booter_unload), and the ways it can go wrong.
//! Booter files are synthetic (nova-tlv's test generator, same layout as Debian's).

#[path = "../../nova-tlv/tests/common/synth.rs"]
#[allow(dead_code)]
mod synth;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use nova_sim::bar0::Identity;
use nova_sim::chips;
use nova_sim::device::{EngineSetup, GpuDevice};
use nova_sim::firmware::FirmwareFiles;
use nova_sim::gpu::{
    Faults, FRTS_ERR_INJECTED, FRTS_ERR_WPR2_SET, MBOX_ERR_BOOTER, MBOX_ERR_INJECTED,
    MBOX_ERR_REJECTED, MBOX_ERR_UNKNOWN_IMAGE,
};
use nova_sim::idle_gsp::{IdleGspCore, WPR_META_MAGIC, WPR_META_REVISION};
use nova_sim::memory::SharedMemory;
use nova_sim::stats::Counters;
use nova_sim::timing::{ManualClock, Timing, Work};
use nova_sim::vbios::{Corruption, DescVersion, Vbios, DESC_V3_SIZE, SIGNATURE_SIZE};
use nova_sim::vfio::{DmaMapRequest, VfioDevice, REGION_CONFIG};
use nova_tlv::chips::TlvKind;

const GSP: u64 = 0x11_0000;
const SEC2: u64 = 0x84_0000;
const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 1 << 20;
/// Guest addresses of the buffers the "driver" uses.
const FW_BUF: u64 = RAM;
const WPR_META: u64 = RAM + 0x8_0000;

const MAILBOX0: u64 = 0x40;
const MAILBOX1: u64 = 0x44;
const CPUCTL: u64 = 0x100;
const BOOTVEC: u64 = 0x104;
const DMACTL: u64 = 0x10c;
const ENGINE: u64 = 0x3c0;
const FBIF_TRANSCFG0: u64 = 0x600;
const FBIF_CTL: u64 = 0x624;
const IMEMC0: u64 = 0x180;
const RISCV_CPUCTL: u64 = 0x1388;
const WPR2_LO: u64 = 0x1f_a824;
const WPR2_HI: u64 = 0x1f_a828;
const SCRATCH_0E: u64 = 0x1400 + 4 * 0xe;

struct Board {
    dev: GpuDevice,
    ram: SharedMemory,
    counters: Arc<Counters>,
    clock: Arc<ManualClock>,
}

/// How far the test clock moves at every BAR0 access: a driver's polling interval.
const POLL_STEP: Duration = Duration::from_micros(5);
/// Polls are given up after this many reads (far beyond the slowest `fast` delay).
const POLL_LIMIT: usize = 100_000;

fn booter_files() -> FirmwareFiles {
    let load = synth::Booter::ad102().build();
    // An unload image that differs: a shorter application 0.
    let unload = synth::Booter {
        app0: (0x100, 0x1c00),
        ..synth::Booter::ad102()
    }
    .build();
    FirmwareFiles {
        booter_load: Some(
            nova_tlv::convert::booter(TlvKind::BooterLoad, &load, "570.144").unwrap(),
        ),
        booter_unload: Some(
            nova_tlv::convert::booter(TlvKind::BooterUnload, &unload, "570.144").unwrap(),
        ),
        gen_bootloader: Some(
            nova_tlv::convert::gen_bootloader(&synth::gen_bootloader(), "570.144").unwrap(),
        ),
        scrubber: Some(nova_tlv::convert::heavy_secure_file(&scrubber_file(), "570.144").unwrap()),
    }
}

/// A scrubber image: Booter's format, with an application 0 of its own.
fn scrubber_file() -> Vec<u8> {
    synth::Booter {
        app0: (0x100, 0x1800),
        ..synth::Booter::ad102()
    }
    .build()
}

fn board(name: &str, faults: Faults) -> Board {
    board_timed(name, faults, Timing::Fast, ManualClock::stepping(POLL_STEP))
}

/// A board whose work takes `timing`, measured by `clock`, with the PCI command register
/// enabling memory space and bus mastering as a driver's `pci_set_master()` leaves it.
fn board_timed(name: &str, faults: Faults, timing: Timing, clock: Arc<ManualClock>) -> Board {
    let chip = chips::find(name).unwrap();
    let counters = Arc::new(Counters::default());
    let identity = Identity::of(chip);
    let vbios = Vbios::build(chip, Corruption::None).unwrap();
    let setup = EngineSetup {
        core: Box::new(IdleGspCore::new()),
        firmware: booter_files(),
        faults,
        timing,
    };
    let mut dev = GpuDevice::with_setup(
        chip,
        identity,
        chip.bar1_size,
        counters.clone(),
        None,
        vbios,
        setup,
    )
    .unwrap();
    dev.set_clock(clock.clone());
    // PCI_COMMAND: memory space (1) and bus master (2).
    dev.region_write(REGION_CONFIG, 4, &[0x06, 0x00]).unwrap();
    let ram = SharedMemory::new("guest-ram", RAM_SIZE).unwrap();
    dev.dma_map(DmaMapRequest {
        iova: RAM,
        size: RAM_SIZE,
        file_offset: 0,
        readable: true,
        writable: true,
        fd: Some(ram.file().try_clone().unwrap()),
    })
    .unwrap();
    Board {
        dev,
        ram,
        counters,
        clock,
    }
}

/// A board for `name` with the one engine fault `enable` sets.
fn board_with_fault(name: &str, enable: fn(&mut Faults)) -> Board {
    let mut faults = Faults::default();
    enable(&mut faults);
    board(name, faults)
}

/// Patches a FWSEC ucode (IMEM then DMEM, DMEM at `dmem`) the way the driver does: finds the
/// DMEM mapper (interface entry id 4) through the interface table at DMEM offset `interface`,
/// sets its init command to `cmd` and fills its command input with READ_VBIOS followed by the
/// FRTS region `frts` (offset, size) in the framebuffer.
fn patch_command(ucode: &mut [u8], dmem: usize, interface: usize, cmd: u32, frts: (u64, u64)) {
    let rd = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let hdr = dmem + interface;
    let mapper = (0..ucode[hdr + 3] as usize)
        .map(|i| hdr + 4 + 8 * i)
        .find(|at| rd(ucode, *at) == 4)
        .map(|at| dmem + rd(ucode, at + 4) as usize)
        .unwrap();
    ucode[mapper + 44..mapper + 48].copy_from_slice(&cmd.to_le_bytes());
    let cmd_in = dmem + rd(ucode, mapper + 8) as usize;
    let words: [u32; 11] = [
        1,
        24,
        0,
        0,
        0,
        2,
        1,
        20,
        (frts.0 >> 12) as u32,
        (frts.1 >> 12) as u32,
        2,
    ];
    for (i, w) in words.iter().enumerate() {
        ucode[cmd_in + 4 * i..cmd_in + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
}

/// One segment to DMA: source offset in the buffer, IMEM/DMEM destination, length.
struct Seg {
    src: u32,
    dst: u32,
    len: u32,
}

impl Board {
    fn rd(&mut self, addr: u64) -> u32 {
        self.dev.mmio_read(addr, 4).unwrap() as u32
    }

    fn wr(&mut self, addr: u64, value: u32) {
        self.dev.mmio_write(addr, 4, u64::from(value)).unwrap();
    }

    fn violations(&self) -> u64 {
        self.counters.violations.load(Ordering::Relaxed)
    }

    /// Reads `addr` until `done` holds for its value, as a driver's `read_poll_timeout` does.
    fn poll(&mut self, addr: u64, what: &str, done: impl Fn(u32) -> bool) -> u32 {
        for _ in 0..POLL_LIMIT {
            // A driver's poll interval passes, whether or not the clock also steps at reads.
            self.clock.advance(POLL_STEP);
            let v = self.rd(addr);
            if done(v) {
                return v;
            }
        }
        panic!("{what}: {addr:#x} never got there");
    }

    /// upstream `Falcon::reset` on GA102: engine reset, core select, scrub wait, RM.
    fn reset(&mut self, base: u64) {
        assert_ne!(self.rd(base + 0xf4) & (1 << 31), 0, "RESET_READY");
        self.wr(base + ENGINE, 1);
        self.wr(base + ENGINE, 0);
        self.poll(base + 0xf4, "scrubbing", |v| v & (1 << 12) == 0);
        let bcr = self.rd(base + 0x1668);
        assert_eq!(bcr & (1 << 4), 0, "falcon core selected after reset");
        let boot0 = self.rd(0);
        self.wr(base + 0x84, boot0);
    }

    /// upstream `Falcon::dma_load`: `image` placed at `FW_BUF`, IMEM tagged by source offset.
    fn dma_load(
        &mut self,
        base: u64,
        image: &[u8],
        imem: Seg,
        dmem: Seg,
        brom: [u32; 3],
        bootvec: u32,
    ) {
        self.ram.write(FW_BUF - RAM, image).unwrap();
        self.wr(base + FBIF_CTL, 1 << 7);
        self.wr(base + DMACTL, 0);
        self.wr(base + FBIF_TRANSCFG0, 0x5);
        for (seg, is_imem) in [(imem, true), (dmem, false)] {
            let (fb_base, src0) = if is_imem {
                (FW_BUF, seg.src)
            } else {
                (FW_BUF + u64::from(seg.src), 0)
            };
            self.wr(base + 0x110, (fb_base >> 8) as u32);
            self.wr(base + 0x128, (fb_base >> 40) as u32);
            let cmd = (6 << 8) | if is_imem { (1 << 4) | (1 << 2) } else { 0 };
            for pos in (0..seg.len).step_by(256) {
                self.wr(base + 0x114, seg.dst + pos);
                self.wr(base + 0x11c, src0 + pos);
                self.wr(base + 0x118, cmd);
                self.poll(base + 0x118, "DMA idle", |v| v & 2 != 0);
            }
        }
        self.wr(base + 0x1210, brom[0]);
        self.wr(base + 0x119c, brom[1]);
        self.wr(base + 0x1198, brom[2]);
        self.wr(base + 0x1180, 1);
        self.wr(base + BOOTVEC, bootvec);
    }

    /// upstream `Falcon::boot`.
    fn boot(&mut self, base: u64, mbox0: u32, mbox1: u32) -> (u32, u32) {
        self.wr(base + MAILBOX0, mbox0);
        self.wr(base + MAILBOX1, mbox1);
        self.wr(base + CPUCTL, 1 << 1);
        self.poll(base + CPUCTL, "halt", |v| v & (1 << 4) != 0);
        (self.rd(base + MAILBOX0), self.rd(base + MAILBOX1))
    }

    /// The FWSEC image as upstream `FwsecFirmware::new` prepares it, signature chosen by the
    /// fuse register like upstream's GA102 HAL.
    fn fwsec(&mut self, cmd: u32, frts: (u64, u64), debug: bool) -> (Vec<u8>, u32, u32, [u32; 3]) {
        let vbios = self.dev.vbios().clone();
        let info = vbios.info();
        let f = if debug {
            info.fwsec_debug.clone()
        } else {
            info.fwsec.clone()
        }
        .unwrap();
        assert_eq!(f.version, DescVersion::V3);
        let rom = vbios.bytes();
        let total = (f.imem_load_size + f.dmem_load_size) as usize;
        let mut ucode = rom[f.ucode_offset..f.ucode_offset + total].to_vec();
        let dmem = f.imem_load_size as usize;
        patch_command(&mut ucode, dmem, f.interface_offset as usize, cmd, frts);
        let fuse = self.rd(0x82_41c0 + 4 * (u64::from(f.ucode_id) - 1)) as u16;
        let fuse_version = 16 - fuse.leading_zeros();
        let bit = 1u32 << fuse_version;
        assert_ne!(u32::from(f.signature_versions) & bit, 0);
        let idx = (u32::from(f.signature_versions) & (bit - 1)).count_ones() as usize;
        let sig_at = f.desc_offset + DESC_V3_SIZE + idx * SIGNATURE_SIZE;
        let at = dmem + f.pkc_data_offset as usize;
        ucode[at..at + SIGNATURE_SIZE].copy_from_slice(&rom[sig_at..sig_at + SIGNATURE_SIZE]);
        let brom = [
            f.pkc_data_offset,
            u32::from(f.engine_id_mask),
            u32::from(f.ucode_id),
        ];
        (ucode, f.imem_load_size, f.dmem_load_size, brom)
    }

    fn run_fwsec(&mut self, cmd: u32, frts: (u64, u64), debug: bool) -> u32 {
        let (image, imem, dmem, brom) = self.fwsec(cmd, frts, debug);
        self.reset(GSP);
        self.dma_load(
            GSP,
            &image,
            Seg {
                src: 0,
                dst: 0,
                len: imem,
            },
            Seg {
                src: imem,
                dst: 0,
                len: dmem,
            },
            brom,
            0,
        );
        self.boot(GSP, 0, 0).0
    }

    /// upstream `BooterFirmware::new` + `run` on GA102 and later.
    fn run_booter(&mut self, tlv: &[u8], mbox: (u32, u32), sig_index: Option<usize>) -> u32 {
        let t = nova_tlv::tlv::Tlv::parse(tlv).unwrap();
        let g = |tag| t.u32(tag).unwrap();
        use nova_tlv::tlv::Tag;
        let mut blob = t.bytes(Tag::BLOB).unwrap().to_vec();
        let (daof, dasz, a0co, a0cs, ploc) = (
            g(Tag::DAOF),
            g(Tag::DASZ),
            g(Tag::A0CO),
            g(Tag::A0CS),
            g(Tag::PLOC),
        );
        let (fuse, enid, ucid, nsig) = (g(Tag::FUSE), g(Tag::ENID), g(Tag::UCID), g(Tag::NSIG));
        let sigs = t.bytes(Tag::SIGN).unwrap();
        let size = sigs.len() / nsig as usize;
        let reg = self.rd(0x82_4140 + 4 * (u64::from(ucid) - 1)) as u16;
        let reg_version = 16 - reg.leading_zeros();
        let index = sig_index.unwrap_or(if reg_version == 0 {
            nsig as usize - 1
        } else {
            (fuse - reg_version) as usize
        });
        let sig = &sigs[index * size..(index + 1) * size];
        blob[ploc as usize..ploc as usize + size].copy_from_slice(sig);
        blob.resize(blob.len().next_multiple_of(256), 0);
        self.reset(SEC2);
        self.dma_load(
            SEC2,
            &blob,
            Seg {
                src: a0co,
                dst: 0,
                len: a0cs,
            },
            Seg {
                src: daof,
                dst: 0,
                len: dasz,
            },
            [ploc - daof, enid, ucid],
            a0co,
        );
        self.boot(SEC2, mbox.0, mbox.1).0
    }

    fn wpr2(&mut self) -> (u64, u64) {
        (
            u64::from(self.rd(WPR2_LO) >> 4) << 12,
            u64::from(self.rd(WPR2_HI) >> 4) << 12,
        )
    }

    /// A `GspFwWprMeta` with the header GSP-RM checks and the WPR booter sets up
    /// (`gspFwWprStart` at 112, `gspFwWprEnd` at 168), which ends where FRTS does.
    fn write_wpr_meta_with(&mut self, magic: u64, wpr: (u64, u64)) {
        let mut meta = vec![0u8; 176];
        meta[0..8].copy_from_slice(&magic.to_le_bytes());
        meta[8..16].copy_from_slice(&WPR_META_REVISION.to_le_bytes());
        meta[112..120].copy_from_slice(&wpr.0.to_le_bytes());
        meta[168..176].copy_from_slice(&wpr.1.to_le_bytes());
        self.ram.write(WPR_META - RAM, &meta).unwrap();
    }

    fn write_wpr_meta(&mut self) {
        self.write_wpr_meta_with(WPR_META_MAGIC, WPR);
    }
}

const FRTS: (u64, u64) = ((24 << 30) - (3 << 20), 1 << 20);
/// The whole WPR booter sets up: 64 MiB ending with FRTS.
const WPR: (u64, u64) = (FRTS.0 + FRTS.1 - (64 << 20), FRTS.0 + FRTS.1);

#[test]
fn ad102_boots_gsp_like_upstream_and_unloads() {
    let mut b = board("ad102", Faults::default());
    // GFW boot done, VRAM size, no WPR2 yet, display present with a VGA workspace.
    assert_eq!(b.rd(0x11_8128) & 1, 1);
    assert_eq!(b.rd(0x11_8234) & 0xff, 0xff);
    assert_eq!(b.rd(0x11_83a4), 24 << 10);
    assert_eq!(b.rd(WPR2_HI), 0);
    assert_eq!(b.rd(0x82_0c04) & 1, 0);
    assert_eq!(
        b.rd(0x62_5f04),
        ((((24u64 << 30) - (1 << 20)) >> 16) as u32) << 8 | 8
    );
    b.wr(0x10_0c40, 0);
    b.wr(0x10_0c10, 0x12_3456);
    assert_eq!(b.rd(0x10_0c10), 0x12_3456);
    // clear_swgen0_intr.
    b.wr(GSP + 0x4, 1 << 6);

    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    assert_eq!(b.rd(SCRATCH_0E) >> 16, 0);
    assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
    assert_eq!(b.violations(), 0);

    // The GSP falcon is reset and started empty with the LibOS address in its mailboxes.
    b.reset(GSP);
    assert_eq!(b.boot(GSP, 0x1234_5000, 0x1), (0x1234_5000, 0x1));

    b.write_wpr_meta();
    let tlv = booter_files().booter_load.unwrap();
    let (lo, hi) = (WPR_META as u32, (WPR_META >> 32) as u32);
    assert_eq!(b.run_booter(&tlv, (lo, hi), None), 0);
    assert_ne!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0, "RISC-V active");
    assert_eq!(b.rd(GSP + 0x1668) & 0x11, 0x11, "RISC-V core selected");
    assert_eq!(b.wpr2(), WPR, "booter set up the whole WPR");
    assert_eq!(b.violations(), 0);
    assert_eq!(b.counters.falcon_starts.load(Ordering::Relaxed), 3);

    // Doorbell; OS version write is allowed, code loading is not while GSP-RM runs.
    b.wr(GSP + 0x80, 0x570);
    b.wr(0x11_0c00, 0x40);
    assert_eq!(b.counters.gsp_doorbells.load(Ordering::Relaxed), 1);
    assert_eq!(b.rd(0x11_0c00), 0x40);
    b.wr(GSP + IMEMC0, 0);
    assert_eq!(b.violations(), 1);
    assert_eq!(b.rd(GSP + 0x184), 0xbadf_4100);

    // Unload: FWSEC-SB (resets the GSP falcon first), then booter_unload removes WPR2.
    assert_eq!(b.run_fwsec(0x19, (0, 0), false), 0);
    assert_eq!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0);
    let unload = booter_files().booter_unload.unwrap();
    assert_eq!(b.run_booter(&unload, (0xff, 0xff), None), 0);
    assert_eq!(b.rd(WPR2_HI), 0);
    assert_eq!(b.violations(), 1);
}

#[test]
fn an_unscrubbed_ada_board_needs_the_scrubber_before_booter() {
    const SCRATCH_15: u64 = 0x11_80fc;
    let mut b = board_with_fault("ad102", |f| f.scrubber_pending = true);
    assert_eq!(b.rd(SCRATCH_15) >> 29, 0, "handoff not done");
    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    b.write_wpr_meta();
    let load = booter_files().booter_load.unwrap();
    let meta = (WPR_META as u32, (WPR_META >> 32) as u32);
    // booter_load before the scrubber: refused, and the driver's mistake.
    assert_eq!(b.run_booter(&load, meta, None), MBOX_ERR_BOOTER);
    assert_eq!(b.violations(), 1);
    // The scrubber on SEC2, as Open RM runs it: the handoff reads done, and booter starts
    // GSP-RM.
    let scrubber = booter_files().scrubber.unwrap();
    assert_eq!(b.run_booter(&scrubber, (0, 0), None), 0);
    assert_eq!(b.rd(SCRATCH_15) >> 29, 3);
    assert_eq!(b.run_booter(&load, meta, None), 0);
    assert_ne!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0, "RISC-V active");
    assert_eq!(b.violations(), 1);
}

#[test]
fn frts_twice_reports_the_existing_wpr2() {
    let mut b = board("ga102", Faults::default());
    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    let other = (FRTS.0 - (4 << 20), 1 << 20);
    assert_eq!(b.run_fwsec(0x15, other, false), 0);
    assert_eq!(b.rd(SCRATCH_0E) >> 16, FRTS_ERR_WPR2_SET);
    assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
    // FWSEC refusing to run is the driver's mistake (it should have seen WPR2 up).
    assert_eq!(b.violations(), 1);
}

#[test]
fn faults_fail_frts_and_booter_and_preset_wpr2() {
    let mut b = board_with_fault("ad102", |f| f.fwsec_frts_error = true);
    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    assert_eq!(b.rd(SCRATCH_0E) >> 16, FRTS_ERR_INJECTED);
    assert_eq!(b.rd(WPR2_HI), 0);

    let mut b = board_with_fault("ad102", |f| f.booter_error = true);
    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    b.write_wpr_meta();
    let tlv = booter_files().booter_load.unwrap();
    assert_eq!(
        b.run_booter(&tlv, (WPR_META as u32, 0), None),
        MBOX_ERR_INJECTED
    );
    assert_eq!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0);

    let mut b = board_with_fault("ad102", |f| f.wpr2_preset = true);
    assert_ne!(b.rd(WPR2_HI), 0);
    // Under this fault no reset removes it (without it, a reset does: see
    // `gpu::tests::a_device_reset_clears_wpr2`).
    b.dev.reset().unwrap();
    assert_ne!(b.rd(WPR2_HI), 0);
    assert_eq!(b.violations(), 0);
}

#[test]
fn rejected_images_halt_with_an_error_and_count_violations() {
    let mut b = board("ad102", Faults::default());
    // The debug-signed FWSEC.
    assert_eq!(b.run_fwsec(0x15, FRTS, true), MBOX_ERR_REJECTED);
    assert_eq!(b.rd(WPR2_HI), 0);
    assert_eq!(b.violations(), 1);
    // booter with the signature for another fuse version.
    assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
    b.write_wpr_meta();
    let tlv = booter_files().booter_load.unwrap();
    assert_eq!(
        b.run_booter(&tlv, (WPR_META as u32, 0), Some(1)),
        MBOX_ERR_REJECTED
    );
    assert_eq!(b.violations(), 2);
    // Something that is no firmware at all.
    b.reset(SEC2);
    b.wr(SEC2 + IMEMC0, 1 << 24);
    b.wr(SEC2 + IMEMC0 + 8, 0);
    b.wr(SEC2 + IMEMC0 + 4, 0xdead_beef);
    assert_eq!(b.boot(SEC2, 0, 0).0, MBOX_ERR_UNKNOWN_IMAGE);
    assert_eq!(b.violations(), 3);
    // GSP-RM refuses a wrong header: booter fails (a violation, as every booter refusal is),
    // GSP-RM does not start, WPR2 stays FRTS's.
    b.write_wpr_meta_with(0x1234, WPR);
    assert_ne!(b.run_booter(&tlv, (WPR_META as u32, 0), None), 0);
    assert_eq!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0);
    assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
    assert_eq!(b.violations(), 4);
    // A WPR that does not end with FRTS, and one outside VRAM: violations.
    b.write_wpr_meta_with(WPR_META_MAGIC, (WPR.0, WPR.1 - (1 << 20)));
    assert_ne!(b.run_booter(&tlv, (WPR_META as u32, 0), None), 0);
    b.write_wpr_meta_with(WPR_META_MAGIC, (WPR.0, 32 << 30));
    assert_ne!(b.run_booter(&tlv, (WPR_META as u32, 0), None), 0);
    assert_eq!(b.violations(), 6);
    assert_eq!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0);
}

#[test]
fn dma_without_physical_permission_is_a_violation() {
    let mut b = board("ad102", Faults::default());
    b.reset(GSP);
    b.wr(GSP + FBIF_TRANSCFG0, 0x5);
    b.wr(GSP + 0x110, (FW_BUF >> 8) as u32);
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    b.poll(GSP + 0x118, "DMA idle", |v| v & 2 != 0);
    assert_eq!(b.violations(), 1);
    assert_eq!(b.counters.falcon_dma.load(Ordering::Relaxed), 1);
    // From an address the guest never mapped.
    b.wr(GSP + FBIF_CTL, 1 << 7);
    b.wr(GSP + 0x110, 0x10);
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    b.poll(GSP + 0x118, "DMA idle", |v| v & 2 != 0);
    assert_eq!(b.violations(), 2);
}

#[test]
fn turing_reads_its_vram_from_local_memory_range() {
    let mut b = board("tu102", Faults::default());
    let range = b.rd(0x10_0ce0);
    let mib = u64::from((range >> 4) & 0x3f) << (range & 0xf);
    assert_eq!(mib << 20, 11 << 30);
    assert_eq!(b.rd(0x02_1c04) & 1, 0);
    // Turing has no RISCV_CPUCTL but the core-switch status.
    assert_eq!(b.rd(GSP + 0x1240), 0);
    assert_eq!(
        b.dev.mmio_read(GSP + RISCV_CPUCTL, 4).unwrap() as u32,
        0xbadf_1100
    );
}

/// upstream `FwsecFirmwareWithBl` on Turing: the generic bootloader by PIO at the top of IMEM,
/// `BootloaderDmemDescV2` in DMEM, FWSEC V2 in guest memory for the bootloader to DMA.
fn run_turing_fwsec(b: &mut Board, frts: (u64, u64)) -> u32 {
    let vbios = b.dev.vbios().clone();
    let f = vbios.info().fwsec.clone().unwrap();
    assert_eq!(f.version, DescVersion::V2);
    let rom = vbios.bytes();
    let desc = |i: usize| {
        u32::from_le_bytes(
            rom[f.desc_offset + 4 * i..f.desc_offset + 4 * i + 4]
                .try_into()
                .unwrap(),
        )
    };
    let (sec_base, sec_size, dmem_off) = (desc(8), desc(9), desc(10));
    let total = (f.imem_load_size + f.dmem_load_size) as usize;
    let mut ucode = rom[f.ucode_offset..f.ucode_offset + total].to_vec();
    // Command FRTS, as for V3 (same DMEM layout).
    let dmem = dmem_off as usize;
    patch_command(&mut ucode, dmem, f.interface_offset as usize, 0x15, frts);
    b.ram.write(FW_BUF - RAM, &ucode).unwrap();
    // BootloaderDmemDescV2.
    let mut d = [0u8; 84];
    let mut put = |at: usize, v: &[u8]| d[at..at + v.len()].copy_from_slice(v);
    put(32, &4u32.to_le_bytes());
    put(36, &FW_BUF.to_le_bytes());
    put(44, &0u32.to_le_bytes());
    put(48, &sec_base.to_le_bytes());
    put(52, &sec_base.to_le_bytes());
    put(56, &sec_size.to_le_bytes());
    put(60, &0u32.to_le_bytes());
    put(64, &(FW_BUF + u64::from(dmem_off)).to_le_bytes());
    put(72, &f.dmem_load_size.to_le_bytes());
    // Turing reset: ENGINE, DMACTL scrubbing.
    b.wr(GSP + ENGINE, 1);
    b.wr(GSP + ENGINE, 0);
    b.poll(GSP + DMACTL, "scrubbing", |v| v & 6 == 0);
    b.wr(GSP + FBIF_CTL, 1 << 7);
    b.wr(GSP + DMACTL, 0);
    let bl = synth::gen_bootloader();
    let code = &bl[0x30..0x30 + 512];
    let dst = 0x1_0000 - 512;
    b.wr(GSP + IMEMC0, dst | (1 << 24));
    for (n, block) in code.chunks(256).enumerate() {
        b.wr(GSP + IMEMC0 + 8, 253 + n as u32);
        for w in block.chunks(4) {
            b.wr(GSP + IMEMC0 + 4, u32::from_le_bytes(w.try_into().unwrap()));
        }
    }
    b.wr(GSP + 0x1c0, 1 << 24);
    for w in d.chunks(4) {
        b.wr(GSP + 0x1c4, u32::from_le_bytes(w.try_into().unwrap()));
    }
    b.wr(GSP + BOOTVEC, 253 << 8);
    b.wr(GSP + FBIF_TRANSCFG0 + 4 * 4, 0x5);
    b.boot(GSP, 0, 0).0
}

#[test]
fn turing_fwsec_runs_through_the_generic_bootloader() {
    let mut b = board("tu102", Faults::default());
    let top = 11u64 << 30;
    let frts = (top - (3 << 20), 1 << 20);
    assert_eq!(run_turing_fwsec(&mut b, frts), 0);
    assert_eq!(b.violations(), 0);
    assert_eq!(b.wpr2(), (frts.0, frts.0 + frts.1));
    assert_eq!(b.rd(SCRATCH_0E) >> 16, 0);
    // The bootloader's transfers went through FBIF context 4.
    assert!(b.counters.falcon_dma.load(Ordering::Relaxed) >= 64);
    // A second FRTS finds WPR2 set and refuses: a violation.
    assert_eq!(run_turing_fwsec(&mut b, frts), 0);
    assert_eq!(b.rd(SCRATCH_0E) >> 16, FRTS_ERR_WPR2_SET);
    assert_eq!(b.violations(), 1);
}

/// Loads FWSEC-FRTS into the GSP falcon of `b` (reset by hand: `b`'s clock may stand still).
fn load_fwsec_frts(b: &mut Board, clock: &ManualClock) {
    let (image, imem, dmem, brom) = b.fwsec(0x15, FRTS, false);
    b.wr(GSP + ENGINE, 1);
    b.wr(GSP + ENGINE, 0);
    clock.advance(Work::Scrub.bounds().1);
    b.dma_load(
        GSP,
        &image,
        Seg {
            src: 0,
            dst: 0,
            len: imem,
        },
        Seg {
            src: imem,
            dst: 0,
            len: dmem,
        },
        brom,
        0,
    );
}

#[test]
fn work_finishes_after_a_delay_never_inside_the_write() {
    for timing in [Timing::Fast, Timing::Realistic, Timing::Random(3)] {
        let clock = ManualClock::new();
        let mut b = board_timed("ad102", Faults::default(), timing, clock.clone());
        // Scrubbing after the reset.
        b.wr(GSP + ENGINE, 1);
        b.wr(GSP + ENGINE, 0);
        assert_ne!(
            b.rd(GSP + 0xf4) & (1 << 12),
            0,
            "{timing}: scrubbing pending"
        );
        assert_ne!(b.rd(GSP + DMACTL) & 6, 0, "{timing}: DMACTL too");
        clock.advance(Work::Scrub.bounds().1);
        assert_eq!(b.rd(GSP + 0xf4) & (1 << 12), 0, "{timing}: scrubbing done");
        // FWSEC-FRTS, waited for properly.
        load_fwsec_frts(&mut b, &clock);
        b.wr(GSP + CPUCTL, 1 << 1);
        assert_eq!(b.rd(GSP + CPUCTL) & (1 << 4), 0, "{timing}: still running");
        clock.advance(Work::Fwsec.bounds().1);
        assert_ne!(b.rd(GSP + CPUCTL) & (1 << 4), 0, "{timing}: halted");
        assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
        assert_eq!(b.violations(), 0, "{timing}");
    }
}

#[test]
fn a_driver_that_reads_results_before_the_halt_is_caught() {
    // The buggy sequence: start FWSEC-FRTS, then read WPR2 and MAILBOX0 without waiting for
    // CPUCTL.HALTED. The values are stale and each read is a violation.
    let clock = ManualClock::new();
    let mut b = board_timed("ga102", Faults::default(), Timing::Fast, clock.clone());
    load_fwsec_frts(&mut b, &clock);
    assert_eq!(b.violations(), 0);
    b.wr(GSP + MAILBOX0, 0x1234);
    b.wr(GSP + CPUCTL, 1 << 1);
    assert_eq!(b.rd(WPR2_HI), 0, "WPR2 is not up yet");
    assert_eq!(
        b.rd(GSP + MAILBOX0),
        0x1234,
        "the mailbox still holds the driver's value"
    );
    assert_eq!(b.rd(SCRATCH_0E), 0);
    assert_eq!(b.violations(), 3);
    // Polling CPUCTL (the completion signal) is fine, and then the results are there.
    clock.advance(Work::Fwsec.bounds().0);
    assert_ne!(b.rd(GSP + CPUCTL) & (1 << 4), 0);
    assert_eq!(b.rd(GSP + MAILBOX0), 0);
    assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
    assert_eq!(b.violations(), 3);
}

#[test]
fn a_driver_that_skips_the_scrub_wait_is_caught() {
    let clock = ManualClock::new();
    let mut b = board_timed("tu102", Faults::default(), Timing::Fast, clock.clone());
    b.wr(SEC2 + ENGINE, 1);
    b.wr(SEC2 + ENGINE, 0);
    // PIO into IMEM at once, without polling DMACTL's scrubbing bits.
    b.wr(SEC2 + IMEMC0, 1 << 24);
    b.wr(SEC2 + IMEMC0 + 4, 0xdead_beef);
    assert_eq!(b.violations(), 1);
    clock.advance(Work::Scrub.bounds().0);
    b.wr(SEC2 + IMEMC0 + 4, 0xdead_beef);
    assert_eq!(b.violations(), 1);
}

#[test]
fn the_boot_passes_with_random_timing() {
    for seed in [1, 2, 3, 0xdead] {
        let mut b = board_timed(
            "ad102",
            Faults::default(),
            Timing::Random(seed),
            ManualClock::stepping(POLL_STEP),
        );
        assert_eq!(b.run_fwsec(0x15, FRTS, false), 0);
        assert_eq!(b.wpr2(), (FRTS.0, FRTS.0 + FRTS.1));
        b.reset(GSP);
        b.boot(GSP, 0x1234_5000, 0);
        b.write_wpr_meta();
        let tlv = booter_files().booter_load.unwrap();
        assert_eq!(b.run_booter(&tlv, (WPR_META as u32, 0), None), 0);
        assert_ne!(b.rd(GSP + RISCV_CPUCTL) & (1 << 7), 0, "RISC-V active");
        assert_eq!(b.wpr2(), WPR);
        assert_eq!(b.violations(), 0, "seed {seed}");
    }
}

#[test]
fn a_falcon_held_in_reset_refuses_access() {
    let mut b = board("ga102", Faults::default());
    b.wr(SEC2 + ENGINE, 1);
    // The buggy sequence: the driver programs the falcon before releasing the reset.
    assert_eq!(b.rd(SEC2 + MAILBOX0), 0xbadf_1200, "FECS_PRI_RESET");
    b.wr(SEC2 + MAILBOX0, 1);
    b.wr(SEC2 + IMEMC0, 0);
    assert_eq!(b.violations(), 3);
    // ENGINE itself answers, and releasing the reset brings the falcon back.
    assert_eq!(b.rd(SEC2 + ENGINE) & 1, 1);
    b.wr(SEC2 + ENGINE, 0);
    b.poll(SEC2 + 0xf4, "scrubbing", |v| v & (1 << 12) == 0);
    assert_eq!(b.rd(SEC2 + MAILBOX0), 0);
    assert_eq!(b.violations(), 3);
}

#[test]
fn dma_without_bus_mastering_fails_and_is_a_violation() {
    let mut b = board("ad102", Faults::default());
    b.ram.write(FW_BUF - RAM, &[0xab; 256]).unwrap();
    b.reset(GSP);
    b.wr(GSP + FBIF_CTL, 1 << 7);
    b.wr(GSP + FBIF_TRANSCFG0, 0x5);
    b.wr(GSP + 0x110, (FW_BUF >> 8) as u32);
    b.wr(GSP + 0x114, 0);
    b.wr(GSP + 0x11c, 0);
    let imem_word0 = |b: &mut Board| {
        b.wr(GSP + IMEMC0, 1 << 25);
        b.rd(GSP + IMEMC0 + 4)
    };
    // The buggy sequence: the driver never called pci_set_master().
    b.dev.region_write(REGION_CONFIG, 4, &[0x02, 0x00]).unwrap();
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    b.poll(GSP + 0x118, "DMA idle", |v| v & 2 != 0);
    assert_eq!(b.violations(), 1);
    assert_eq!(imem_word0(&mut b), 0, "nothing arrived");
    // With bus mastering the same transfer works.
    b.dev.region_write(REGION_CONFIG, 4, &[0x06, 0x00]).unwrap();
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    b.poll(GSP + 0x118, "DMA idle", |v| v & 2 != 0);
    assert_eq!(imem_word0(&mut b), 0xabab_abab);
    assert_eq!(b.violations(), 1);
}

#[test]
fn read_only_writes_and_unimplemented_registers_are_violations() {
    let mut b = board("ad102", Faults::default());
    // A driver that tries to set WPR2 itself, and one that reads past the WPR2 registers.
    b.wr(WPR2_LO, 0x1234_5670);
    assert_eq!(b.rd(WPR2_LO), 0);
    assert_eq!(b.violations(), 1);
    assert_eq!(b.rd(WPR2_HI + 4), 0xbadf_1100);
    assert_eq!(b.violations(), 2);
}

#[test]
fn a_driver_that_does_not_wait_for_dma_idle_is_caught() {
    let clock = ManualClock::new();
    let mut b = board_timed("ad102", Faults::default(), Timing::Fast, clock.clone());
    b.ram.write(FW_BUF - RAM, &[0x5a; 512]).unwrap();
    b.wr(GSP + ENGINE, 1);
    b.wr(GSP + ENGINE, 0);
    clock.advance(Work::Scrub.bounds().1);
    b.wr(GSP + FBIF_CTL, 1 << 7);
    b.wr(GSP + FBIF_TRANSCFG0, 0x5);
    b.wr(GSP + 0x110, (FW_BUF >> 8) as u32);
    b.wr(GSP + 0x114, 0);
    b.wr(GSP + 0x11c, 0);
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    assert_eq!(b.rd(GSP + 0x118) & 2, 0, "busy");
    // The buggy sequence: the next block without polling DMATRFCMD.IDLE.
    b.wr(GSP + 0x114, 0x100);
    b.wr(GSP + 0x11c, 0x100);
    b.wr(GSP + 0x118, (6 << 8) | (1 << 4));
    assert_eq!(b.violations(), 1);
    clock.advance(Work::Dma.bounds().0);
    assert_ne!(b.rd(GSP + 0x118) & 2, 0, "idle");
    assert_eq!(b.violations(), 1);
    assert_eq!(b.counters.falcon_dma.load(Ordering::Relaxed), 1);
}
