// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The GSP side of the message queues shared with the driver.
//!
//! The shared memory is described by `MESSAGE_QUEUE_INIT_ARGUMENTS`: an array of
//! `pageTableEntryCount` page addresses at `sharedMemPhysAddr` maps it page by page. In it
//! are two queues (open-gpu-kernel-modules 570.144 `src/common/shared/msgq/msgq.c`,
//! `src/nvidia/src/kernel/gpu/gsp/message_queue_cpu.c`):
//!
//! * the command queue at `cmdQueueOffset`, up to `statQueueOffset`, created by the driver
//!   (`msgqTxCreate()`): `msgqTxHeader`, then its `msgqRxHeader` at `rxHdrOff`, entries at
//!   `entryOff`;
//! * the status queue at `statQueueOffset`, up to the end of the shared memory, created by
//!   GSP-RM in the same way.
//!
//! Both sides set `MSGQ_FLAGS_SWAP_RX`, so a reader keeps its read pointer in the rx header
//! of *its own* queue: the driver's read pointer into the status queue is in the command
//! queue's rx header, and GSP-RM's read pointer into the command queue in the status queue's
//! (`msgqRxLink()`). Each entry is a 4 KiB page; a message (`GSP_MSG_QUEUE_ELEMENT` and its
//! RPC) spans `elemCount` consecutive entries, wrapping at the end of the ring.
//!
//! Commands larger than `GSP_MSG_QUEUE_ELEMENT_SIZE_MAX` are split: a first element of the
//! maximum size with the command's function, then `CONTINUATION_RECORD` elements carrying the
//! rest of the payload (nouveau `r535_gsp_rpc_push()`; upstream nova-core
//! `gsp/cmdq/continuation.rs`). The model joins them: a maximum-size element opens a large
//! command, continuation records extend it, and it ends with a shorter record, when it reaches
//! the size its own header announces (`SET_REGISTRY`'s `size`), or when another command
//! arrives.

use std::collections::VecDeque;

use log::warn;

use crate::gsp_core::GspBus;

use super::r570::{elem, function, get_u32, get_u64, msgq, put_u32, rmargs, GSP_PAGE_SIZE};

const PAGE: usize = GSP_PAGE_SIZE as usize;

/// A command the driver sent, reassembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// `rpc.function`.
    pub function: u32,
    /// `rpc.sequence`, echoed in the reply.
    pub sequence: u32,
    /// The RPC payload (after `rpc_message_header_v`).
    pub payload: Vec<u8>,
}

/// A command whose payload continues in continuation records.
struct Large {
    cmd: Command,
    /// The payload size the command's own header announces, if it has one.
    expected: Option<usize>,
}

/// The layout of one queue within the shared memory.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// Offset of the queue (its `msgqTxHeader`) in the shared memory.
    base: u64,
    /// `rxHdrOff`.
    rx_hdr_off: u64,
    /// `entryOff`.
    entry_off: u64,
    /// `msgCount`.
    count: u32,
}

impl Geometry {
    fn entry(&self, index: u32) -> u64 {
        self.base + self.entry_off + u64::from(index) * GSP_PAGE_SIZE
    }
}

/// The linked queues and the GSP side's pointers.
pub struct Queues {
    /// DMA address of each page of the shared memory.
    pages: Vec<u64>,
    cmd: Geometry,
    stat: Geometry,
    /// GSP-RM's read pointer into the command queue.
    rx_ptr: u32,
    /// GSP-RM's write pointer into the status queue.
    tx_ptr: u32,
    /// Next expected `seqNum` of a command.
    rx_seq: u32,
    /// `seqNum` of the next message.
    tx_seq: u32,
    /// Messages waiting for room in the status queue.
    outbox: VecDeque<Vec<u8>>,
    large: Option<Large>,
    /// The status queue header as GSP-RM wrote it (its `writePtr` kept current).
    stat_header: [u8; msgq::TX_HEADER_SIZE],
    /// The driver's read pointer into the status queue when last seen.
    cpu_rptr: u32,
}

