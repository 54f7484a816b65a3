// SPDX-License-Identifier: GPL-2.0

//! The command and message queues shared with GSP-RM.
//!
//! One area of DMA memory holds, each part 4 KiB aligned (`message_queue_cpu.c`,
//! `GspMsgQueuesInit`):
//!
//! ```text
//! 0x00000  page table: the bus address of every 4 KiB page of the area
//! 0x01000  command queue (CPU -> GSP): tx header page, then 63 element slots
//! 0x41000  status queue (GSP -> CPU): tx header page, then 63 element slots
//! ```
//!
//! Each queue starts with its producer's `msgqTxHeader` (write pointer); the consumer's read
//! pointer lives in the `msgqRxHeader` at offset 0x20 of the *consumer's own* queue, because both
//! sides create their queue with `MSGQ_FLAGS_SWAP_RX` (`msgq.c`). So the CPU writes its read
//! pointer of the status queue into the command queue's page, and reads GSP-RM's read pointer of
//! the command queue from the status queue's page; neither side ever writes the other's page.
//!
//! A message is one or more 4 KiB slots: a `GSP_MSG_QUEUE_ELEMENT` header (checksum, sequence
//! number, slot count), the RPC header and the payload. An RPC of up to 64 KiB fits one element;
//! a larger request is split into the request and `CONTINUATION_RECORD` RPCs (`rpc.c`,
//! `_issueRpcLarge`).
//!
//! [`Queues`] is generic over [`SharedMem`], so that the same code runs on DMA memory and, in the
//! KUnit tests, on a buffer in which a test plays GSP-RM. Receiving never blocks: the caller
//! polls [`Queues::receive`], or calls it from the GSP interrupt handler once there is one.

use core::sync::atomic::{fence, Ordering};

use kernel::{
    num::casts::{usize_into_u32, FromSafeCast},
    prelude::*,
};

use crate::num;

use super::fw::{self, Abi, ElementHeader, QueueHeader};

/// GSP-RM's page size, which the page tables and queue slots use whatever the CPU's page size.
pub(crate) const GSP_PAGE_SIZE: usize = 4096;

/// Size of each queue, header page included (`defaultCommandQueueSize`,
/// `defaultStatusQueueSize` in `message_queue_cpu.c`): the driver's choice.
pub(crate) const QUEUE_SIZE: usize = 0x40000;
/// Offset of the slots within a queue.
const ENTRY_OFFSET: usize = fw::QUEUE_ENTRY_OFFSET;
/// Number of slots per queue.
// CAST: 63, checked below.
pub(crate) const SLOTS: u32 = usize_into_u32::<{ (QUEUE_SIZE - ENTRY_OFFSET) / GSP_PAGE_SIZE }>();
/// The largest element, headers included.
pub(crate) const ELEMENT_SIZE_MAX: usize = fw::ELEMENT_SIZE_MAX;

/// Offset of the command queue in the shared area: after the one-page page table.
pub(crate) const CMD_QUEUE_OFFSET: usize = GSP_PAGE_SIZE;
/// Offset of the status queue in the shared area.
pub(crate) const STAT_QUEUE_OFFSET: usize = CMD_QUEUE_OFFSET + QUEUE_SIZE;
/// Size of the shared area.
pub(crate) const SHARED_SIZE: usize = STAT_QUEUE_OFFSET + QUEUE_SIZE;
/// Number of 4 KiB pages in the shared area, which is also the number of page table entries.
pub(crate) const PTE_COUNT: usize = SHARED_SIZE / GSP_PAGE_SIZE;

kernel::static_assert!(PTE_COUNT * 8 <= GSP_PAGE_SIZE);
kernel::static_assert!(SLOTS == 63);
kernel::static_assert!(ELEMENT_SIZE_MAX % GSP_PAGE_SIZE == 0);

/// The header the CPU writes at the start of its command queue, and expects GSP-RM to have
/// written at the start of the status queue (but for the write pointer).
fn queue_header(write_ptr: u32) -> QueueHeader {
    QueueHeader {
        // CAST: 0x40000.
        size: usize_into_u32::<QUEUE_SIZE>(),
        // CAST: 0x1000.
        msg_size: usize_into_u32::<GSP_PAGE_SIZE>(),
        msg_count: SLOTS,
        write_ptr,
        // CAST: below the first page (checked in the release module).
        rx_hdr_off: usize_into_u32::<{ fw::QUEUE_RX_HDR_OFFSET }>(),
        // CAST: 0x1000.
        entry_off: usize_into_u32::<ENTRY_OFFSET>(),
    }
}

/// Memory shared with the GSP. Every access is bounds-checked and returns `EINVAL` when it
/// falls outside the area.
pub(crate) trait SharedMem {
    /// Copies `buf.len()` bytes at `offset` into `buf`.
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result;
    /// Copies `data` to `offset`.
    fn write(&mut self, offset: usize, data: &[u8]) -> Result;
    /// Returns the `len` bytes at `offset` for the CPU to fill in place. Only for bytes the
    /// CPU owns until it publishes them (command slots beyond the write pointer).
    fn bytes_mut(&mut self, offset: usize, len: usize) -> Result<&mut [u8]>;

    /// Reads a little-endian 32-bit word.
    fn read_u32(&self, offset: usize) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Writes a little-endian 32-bit word.
    fn write_u32(&mut self, offset: usize, value: u32) -> Result {
        self.write(offset, &value.to_le_bytes())
    }
}

