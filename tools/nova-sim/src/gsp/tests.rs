// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Tests of the GSP-RM model against a driver written here from the protocol facts.

use super::firmware::tests::{make_bootloader, make_elf};
use super::r570::{self, elem, function, get_u32, get_u64, put_u32, put_u64, status};
use super::*;

const MEM_SIZE: usize = 16 << 20;
const PAGE: u64 = 0x1000;
const CMDQ_OFF: u64 = 0x1000;
const STATQ_OFF: u64 = 0x41000;
const QUEUE_PAGES: u32 = 0x81;
const QUEUE_ENTRIES: u32 = 0x3f;
const FW_PAGES: usize = 600;

/// Guest memory, the GSP falcon's mailboxes and WPR2.
struct MemBus {
    mem: Vec<u8>,
    mailbox: [u32; 2],
    wpr2: Option<(u64, u64)>,
}

impl MemBus {
    fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>, String> {
        let start = usize::try_from(addr).map_err(|_| "address too large".to_string())?;
        let end = start.checked_add(len).ok_or("overflow")?;
        if end > self.mem.len() || start == 0 {
            return Err(format!("no guest memory at {addr:#x}+{len:#x}"));
        }
        Ok(start..end)
    }
}

impl MemBus {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.mem[r]);
        Ok(())
    }
}

/// The bus: `GspBus::dma_write` takes `&self`, so guest memory sits behind a cell; then the
/// SWGEN0 count and the violations reported.
struct Bus(
    std::cell::RefCell<MemBus>,
    std::cell::Cell<u32>,
    Vec<String>,
);

impl GspBus for Bus {
    fn dma_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        self.0.borrow().read(addr, buf)
    }
    fn dma_write(&self, addr: u64, data: &[u8]) -> Result<(), String> {
        let mut m = self.0.borrow_mut();
        let r = m.range(addr, data.len())?;
        m.mem[r].copy_from_slice(data);
        Ok(())
    }
    fn mailbox(&self, index: usize) -> u32 {
        self.0.borrow().mailbox[index]
    }
    fn set_mailbox(&mut self, index: usize, value: u32) {
        self.0.borrow_mut().mailbox[index] = value;
    }
    fn wpr2(&self) -> Option<(u64, u64)> {
        self.0.borrow().wpr2
    }
    fn raise_swgen0(&mut self) {
        self.1.set(self.1.get() + 1);
    }
    fn violation(&mut self, what: &str) {
        self.2.push(what.to_string());
    }
}

/// A received message.
#[derive(Debug)]
struct Msg {
    function: u32,
    result: u32,
    sequence: u32,
    payload: Vec<u8>,
    checksum_ok: bool,
}

/// The driver side: memory layout, firmware upload and the CPU end of the queues.
struct Driver {
    bus: Bus,
    gsp: GspRm,
    next: u64,
    shared: u64,
    meta: u64,
    libos: u64,
    seq: u32,
    image: Vec<u8>,
    sig: Vec<u8>,
    bl: Vec<u8>,
    bl_offsets: (u32, u32, u32),
    device_id: u16,
}

fn firmware() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let image: Vec<u8> = (0..FW_PAGES * 4096 + 123)
        .map(|i| ((i * 31) ^ (i >> 9)) as u8)
        .collect();
    let sig = b"signature-for-this-family".repeat(3);
    let bl = b"bootloader image bytes".repeat(20);
    (image, sig, bl)
}

impl Driver {
    fn new(chip: &str, faults: Faults) -> Self {
        let (image, sig, bl) = firmware();
        let family = profile::find(chip).unwrap().signature_family;
        let sig_name = format!(".fwsignature_{family}");
        let elf = make_elf(&[
            (".fwimage", &image),
            (".fwversion", b"570.144\0"),
            (&sig_name, &sig),
            (".fwsignature_tu10x", b"other"),
        ]);
        let blfile = make_bootloader(&bl, 0x100, 0x200, 0x300);
        Self::with_files(chip, faults, &elf, &blfile)
    }

    /// A driver for a model made from the ELF file `elf` and the bootloader file `blfile`.
    fn with_files(chip: &str, faults: Faults, elf: &[u8], blfile: &[u8]) -> Self {
        let family = profile::find(chip).unwrap().signature_family;
        let parsed = firmware::GspElf::parse(elf).unwrap();
        let image = parsed.image.clone();
        let sig = parsed.signature(family).unwrap().to_vec();
        let bl = firmware::Bootloader::parse(blfile).unwrap();
        let bl_offsets = (bl.code_offset, bl.data_offset, bl.manifest_offset);
        let bl = bl.image;
        let device_id = crate::chips::find(chip).unwrap().device_id;
        let gsp = GspRm::new(chip, device_id, elf, Some(blfile), faults).unwrap();
        let bus = MemBus {
            mem: vec![0; MEM_SIZE + image.len()],
            mailbox: [0; 2],
            wpr2: None,
        };
        Self {
            bus: Bus(
                std::cell::RefCell::new(bus),
                std::cell::Cell::new(0),
                Vec::new(),
            ),
            gsp,
            next: 0x10000,
            shared: 0,
            meta: 0,
            libos: 0,
            seq: 0,
            image,
            sig,
            bl,
            bl_offsets,
            device_id,
        }
    }

    fn alloc(&mut self, size: u64) -> u64 {
        let at = self.next;
        self.next += size.div_ceil(PAGE) * PAGE;
        assert!(self.next as usize <= self.bus.0.borrow().mem.len());
        at
    }

    fn write(&self, addr: u64, data: &[u8]) {
        self.bus.dma_write(addr, data).unwrap();
    }

    fn write_u64(&self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }

