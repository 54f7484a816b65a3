// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Memory shared with QEMU: BAR backing store and guest RAM mapped for DMA.
//!
//! [`Mapping`] is the only place that touches raw pointers; everything above it works with
//! offsets that are checked against the mapping's length.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::ptr::NonNull;

/// A `mmap(MAP_SHARED)` of (part of) a file, unmapped on drop.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value; nothing in it is tied to
// the thread that created it.
unsafe impl Send for Mapping {}

impl fmt::Debug for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapping")
            .field("len", &self.len)
            .field("writable", &self.writable)
            .finish()
    }
}

/// An access that does not fit in the memory it addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfBounds {
    /// Offset (or guest address) of the access.
    pub offset: u64,
    /// Length of the access.
    pub len: usize,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "access of {} bytes at {:#x} is out of bounds",
            self.len, self.offset
        )
    }
}

impl std::error::Error for OutOfBounds {}

impl Mapping {
    /// Maps `len` bytes of `file` starting at `file_offset`, read-only or read-write.
    pub fn new(file: &File, file_offset: u64, len: usize, writable: bool) -> io::Result<Self> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty mapping"));
        }
        let offset = libc::off_t::try_from(file_offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file offset too large"))?;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh shared mapping of a file we hold open; the kernel picks the address,
        // so no existing memory is affected. The result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null pointer"))?;
        Ok(Mapping { ptr, len, writable })
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never true: empty mappings are refused).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the mapping may be written.
    pub fn writable(&self) -> bool {
        self.writable
    }

    fn check(&self, offset: u64, len: usize) -> Result<usize, OutOfBounds> {
        let err = OutOfBounds { offset, len };
        let start = usize::try_from(offset).map_err(|_| err)?;
        let end = start.checked_add(len).ok_or(err)?;
        if end > self.len {
            return Err(err);
        }
        Ok(start)
    }

    /// Copies bytes at `offset` into `buf`.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfBounds> {
        let start = self.check(offset, buf.len())?;
        // SAFETY: `start + buf.len() <= self.len` was checked, and the mapping lives as long
        // as `self`. Another process may write the memory concurrently; bytes are copied as
        // they are, as a device reading shared memory would.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(start),
                buf.as_mut_ptr(),
                buf.len(),
            );
        }
        Ok(())
    }

    /// Copies `data` to `offset`. Fails on a read-only mapping.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), OutOfBounds> {
        let start = self.check(offset, data.len())?;
        if !self.writable {
            return Err(OutOfBounds {
                offset,
                len: data.len(),
            });
        }
        // SAFETY: bounds checked as in `read`; the mapping is writable (PROT_WRITE).
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(start), data.len());
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe a mapping this value created and nobody else unmaps.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Anonymous shared memory (a memfd) that QEMU can map, with our own mapping of it.
#[derive(Debug)]
pub struct SharedMemory {
    file: File,
    mapping: Mapping,
}

impl SharedMemory {
    /// Creates `size` bytes of zeroed shared memory. `name` shows up in `/proc/PID/maps`.
    pub fn new(name: &str, size: u64) -> io::Result<Self> {
        let len = usize::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
        let cname = CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))?;
        // SAFETY: `cname` is a valid NUL-terminated string; the result is checked.
        let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(size)?;
        let mapping = Mapping::new(&file, 0, len, true)?;
        Ok(SharedMemory { file, mapping })
    }

    /// The memfd, to be handed to the client.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.mapping.len() as u64
    }

    /// Copies bytes at `offset` into `buf`.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfBounds> {
        self.mapping.read(offset, buf)
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), OutOfBounds> {
        self.mapping.write(offset, data)
    }
}

/// Why a DMA map or unmap request was refused.
#[derive(Debug)]
pub enum DmaError {
    /// The range is empty or wraps around the address space.
    BadRange {
        /// Start of the range (IOVA).
        iova: u64,
        /// Size of the range.
        size: u64,
    },
    /// The range overlaps a mapped region.
    Overlap {
        /// Start of the new range.
        iova: u64,
        /// Start of the region it overlaps.
        existing: u64,
    },
    /// No mapped region lies inside the range to unmap.
    NotMapped {
        /// Start of the range.
        iova: u64,
        /// Size of the range.
        size: u64,
    },
    /// mmap of the client's file failed.
    Map(io::Error),
}