impl SharedMem for KVec<u8> {
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result {
        let end = offset.checked_add(buf.len()).ok_or(EINVAL)?;
        buf.copy_from_slice(self.get(offset..end).ok_or(EINVAL)?);
        Ok(())
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result {
        let end = offset.checked_add(data.len()).ok_or(EINVAL)?;
        self.get_mut(offset..end)
            .ok_or(EINVAL)?
            .copy_from_slice(data);
        Ok(())
    }

    fn bytes_mut(&mut self, offset: usize, len: usize) -> Result<&mut [u8]> {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        self.get_mut(offset..end).ok_or(EINVAL)
    }
}

/// Computes GSP-RM's message checksum (`_checkSum32` in `message_queue_priv.h`): the XOR of the
/// data as little-endian 64-bit words (the last one zero-padded), folded to 32 bits. A message
/// whose checksum field holds the checksum of the rest sums to zero.
pub(crate) fn checksum(data: &[u8]) -> u32 {
    let mut sum = 0u64;
    for chunk in data.chunks(8) {
        let mut word = [0u8; 8];
        for (dst, src) in word.iter_mut().zip(chunk) {
            *dst = *src;
        }
        sum ^= u64::from_le_bytes(word);
    }
    // CAST: the high and the low half.
    num::upper_32(sum) ^ num::lower_32(sum)
}

/// Copies `src` into `dst`, which must be as long.
fn copy(dst: &mut [u8], src: &[u8]) -> Result {
    if dst.len() != src.len() {
        return Err(EINVAL);
    }
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
    Ok(())
}

/// Why sending or receiving failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueueError {
    /// The command queue has no room now; retry after GSP-RM consumed some.
    Full,
    /// The request cannot ever fit.
    TooLarge,
    /// A pointer GSP-RM wrote is outside the queue.
    BadPointer(u32),
    /// The queue header GSP-RM wrote does not describe the queue nova allocated.
    BadHeader,
    /// An element claims a slot count outside 1..=16.
    BadElementCount(u32),
    /// An element's RPC length is outside what its slots can hold.
    BadLength(u32),
    /// An element's checksum does not sum to zero.
    BadChecksum,
    /// An element does not carry the expected sequence number; it was consumed.
    BadSequence {
        /// The sequence number nova expected.
        expected: u32,
        /// The one the element carries.
        got: u32,
    },
    /// A continuation record was expected but another function arrived, or the records carry
    /// more data than announced.
    BadContinuation,
    /// Memory allocation or shared-memory access failed.
    Kernel(Error),
}

impl From<Error> for QueueError {
    fn from(e: Error) -> Self {
        Self::Kernel(e)
    }
}

impl From<QueueError> for Error {
    fn from(e: QueueError) -> Error {
        match e {
            QueueError::Full => EAGAIN,
            QueueError::TooLarge => EMSGSIZE,
            QueueError::Kernel(e) => e,
            _ => EIO,
        }
    }
}

/// One RPC received from GSP-RM.
#[derive(Debug)]
pub(crate) struct Received {
    /// The function (reply) or event number.
    pub(crate) function: u32,
    /// The RPC result.
    pub(crate) result: u32,
    /// The element's sequence number.
    pub(crate) seq: u32,
    /// The RPC's sequence number: for a reply, that of its request.
    pub(crate) rpc_seq: u32,
    /// The payload, after the RPC header.
    pub(crate) payload: KVec<u8>,
}

/// The queue pair, over shared memory `M`.
pub(crate) struct Queues<M: SharedMem> {
    mem: M,
    abi: Abi,
    /// Next command slot to write (our copy of the command queue's write pointer).
    tx_ptr: u32,
    /// Next status slot to read (our copy of our read pointer).
    rx_ptr: u32,
    /// Sequence number of the next element sent.
    tx_seq: u32,
    /// Sequence number expected on the next element received.
    rx_seq: u32,
}

impl<M: SharedMem> Queues<M> {
    /// Formats `mem` (at least [`SHARED_SIZE`] bytes, zeroed, at bus address `bus_addr`): writes
    /// the page table and the command queue's headers.
    pub(crate) fn new(mut mem: M, abi: Abi, bus_addr: u64) -> Result<Self> {
        for i in 0..PTE_COUNT {
            // CAST: `i * GSP_PAGE_SIZE` is below `SHARED_SIZE`.
            let page = bus_addr
                .checked_add(u64::from_safe_cast(i * GSP_PAGE_SIZE))
                .ok_or(EOVERFLOW)?;
            mem.write(i * 8, &page.to_le_bytes())?;
        }
        let header = mem.bytes_mut(CMD_QUEUE_OFFSET, abi.queue_header_size())?;
        abi.write_queue_header(header, &queue_header(0))?;
        mem.write_u32(CMD_QUEUE_OFFSET + abi.read_ptr_offset(), 0)?;
        Ok(Self {
            mem,
            abi,
            tx_ptr: 0,
            rx_ptr: 0,
            tx_seq: 0,
            rx_seq: 0,
        })
    }

    /// Returns the shared memory.
    pub(crate) fn mem(&self) -> &M {
        &self.mem
    }

    /// Returns the shared memory for modification (the tests play GSP-RM through it).
    #[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
    pub(crate) fn mem_mut(&mut self) -> &mut M {
        &mut self.mem
    }