    fn write_u32(&self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes());
    }

    fn read_u32(&self, addr: u64) -> u32 {
        let mut b = [0u8; 4];
        self.bus.dma_read(addr, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    fn violations(&self) -> Vec<String> {
        self.bus.2.clone()
    }

    /// Uploads the firmware, builds `GspFwWprMeta` and sets WPR2 as FWSEC-FRTS would.
    fn prepare_load(&mut self) {
        let image = self.image.clone();
        let data = self.alloc(image.len() as u64);
        self.write(data, &image);
        let pages = image.len().div_ceil(4096);
        let l2 = self.alloc(pages as u64 * 8);
        for i in 0..pages {
            self.write_u64(l2 + i as u64 * 8, data + i as u64 * PAGE);
        }
        let l2_pages = (pages * 8).div_ceil(4096);
        let l1 = self.alloc(l2_pages as u64 * 8);
        for i in 0..l2_pages {
            self.write_u64(l1 + i as u64 * 8, l2 + i as u64 * PAGE);
        }
        let l0 = self.alloc(PAGE);
        self.write_u64(l0, l1);
        let bl = self.bl.clone();
        let bl_addr = self.alloc(bl.len() as u64);
        self.write(bl_addr, &bl);
        let sig = self.sig.clone();
        let sig_addr = self.alloc(sig.len() as u64);
        self.write(sig_addr, &sig);

        // A 24 GiB layout in the order FbRanges uses.
        use r570::wpr_meta as m;
        let fb: u64 = 24 << 30;
        let vga = fb - (1 << 20);
        let frts_size = 1 << 20;
        let wpr_end = vga & !((128 << 10) - 1);
        let frts = wpr_end - frts_size;
        let boot = (frts - bl.len() as u64) & !0xfff;
        let elf = (boot - image.len() as u64) & !0xffff;
        let heap_size: u64 = 120 << 20;
        let heap = (elf - heap_size) & !0xfffff;
        let wpr = (heap - 256) & !0xfffff;
        let non_wpr_size = 1 << 20;
        let non_wpr = wpr - non_wpr_size;
        let mut meta = vec![0u8; m::SIZE];
        let fields = [
            (m::MAGIC_OFF, m::MAGIC),
            (m::REVISION_OFF, m::REVISION),
            (m::RADIX3_ADDR, l0),
            (m::RADIX3_SIZE, image.len() as u64),
            (m::BOOTLOADER_ADDR, bl_addr),
            (m::BOOTLOADER_SIZE, bl.len() as u64),
            (m::BOOTLOADER_CODE_OFFSET, u64::from(self.bl_offsets.0)),
            (m::BOOTLOADER_DATA_OFFSET, u64::from(self.bl_offsets.1)),
            (m::BOOTLOADER_MANIFEST_OFFSET, u64::from(self.bl_offsets.2)),
            (m::SIGNATURE_ADDR, sig_addr),
            (m::SIGNATURE_SIZE, sig.len() as u64),
            (m::RSVD_START, non_wpr),
            (m::NON_WPR_HEAP_OFFSET, non_wpr),
            (m::NON_WPR_HEAP_SIZE, non_wpr_size),
            (m::WPR_START, wpr),
            (m::HEAP_OFFSET, heap),
            (m::HEAP_SIZE, elf - heap),
            (m::FW_OFFSET, elf),
            (m::BOOT_BIN_OFFSET, boot),
            (m::FRTS_OFFSET, frts),
            (m::FRTS_SIZE, frts_size),
            (m::WPR_END, wpr_end),
            (m::FB_SIZE, fb),
            (m::VGA_WORKSPACE_OFFSET, vga),
            (m::VGA_WORKSPACE_SIZE, fb - vga),
        ];
        for (off, v) in fields {
            put_u64(&mut meta, off, v);
        }
        self.meta = self.alloc(PAGE);
        self.write(self.meta, &meta);
        self.bus.0.borrow_mut().wpr2 = Some((frts, wpr_end));
    }

    fn meta_u64(&self, off: usize) -> u64 {
        let mut b = [0u8; 8];
        self.bus.dma_read(self.meta + off as u64, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    fn set_meta_u64(&self, off: usize, v: u64) {
        self.write_u64(self.meta + off as u64, v);
    }

    fn load(&mut self) -> Result<(), String> {
        let meta = self.meta;
        self.gsp.load(&mut self.bus, meta)
    }

    /// Builds the LibOS arguments, log buffers, RMARGS and queue memory, and puts the
    /// argument array's address in MAILBOX0/1.
    fn prepare_start(&mut self) {
        self.libos = self.alloc(PAGE);
        let mut regions = Vec::new();
        for name in ["LOGINIT", "LOGINTR", "LOGRM"] {
            let buf = self.alloc(16 * PAGE);
            for i in 0..16 {
                self.write_u64(buf + 8 + i * 8, buf + i * PAGE);
            }
            regions.push((name, buf, 16 * PAGE));
        }
        self.shared = self.alloc(u64::from(QUEUE_PAGES) * PAGE);
        for i in 0..u64::from(QUEUE_PAGES) {
            self.write_u64(self.shared + i * 8, self.shared + i * PAGE);
        }
        // The command queue header, as msgqTxCreate() writes it.
        let tx = self.shared + CMDQ_OFF;
        for (off, v) in [
            (r570::msgq::TX_VERSION, 0),
            (r570::msgq::TX_SIZE, (STATQ_OFF - CMDQ_OFF) as u32),
            (r570::msgq::TX_MSG_SIZE, 0x1000),
            (r570::msgq::TX_MSG_COUNT, QUEUE_ENTRIES),
            (r570::msgq::TX_WRITE_PTR, 0),
            (r570::msgq::TX_FLAGS, 1),
            (r570::msgq::TX_RX_HDR_OFF, 32),
            (r570::msgq::TX_ENTRY_OFF, 0x1000),
        ] {
            self.write_u32(tx + off as u64, v);
        }
        let args = self.alloc(PAGE);
        let mut a = vec![0u8; r570::rmargs::SIZE];
        put_u64(&mut a, r570::rmargs::SHARED_MEM_PHYS_ADDR, self.shared);
        put_u32(&mut a, r570::rmargs::PTE_COUNT, QUEUE_PAGES);
        put_u64(&mut a, r570::rmargs::CMD_QUEUE_OFFSET, CMDQ_OFF);
        put_u64(&mut a, r570::rmargs::STAT_QUEUE_OFFSET, STATQ_OFF);
        a[r570::rmargs::DMEM_STACK] = 1;
        self.write(args, &a);
        regions.push(("RMARGS", args, PAGE));
        for (i, (name, pa, size)) in regions.iter().enumerate() {
            let e = self.libos + (i * r570::libos_arg::SIZE) as u64;
            self.write_u64(e, r570::libos_arg::id8(name));
            self.write_u64(e + 8, *pa);
            self.write_u64(e + 16, *size);
            self.write(e + 24, &[1, 1]);
        }
        let libos = self.libos;
        let mut bus = self.bus.0.borrow_mut();
        bus.mailbox = [libos as u32, (libos >> 32) as u32];
    }

    fn start(&mut self) {
        self.gsp.start(&mut self.bus);
    }

    /// Queues one element with `function` and `payload`, fixing it up with `tweak` before
    /// the checksum is computed; does not ring the doorbell.
    fn queue_raw(&mut self, function: u32, payload: &[u8], tweak: impl FnOnce(&mut Vec<u8>)) {
        let mut m = vec![0u8; elem::PAYLOAD_OFF + payload.len()];
        put_u32(&mut m, elem::SEQ_NUM, self.seq);
        let count = m.len().div_ceil(4096) as u32;
        put_u32(&mut m, elem::ELEM_COUNT, count);
        put_u32(&mut m, elem::RPC_HEADER_VERSION, elem::HEADER_VERSION);
        put_u32(&mut m, elem::RPC_SIGNATURE, elem::SIGNATURE_VALID);
        put_u32(&mut m, elem::RPC_LENGTH, (32 + payload.len()) as u32);
        put_u32(&mut m, elem::RPC_FUNCTION, function);
        put_u32(&mut m, elem::RPC_RESULT, u32::MAX);
        put_u32(&mut m, elem::RPC_RESULT_PRIVATE, u32::MAX);
        put_u32(&mut m, elem::RPC_SEQUENCE, self.seq);
        m[elem::PAYLOAD_OFF..].copy_from_slice(payload);
        tweak(&mut m);
        let sum = r570::checksum(&m);
        put_u32(&mut m, elem::CHECKSUM, sum);
        self.seq += 1;
        let count = get_u32(&m, elem::ELEM_COUNT).unwrap();
        let wp_addr = self.shared + CMDQ_OFF + r570::msgq::TX_WRITE_PTR as u64;
        let wp = self.read_u32(wp_addr);
        for (k, chunk) in m.chunks(4096).enumerate() {
            let idx = (wp + k as u32) % QUEUE_ENTRIES;
            self.write(self.shared + CMDQ_OFF + PAGE + u64::from(idx) * PAGE, chunk);
        }
        self.write_u32(wp_addr, (wp + count) % QUEUE_ENTRIES);
    }

    fn ring(&mut self, value: u32) {
        self.gsp.doorbell(&mut self.bus, 0, value);
    }

    fn send(&mut self, function: u32, payload: &[u8]) {
        self.queue_raw(function, payload, |_| {});
        self.ring(0);
    }

    /// Sends a command split into a maximum-size first element and continuation records.
    fn send_large(&mut self, function: u32, payload: &[u8]) {
        let max = elem::SIZE_MAX - elem::PAYLOAD_OFF;
        let (first, mut rest) = payload.split_at(max.min(payload.len()));
        self.send(function, first);
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(max.min(rest.len()));
            self.send(function::CONTINUATION_RECORD, chunk);
            rest = tail;
        }
    }

    /// Takes every message the GSP has written.
    fn recv_all(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        let wp_addr = self.shared + STATQ_OFF + r570::msgq::TX_WRITE_PTR as u64;
        let rp_addr = self.shared + CMDQ_OFF + 32;
        loop {
            let wp = self.read_u32(wp_addr);
            let rp = self.read_u32(rp_addr);
            if wp == rp {
                break;
            }
            let entry =
                |i: u32| self.shared + STATQ_OFF + PAGE + u64::from(i % QUEUE_ENTRIES) * PAGE;
            let mut head = vec![0u8; 80];
            self.bus.dma_read(entry(rp), &mut head).unwrap();
            let len = 48 + get_u32(&head, elem::RPC_LENGTH).unwrap() as usize;
            // As Open RM's receiver does, the checksum reads the message up to the next 8
            // bytes (`_checkSum32()`): whatever the slot holds there counts.
            let mut m = vec![0u8; len.next_multiple_of(8)];
            for (k, chunk) in m.chunks_mut(4096).enumerate() {
                self.bus.dma_read(entry(rp + k as u32), chunk).unwrap();
            }
            assert_eq!(
                get_u32(&m, elem::ELEM_COUNT).unwrap(),
                len.div_ceil(4096) as u32
            );
            assert_eq!(
                get_u32(&m, elem::RPC_SIGNATURE),
                Some(elem::SIGNATURE_VALID)
            );
            out.push(Msg {
                function: get_u32(&m, elem::RPC_FUNCTION).unwrap(),
                result: get_u32(&m, elem::RPC_RESULT).unwrap(),
                sequence: get_u32(&m, elem::RPC_SEQUENCE).unwrap(),
                payload: m[80..len].to_vec(),
                checksum_ok: r570::checksum(&m) == 0,
            });
            self.write_u32(rp_addr, (rp + len.div_ceil(4096) as u32) % QUEUE_ENTRIES);
        }
        out
    }

    /// Runs a `GSP_RUN_CPU_SEQUENCER` payload the way a driver does.
    fn run_sequencer(&mut self, payload: &[u8]) {
        let n = get_u32(payload, r570::sequencer::CMD_INDEX).unwrap() as usize;
        // The message holds exactly the used words; the capacity is larger.
        assert_eq!(payload.len(), r570::sequencer::HDR_SIZE + 4 * n);
        assert!(get_u32(payload, r570::sequencer::BUFFER_SIZE_DWORD).unwrap() as usize > n);
        let w: Vec<u32> = (0..n)
            .map(|i| get_u32(payload, r570::sequencer::HDR_SIZE + 4 * i).unwrap())
            .collect();
        let mut i = 0;
        while i < n {
            let op = w[i];
            i += 1;
            match op {
                0 => {
                    let (addr, val) = (w[i], w[i + 1]);
                    i += 2;
                    self.reg_write(addr, val);
                }
                1 => {
                    let (addr, mask, val) = (w[i], w[i + 1], w[i + 2]);
                    i += 3;
                    let old = self.reg_read(addr);
                    self.reg_write(addr, (old & !mask) | val);
                }
                2 => {
                    let (addr, mask, val) = (w[i], w[i + 1], w[i + 2]);
                    i += 5;
                    assert_eq!(self.reg_read(addr) & mask, val, "poll would time out");
                }
                3 => i += 1,
                4 => {
                    self.reg_read(w[i]);
                    i += 2;
                }
                other => panic!("unexpected sequencer op {other}"),
            }
        }
    }

    fn reg_read(&self, addr: u32) -> u32 {
        match addr {
            NV_PGSP_FALCON_MAILBOX0 => self.bus.mailbox(0),
            _ => panic!("sequencer reads unmodelled register {addr:#x}"),
        }
    }

    fn reg_write(&mut self, addr: u32, val: u32) {
        match addr {
            NV_PGSP_FALCON_MAILBOX0 => self.bus.set_mailbox(0, val),
            NV_PGSP_QUEUE_HEAD0 => self.ring(val),
            _ => panic!("sequencer writes unmodelled register {addr:#x}"),
        }
    }

    fn system_info(&self) -> Vec<u8> {
        let mut p = vec![0u8; r570::system_info::SIZE];
        put_u64(&mut p, r570::system_info::GPU_PHYS_ADDR, 0xf000_0000);
        put_u64(&mut p, r570::system_info::MAX_USER_VA, (1 << 47) - 4096);
        put_u32(
            &mut p,
            r570::system_info::PCI_DEVICE_ID,
            (u32::from(self.device_id) << 16) | 0x10de,
        );
        p
    }

    /// Uploads, loads and starts the image (no command sent yet).
    fn load_and_start(&mut self) {
        self.prepare_load();
        self.load().unwrap();
        self.prepare_start();
        self.start();
    }

    /// Sends `GSP_SET_SYSTEM_INFO` describing this device.
    fn send_system_info(&mut self) {
        let info = self.system_info();
        self.send(function::GSP_SET_SYSTEM_INFO, &info);
    }

    /// Boots to `GSP_INIT_DONE`; returns the messages seen on the way.
    fn boot(&mut self) -> Vec<Msg> {
        self.load_and_start();
        assert!(self.gsp.running());
        self.send_system_info();
        self.send(
            function::SET_REGISTRY,
            &registry(&[("RMSecBusResetEnable", 1)]),
        );
        let mut seen = self.recv_all();
        let seq = seen
            .iter()
            .find(|m| m.function == function::EVENT_GSP_RUN_CPU_SEQUENCER)
            .expect("no sequencer")
            .payload
            .clone();
        self.run_sequencer(&seq);
        seen.extend(self.recv_all());
        seen
    }

    fn call(&mut self, function: u32, payload: &[u8]) -> Msg {
        self.send(function, payload);
        let mut msgs = self.recv_all();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        msgs.remove(0)
    }

    /// Asks for `GET_GSP_STATIC_INFO` and returns the one reply.
    fn call_static_info(&mut self) -> Msg {
        self.call(
            function::GET_GSP_STATIC_INFO,
            &[0u8; r570::static_info::SIZE],
        )
    }
}

/// Builds a `PACKED_REGISTRY_TABLE` of DWORD entries.
fn registry(entries: &[(&str, u32)]) -> Vec<u8> {
    let strings_at = 8 + 16 * entries.len();
    let mut strings = Vec::new();
    let mut table = vec![0u8; strings_at];
    put_u32(&mut table, 4, entries.len() as u32);
    for (i, (k, v)) in entries.iter().enumerate() {
        let e = 8 + 16 * i;
        put_u32(&mut table, e, (strings_at + strings.len()) as u32);
        table[e + 4] = 1;
        put_u32(&mut table, e + 8, *v);
        strings.extend_from_slice(k.as_bytes());
        strings.push(0);
    }
    table.extend_from_slice(&strings);
    let size = table.len() as u32;
    put_u32(&mut table, 0, size);
    table
}

fn functions(msgs: &[Msg]) -> Vec<u32> {
    msgs.iter().map(|m| m.function).collect()
}

/// A driver for `chip` whose GSP-RM model has the one fault `enable` sets.
fn with_fault(chip: &str, enable: fn(&mut Faults)) -> Driver {
    let mut faults = Faults::default();
    enable(&mut faults);
    Driver::new(chip, faults)
}

fn booted(chip: &str) -> Driver {
    let mut d = Driver::new(chip, Faults::default());
    let msgs = d.boot();
    assert_eq!(
        functions(&msgs),
        [
            function::EVENT_UCODE_LIBOS_PRINT,
            function::EVENT_GSP_RUN_CPU_SEQUENCER,
            function::EVENT_GSP_INIT_DONE
        ]
    );
    assert!(d.gsp.init_done());
    d
}

#[test]
fn full_boot_conversation() {
    for (chip, name) in [
        ("ga102", "NVIDIA GeForce RTX 3090"),
        ("ad102", "NVIDIA GeForce RTX 4090"),
    ] {
        let mut d = booted(chip);
        assert_eq!(d.bus.1.get(), 3, "one SWGEN0 per message");
        let reply = d.call_static_info();
        assert_eq!(reply.function, function::GET_GSP_STATIC_INFO);
        assert_eq!(reply.result, status::OK);
        assert!(reply.checksum_ok);
        let p = &reply.payload;
        assert_eq!(p.len(), r570::static_info::SIZE);
        let s = r570::static_info::GPU_NAME;
        let got_name = &p[s..s + 64];
        let end = got_name.iter().position(|b| *b == 0).unwrap();
        assert_eq!(&got_name[..end], name.as_bytes());
        // The usable region ends where the firmware's reservation starts.
        let rsvd = d.meta_u64(r570::wpr_meta::RSVD_START);
        let fb = d.meta_u64(r570::wpr_meta::FB_SIZE);
        let r0 = r570::static_info::FB_REGIONS;
        assert_eq!(get_u32(p, r570::static_info::NUM_FB_REGIONS), Some(2));
        assert_eq!(get_u64(p, r0), Some(0));
        assert_eq!(get_u64(p, r0 + 8), Some(rsvd - 1));
        assert_eq!(p[r0 + 28..r0 + 31], [1, 1, 0]);
        let r1 = r0 + 48;
        assert_eq!(get_u64(p, r1 + 8), Some(fb - 1));
        assert_eq!(p[r1 + 30], 1, "the firmware region is protected");
        assert_eq!(get_u64(p, r570::static_info::FB_LENGTH), Some(fb));

        let mut unload = [0u8; 8];
        unload[4] = 0;
        let reply = d.call(function::UNLOADING_GUEST_DRIVER, &unload);
        assert_eq!(reply.function, function::UNLOADING_GUEST_DRIVER);
        assert_eq!(reply.result, status::OK);
        assert!(reply.payload.is_empty());
        assert_ne!(d.bus.mailbox(0) & r570::MAILBOX0_SUSPENDED, 0);
        assert!(!d.gsp.running());
        assert!(d.gsp.suspended());
        assert_eq!(d.violations(), Vec::<String>::new(), "{chip}");
        assert_eq!(
            d.gsp.registry(),
            [("RMSecBusResetEnable".to_string(), Some(1))]
        );

        // After suspension, commands are a violation; a reset and unload forget everything.
        d.send(function::NOP, &[]);
        assert_eq!(d.violations().len(), 1);
        d.gsp.reset();
        d.gsp.unload();
        assert!(d.gsp.layout().is_none());
    }
}

#[test]
fn large_registry_arrives_in_continuation_records() {
    let mut d = Driver::new("ad102", Faults::default());
    d.load_and_start();
    d.send_system_info();
    let keys: Vec<String> = (0..5000).map(|i| format!("RmTestKey{i:05}")).collect();
    let entries: Vec<(&str, u32)> = keys.iter().map(|k| (k.as_str(), 7)).collect();
    let table = registry(&entries);
    assert!(table.len() > 2 * elem::SIZE_MAX);
    d.send_large(function::SET_REGISTRY, &table);
    assert_eq!(d.violations(), Vec::<String>::new());
    let reg = d.gsp.registry();
    assert_eq!(reg.len(), 5000);
    assert_eq!(reg[4999], ("RmTestKey04999".to_string(), Some(7)));
    // The registry completed the init handshake: the sequencer is on its way.
    let msgs = d.recv_all();
    assert_eq!(functions(&msgs)[1], function::EVENT_GSP_RUN_CPU_SEQUENCER);
}

#[test]
fn commands_before_init_done_are_answered_after_it() {
    let mut d = Driver::new("ga102", Faults::default());
    d.load_and_start();
    d.send_system_info();
    d.send(function::SET_REGISTRY, &registry(&[("A", 1)]));
    d.send(
        function::GET_GSP_STATIC_INFO,
        &[0u8; r570::static_info::SIZE],
    );
    let msgs = d.recv_all();
    assert_eq!(msgs.len(), 2, "the query waits for init");
    d.run_sequencer(&msgs[1].payload.clone());
    let msgs = d.recv_all();
    assert_eq!(
        functions(&msgs),
        [function::EVENT_GSP_INIT_DONE, function::GET_GSP_STATIC_INFO]
    );
    assert!(d.violations().is_empty());
}

#[test]
fn unsupported_rpcs_get_an_error_reply() {
    let mut d = booted("ad102");
    // UPDATE_BAR_PDE (70) exists but the model does not implement it.
    let reply = d.call(70, &[0u8; 32]);
    assert_eq!((reply.function, reply.result), (70, status::NOT_SUPPORTED));
    assert!(d.violations().is_empty());
    // An event number is not a command: a violation, and still an answer.
    let reply = d.call(function::EVENT_GSP_INIT_DONE, &[]);
    assert_eq!(reply.result, status::NOT_SUPPORTED);
    assert_eq!(d.violations().len(), 1);
    assert!(d.violations()[0].contains("unknown function"));
}

/// Sends one malformed command to a booted GSP and returns the violations it caused.
fn one_mistake(tweak: impl FnOnce(&mut Vec<u8>)) -> Vec<String> {
    let mut d = booted("ga102");
    d.queue_raw(
        function::GET_GSP_STATIC_INFO,
        &[0u8; r570::static_info::SIZE],
        tweak,
    );
    d.ring(0);
    d.recv_all();
    d.violations()
}

#[test]
fn each_header_mistake_is_one_violation() {
    let cases: [(&str, usize, u32); 5] = [
        ("seqNum", elem::SEQ_NUM, 99),
        ("'VRPC'", elem::RPC_SIGNATURE, 0x1234),
        ("header_version", elem::RPC_HEADER_VERSION, 0x0200_0000),
        ("elemCount", elem::ELEM_COUNT, 2),
        ("rpc.length", elem::RPC_LENGTH, 8),
    ];
    for (what, off, value) in cases {
        let v = one_mistake(|m| {
            put_u32(m, off, value);
        });
        assert_eq!(v.len(), 1, "{what}: {v:?}");
        assert!(v[0].contains(what), "{what}: {v:?}");
    }
}

#[test]
fn bad_checksum_is_one_violation_and_the_command_is_dropped() {
    let mut d = booted("ga102");
    d.queue_raw(function::GET_GSP_STATIC_INFO, &[0u8; 16], |_| {});
    // Corrupt a payload byte after the checksum was computed.
    let wp = d.read_u32(d.shared + CMDQ_OFF + 16);
    let entry =
        d.shared + CMDQ_OFF + PAGE + u64::from((wp + QUEUE_ENTRIES - 1) % QUEUE_ENTRIES) * PAGE;
    d.write(entry + 85, &[0x55]);
    d.ring(0);
    assert!(d.recv_all().is_empty());
    assert_eq!(d.violations().len(), 1);
    assert!(d.violations()[0].contains("bad checksum"));
    // The queue goes on: the next command is answered.
    let reply = d.call_static_info();
    assert_eq!(reply.result, status::OK);
    assert_eq!(d.violations().len(), 1);
}

#[test]
fn conversation_mistakes_are_violations() {
    // SET_REGISTRY before GSP_SET_SYSTEM_INFO, wrong PCI id, continuation out of the blue.
    let mut d = Driver::new("ga102", Faults::default());
    d.load_and_start();
    d.send(function::SET_REGISTRY, &registry(&[("A", 1)]));
    let mut info = d.system_info();
    put_u32(&mut info, r570::system_info::PCI_DEVICE_ID, 0x1234_10de);
    d.send(function::GSP_SET_SYSTEM_INFO, &info);
    d.send(function::CONTINUATION_RECORD, &[1, 2, 3]);
    let v = d.violations();
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v[0].contains("before GSP_SET_SYSTEM_INFO"));
    assert!(v[1].contains("PCIDeviceID"));
    assert!(v[2].contains("CONTINUATION_RECORD"));

    // A malformed registry table.
    let mut d = Driver::new("ga102", Faults::default());
    d.load_and_start();
    d.send_system_info();
    let mut table = registry(&[("Key", 1)]);
    let last = table.len() - 1;
    table[last] = b'x'; // no NUL terminator
    d.send(function::SET_REGISTRY, &table);
    assert_eq!(d.violations().len(), 1);
    assert!(d.violations()[0].contains("NUL"));
}

#[test]
fn a_skipped_sequencer_step_is_a_violation() {
    let mut d = Driver::new("ad102", Faults::default());
    d.load_and_start();
    d.send_system_info();
    d.send(function::SET_REGISTRY, &registry(&[("A", 1)]));
    d.recv_all();
    // Jump straight to the last operation.
    d.ring(SEQUENCER_DONE);
    assert_eq!(d.violations().len(), 1);
    assert!(d.violations()[0].contains("sequencer"));
    assert_eq!(functions(&d.recv_all()), [function::EVENT_GSP_INIT_DONE]);
}

#[test]
fn bad_unloading_level_is_refused() {
    let mut d = booted("ga102");
    let mut p = [0u8; 8];
    p[4] = 5;
    let reply = d.call(function::UNLOADING_GUEST_DRIVER, &p);
    assert_eq!(reply.result, status::INVALID_ARGUMENT);
    assert!(d.gsp.running());
    assert_eq!(d.violations().len(), 1);
}

#[test]
fn load_checks_the_upload() {
    type Corrupt = fn(&mut Driver);
    let cases: [(&str, Corrupt); 8] = [
        ("magic", |d| d.set_meta_u64(r570::wpr_meta::MAGIC_OFF, 1)),
        ("revision", |d| {
            d.set_meta_u64(r570::wpr_meta::REVISION_OFF, 2)
        }),
        ("differs from .fwimage", |d| {
            // Flip a byte in the second level-2 table's range of pages.
            let l0 = d.meta_u64(r570::wpr_meta::RADIX3_ADDR);
            let mut e = [0u8; 8];
            d.bus.dma_read(l0, &mut e).unwrap();
            let l1 = u64::from_le_bytes(e);
            d.bus.dma_read(l1 + 8, &mut e).unwrap();
            let l2b = u64::from_le_bytes(e);
            d.bus.dma_read(l2b + 8 * 40, &mut e).unwrap();
            let page = u64::from_le_bytes(e);
            d.write(page + 7, &[0xee]);
        }),
        ("signature", |d| {
            let a = d.meta_u64(r570::wpr_meta::SIGNATURE_ADDR);
            d.write(a, b"X");
        }),
        ("bootloader differs", |d| {
            let a = d.meta_u64(r570::wpr_meta::BOOTLOADER_ADDR);
            d.write(a + 3, b"X");
        }),
        ("bootloaderDataOffset", |d| {
            d.set_meta_u64(r570::wpr_meta::BOOTLOADER_DATA_OFFSET, 0)
        }),
        ("gspFwHeapSize", |d| {
            let heap = d.meta_u64(r570::wpr_meta::HEAP_OFFSET);
            d.set_meta_u64(r570::wpr_meta::HEAP_SIZE, 8 << 20);
            d.set_meta_u64(r570::wpr_meta::HEAP_OFFSET, heap + (100 << 20));
        }),
        ("not inside WPR2", |d| {
            d.bus.0.borrow_mut().wpr2 = Some((0, 1 << 20))
        }),
    ];
    for (what, corrupt) in cases {
        let mut d = Driver::new("ga102", Faults::default());
        d.prepare_load();
        corrupt(&mut d);
        let err = d.load().unwrap_err();
        assert!(err.contains(what), "{what}: {err}");
        assert!(d.gsp.layout().is_none());
    }
    // Overlapping regions.
    let mut d = Driver::new("ga102", Faults::default());
    d.prepare_load();
    let frts = d.meta_u64(r570::wpr_meta::FRTS_OFFSET);
    d.set_meta_u64(r570::wpr_meta::BOOT_BIN_OFFSET, frts - 8);
    let err = d.load().unwrap_err();
    assert!(err.contains("bootloader end"), "{err}");
}

#[test]
fn start_checks_the_libos_arguments() {
    type Corrupt = fn(&mut Driver);
    let cases: [(&str, Corrupt); 6] = [
        ("no RMARGS", |d| d.write_u64(d.libos + 3 * 32, 0)),
        ("kind", |d| d.write(d.libos + 24, &[2])),
        ("LOGRM: page table entry 3", |d| {
            let mut e = [0u8; 8];
            d.bus.dma_read(d.libos + 2 * 32 + 8, &mut e).unwrap();
            d.write_u64(u64::from_le_bytes(e) + 8 + 3 * 8, 0x123);
        }),
        ("msgSize", |d| d.write_u32(d.shared + CMDQ_OFF + 8, 0x2000)),
        ("msgCount", |d| d.write_u32(d.shared + CMDQ_OFF + 12, 0x40)),
        ("queue page table entry 7", |d| {
            d.write_u64(d.shared + 7 * 8, !0xfff)
        }),
    ];
    for (what, corrupt) in cases {
        let mut d = Driver::new("ga102", Faults::default());
        d.prepare_load();
        d.load().unwrap();
        d.prepare_start();
        corrupt(&mut d);
        d.start();
        assert!(!d.gsp.running(), "{what}");
        let v = d.violations();
        assert_eq!(v.len(), 1, "{what}: {v:?}");
        assert!(v[0].contains(what), "{what}: {v:?}");
    }
    // Starting without a loaded image.
    let mut d = Driver::new("ga102", Faults::default());
    d.prepare_start();
    d.start();
    assert!(!d.gsp.running());
    assert!(d.violations()[0].contains("without a loaded"));
}

#[test]
fn fault_never_answer() {
    let mut d = with_fault("ga102", |f| f.never_answer = true);
    d.load_and_start();
    d.send_system_info();
    d.send(function::SET_REGISTRY, &registry(&[("A", 1)]));
    assert!(d.recv_all().is_empty());
    assert_eq!(d.bus.1.get(), 0);
    // Commands are still read and checked.
    assert_eq!(d.read_u32(d.shared + STATQ_OFF + 32), 2);
    assert!(d.violations().is_empty());
}

#[test]
fn fault_error_status() {
    let mut d = with_fault("ga102", |f| f.error_status = true);
    assert_eq!(d.boot().len(), 3, "events are sent as usual");
    let reply = d.call_static_info();
    assert_eq!(reply.result, status::GENERIC);
}

#[test]
fn fault_bad_checksum() {
    let mut d = with_fault("ad102", |f| f.bad_checksum = true);
    let msgs = d.boot();
    assert_eq!(msgs.len(), 3);
    assert!(msgs.iter().all(|m| !m.checksum_ok));
}

#[test]
fn fault_no_interrupt() {
    let mut d = with_fault("ad102", |f| f.no_interrupt = true);
    let msgs = d.boot();
    assert_eq!(msgs.len(), 3);
    assert!(msgs.iter().all(|m| m.checksum_ok));
    assert_eq!(d.bus.1.get(), 0);
}

#[test]
fn full_status_queue_waits_for_the_driver() {
    let mut d = booted("ga102");
    // Each static-info reply takes one entry; send more than the queue holds without reading.
    for _ in 0..(QUEUE_ENTRIES + 5) {
        d.queue_raw(function::NOP, &[], |_| {});
        d.ring(0);
    }
    let first = d.recv_all();
    assert_eq!(first.len(), QUEUE_ENTRIES as usize - 1);
    // The rest go out on the next doorbell.
    d.ring(0);
    assert_eq!(d.recv_all().len(), 6);
    assert!(d.violations().is_empty());
}

#[test]
fn constructor_refuses_bad_firmware() {
    let (image, _, _) = firmware();
    let elf = make_elf(&[(".fwimage", &image)]);
    let err = GspRm::new("ga102", 0x2204, &elf, None, Faults::default()).unwrap_err();
    assert!(err.contains(".fwsignature_ga10x"), "{err}");
    assert!(GspRm::new("tu102", 0x1e02, &elf, None, Faults::default()).is_err());
    assert!(GspRm::new("ga102", 0x2204, b"junk", None, Faults::default()).is_err());
    let elf = make_elf(&[
        (".fwimage", &image),
        (".fwversion", b"535.113.01\0"),
        (".fwsignature_ga10x", b"s"),
    ]);
    let err = GspRm::new("ga102", 0x2204, &elf, None, Faults::default()).unwrap_err();
    assert!(err.contains("535.113.01"), "{err}");
}

#[test]
fn fault_names() {
    let mut f = Faults::default();
    for name in Faults::NAMES {
        f.enable(name).unwrap();
    }
    assert_eq!(
        f,
        Faults {
            never_answer: true,
            error_status: true,
            bad_checksum: true,
            no_interrupt: true,
            targeted: Vec::new(),
        }
    );
    assert!(f.enable("slow").unwrap_err().contains("never-answer"));
}

/// Debian's firmware directory, if this machine has it (`NOVA_FIRMWARE`, or the path the
/// nova scripts use).
fn debian_firmware() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("NOVA_FIRMWARE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/root/.cache/nova/root-a06cb33c8e7a/usr/lib/firmware".into());
    dir.join("nvidia/ga102/gsp/gsp-570.144.bin")
        .is_file()
        .then_some(dir)
}