impl fmt::Display for DmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DmaError::BadRange { iova, size } => {
                write!(f, "invalid DMA range {iova:#x}+{size:#x}")
            }
            DmaError::Overlap { iova, existing } => write!(
                f,
                "DMA region at {iova:#x} overlaps the region at {existing:#x}"
            ),
            DmaError::NotMapped { iova, size } => {
                write!(f, "no DMA region inside {iova:#x}+{size:#x}")
            }
            DmaError::Map(err) => write!(f, "cannot map DMA region: {err}"),
        }
    }
}

impl std::error::Error for DmaError {}

/// One region of guest memory the client allowed the device to reach.
#[derive(Debug)]
pub struct DmaRegion {
    /// First I/O virtual address (guest physical address without a vIOMMU).
    pub iova: u64,
    /// Size in bytes.
    pub size: u64,
    /// Whether the device may read the region.
    pub readable: bool,
    /// Whether the device may write the region.
    pub writable: bool,
    /// Our mapping of the region, if the client sent a file descriptor.
    mapping: Option<Mapping>,
}

impl DmaRegion {
    /// Whether the region is backed by a mapping (the client sent a file descriptor).
    pub fn is_mapped(&self) -> bool {
        self.mapping.is_some()
    }

    fn end(&self) -> u64 {
        // Cannot overflow: checked when the region was added.
        self.iova + self.size
    }
}

/// The guest memory map built from DMA_MAP / DMA_UNMAP requests.
#[derive(Debug, Default)]
pub struct GuestMemory {
    regions: BTreeMap<u64, DmaRegion>,
}

impl GuestMemory {
    /// An empty map.
    pub fn new() -> Self {
        GuestMemory::default()
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Whether no region is mapped.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The regions, by address.
    pub fn regions(&self) -> impl Iterator<Item = &DmaRegion> {
        self.regions.values()
    }

    /// Adds a region. With `file`, `size` bytes of it at `file_offset` are mapped.
    pub fn map(
        &mut self,
        iova: u64,
        size: u64,
        file: Option<&File>,
        file_offset: u64,
        readable: bool,
        writable: bool,
    ) -> Result<(), DmaError> {
        let end = iova
            .checked_add(size)
            .filter(|_| size > 0)
            .ok_or(DmaError::BadRange { iova, size })?;
        // The only candidates for overlap: the last region starting below `end`.
        if let Some((&start, region)) = self.regions.range(..end).next_back() {
            if region.end() > iova {
                return Err(DmaError::Overlap {
                    iova,
                    existing: start,
                });
            }
        }
        let mapping = match file {
            Some(file) => {
                let len = usize::try_from(size).map_err(|_| DmaError::BadRange { iova, size })?;
                Some(Mapping::new(file, file_offset, len, writable).map_err(DmaError::Map)?)
            }
            None => None,
        };
        self.regions.insert(
            iova,
            DmaRegion {
                iova,
                size,
                readable,
                writable,
                mapping,
            },
        );
        Ok(())
    }

    /// Removes every region that lies entirely inside `iova..iova + size`.
    ///
    /// Returns how many were removed; none is an error.
    pub fn unmap(&mut self, iova: u64, size: u64) -> Result<usize, DmaError> {
        let end = iova
            .checked_add(size)
            .filter(|_| size > 0)
            .ok_or(DmaError::BadRange { iova, size })?;
        let doomed: Vec<u64> = self
            .regions
            .range(iova..end)
            .filter(|(_, region)| region.end() <= end)
            .map(|(&start, _)| start)
            .collect();
        if doomed.is_empty() {
            return Err(DmaError::NotMapped { iova, size });
        }
        for start in &doomed {
            self.regions.remove(start);
        }
        Ok(doomed.len())
    }

    /// Removes every region.
    pub fn clear(&mut self) {
        self.regions.clear();
    }

    /// Finds the mapped region holding all of `addr..addr + len`, and the offset in it.
    fn locate(&self, addr: u64, len: usize) -> Result<(&DmaRegion, u64), OutOfBounds> {
        let err = OutOfBounds { offset: addr, len };
        let end = addr.checked_add(len as u64).ok_or(err)?;
        let (_, region) = self.regions.range(..=addr).next_back().ok_or(err)?;
        if end > region.end() {
            return Err(err);
        }
        Ok((region, addr - region.iova))
    }

    /// Reads guest memory at `addr` into `buf`. The range must lie in one readable, mapped
    /// region.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfBounds> {
        let err = OutOfBounds {
            offset: addr,
            len: buf.len(),
        };
        let (region, offset) = self.locate(addr, buf.len())?;
        match &region.mapping {
            Some(mapping) if region.readable => mapping.read(offset, buf).map_err(|_| err),
            _ => Err(err),
        }
    }