    /// Returns how many command slots are free, from GSP-RM's read pointer.
    fn free_slots(&self) -> Result<u32, QueueError> {
        let gsp_rx = self
            .mem
            .read_u32(STAT_QUEUE_OFFSET + self.abi.read_ptr_offset())?;
        if gsp_rx >= SLOTS {
            return Err(QueueError::BadPointer(gsp_rx));
        }
        // One slot stays empty so that a full queue differs from an empty one (`msgq.c`).
        Ok((gsp_rx + SLOTS - self.tx_ptr - 1) % SLOTS)
    }

    /// Returns the largest payload of the first record and of each continuation record.
    fn record_payload_max(&self) -> usize {
        ELEMENT_SIZE_MAX - self.abi.element_header_size() - self.abi.rpc_header_size()
    }

    /// Returns how many slots a record with a payload of `len` bytes occupies.
    fn slots_for(&self, len: usize) -> u32 {
        let total = self.abi.element_header_size() + self.abi.rpc_header_size() + len;
        // CAST: `len` is at most `record_payload_max`, so at most 16 slots.
        total.div_ceil(GSP_PAGE_SIZE) as u32
    }

    /// Queues the request `function` with a payload of `len` bytes that `fill` writes in place
    /// into the command slots, and returns the sequence number of its element, which the RPC
    /// header carries too. A payload too large for one element is built in memory first and
    /// split into continuation records. Nothing is queued unless all records fit, or if `fill`
    /// fails. The caller rings the doorbell afterwards ([`ring_doorbell`]).
    pub(crate) fn send_with(
        &mut self,
        function: u32,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result,
    ) -> Result<u32, QueueError> {
        let max = self.record_payload_max();
        let (records, last) = if len == 0 {
            (1, 0)
        } else {
            (len.div_ceil(max), (len - 1) % max + 1)
        };
        let full = u32::try_from(records - 1).map_err(|_| QueueError::TooLarge)?;
        let needed = full
            .checked_mul(self.slots_for(max))
            .and_then(|n| n.checked_add(self.slots_for(last)))
            .ok_or(QueueError::TooLarge)?;
        if needed > SLOTS - 1 {
            return Err(QueueError::TooLarge);
        }
        if needed > self.free_slots()? {
            return Err(QueueError::Full);
        }

        let (tx_ptr, tx_seq) = (self.tx_ptr, self.tx_seq);
        let seq = self.tx_seq;
        let written = if records == 1 {
            self.write_record(function, len, fill)
        } else {
            self.send_large(function, len, fill)
        };
        if let Err(e) = written {
            // Nothing was published: forget the records.
            self.tx_ptr = tx_ptr;
            self.tx_seq = tx_seq;
            return Err(e);
        }
        // The elements must be visible before the write pointer that publishes them.
        fence(Ordering::SeqCst);
        self.mem
            .write_u32(CMD_QUEUE_OFFSET + self.abi.write_ptr_offset(), self.tx_ptr)?;
        fence(Ordering::SeqCst);
        Ok(seq)
    }

    /// Queues the request `function` with `payload` (see [`Queues::send_with`]).
    #[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
    pub(crate) fn send(&mut self, function: u32, payload: &[u8]) -> Result<u32, QueueError> {
        self.send_with(function, payload.len(), |dst| copy(dst, payload))
    }

    /// Builds a payload of `len` bytes too large for one element and writes it as the request
    /// and its continuation records.
    fn send_large(
        &mut self,
        function: u32,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result,
    ) -> Result<(), QueueError> {
        let mut payload =
            KVVec::from_elem(0u8, len, GFP_KERNEL).map_err(|_| QueueError::Kernel(ENOMEM))?;
        fill(&mut payload)?;
        let cont = self.abi.function(fw::Function::ContinuationRecord);
        for (i, chunk) in payload.chunks(self.record_payload_max()).enumerate() {
            let f = if i == 0 { function } else { cont };
            self.write_record(f, chunk.len(), |dst| copy(dst, chunk))?;
        }
        Ok(())
    }

    /// Writes one record with a payload of `len` bytes (at most [`Queues::record_payload_max`])
    /// into the slots from `tx_ptr` on, and advances `tx_ptr` (not yet published). The record
    /// is built in the slots themselves, unless it wraps around the end of the queue.
    fn write_record(
        &mut self,
        function: u32,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result,
    ) -> Result<(), QueueError> {
        let abi = self.abi;
        let headers = abi.element_header_size() + abi.rpc_header_size();
        let rpc_len =
            u32::try_from(abi.rpc_header_size() + len).map_err(|_| QueueError::TooLarge)?;
        let msg_len = headers + len;
        let slots = self.slots_for(len);
        // CAST: `slots` is at most 16.
        let size = usize::from_safe_cast(slots) * GSP_PAGE_SIZE;
        let seq = self.tx_seq;
        let build = |buf: &mut [u8]| -> Result {
            abi.write_request_headers(buf, seq, slots, function, rpc_len)?;
            fill(buf.get_mut(headers..msg_len).ok_or(EINVAL)?)?;
            // The checksum covers the message padded to 8 bytes with zeroes, its own field zero.
            let padded = msg_len.next_multiple_of(8);
            buf.get_mut(msg_len..padded).ok_or(EINVAL)?.fill(0);
            let sum = checksum(buf.get(..padded).ok_or(EINVAL)?);
            abi.set_checksum(buf, sum)
        };
        if self.tx_ptr + slots <= SLOTS {
            // The slots are the CPU's until the write pointer moves past them.
            let at = Self::slot_offset(CMD_QUEUE_OFFSET, self.tx_ptr);
            build(self.mem.bytes_mut(at, size)?)?;
        } else {
            let mut buf =
                KVec::from_elem(0u8, size, GFP_KERNEL).map_err(|_| QueueError::Kernel(ENOMEM))?;
            build(&mut buf)?;
            for (i, page) in (0u32..).zip(buf.chunks(GSP_PAGE_SIZE)) {
                let slot = (self.tx_ptr + i) % SLOTS;
                self.mem
                    .write(Self::slot_offset(CMD_QUEUE_OFFSET, slot), page)?;
            }
        }
        self.tx_ptr = (self.tx_ptr + slots) % SLOTS;
        self.tx_seq = self.tx_seq.wrapping_add(1);
        Ok(())
    }