#[test]
fn boots_with_debians_firmware_files() {
    let Some(dir) = debian_firmware() else {
        eprintln!("skipped: Debian's nvidia firmware is not installed");
        return;
    };
    for chip in ["ga102", "ad102"] {
        let gsp = dir.join(format!("nvidia/{chip}/gsp"));
        let elf = std::fs::read(gsp.join("gsp-570.144.bin")).unwrap();
        let bl = std::fs::read(gsp.join("bootloader-570.144.bin")).unwrap();
        let parsed = firmware::GspElf::parse(&elf).unwrap();
        assert_eq!(parsed.version.as_deref(), Some("570.144"));
        assert!(
            parsed.image.len() > 32 << 20,
            "the GA10x+ image is about 61 MiB"
        );
        let model =
            GspRm::from_firmware_dir(&dir, crate::chips::find(chip).unwrap(), Faults::default());
        assert!(model.is_ok(), "{chip}: {:?}", model.err());
        let mut d = Driver::with_files(chip, Faults::default(), &elf, &bl);
        let msgs = d.boot();
        assert_eq!(msgs.len(), 3, "{chip}");
        assert!(d.gsp.init_done(), "{chip}");
        assert!(d.violations().is_empty(), "{chip}: {:?}", d.violations());
    }
}

#[test]
fn the_driver_may_not_write_gsp_rms_side_of_the_queues() {
    let mut d = booted("ga102");
    // The status queue header's writePtr.
    d.write_u32(d.shared + STATQ_OFF + 16, 7);
    d.ring(0);
    // GSP-RM's read pointer into the command queue.
    d.write_u32(d.shared + STATQ_OFF + 32, 30);
    d.ring(0);
    // The driver's own read pointer, moved past what GSP-RM wrote.
    let rp = d.read_u32(d.shared + CMDQ_OFF + 32);
    d.write_u32(d.shared + CMDQ_OFF + 32, rp + 5);
    d.ring(0);
    let v = d.violations();
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v[0].contains("status queue header"));
    assert!(v[1].contains("read pointer"));
    assert!(v[2].contains("passed"));
    // Repaired: the conversation goes on.
    d.write_u32(d.shared + CMDQ_OFF + 32, rp);
    d.ring(0);
    let reply = d.call_static_info();
    assert_eq!(reply.result, status::OK);
    assert_eq!(d.violations().len(), 3);
}