    /// Writes `data` to guest memory at `addr`. The range must lie in one writable, mapped
    /// region.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), OutOfBounds> {
        let err = OutOfBounds {
            offset: addr,
            len: data.len(),
        };
        let (region, offset) = self.locate(addr, data.len())?;
        match &region.mapping {
            Some(mapping) if region.writable => mapping.write(offset, data).map_err(|_| err),
            _ => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_memory_is_bounds_checked() {
        let mem = SharedMemory::new("test", 4096).unwrap();
        assert_eq!(mem.size(), 4096);
        mem.write(4092, &[1, 2, 3, 4]).unwrap();
        let mut buf = [0u8; 4];
        mem.read(4092, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
        assert!(mem.read(4093, &mut buf).is_err());
        assert!(mem.write(u64::MAX, &buf).is_err());
        // A second mapping of the same memfd, as QEMU would make, sees the data.
        let other = Mapping::new(mem.file(), 0, 4096, false).unwrap();
        let mut seen = [0u8; 4];
        other.read(4092, &mut seen).unwrap();
        assert_eq!(seen, [1, 2, 3, 4]);
        assert!(other.write(0, &[0]).is_err());
    }

    #[test]
    fn guest_memory_maps_reads_and_writes() {
        let ram = SharedMemory::new("ram", 3 * 4096).unwrap();
        ram.write(4096, b"hello").unwrap();
        let mut gm = GuestMemory::new();
        // Guest physical 0x10000.. is the memfd from offset 4096.
        gm.map(0x10000, 8192, Some(ram.file()), 4096, true, true)
            .unwrap();
        let mut buf = [0u8; 5];
        gm.read(0x10000, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        gm.write(0x11ffe, b"hi").unwrap();
        let mut back = [0u8; 2];
        ram.read(3 * 4096 - 2, &mut back).unwrap();
        assert_eq!(&back, b"hi");
        // Across the end, below the start, past the end.
        assert!(gm.read(0x11fff, &mut back).is_err());
        assert!(gm.read(0xffff, &mut back).is_err());
        assert!(gm.write(0x12000, b"x").is_err());
    }

    #[test]
    fn guest_memory_refuses_overlaps_and_bad_ranges() {
        let mut gm = GuestMemory::new();
        gm.map(0x1000, 0x1000, None, 0, true, true).unwrap();
        assert!(matches!(
            gm.map(0x1800, 0x1000, None, 0, true, true),
            Err(DmaError::Overlap { .. })
        ));
        assert!(matches!(
            gm.map(0x0, 0x1001, None, 0, true, true),
            Err(DmaError::Overlap { .. })
        ));
        assert!(matches!(
            gm.map(u64::MAX, 2, None, 0, true, true),
            Err(DmaError::BadRange { .. })
        ));
        assert!(matches!(
            gm.map(0x5000, 0, None, 0, true, true),
            Err(DmaError::BadRange { .. })
        ));
        gm.map(0x2000, 0x1000, None, 0, true, false).unwrap();
        // Unmapped regions (no fd) cannot be accessed.
        let mut buf = [0u8; 1];
        assert!(gm.read(0x1000, &mut buf).is_err());
        assert_eq!(gm.len(), 2);
        assert_eq!(gm.unmap(0x0, 0x10000).unwrap(), 2);
        assert!(gm.is_empty());
        assert!(matches!(
            gm.unmap(0x1000, 0x1000),
            Err(DmaError::NotMapped { .. })
        ));
    }

    #[test]
    fn read_only_regions_refuse_writes() {
        let ram = SharedMemory::new("ram", 4096).unwrap();
        let mut gm = GuestMemory::new();
        gm.map(0, 4096, Some(ram.file()), 0, true, false).unwrap();
        assert!(gm.write(0, b"x").is_err());
        let mut buf = [0u8; 1];
        gm.read(0, &mut buf).unwrap();
        assert!(gm.regions().all(|r| r.is_mapped() && !r.writable));
    }
}