impl Queues {
    /// Maps the shared memory described by the RMARGS region `args`, checks the driver's
    /// command queue header and creates the status queue.
    pub fn link(bus: &mut dyn GspBus, args: &[u8]) -> Result<Self, String> {
        let shared = get_u64(args, rmargs::SHARED_MEM_PHYS_ADDR).unwrap_or_default();
        let count = get_u32(args, rmargs::PTE_COUNT).unwrap_or_default();
        let cmd_off = get_u64(args, rmargs::CMD_QUEUE_OFFSET).unwrap_or_default();
        let stat_off = get_u64(args, rmargs::STAT_QUEUE_OFFSET).unwrap_or_default();
        if shared % GSP_PAGE_SIZE != 0 {
            return Err(format!("sharedMemPhysAddr {shared:#x} is not page aligned"));
        }
        // 1 GiB of queue memory is far more than either driver uses; it bounds what is read.
        if !(3..=0x40000).contains(&count) {
            return Err(format!("pageTableEntryCount {count} is not plausible"));
        }
        let mut ptes = vec![0u8; count as usize * 8];
        bus.dma_read(shared, &mut ptes)
            .map_err(|e| format!("queue page table at {shared:#x} unreadable: {e}"))?;
        let mut pages = Vec::with_capacity(count as usize);
        for (i, pte) in ptes.chunks_exact(8).enumerate() {
            let addr = get_u64(pte, 0).unwrap_or_default();
            let mut probe = [0u8; 8];
            if addr % GSP_PAGE_SIZE != 0 || bus.dma_read(addr, &mut probe).is_err() {
                return Err(format!(
                    "queue page table entry {i} ({addr:#x}) maps no page"
                ));
            }
            pages.push(addr);
        }
        let total = u64::from(count) * GSP_PAGE_SIZE;
        if cmd_off % GSP_PAGE_SIZE != 0 || stat_off % GSP_PAGE_SIZE != 0 {
            return Err(format!(
                "queue offsets {cmd_off:#x}/{stat_off:#x} are not page aligned"
            ));
        }
        if cmd_off < (count as u64 * 8).div_ceil(GSP_PAGE_SIZE) * GSP_PAGE_SIZE
            && pages.first() == Some(&shared)
        {
            return Err(format!(
                "cmdQueueOffset {cmd_off:#x} overlaps the queue page table"
            ));
        }
        if !(cmd_off < stat_off && stat_off < total) {
            return Err(format!(
                "cmdQueueOffset {cmd_off:#x} and statQueueOffset {stat_off:#x} do not fit {total:#x} bytes of queue memory"
            ));
        }
        let mut q = Self {
            pages,
            cmd: Geometry {
                base: cmd_off,
                rx_hdr_off: 0,
                entry_off: 0,
                count: 0,
            },
            stat: Geometry {
                base: stat_off,
                rx_hdr_off: msgq::TX_HEADER_SIZE as u64,
                entry_off: GSP_PAGE_SIZE,
                count: 0,
            },
            rx_ptr: 0,
            tx_ptr: 0,
            rx_seq: 0,
            tx_seq: 0,
            outbox: VecDeque::new(),
            large: None,
            stat_header: [0; msgq::TX_HEADER_SIZE],
            cpu_rptr: 0,
        };

        // The driver's queue, checked as `msgqRxLink()` does.
        let mut hdr = [0u8; msgq::TX_HEADER_SIZE];
        q.read(bus, cmd_off, &mut hdr)?;
        let h = |off: usize| get_u32(&hdr, off).unwrap_or_default();
        let size = u64::from(h(msgq::TX_SIZE));
        let msg_size = h(msgq::TX_MSG_SIZE);
        let rx_hdr_off = u64::from(h(msgq::TX_RX_HDR_OFF));
        let entry_off = u64::from(h(msgq::TX_ENTRY_OFF));
        let msg_count = h(msgq::TX_MSG_COUNT);
        if h(msgq::TX_VERSION) != 0 {
            return Err(format!("command queue version {}", h(msgq::TX_VERSION)));
        }
        if size != stat_off - cmd_off {
            return Err(format!(
                "command queue size {size:#x}, the space up to the status queue is {:#x}",
                stat_off - cmd_off
            ));
        }
        if u64::from(msg_size) != GSP_PAGE_SIZE {
            return Err(format!(
                "command queue msgSize {msg_size:#x}, expected 0x1000"
            ));
        }
        if rx_hdr_off < msgq::TX_HEADER_SIZE as u64
            || entry_off < rx_hdr_off + 4
            || entry_off % GSP_PAGE_SIZE != 0
            || entry_off + GSP_PAGE_SIZE > size
        {
            return Err(format!(
                "command queue rxHdrOff {rx_hdr_off:#x} / entryOff {entry_off:#x} inconsistent"
            ));
        }
        if u64::from(msg_count) != (size - entry_off) / GSP_PAGE_SIZE {
            return Err(format!(
                "command queue msgCount {msg_count}, its size holds {}",
                (size - entry_off) / GSP_PAGE_SIZE
            ));
        }
        if h(msgq::TX_FLAGS) & msgq::FLAGS_SWAP_RX == 0 {
            return Err("command queue does not set MSGQ_FLAGS_SWAP_RX".into());
        }
        q.cmd = Geometry {
            base: cmd_off,
            rx_hdr_off,
            entry_off,
            count: msg_count,
        };

        // Our queue, as `msgqTxCreate()` lays it out: rx header right after the tx header
        // (16-byte aligned), entries page aligned.
        let stat_size = total - stat_off;
        if stat_size < 2 * GSP_PAGE_SIZE + GSP_PAGE_SIZE {
            return Err(format!("status queue of {stat_size:#x} bytes is too small"));
        }
        q.stat.count = ((stat_size - GSP_PAGE_SIZE) / GSP_PAGE_SIZE) as u32;
        let mut tx = [0u8; msgq::TX_HEADER_SIZE];
        put_u32(&mut tx, msgq::TX_VERSION, 0);
        put_u32(&mut tx, msgq::TX_SIZE, stat_size as u32);
        put_u32(&mut tx, msgq::TX_MSG_SIZE, GSP_PAGE_SIZE as u32);
        put_u32(&mut tx, msgq::TX_MSG_COUNT, q.stat.count);
        put_u32(&mut tx, msgq::TX_WRITE_PTR, 0);
        put_u32(&mut tx, msgq::TX_FLAGS, msgq::FLAGS_SWAP_RX);
        put_u32(&mut tx, msgq::TX_RX_HDR_OFF, q.stat.rx_hdr_off as u32);
        put_u32(&mut tx, msgq::TX_ENTRY_OFF, q.stat.entry_off as u32);
        q.write(bus, stat_off, &tx)?;
        q.stat_header = tx;
        q.write(bus, stat_off + q.stat.rx_hdr_off, &0u32.to_le_bytes())?;
        Ok(q)
    }