/// `rpc_gsp_rm_alloc_v03_00` with `params_size` bytes of zeroed parameters.
fn rm_alloc(client: u32, parent: u32, object: u32, class: u32, params_size: usize) -> Vec<u8> {
    let mut p = vec![0u8; r570::rm_alloc::SIZE + params_size];
    for (off, v) in [
        (r570::rm_alloc::H_CLIENT, client),
        (r570::rm_alloc::H_PARENT, parent),
        (r570::rm_alloc::H_OBJECT, object),
        (r570::rm_alloc::H_CLASS, class),
        (r570::rm_alloc::PARAMS_SIZE, params_size as u32),
    ] {
        put_u32(&mut p, off, v);
    }
    p
}

/// `rpc_free_v03_00` for `object` of `client`.
fn rm_free(client: u32, object: u32) -> Vec<u8> {
    let mut p = vec![0u8; r570::rm_free::SIZE];
    put_u32(&mut p, r570::rm_free::H_ROOT, client);
    put_u32(&mut p, r570::rm_free::H_OBJECT_OLD, object);
    p
}

/// `rpc_gsp_rm_control_v03_00` for `cmd` on `object` of `client`, with `size` bytes of
/// zeroed parameters.
fn rm_control(client: u32, object: u32, cmd: u32, size: usize) -> Vec<u8> {
    use r570::rm_control as c;
    let mut p = vec![0u8; c::SIZE + size];
    put_u32(&mut p, c::H_CLIENT, client);
    put_u32(&mut p, c::H_OBJECT, object);
    put_u32(&mut p, c::CMD, cmd);
    put_u32(&mut p, c::PARAMS_SIZE, size as u32);
    p
}