    /// Returns the offset in the shared area of `slot` of the queue at `queue`.
    fn slot_offset(queue: usize, slot: u32) -> usize {
        // CAST: `slot` is below `SLOTS`.
        queue + ENTRY_OFFSET + usize::from_safe_cast(slot) * GSP_PAGE_SIZE
    }

    /// Checks the status queue header GSP-RM wrote; called before the first receive is trusted.
    fn check_status_header(&self) -> Result<(), QueueError> {
        let mut bytes = [0u8; 64];
        let len = self.abi.queue_header_size().min(bytes.len());
        let header = bytes.get_mut(..len).ok_or(QueueError::BadHeader)?;
        self.mem.read(STAT_QUEUE_OFFSET, header)?;
        let got = self
            .abi
            .read_queue_header(header)
            .map_err(|_| QueueError::BadHeader)?;
        let want = queue_header(got.write_ptr);
        if got.msg_size != want.msg_size
            || got.msg_count != want.msg_count
            || got.entry_off != want.entry_off
            || got.rx_hdr_off != want.rx_hdr_off
        {
            return Err(QueueError::BadHeader);
        }
        Ok(())
    }

    /// Takes the next RPC off the status queue, or returns `None` if there is none complete yet.
    ///
    /// Everything GSP-RM wrote is checked: its write pointer, the element's slot count, the RPC
    /// length, the checksum and the sequence number. An element that fails the checksum or the
    /// sequence check is consumed, so that one corrupt element does not block the queue; a bad
    /// pointer or slot count leaves the queue untouched, as no element boundary can be trusted
    /// any more.
    pub(crate) fn receive(&mut self) -> Result<Option<Received>, QueueError> {
        let write_ptr = self
            .mem
            .read_u32(STAT_QUEUE_OFFSET + self.abi.write_ptr_offset())?;
        if write_ptr >= SLOTS {
            return Err(QueueError::BadPointer(write_ptr));
        }
        let available = (write_ptr + SLOTS - self.rx_ptr) % SLOTS;
        if available == 0 {
            return Ok(None);
        }
        self.check_status_header()?;

        let mut first = KVec::from_elem(0u8, GSP_PAGE_SIZE, GFP_KERNEL)
            .map_err(|_| QueueError::Kernel(ENOMEM))?;
        self.mem.read(
            Self::slot_offset(STAT_QUEUE_OFFSET, self.rx_ptr),
            &mut first,
        )?;
        let hdr: ElementHeader = self
            .abi
            .read_headers(&first)
            .map_err(|_| QueueError::BadHeader)?;
        // CAST: 16.
        let max_slots = usize_into_u32::<{ ELEMENT_SIZE_MAX / GSP_PAGE_SIZE }>();
        if hdr.elem_count == 0 || hdr.elem_count > max_slots {
            return Err(QueueError::BadElementCount(hdr.elem_count));
        }
        if hdr.elem_count > available {
            // The rest of the element is not published yet.
            return Ok(None);
        }

        // Assemble the element from its slots, which may wrap around the end of the queue.
        let mut buf = first;
        // CAST: `elem_count` is at most 16 (checked above).
        let elem_size = usize::from_safe_cast(hdr.elem_count) * GSP_PAGE_SIZE;
        buf.resize(elem_size, 0, GFP_KERNEL)
            .map_err(|_| QueueError::Kernel(ENOMEM))?;
        for i in 1..hdr.elem_count {
            let slot = (self.rx_ptr + i) % SLOTS;
            // CAST: `i` is below 16.
            let start = usize::from_safe_cast(i) * GSP_PAGE_SIZE;
            let page = buf
                .get_mut(start..start + GSP_PAGE_SIZE)
                .ok_or(QueueError::Kernel(EINVAL))?;
            self.mem
                .read(Self::slot_offset(STAT_QUEUE_OFFSET, slot), page)?;
        }

        let headers = self.abi.element_header_size() + self.abi.rpc_header_size();
        let msg_len = usize::try_from(hdr.rpc_length)
            .ok()
            .and_then(|rpc_len| self.abi.element_header_size().checked_add(rpc_len));
        let msg_len = match msg_len {
            Some(l) if l >= headers && l <= elem_size => l,
            _ => {
                // Skip the element as if it had been received, so that the next one is in
                // sequence.
                self.consume(hdr.elem_count)?;
                self.rx_seq = self.rx_seq.wrapping_add(1);
                return Err(QueueError::BadLength(hdr.rpc_length));
            }
        };
        let sum_len = msg_len.next_multiple_of(8).min(buf.len());
        if checksum(buf.get(..sum_len).unwrap_or(&[])) != 0 {
            self.consume(hdr.elem_count)?;
            self.rx_seq = self.rx_seq.wrapping_add(1);
            return Err(QueueError::BadChecksum);
        }
        if hdr.seq != self.rx_seq {
            let expected = self.rx_seq;
            self.consume(hdr.elem_count)?;
            // Resynchronise on what GSP-RM sends, so that one lost element costs one error.
            self.rx_seq = hdr.seq.wrapping_add(1);
            return Err(QueueError::BadSequence {
                expected,
                got: hdr.seq,
            });
        }
        self.consume(hdr.elem_count)?;
        self.rx_seq = self.rx_seq.wrapping_add(1);

        // Keep only the payload.
        buf.truncate(msg_len);
        let payload_len = msg_len - headers;
        buf.copy_within(headers.., 0);
        buf.truncate(payload_len);
        Ok(Some(Received {
            function: hdr.function,
            result: hdr.rpc_result,
            seq: hdr.seq,
            rpc_seq: hdr.rpc_sequence,
            payload: buf,
        }))
    }