    /// Splits `off..off + len` of the shared memory at page boundaries and calls
    /// `f(bus address, range of the caller's buffer, shared-memory offset)` for each piece, in
    /// order, until one fails.
    fn each_page(
        &self,
        off: u64,
        len: usize,
        mut f: impl FnMut(u64, std::ops::Range<usize>, u64) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut done = 0usize;
        while done < len {
            let at = off + done as u64;
            let page = self.page(at)?;
            let in_page = (at % GSP_PAGE_SIZE) as usize;
            let n = (PAGE - in_page).min(len - done);
            f(page + in_page as u64, done..done + n, at)?;
            done += n;
        }
        Ok(())
    }

    /// Reads `buf.len()` bytes at offset `off` of the shared memory.
    fn read(&self, bus: &dyn GspBus, off: u64, buf: &mut [u8]) -> Result<(), String> {
        self.each_page(off, buf.len(), |addr, piece, at| {
            bus.dma_read(addr, &mut buf[piece])
                .map_err(|e| format!("queue memory at offset {at:#x} unreadable: {e}"))
        })
    }

    /// Writes `data` at offset `off` of the shared memory.
    fn write(&self, bus: &dyn GspBus, off: u64, data: &[u8]) -> Result<(), String> {
        self.each_page(off, data.len(), |addr, piece, at| {
            bus.dma_write(addr, &data[piece])
                .map_err(|e| format!("queue memory at offset {at:#x} unwritable: {e}"))
        })
    }