/// Allocates client `cl` with device `dev` and its subdevice `sub`, as a driver does after
/// boot.
fn alloc_tree(d: &mut Driver, (cl, dev, sub): (u32, u32, u32)) {
    use super::rmserver::{NV01_DEVICE_0, NV01_ROOT, NV20_SUBDEVICE_0};
    for (parent, object, class, size) in [
        (cl, cl, NV01_ROOT, 0x78),
        (cl, dev, NV01_DEVICE_0, 0x38),
        (dev, sub, NV20_SUBDEVICE_0, 4),
    ] {
        let r = d.call(
            function::GSP_RM_ALLOC,
            &rm_alloc(cl, parent, object, class, size),
        );
        assert_eq!(r.result, status::OK, "allocating {object:#x}");
    }
}

#[test]
fn rm_objects_live_in_a_resource_server() {
    use super::rmserver::*;
    let mut d = booted("ad102");
    let (c, dev, sub) = (0xc1d0_0000, 0xde1d_0000, 0x5d1d_0000);
    let r = d.call(function::GSP_RM_ALLOC, &rm_alloc(c, c, c, NV01_ROOT, 0x78));
    assert_eq!((r.function, r.result), (function::GSP_RM_ALLOC, status::OK));
    assert_eq!(get_u32(&r.payload, r570::rm_alloc::STATUS), Some(0));
    // The subdevice before its device: the parent is not there yet.
    let r = d.call(
        function::GSP_RM_ALLOC,
        &rm_alloc(c, dev, sub, NV20_SUBDEVICE_0, 4),
    );
    assert_eq!(r.result, OBJECT_NOT_FOUND);
    assert_eq!(
        get_u32(&r.payload, r570::rm_alloc::STATUS),
        Some(OBJECT_NOT_FOUND)
    );
    let r = d.call(
        function::GSP_RM_ALLOC,
        &rm_alloc(c, c, dev, NV01_DEVICE_0, 0x38),
    );
    assert_eq!(r.result, status::OK);
    let r = d.call(
        function::GSP_RM_ALLOC,
        &rm_alloc(c, dev, sub, NV20_SUBDEVICE_0, 4),
    );
    assert_eq!(r.result, status::OK);

    // The name by control, in ASCII.
    let mut ctrl = vec![0u8; r570::rm_control::SIZE + r570::rm_control::NAME_STRING_PARAMS_SIZE];
    put_u32(&mut ctrl, r570::rm_control::H_CLIENT, c);
    put_u32(&mut ctrl, r570::rm_control::H_OBJECT, sub);
    put_u32(
        &mut ctrl,
        r570::rm_control::CMD,
        r570::rm_control::NV2080_CTRL_CMD_GPU_GET_NAME_STRING,
    );
    put_u32(
        &mut ctrl,
        r570::rm_control::PARAMS_SIZE,
        r570::rm_control::NAME_STRING_PARAMS_SIZE as u32,
    );
    let r = d.call(function::GSP_RM_CONTROL, &ctrl);
    assert_eq!(r.result, status::OK);
    let name = &r.payload[r570::rm_control::SIZE + 4..][..12];
    assert_eq!(name, b"NVIDIA GeFor");
    // On the device, it is not a control of its class.
    put_u32(&mut ctrl, r570::rm_control::H_OBJECT, dev);
    assert_eq!(
        d.call(function::GSP_RM_CONTROL, &ctrl).result,
        status::NOT_SUPPORTED
    );

    // Unloading with objects left is a leak.
    assert!(d.violations().is_empty());
    let r = d.call(function::FREE, &rm_free(c, dev));
    assert_eq!(r.result, status::OK);
    // The subdevice went with its device.
    assert_eq!(
        d.call(function::FREE, &rm_free(c, sub)).result,
        OBJECT_NOT_FOUND
    );
    d.call(function::UNLOADING_GUEST_DRIVER, &[0u8; 8]);
    assert_eq!(d.violations().len(), 1);
    assert!(d.violations()[0].contains("still holding 1 RM objects"));
}