    /// Takes an RPC whose payload continues in `CONTINUATION_RECORD`s until it is `total` bytes
    /// long; returns `None` if not all records have arrived (the records that had are kept in
    /// `partial`, to be passed again).
    pub(crate) fn receive_large(
        &mut self,
        partial: &mut Option<Received>,
        total: usize,
    ) -> Result<Option<Received>, QueueError> {
        let cont = self.abi.function(super::fw::Function::ContinuationRecord);
        loop {
            let done = partial.as_ref().map(|p| p.payload.len() >= total);
            if done == Some(true) {
                return Ok(partial.take());
            }
            let Some(rec) = self.receive()? else {
                return Ok(None);
            };
            match partial {
                None => *partial = Some(rec),
                Some(p) => {
                    if rec.function != cont {
                        *partial = None;
                        return Err(QueueError::BadContinuation);
                    }
                    p.payload
                        .extend_from_slice(&rec.payload, GFP_KERNEL)
                        .map_err(|_| QueueError::Kernel(ENOMEM))?;
                }
            }
            if partial.as_ref().map(|p| p.payload.len() > total) == Some(true) {
                *partial = None;
                return Err(QueueError::BadContinuation);
            }
        }
    }

    /// Marks `slots` slots of the status queue consumed and tells GSP-RM.
    fn consume(&mut self, slots: u32) -> Result<(), QueueError> {
        self.rx_ptr = (self.rx_ptr + slots) % SLOTS;
        // Our reads of the element must complete before GSP-RM may overwrite it.
        fence(Ordering::SeqCst);
        self.mem
            .write_u32(CMD_QUEUE_OFFSET + self.abi.read_ptr_offset(), self.rx_ptr)?;
        Ok(())
    }
}

/// Tells GSP-RM that the command queue has new elements: a write of queue index 0 to
/// `NV_PGSP_QUEUE_HEAD(0)`.
pub(crate) fn ring_doorbell(bar: crate::driver::Bar0<'_>) {
    use kernel::io::Io;
    bar.write_reg(super::regs::NV_PGSP_QUEUE_HEAD::zeroed().with_address(0u32));
}

/// GSP-RM's side of the queues, played by the KUnit tests.
#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
pub(crate) mod fake_gsp {
    use super::*;

    /// Writes the status queue's header as GSP-RM's `msgqTxCreate` does.
    pub(crate) fn link(mem: &mut KVec<u8>) -> Result {
        let abi = Abi::R570_144;
        let header = mem.bytes_mut(STAT_QUEUE_OFFSET, abi.queue_header_size())?;
        abi.write_queue_header(header, &queue_header(0))
    }

    /// Publishes one element with RPC `function`, `result` and `payload` at status slot `slot`
    /// with sequence number `seq` (the RPC's sequence number `rpc_seq`); returns the slot after
    /// it.
    pub(crate) fn send_reply(
        mem: &mut KVec<u8>,
        slot: u32,
        seq: u32,
        rpc_seq: u32,
        function: u32,
        result: u32,
        payload: &[u8],
    ) -> Result<u32> {
        let abi = Abi::R570_144;
        let hdrs = abi.element_header_size() + abi.rpc_header_size();
        let msg_len = hdrs + payload.len();
        let slots = u32::try_from(msg_len.div_ceil(GSP_PAGE_SIZE)).map_err(|_| EINVAL)?;
        let mut buf = KVec::from_elem(0u8, msg_len.next_multiple_of(GSP_PAGE_SIZE), GFP_KERNEL)?;
        let rpc_length =
            u32::try_from(abi.rpc_header_size() + payload.len()).map_err(|_| EINVAL)?;
        abi.write_headers(
            &mut buf,
            &ElementHeader {
                checksum: 0,
                seq,
                elem_count: slots,
                function,
                rpc_length,
                rpc_result: result,
                rpc_sequence: rpc_seq,
            },
        )?;
        buf.get_mut(hdrs..msg_len)
            .ok_or(EINVAL)?
            .copy_from_slice(payload);
        let sum = checksum(buf.get(..msg_len.next_multiple_of(8)).ok_or(EINVAL)?);
        abi.set_checksum(&mut buf, sum)?;
        for (i, page) in (0u32..).zip(buf.chunks(GSP_PAGE_SIZE)) {
            let s = (slot + i) % SLOTS;
            mem.write(Queues::<KVec<u8>>::slot_offset(STAT_QUEUE_OFFSET, s), page)?;
        }
        let next = (slot + slots) % SLOTS;
        mem.write_u32(STAT_QUEUE_OFFSET + abi.write_ptr_offset(), next)?;
        Ok(next)
    }