    fn page(&self, off: u64) -> Result<u64, String> {
        usize::try_from(off / GSP_PAGE_SIZE)
            .ok()
            .and_then(|i| self.pages.get(i).copied())
            .ok_or_else(|| format!("offset {off:#x} is outside the queue memory"))
    }

    fn read_u32(&self, bus: &dyn GspBus, off: u64) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.read(bus, off, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads `len` bytes of the element starting at entry `first` of the command queue.
    fn read_element(&self, bus: &dyn GspBus, first: u32, len: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; len];
        for (k, chunk) in buf.chunks_mut(PAGE).enumerate() {
            let index = (first + k as u32) % self.cmd.count;
            self.read(bus, self.cmd.entry(index), chunk)?;
        }
        Ok(buf)
    }

    /// Reads the commands the driver queued since the last call. Protocol mistakes are
    /// reported to `bus`; `Err` means the queue itself is unusable.
    pub fn receive(&mut self, bus: &mut dyn GspBus) -> Result<Vec<Command>, String> {
        let mut out = Vec::new();
        let count = self.cmd.count;
        let wptr = self.read_u32(bus, self.cmd.base + msgq::TX_WRITE_PTR as u64)?;
        if wptr >= count {
            return Err(format!(
                "command queue writePtr {wptr} is outside its {count} entries"
            ));
        }
        while self.rx_ptr != wptr {
            let avail = (wptr + count - self.rx_ptr) % count;
            let first = self.rx_ptr;
            let head = self.read_element(bus, first, elem::PAYLOAD_OFF)?;
            let g = |off: usize| get_u32(&head, off).unwrap_or_default();
            let elem_count = g(elem::ELEM_COUNT);
            let seq = g(elem::SEQ_NUM);
            if elem_count == 0 || elem_count > avail {
                bus.violation(&format!(
                    "command seq {seq}: elemCount {elem_count}, {avail} entries were queued; skipping the rest of the queue"
                ));
                self.rx_ptr = wptr;
                break;
            }
            self.rx_ptr = (first + elem_count) % count;
            let length = g(elem::RPC_LENGTH) as usize;
            let total = elem::HDR_SIZE + length;
            if length < elem::RPC_HDR_SIZE || total > elem::SIZE_MAX {
                bus.violation(&format!(
                    "command seq {seq}: rpc.length {length:#x} out of range"
                ));
                self.rx_seq = self.rx_seq.wrapping_add(1);
                continue;
            }
            let want_count = total.div_ceil(PAGE) as u32;
            if elem_count != want_count {
                bus.violation(&format!(
                    "command seq {seq}: elemCount {elem_count}, {total:#x} bytes need {want_count}"
                ));
            }
            let read_len = total.min(elem_count as usize * PAGE);
            let bytes = self.read_element(bus, first, read_len)?;
            if super::r570::checksum(&bytes) != 0 {
                bus.violation(&format!("command seq {seq}: bad checksum"));
                // The element is dropped but counts in the sequence, so that one mistake is
                // reported once.
                self.rx_seq = self.rx_seq.wrapping_add(1);
                continue;
            }
            if seq != self.rx_seq {
                bus.violation(&format!("command seqNum {seq}, expected {}", self.rx_seq));
            }
            self.rx_seq = seq.wrapping_add(1);
            if g(elem::RPC_SIGNATURE) != elem::SIGNATURE_VALID {
                bus.violation(&format!(
                    "command seq {seq}: rpc.signature {:#x} is not 'VRPC'",
                    g(elem::RPC_SIGNATURE)
                ));
            }
            if g(elem::RPC_HEADER_VERSION) != elem::HEADER_VERSION {
                bus.violation(&format!(
                    "command seq {seq}: rpc.header_version {:#x}, expected {:#x}",
                    g(elem::RPC_HEADER_VERSION),
                    elem::HEADER_VERSION
                ));
            }
            let func = g(elem::RPC_FUNCTION);
            if func >= function::NUM_FUNCTIONS {
                bus.violation(&format!("command seq {seq}: unknown function {func:#x}"));
            }
            let cmd = Command {
                function: func,
                sequence: g(elem::RPC_SEQUENCE),
                payload: bytes.get(elem::PAYLOAD_OFF..).unwrap_or_default().to_vec(),
            };
            self.assemble(bus, cmd, total == elem::SIZE_MAX, &mut out);
        }
        // Tell the driver how far we have read.
        let ptr_off = self.stat.base + self.stat.rx_hdr_off + msgq::RX_READ_PTR as u64;
        self.write(bus, ptr_off, &self.rx_ptr.to_le_bytes())?;
        Ok(out)
    }