#[test]
fn static_info_names_gsp_rms_own_objects() {
    use r570::static_info as s;
    let mut d = booted("ga102");
    let info = d.call_static_info().payload;
    for off in [
        s::H_INTERNAL_CLIENT,
        s::H_INTERNAL_DEVICE,
        s::H_INTERNAL_SUBDEVICE,
    ] {
        assert_ne!(get_u32(&info, off), Some(0));
    }
    assert_ne!(get_u64(&info, s::BAR1_PDE_BASE), Some(0));
    assert_ne!(get_u64(&info, s::BAR2_PDE_BASE), Some(0));
    // Controls on GSP-RM's internal subdevice reach it.
    let mut ctrl = vec![0u8; r570::rm_control::SIZE + r570::rm_control::NAME_STRING_PARAMS_SIZE];
    put_u32(
        &mut ctrl,
        r570::rm_control::H_CLIENT,
        get_u32(&info, s::H_INTERNAL_CLIENT).unwrap_or_default(),
    );
    put_u32(
        &mut ctrl,
        r570::rm_control::H_OBJECT,
        get_u32(&info, s::H_INTERNAL_SUBDEVICE).unwrap_or_default(),
    );
    put_u32(
        &mut ctrl,
        r570::rm_control::CMD,
        r570::rm_control::NV2080_CTRL_CMD_GPU_GET_NAME_STRING,
    );
    put_u32(
        &mut ctrl,
        r570::rm_control::PARAMS_SIZE,
        r570::rm_control::NAME_STRING_PARAMS_SIZE as u32,
    );
    assert_eq!(d.call(function::GSP_RM_CONTROL, &ctrl).result, status::OK);
}