    /// As [`send_reply`], with the element's sequence number as the RPC's.
    pub(crate) fn send(
        mem: &mut KVec<u8>,
        slot: u32,
        seq: u32,
        function: u32,
        result: u32,
        payload: &[u8],
    ) -> Result<u32> {
        send_reply(mem, slot, seq, seq, function, result, payload)
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_queue)]
mod tests {
    use super::*;

    const ABI: Abi = Abi::R570_144;
    /// Bytes of element and RPC headers.
    const HDRS: usize = 0x50;
    // The layout the tests expect of `msgqTxHeader` and `msgqRxHeader` (`msgq_priv.h`).
    const TX_SIZE: usize = 0x04;
    const TX_MSG_SIZE: usize = 0x08;
    const TX_MSG_COUNT: usize = 0x0c;
    const TX_WRITE_PTR: usize = 0x10;
    const TX_FLAGS: usize = 0x14;
    const TX_RX_HDR_OFF: usize = 0x18;
    const TX_ENTRY_OFF: usize = 0x1c;
    const RX_HDR_OFFSET: usize = 0x20;

    fn queues() -> Result<Queues<KVec<u8>>> {
        let mem = KVec::from_elem(0u8, SHARED_SIZE, GFP_KERNEL)?;
        let mut q = Queues::new(mem, ABI, 0x10_0000_0000)?;
        fake_gsp::link(q.mem_mut())?;
        Ok(q)
    }

    /// Plays GSP-RM sending one element at status slot `slot`: returns the slot after it.
    fn gsp_send(
        mem: &mut KVec<u8>,
        slot: u32,
        seq: u32,
        function: u32,
        payload: &[u8],
    ) -> Result<u32> {
        fake_gsp::send(mem, slot, seq, function, 0xffff_ffff, payload)
    }

    /// Plays GSP-RM consuming the command queue up to its write pointer; returns the elements
    /// as (sequence number, function, payload).
    fn gsp_drain(mem: &mut KVec<u8>, from: u32) -> Result<KVec<(u32, u32, KVec<u8>)>> {
        let write = mem.read_u32(CMD_QUEUE_OFFSET + TX_WRITE_PTR)?;
        let mut out = KVec::new();
        let mut slot = from;
        while slot != write {
            let mut first = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
            mem.read(CMD_QUEUE_OFFSET + 0x1000 + slot as usize * 4096, &mut first)?;
            let h = ABI.read_headers(&first).map_err(|_| EINVAL)?;
            let mut buf = KVec::new();
            for i in 0..h.elem_count {
                let s = (slot + i) % SLOTS;
                let mut page = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
                mem.read(CMD_QUEUE_OFFSET + 0x1000 + s as usize * 4096, &mut page)?;
                buf.extend_from_slice(&page, GFP_KERNEL)?;
            }
            let msg_len = 0x30 + h.rpc_length as usize;
            assert_eq!(checksum(&buf[..msg_len.next_multiple_of(8)]), 0);
            assert_eq!(h.elem_count as usize, msg_len.div_ceil(4096));
            let mut payload = KVec::new();
            payload.extend_from_slice(&buf[HDRS..msg_len], GFP_KERNEL)?;
            out.push((h.seq, h.function, payload), GFP_KERNEL)?;
            slot = (slot + h.elem_count) % SLOTS;
        }
        mem.write_u32(STAT_QUEUE_OFFSET + RX_HDR_OFFSET, slot)?;
        Ok(out)
    }

    fn pattern(len: usize, seed: u8) -> Result<KVec<u8>> {
        let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
        for i in 0..len {
            v.push((i as u8).wrapping_mul(31).wrapping_add(seed), GFP_KERNEL)?;
        }
        Ok(v)
    }

    #[test]
    fn checksum_of_known_data() {
        assert_eq!(checksum(&[]), 0);
        // One word: 0x0807060504030201 folds to 0x08070605 ^ 0x04030201.
        assert_eq!(checksum(&[1, 2, 3, 4, 5, 6, 7, 8]), 0x0c040404);
        // A short tail is zero-padded.
        assert_eq!(checksum(&[1, 2, 3, 4, 5, 6, 7, 8, 0xff]), 0x0c0404fb);
    }

    #[test]
    fn layout_and_headers() -> Result {
        let q = queues()?;
        let m = q.mem();
        // Page table: every page of the area, from the bus address.
        let mut pte = [0u8; 8];
        for i in [0usize, 1, 128] {
            m.read(i * 8, &mut pte)?;
            assert_eq!(u64::from_le_bytes(pte), 0x10_0000_0000 + (i as u64) * 4096);
        }
        m.read(129 * 8, &mut pte)?;
        assert_eq!(u64::from_le_bytes(pte), 0);
        let tx = |off| m.read_u32(CMD_QUEUE_OFFSET + off);
        assert_eq!(tx(TX_SIZE)?, 0x40000);
        assert_eq!(tx(TX_MSG_SIZE)?, 0x1000);
        assert_eq!(tx(TX_MSG_COUNT)?, 63);
        assert_eq!(tx(TX_FLAGS)?, 1);
        assert_eq!(tx(TX_RX_HDR_OFF)?, 0x20);
        assert_eq!(tx(TX_ENTRY_OFF)?, 0x1000);
        Ok(())
    }