    /// Joins large commands and their continuation records.
    fn assemble(&mut self, bus: &mut dyn GspBus, cmd: Command, full: bool, out: &mut Vec<Command>) {
        if cmd.function == function::CONTINUATION_RECORD {
            let Some(mut large) = self.large.take() else {
                bus.violation("CONTINUATION_RECORD without a command to continue");
                return;
            };
            large.cmd.payload.extend_from_slice(&cmd.payload);
            let len = large.cmd.payload.len();
            match large.expected {
                Some(want) if len > want => bus.violation(&format!(
                    "large command {} is {len} bytes, its header says {want}",
                    large.cmd.function
                )),
                Some(want) if len == want => out.push(large.cmd),
                Some(_) => self.large = Some(large),
                None if full => self.large = Some(large),
                None => out.push(large.cmd),
            }
            return;
        }
        if let Some(large) = self.large.take() {
            match large.expected {
                Some(want) if large.cmd.payload.len() < want => bus.violation(&format!(
                    "large command {} ended after {} of {want} bytes",
                    large.cmd.function,
                    large.cmd.payload.len()
                )),
                _ => out.push(large.cmd),
            }
        }
        if full {
            let expected = if cmd.function == function::SET_REGISTRY {
                get_u32(&cmd.payload, super::r570::registry::TABLE_SIZE).map(|v| v as usize)
            } else {
                None
            };
            if expected.is_some_and(|want| cmd.payload.len() >= want) {
                out.push(cmd);
            } else {
                self.large = Some(Large { cmd, expected });
            }
        } else {
            out.push(cmd);
        }
    }

    /// Queues a message for the driver and sends what fits.
    pub fn send(
        &mut self,
        bus: &mut dyn GspBus,
        func: u32,
        result: u32,
        sequence: u32,
        payload: &[u8],
        corrupt: bool,
    ) {
        let len = elem::PAYLOAD_OFF + payload.len();
        if len > elem::SIZE_MAX {
            warn!("gsp-rm: message {func:#x} of {len} bytes is too large to send");
            return;
        }
        let mut m = vec![0u8; len];
        put_u32(&mut m, elem::SEQ_NUM, self.tx_seq);
        put_u32(&mut m, elem::ELEM_COUNT, len.div_ceil(PAGE) as u32);
        put_u32(&mut m, elem::RPC_HEADER_VERSION, elem::HEADER_VERSION);
        put_u32(&mut m, elem::RPC_SIGNATURE, elem::SIGNATURE_VALID);
        put_u32(
            &mut m,
            elem::RPC_LENGTH,
            (elem::RPC_HDR_SIZE + payload.len()) as u32,
        );
        put_u32(&mut m, elem::RPC_FUNCTION, func);
        put_u32(&mut m, elem::RPC_RESULT, result);
        put_u32(&mut m, elem::RPC_RESULT_PRIVATE, result);
        put_u32(&mut m, elem::RPC_SEQUENCE, sequence);
        m[elem::PAYLOAD_OFF..].copy_from_slice(payload);
        // The element is zero-padded to 8 bytes, the unit of its checksum
        // (`_checkSum32()` in `message_queue_cpu.c` sums 64-bit words), so that no byte of an
        // older message left in the slot falls inside the checksummed range.
        m.resize(len.next_multiple_of(8), 0);
        let mut sum = super::r570::checksum(&m);
        if corrupt {
            sum ^= 0x0bad_5eed;
        }
        put_u32(&mut m, elem::CHECKSUM, sum);
        // The element goes out in whole slots, zero-padded: the receiver checksums the
        // message rounded up to 8 bytes, reading past its end (`_checkSum32()`, "assumes that
        // the data is padded out with zeros to the next 8-byte alignment"), and the sender
        // zero-pads its staging element and copies it a whole slot at a time
        // (`GspMsgQueueSendCommand()`, open-gpu-kernel-modules `message_queue_cpu.c`). Sending
        // only the message's bytes would leave a reused slot's old bytes in that padding.
        m.resize(len.div_ceil(PAGE) * PAGE, 0);
        self.tx_seq = self.tx_seq.wrapping_add(1);
        self.outbox.push_back(m);
        self.flush(bus);
    }