#[test]
fn commands_queued_before_gsp_rm_runs_are_read_when_it_starts() {
    // nouveau's order (`r535_gsp_init()`): GSP_SET_SYSTEM_INFO and SET_REGISTRY are queued and
    // the doorbell rung before booter starts GSP-RM. GSP-RM reads them once it runs.
    let mut d = Driver::new("ad102", Faults::default());
    d.prepare_load();
    d.load().unwrap();
    d.prepare_start();
    let info = d.system_info();
    d.queue_raw(function::GSP_SET_SYSTEM_INFO, &info, |_| {});
    d.ring(0);
    d.queue_raw(
        function::SET_REGISTRY,
        &registry(&[("RMSecBusResetEnable", 1)]),
        |_| {},
    );
    d.ring(0);
    assert!(
        d.recv_all().is_empty(),
        "nothing runs before the core starts"
    );
    d.start();
    let seen = d.recv_all();
    assert_eq!(
        functions(&seen),
        [
            function::EVENT_UCODE_LIBOS_PRINT,
            function::EVENT_GSP_RUN_CPU_SEQUENCER
        ]
    );
    assert_eq!(d.violations(), Vec::<String>::new());
    assert_eq!(
        d.gsp.registry(),
        [("RMSecBusResetEnable".to_string(), Some(1))]
    );
}

#[test]
fn commands_queued_without_a_doorbell_are_read_at_start_too() {
    let mut d = Driver::new("ga102", Faults::default());
    d.prepare_load();
    d.load().unwrap();
    d.prepare_start();
    let info = d.system_info();
    d.queue_raw(function::GSP_SET_SYSTEM_INFO, &info, |_| {});
    d.start();
    // SET_REGISTRY after start, with its doorbell: the boot goes on.
    d.send(
        function::SET_REGISTRY,
        &registry(&[("RMSecBusResetEnable", 1)]),
    );
    let seen = d.recv_all();
    assert!(functions(&seen).contains(&function::EVENT_GSP_RUN_CPU_SEQUENCER));
    assert_eq!(d.violations(), Vec::<String>::new());
}

#[test]
fn a_reused_status_slot_leaves_no_old_bytes_in_the_checksum() {
    use r570::rm_control as c;
    let mut d = booted("ad102");
    let (cl, dev, sub) = (0xc1d0_0000, 0xde1d_0000, 0x5d1d_0000);
    alloc_tree(&mut d, (cl, dev, sub));
    // Every status slot holds old bytes, as after the queue has wrapped.
    for i in 0..QUEUE_ENTRIES {
        d.write(
            d.shared + STATQ_OFF + PAGE + u64::from(i) * PAGE,
            &[0xa5; PAGE as usize],
        );
    }
    // The name string's reply is not a multiple of 8 bytes long.
    let ctrl = rm_control(
        cl,
        sub,
        c::NV2080_CTRL_CMD_GPU_GET_NAME_STRING,
        c::NAME_STRING_PARAMS_SIZE,
    );
    assert_ne!((80 + ctrl.len()) % 8, 0);
    for _ in 0..2 * QUEUE_ENTRIES {
        let r = d.call(function::GSP_RM_CONTROL, &ctrl);
        assert_eq!(r.result, status::OK);
        assert!(r.checksum_ok);
    }
    assert!(d.violations().is_empty());
}

#[test]
fn engine_class_and_gr_controls_answer_over_rpc() {
    use r570::rm_control as c;
    let mut d = booted("ga104");
    let (cl, dev, sub) = (0xc1d0_0000, 0xde1d_0000, 0x5d1d_0000);
    alloc_tree(&mut d, (cl, dev, sub));
    let control = |d: &mut Driver, object: u32, cmd: u32, size: usize| {
        let r = d.call(function::GSP_RM_CONTROL, &rm_control(cl, object, cmd, size));
        (r.result, r.payload[c::SIZE..].to_vec())
    };
    // The class list, on the device: AMPERE_B is there.
    let (s, p) = control(
        &mut d,
        dev,
        c::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2,
        c::CLASSLIST_V2_PARAMS_SIZE,
    );
    assert_eq!(s, status::OK);
    assert_eq!(get_u32(&p, 0), Some(50));
    assert!((0..50).any(|i| get_u32(&p, 4 + 4 * i) == Some(0xc797)));
    // The device info table, on the subdevice: 10 engines, GR0 first.
    let (s, p) = control(
        &mut d,
        sub,
        c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE,
        c::DEVICE_INFO_PARAMS_SIZE,
    );
    assert_eq!(s, status::OK);
    assert_eq!(get_u32(&p, c::DEVICE_INFO_NUM_ENTRIES), Some(10));
    assert_eq!(
        get_u32(
            &p,
            c::DEVICE_INFO_ENTRIES + 4 * c::ENGINE_INFO_TYPE_RM_ENGINE_TYPE
        ),
        Some(1)
    );
    // The GPCs of an RTX 3070: six.
    let (s, p) = control(
        &mut d,
        sub,
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,
        c::GPC_INFO_PARAMS_SIZE,
    );
    assert_eq!((s, get_u32(&p, 0)), (status::OK, Some(0x3f)));
    // The wrong object, the wrong size.
    let (s, _) = control(
        &mut d,
        dev,
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,
        c::GPC_INFO_PARAMS_SIZE,
    );
    assert_eq!(s, status::NOT_SUPPORTED);
    let (s, _) = control(&mut d, sub, c::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO, 4);
    assert_eq!(s, status::INVALID_ARGUMENT);
    d.call(function::FREE, &rm_free(cl, cl));
    assert!(d.violations().is_empty(), "{:?}", d.violations());
}