    #[test]
    fn send_frames_and_numbers_elements() -> Result {
        let mut q = queues()?;
        let small = pattern(100, 1)?;
        let two_pages = pattern(4096, 2)?;
        assert_eq!(q.send(72, &small), Ok(0));
        assert_eq!(q.send(73, &two_pages), Ok(1));
        assert_eq!(q.mem().read_u32(CMD_QUEUE_OFFSET + TX_WRITE_PTR)?, 3);
        let got = gsp_drain(q.mem_mut(), 0)?;
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[0].1), (0, 72));
        assert_eq!(&got[0].2[..], &small[..]);
        assert_eq!((got[1].0, got[1].1), (1, 73));
        assert_eq!(&got[1].2[..], &two_pages[..]);
        Ok(())
    }

    #[test]
    fn send_wraps_around_and_respects_gsp_read_pointer() -> Result {
        let mut q = queues()?;
        let p = pattern(3 * 4096, 3)?; // 4 slots each
        let mut read = 0;
        // 15 messages of 4 slots fill 60 of the 62 usable slots.
        for _ in 0..15 {
            q.send(73, &p)?;
        }
        assert_eq!(q.send(73, &p), Err(QueueError::Full));
        // GSP-RM consumes them; the next messages wrap past slot 62.
        let got = gsp_drain(q.mem_mut(), read)?;
        assert_eq!(got.len(), 15);
        read = q.mem().read_u32(CMD_QUEUE_OFFSET + TX_WRITE_PTR)?;
        for i in 0..3u32 {
            assert_eq!(q.send(73, &p), Ok(15 + i));
        }
        assert_eq!(
            q.mem().read_u32(CMD_QUEUE_OFFSET + TX_WRITE_PTR)?,
            (60 + 12) % 63
        );
        let got = gsp_drain(q.mem_mut(), read)?;
        assert_eq!(got.len(), 3);
        for (i, (seq, _, payload)) in got.iter().enumerate() {
            assert_eq!(*seq, 15 + i as u32);
            assert_eq!(&payload[..], &p[..]);
        }
        // A read pointer GSP-RM corrupted is refused.
        q.mem_mut()
            .write_u32(STAT_QUEUE_OFFSET + RX_HDR_OFFSET, 63)?;
        assert_eq!(q.send(73, &p), Err(QueueError::BadPointer(63)));
        Ok(())
    }

    #[test]
    fn large_request_is_split_into_continuations() -> Result {
        let mut q = queues()?;
        let max = ELEMENT_SIZE_MAX - HDRS;
        let big = pattern(2 * max + 1000, 4)?;
        assert_eq!(q.send(73, &big), Ok(0));
        let got = gsp_drain(q.mem_mut(), 0)?;
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].1, got[0].2.len()), (0, 73, max));
        assert_eq!((got[1].0, got[1].1, got[1].2.len()), (1, 71, max));
        assert_eq!((got[2].0, got[2].1, got[2].2.len()), (2, 71, 1000));
        let mut joined = KVec::new();
        for (_, _, p) in got.iter() {
            joined.extend_from_slice(p, GFP_KERNEL)?;
        }
        assert_eq!(&joined[..], &big[..]);
        // More than the queue can ever hold.
        let huge = pattern(4 * max, 5)?;
        assert_eq!(q.send(73, &huge), Err(QueueError::TooLarge));
        Ok(())
    }

    #[test]
    fn receive_checks_and_wraps() -> Result {
        let mut q = queues()?;
        assert!(matches!(q.receive(), Ok(None)));
        // Fill the status queue up to slot 61, consume, then send a 3-slot message that wraps.
        let mut slot = 0;
        for seq in 0..20 {
            slot = gsp_send(q.mem_mut(), slot, seq, 0x1001, &pattern(8000, seq as u8)?)?;
            let r = q.receive().map_err(Error::from)?.ok_or(EINVAL)?;
            assert_eq!((r.function, r.seq), (0x1001, seq));
            assert_eq!(&r.payload[..], &pattern(8000, seq as u8)?[..]);
        }
        assert_eq!(slot, 40);
        for seq in 20..31 {
            slot = gsp_send(q.mem_mut(), slot, seq, 0x1001, &[])?;
            q.receive().map_err(Error::from)?.ok_or(EINVAL)?;
        }
        assert_eq!(slot, 51);
        for seq in 31..42 {
            slot = gsp_send(q.mem_mut(), slot, seq, 0x100c, &[7])?;
            let r = q.receive().map_err(Error::from)?.ok_or(EINVAL)?;
            assert_eq!(&r.payload[..], &[7]);
        }
        assert_eq!(slot, 62);
        let p = pattern(9000, 9)?;
        slot = gsp_send(q.mem_mut(), slot, 42, 65, &p)?;
        assert_eq!(slot, 2);
        let r = q.receive().map_err(Error::from)?.ok_or(EINVAL)?;
        assert_eq!((r.function, r.seq, r.result), (65, 42, 0xffff_ffff));
        assert_eq!(&r.payload[..], &p[..]);
        // Our read pointer is published in the command queue's rx header.
        assert_eq!(q.mem().read_u32(CMD_QUEUE_OFFSET + RX_HDR_OFFSET)?, 2);
        assert!(matches!(q.receive(), Ok(None)));
        Ok(())
    }

    #[test]
    fn receive_refuses_corruption() -> Result {
        let mut q = queues()?;
        // Bad checksum: consumed, reported, and the next element is read normally.
        let mut slot = gsp_send(q.mem_mut(), 0, 0, 0x1001, &[1, 2, 3])?;
        let off = STAT_QUEUE_OFFSET + 0x1000 + HDRS;
        q.mem_mut().write(off, &[9])?;
        assert!(matches!(q.receive(), Err(QueueError::BadChecksum)));
        slot = gsp_send(q.mem_mut(), slot, 1, 0x1001, &[4])?;
        assert_eq!(q.receive().map_err(Error::from)?.map(|r| r.seq), Some(1));

        // Sequence error: reported, consumed, and resynchronised.
        slot = gsp_send(q.mem_mut(), slot, 5, 0x1001, &[])?;
        assert!(matches!(
            q.receive(),
            Err(QueueError::BadSequence {
                expected: 2,
                got: 5
            })
        ));
        slot = gsp_send(q.mem_mut(), slot, 6, 0x1001, &[])?;
        assert_eq!(q.receive().map_err(Error::from)?.map(|r| r.seq), Some(6));

        // An RPC length larger than the element's slots (with a valid checksum).
        let elem = STAT_QUEUE_OFFSET + 0x1000 + slot as usize * 4096;
        slot = gsp_send(q.mem_mut(), slot, 7, 0x1001, &[0; 16])?;
        let mut page = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        q.mem().read(elem, &mut page)?;
        page[0x38..0x3c].copy_from_slice(&0x2000u32.to_le_bytes()); // rpc.length
        page[0x20..0x24].fill(0);
        let sum = checksum(&page[..0x60]);
        page[0x20..0x24].copy_from_slice(&sum.to_le_bytes());
        q.mem_mut().write(elem, &page)?;
        assert!(matches!(q.receive(), Err(QueueError::BadLength(0x2000))));
        // Shorter than the RPC header.
        let elem = STAT_QUEUE_OFFSET + 0x1000 + slot as usize * 4096;
        slot = gsp_send(q.mem_mut(), slot, 8, 0x1001, &[])?;
        q.mem().read(elem, &mut page)?;
        page[0x38..0x3c].copy_from_slice(&8u32.to_le_bytes());
        q.mem_mut().write(elem, &page)?;
        assert!(matches!(q.receive(), Err(QueueError::BadLength(8))));

        // A slot count of 17, or 0: refused, queue left as is.
        let elem = STAT_QUEUE_OFFSET + 0x1000 + slot as usize * 4096;
        gsp_send(q.mem_mut(), slot, 9, 0x1001, &[])?;
        for bad in [0u32, 17, u32::MAX] {
            q.mem_mut().write_u32(elem + 0x28, bad)?;
            assert!(matches!(q.receive(), Err(QueueError::BadElementCount(n)) if n == bad));
        }
        // A slot count beyond what is published: not complete yet.
        q.mem_mut().write_u32(elem + 0x28, 2)?;
        assert!(matches!(q.receive(), Ok(None)));

        // A write pointer outside the queue.
        q.mem_mut()
            .write_u32(STAT_QUEUE_OFFSET + TX_WRITE_PTR, 63)?;
        assert!(matches!(q.receive(), Err(QueueError::BadPointer(63))));
        Ok(())
    }

    #[test]
    fn bad_status_header_is_refused() -> Result {
        let mut q = queues()?;
        gsp_send(q.mem_mut(), 0, 0, 0x1001, &[])?;
        q.mem_mut()
            .write_u32(STAT_QUEUE_OFFSET + TX_MSG_COUNT, 64)?;
        assert!(matches!(q.receive(), Err(QueueError::BadHeader)));
        Ok(())
    }

    #[test]
    fn continuation_records_are_joined() -> Result {
        let mut q = queues()?;
        let a = pattern(ELEMENT_SIZE_MAX - HDRS, 1)?;
        let b = pattern(500, 2)?;
        let mut slot = gsp_send(q.mem_mut(), 0, 0, 65, &a)?;
        let mut partial = None;
        let total = a.len() + b.len();
        assert!(matches!(q.receive_large(&mut partial, total), Ok(None)));
        assert!(partial.is_some());
        slot = gsp_send(q.mem_mut(), slot, 1, 71, &b)?;
        let r = q
            .receive_large(&mut partial, total)
            .map_err(Error::from)?
            .ok_or(EINVAL)?;
        assert_eq!(r.function, 65);
        assert_eq!(&r.payload[..a.len()], &a[..]);
        assert_eq!(&r.payload[a.len()..], &b[..]);
        // A different function where a continuation belongs.
        slot = gsp_send(q.mem_mut(), slot, 2, 65, &a)?;
        gsp_send(q.mem_mut(), slot, 3, 0x1006, &b)?;
        assert!(matches!(
            q.receive_large(&mut partial, total),
            Err(QueueError::BadContinuation)
        ));
        Ok(())
    }
}