    /// Checks what the driver may not do to GSP-RM's side of the queues: write the status
    /// queue's header or GSP-RM's read pointer (both live in memory only GSP-RM writes,
    /// `msgqTxCreate()`/`msgqRxLink()` with `MSGQ_FLAGS_SWAP_RX`), or move its own read
    /// pointer past messages GSP-RM has not written. Each is reported once and repaired.
    pub fn check_driver(&mut self, bus: &mut dyn GspBus) -> Result<(), String> {
        let mut hdr = [0u8; msgq::TX_HEADER_SIZE];
        self.read(bus, self.stat.base, &mut hdr)?;
        if hdr != self.stat_header {
            bus.violation("the driver wrote the status queue header, which GSP-RM owns");
            self.write(bus, self.stat.base, &self.stat_header)?;
        }
        let ours = self.stat.base + self.stat.rx_hdr_off + msgq::RX_READ_PTR as u64;
        let rx = self.read_u32(bus, ours)?;
        if rx != self.rx_ptr {
            bus.violation(&format!(
                "the driver wrote GSP-RM's command queue read pointer ({rx}, GSP-RM has read to {})",
                self.rx_ptr
            ));
            self.write(bus, ours, &self.rx_ptr.to_le_bytes())?;
        }
        let count = self.stat.count;
        let rptr_off = self.cmd.base + self.cmd.rx_hdr_off + msgq::RX_READ_PTR as u64;
        let rptr = self.read_u32(bus, rptr_off)?;
        if rptr >= count {
            bus.violation(&format!(
                "the driver's status queue readPtr {rptr} is outside its {count} entries"
            ));
            return Ok(());
        }
        let advanced = (rptr + count - self.cpu_rptr) % count;
        let written = (self.tx_ptr + count - self.cpu_rptr) % count;
        if advanced > written {
            bus.violation(&format!(
                "the driver's status queue readPtr {rptr} passed GSP-RM's writePtr {}",
                self.tx_ptr
            ));
        }
        self.cpu_rptr = rptr;
        Ok(())
    }

    /// How many messages wait for room in the status queue.
    pub fn backlog(&self) -> usize {
        self.outbox.len()
    }

    /// Sends queued messages as far as the driver's read pointer leaves room, in order, never
    /// over one the driver has not read (`msgqTxSubmitBuffers()`); returns how many went out.
    pub fn flush(&mut self, bus: &mut dyn GspBus) -> usize {
        let mut sent = 0;
        while let Some(m) = self.outbox.front() {
            let count = self.stat.count;
            // The read pointer `check_driver()` saw, not a fresh read: the driver runs
            // concurrently, and what GSP-RM writes must be judged against the pointer it
            // last checked.
            let rptr = self.cpu_rptr;
            let free = (rptr + count - self.tx_ptr - 1) % count;
            let need = m.len().div_ceil(PAGE) as u32;
            if need > free {
                return sent;
            }
            for (k, chunk) in m.chunks(PAGE).enumerate() {
                let index = (self.tx_ptr + k as u32) % count;
                if let Err(e) = self.write(bus, self.stat.entry(index), chunk) {
                    warn!("gsp-rm: {e}");
                    return sent;
                }
            }
            self.tx_ptr = (self.tx_ptr + need) % count;
            let wp = self.stat.base + msgq::TX_WRITE_PTR as u64;
            super::r570::put_u32(&mut self.stat_header, msgq::TX_WRITE_PTR, self.tx_ptr);
            if let Err(e) = self.write(bus, wp, &self.tx_ptr.to_le_bytes()) {
                warn!("gsp-rm: {e}");
            }
            self.outbox.pop_front();
            sent += 1;
        }
        sent
    }
}