#[test]
fn intr_kernel_table_names_the_gsp_vector_for_the_internal_client_only() {
    use super::rmserver::INTERNAL;
    use r570::rm_control as c;
    for chip in ["ga102", "ad102"] {
        let mut d = booted(chip);
        let cmd = c::NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE;
        let r = d.call(
            function::GSP_RM_CONTROL,
            &rm_control(INTERNAL.0, INTERNAL.2, cmd, c::INTR_TABLE_PARAMS_SIZE),
        );
        assert_eq!(r.result, status::OK, "{chip}");
        let p = &r.payload[c::SIZE..];
        assert_eq!(
            p.len(),
            2068,
            "sizeof(NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_PARAMS)"
        );
        let len = get_u32(p, 0).unwrap() as usize;
        let gsp = (0..len)
            .map(|i| &p[4 + i * c::INTR_ENTRY_SIZE..][..c::INTR_ENTRY_SIZE])
            .find(|e| u16::from_le_bytes([e[0], e[1]]) == c::MC_ENGINE_IDX_GSP)
            .expect("a GSP entry");
        let arch = crate::chips::find(chip).unwrap().arch;
        assert_eq!(get_u32(gsp, 8), Some(crate::vfn::gsp_vector(arch).0));
        assert_eq!(get_u32(gsp, 12), Some(c::INTR_VECTOR_INVALID));
        // The GSP is not the first entry: drivers must search by engine.
        assert_ne!(u16::from_le_bytes([p[4], p[5]]), c::MC_ENGINE_IDX_GSP);

        // A wrong size, and the driver's own client, are refused as Open RM does.
        let r = d.call(
            function::GSP_RM_CONTROL,
            &rm_control(INTERNAL.0, INTERNAL.2, cmd, c::INTR_TABLE_PARAMS_SIZE - 4),
        );
        assert_eq!(r.result, status::INVALID_ARGUMENT);
        let (cl, dev, sub) = (0xc1d0_0000, 0xde1d_0000, 0x5d1d_0000);
        alloc_tree(&mut d, (cl, dev, sub));
        let r = d.call(
            function::GSP_RM_CONTROL,
            &rm_control(cl, sub, cmd, c::INTR_TABLE_PARAMS_SIZE),
        );
        assert_eq!(r.result, status::NOT_SUPPORTED);
    }
}

/// A booted AD102 whose GSP-RM has the targeted fault `spec`.
fn booted_with(spec: &str) -> Driver {
    let mut faults = Faults::default();
    faults.enable(spec).unwrap();
    let mut d = Driver::new("ad102", faults);
    assert_eq!(d.boot().len(), 3);
    d
}

fn live_objects(d: &Driver) -> usize {
    let run = d.gsp.run.as_ref().unwrap();
    run.rm.live_clients().iter().map(|(_, n)| n).sum()
}

const CL: u32 = 0xc1d0_0000;

#[test]
fn targeted_error_status_refuses_without_carrying_out() {
    use super::rmserver::NV01_ROOT;
    let mut d = booted_with("error-status=NV_ERR_NO_MEMORY@class:NV01_ROOT#1");
    let r = d.call(
        function::GSP_RM_ALLOC,
        &rm_alloc(CL, CL, CL, NV01_ROOT, 0x78),
    );
    // The status is in rpc_result and in the parameters' status field.
    assert_eq!(r.result, 0x51);
    assert_eq!(get_u32(&r.payload, r570::rm_alloc::STATUS), Some(0x51));
    assert_eq!(
        live_objects(&d),
        0,
        "a refused allocation allocates nothing"
    );
    // One-shot: the second try succeeds.
    let r = d.call(
        function::GSP_RM_ALLOC,
        &rm_alloc(CL, CL, CL, NV01_ROOT, 0x78),
    );
    assert_eq!(r.result, status::OK);
    assert_eq!(live_objects(&d), 1);
    assert!(d.violations().is_empty());
}

#[test]
fn targeted_error_status_on_a_control_and_on_unloading() {
    let mut d = booted_with("error-status@ctrl:NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO");
    alloc_tree(&mut d, (CL, 0xde1d_0000, 0x5d1d_0000));
    let cmd = r570::rm_control::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO;
    let r = d.call(
        function::GSP_RM_CONTROL,
        &rm_control(CL, 0x5d1d_0000, cmd, 4),
    );
    assert_eq!(r.result, status::GENERIC);
    assert_eq!(
        get_u32(&r.payload, r570::rm_control::STATUS),
        Some(status::GENERIC)
    );

    let mut d = booted_with("error-status@UNLOADING_GUEST_DRIVER");
    let r = d.call(
        function::UNLOADING_GUEST_DRIVER,
        &[0u8; r570::unloading::SIZE],
    );
    assert_eq!(r.result, status::GENERIC);
    assert!(r.payload.is_empty());
    assert!(
        !d.gsp.suspended(),
        "a refused unload does not suspend GSP-RM"
    );
}

#[test]
fn targeted_never_answer_carries_out_and_stays_silent() {
    use super::rmserver::NV01_ROOT;
    let mut d = booted_with("never-answer@GSP_RM_ALLOC#1");
    d.send(
        function::GSP_RM_ALLOC,
        &rm_alloc(CL, CL, CL, NV01_ROOT, 0x78),
    );
    assert!(d.recv_all().is_empty());
    assert_eq!(live_objects(&d), 1);
    // Later calls are answered.
    let r = d.call(function::FREE, &rm_free(CL, CL));
    assert_eq!(r.result, status::OK);
    assert_eq!(live_objects(&d), 0);
}

#[test]
fn targeted_late_reply_comes_before_the_next_reply() {
    use super::rmserver::NV01_ROOT;
    let mut d = booted_with("late-reply@class:NV01_ROOT#1");
    d.send(
        function::GSP_RM_ALLOC,
        &rm_alloc(CL, CL, CL, NV01_ROOT, 0x78),
    );
    let alloc_seq = d.seq - 1;
    assert!(d.recv_all().is_empty(), "no reply while the call waits");
    d.send(function::FREE, &rm_free(CL, CL));
    let msgs = d.recv_all();
    assert_eq!(functions(&msgs), [function::GSP_RM_ALLOC, function::FREE]);
    assert_eq!(msgs[0].sequence, alloc_seq);
    assert_eq!(msgs[0].result, status::OK);
    assert_eq!(msgs[1].sequence, alloc_seq + 1);
    assert_eq!(live_objects(&d), 0);
}

#[test]
fn targeted_duplicate_reply_is_sent_twice() {
    let mut d = booted_with("duplicate-reply@GET_GSP_STATIC_INFO#1");
    d.send(
        function::GET_GSP_STATIC_INFO,
        &[0u8; r570::static_info::SIZE],
    );
    let msgs = d.recv_all();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].sequence, msgs[1].sequence);
    assert_eq!(msgs[0].payload, msgs[1].payload);
    assert_eq!(d.call_static_info().result, status::OK, "one-shot");
}

#[test]
fn event_storm_waits_for_room_and_loses_nothing() {
    let mut d = booted_with("event-storm@GET_GSP_STATIC_INFO#1");
    d.send(
        function::GET_GSP_STATIC_INFO,
        &[0u8; r570::static_info::SIZE],
    );
    let mut prints = 0u32;
    let mut replies = 0;
    let mut rounds = 0;
    loop {
        let msgs = d.recv_all();
        // Never more than the ring holds at once: nothing unread is overwritten.
        assert!(msgs.len() < QUEUE_ENTRIES as usize);
        for m in &msgs {
            match m.function {
                function::EVENT_UCODE_LIBOS_PRINT => {
                    assert_eq!(replies, 0, "the reply comes after the storm");
                    let text = String::from_utf8_lossy(&m.payload[r570::libos_print::HDR_SIZE..])
                        .into_owned();
                    assert_eq!(text, format!("nova-sim event storm: print {prints}\n"));
                    prints += 1;
                }
                function::GET_GSP_STATIC_INFO => replies += 1,
                f => panic!("unexpected message {f:#x}"),
            }
        }
        if !d.gsp.backlog() {
            break;
        }
        // The engine side calls poll while GSP-RM has a backlog.
        d.gsp.poll(&mut d.bus);
        rounds += 1;
        assert!(rounds < 1000);
    }
    d.recv_all().is_empty().then_some(()).unwrap();
    assert_eq!(prints, faults::STORM_EVENTS);
    assert_eq!(replies, 1);
    assert!(d.violations().is_empty(), "{:?}", d.violations());
}
