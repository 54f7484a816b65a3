// SPDX-License-Identifier: GPL-2.0

//! The client's view of the DRM uAPI, a method of [`Node`] per ioctl the tests use.
//!
//! nova's ioctls use the structures, constants and ioctl numbers that bindgen generates from the
//! installed `nova_drm.h` at build time (build.rs, [`uapi`]): none is written here. Generic DRM
//! (version, GEM close, PRIME, dumb buffers, mode setting) goes through the drm-ffi crate, the
//! layer of Smithay's drm-rs that keeps the kernel's structures and error codes as they are, as
//! negative tests need them. What drm-ffi lacks is added here, each with the reason.

use std::ffi::c_char;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

/// nova's uAPI as bindgen generated it from the installed `nova_drm.h`, and the values of the
/// drm.h macros that `tools/nova-test/uapi.h` lists.
// Generated names are C's (`__u64`, `drm_nova_getparam`), and the client need not use every
// item of the header. `allow`, not `expect`: whether an item goes unused depends on the header.
#[allow(dead_code, non_camel_case_types)]
pub mod uapi {
    include!(concat!(env!("OUT_DIR"), "/uapi.rs"));
}

pub use uapi::drm_nova_gem_create as NovaGemCreate;
pub use uapi::drm_nova_gem_info as NovaGemInfo;
pub use uapi::drm_nova_getparam as NovaGetparam;
pub use uapi::drm_nova_query as NovaQuery;

/// `DRM_CLOEXEC` and `DRM_RDWR`, the `drm_prime_handle` flags (drm.h: `O_CLOEXEC`, `O_RDWR`).
pub use drm_ffi::{DRM_CLOEXEC, DRM_RDWR};

/// `DRM_FORMAT_XRGB8888` (drm_fourcc.h), from the drm-fourcc crate drm-rs uses.
pub const DRM_FORMAT_XRGB8888: u32 = drm_fourcc::DrmFourcc::Xrgb8888 as u32;

/// The NOVA_GETPARAM_* parameters.
pub mod param {
    pub use super::uapi::{
        NOVA_GETPARAM_ARCHITECTURE as ARCHITECTURE, NOVA_GETPARAM_CHIPSET as CHIPSET,
        NOVA_GETPARAM_GPC_COUNT as GPC_COUNT, NOVA_GETPARAM_GPC_MASK as GPC_MASK,
        NOVA_GETPARAM_PCI_DEVICE_ID as PCI_DEVICE_ID, NOVA_GETPARAM_REVISION as REVISION,
        NOVA_GETPARAM_TPC_COUNT as TPC_COUNT, NOVA_GETPARAM_VRAM_BAR_SIZE as VRAM_BAR_SIZE,
        NOVA_GETPARAM_VRAM_SIZE as VRAM_SIZE,
    };
}

/// The version a DRM driver reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major version.
    pub major: i32,
    /// Minor version.
    pub minor: i32,
    /// Driver name.
    pub name: String,
    /// Driver description.
    pub desc: String,
}

/// An open DRM node (one DRM file).
pub struct Node {
    file: File,
    path: PathBuf,
}

/// The size an ioctl number encodes for its argument (`_IOC_SIZE`, asm-generic/ioctl.h).
const fn ioc_size(request: u32) -> usize {
    // CAST: a 14-bit field.
    ((request >> 16) & 0x3fff) as usize
}

/// Issues the ioctl `request` on `fd` with `arg`, again while it is interrupted (as libdrm's
/// `drmIoctl()`). Refuses, before the call, an argument whose size is not the one `request`
/// encodes.
///
/// # Safety
///
/// `request` must be an ioctl whose argument is a `T`, and any pointer in `arg` must be null or
/// valid for what the kernel does with it.
unsafe fn ioctl<T>(fd: BorrowedFd<'_>, request: u32, arg: &mut T) -> io::Result<()> {
    if ioc_size(request) != std::mem::size_of::<T>() {
        return Err(io::Error::other(format!(
            "ioctl {request:#x} takes {} bytes, not {}",
            ioc_size(request),
            std::mem::size_of::<T>()
        )));
    }
    loop {
        // SAFETY: `arg` is a live, exclusively borrowed `T`, the type `request` takes (the
        // caller's promise, and the size checked above).
        let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request.into(), std::ptr::from_mut(arg)) };
        if ret == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) && err.raw_os_error() != Some(libc::EAGAIN) {
            return Err(err);
        }
    }
}

/// Upstream nova's uAPI, written out by hand from upstream's `include/uapi/drm/nova_drm.h`
/// (Linux 7.3) rather than generated from ours, so that a test passes exactly what a program
/// built against upstream's header passes.
pub mod upstream {
    /// Upstream's `struct drm_nova_gem_create`: handle, pad, size.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    pub struct GemCreate {
        /// Out, the new object's handle.
        pub handle: u32,
        /// 32-bit padding, zero.
        pub pad: u32,
        /// In, the object's size.
        pub size: u64,
    }

    /// Upstream's `struct drm_nova_gem_info`: handle, pad, size (no mmap offset).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    pub struct GemInfo {
        /// In, the object's handle.
        pub handle: u32,
        /// 32-bit padding, zero.
        pub pad: u32,
        /// Out, the object's size.
        pub size: u64,
    }

    /// Upstream's `DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_CREATE, struct drm_nova_gem_create)`.
    pub const DRM_IOCTL_NOVA_GEM_CREATE: u32 = 0xc010_6441;
    /// Upstream's `DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_INFO, struct drm_nova_gem_info)`.
    pub const DRM_IOCTL_NOVA_GEM_INFO: u32 = 0xc010_6442;
}

/// The text of a string the kernel copied into `buf`.
fn text(buf: &[c_char]) -> String {
    // CAST: c_char to the byte it holds.
    let bytes: Vec<u8> = buf.iter().map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Node {
    /// Opens a DRM node.
    pub fn open(path: &Path) -> io::Result<Node> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Node {
            file,
            path: path.to_owned(),
        })
    }

    /// The node's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `DRM_IOCTL_VERSION`, in its two calls (lengths, then strings).
    pub fn version(&self) -> io::Result<Version> {
        let mut name = Vec::new();
        let mut desc = Vec::new();
        let v = drm_ffi::get_version(self.as_fd(), Some(&mut name), None, Some(&mut desc))?;
        Ok(Version {
            major: v.version_major,
            minor: v.version_minor,
            name: text(&name),
            desc: text(&desc),
        })
    }

    /// The first call of `DRM_IOCTL_VERSION` alone (no buffers, the kernel only reports the
    /// lengths); returns the name's length. The benchmark's reference ioctl.
    ///
    /// Not through drm-ffi: its `get_version()` always makes both calls.
    pub fn version_lengths(&self) -> io::Result<usize> {
        let mut v = drm_ffi::drm_version::default();
        // SAFETY: DRM_IOCTL_VERSION takes a struct drm_version; its pointers are null.
        unsafe { ioctl(self.as_fd(), uapi::NOVA_TEST_DRM_IOCTL_VERSION, &mut v) }?;
        usize::try_from(v.name_len).map_err(io::Error::other)
    }

    /// `DRM_IOCTL_NOVA_GETPARAM` with a caller-built argument, so that tests can check what the
    /// kernel leaves in it on error.
    pub fn getparam_raw(&self, arg: &mut NovaGetparam) -> io::Result<()> {
        // SAFETY: DRM_IOCTL_NOVA_GETPARAM takes a struct drm_nova_getparam.
        unsafe { ioctl(self.as_fd(), uapi::DRM_IOCTL_NOVA_GETPARAM, arg) }
    }

    /// `DRM_IOCTL_NOVA_GETPARAM`.
    pub fn getparam(&self, param: u64) -> io::Result<u64> {
        let mut arg = NovaGetparam { param, value: 0 };
        self.getparam_raw(&mut arg)?;
        Ok(arg.value)
    }

    /// `DRM_IOCTL_NOVA_QUERY` with a caller-built argument.
    ///
    /// # Safety
    ///
    /// `arg.data` must be the address of `arg.count` writable elements of the query's type, or
    /// an address no mapping of this process covers (the kernel then fails with EFAULT).
    pub unsafe fn query_raw(&self, arg: &mut NovaQuery) -> io::Result<()> {
        // SAFETY: DRM_IOCTL_NOVA_QUERY takes a struct drm_nova_query, whose `data` the caller
        // vouches for.
        unsafe { ioctl(self.as_fd(), uapi::DRM_IOCTL_NOVA_QUERY, arg) }
    }

    /// `DRM_IOCTL_NOVA_QUERY` with `count` 0: the number of elements of `query`.
    pub fn query_count(&self, query: u32) -> io::Result<u32> {
        let mut arg = NovaQuery {
            query,
            count: 0,
            data: 0,
        };
        // SAFETY: with `count` 0 the kernel writes nothing at `data`.
        unsafe { self.query_raw(&mut arg) }?;
        Ok(arg.count)
    }

    /// `DRM_IOCTL_NOVA_QUERY` into a vector of `T` (the query's element type, plain data):
    /// asks for the number, then for the list.
    pub fn query_list<T: Default + Clone>(&self, query: u32) -> io::Result<Vec<T>> {
        let n = self.query_count(query)?;
        let mut v = vec![T::default(); n as usize];
        let mut arg = NovaQuery {
            query,
            count: n,
            data: v.as_mut_ptr() as u64,
        };
        // SAFETY: `data` is the address of `n` elements of `T`, which the caller says is the
        // query's element type.
        unsafe { self.query_raw(&mut arg) }?;
        if arg.count != n {
            return Err(io::Error::other(format!(
                "the count changed from {n} to {}",
                arg.count
            )));
        }
        Ok(v)
    }

    /// `DRM_IOCTL_NOVA_GEM_CREATE` with a caller-built argument.
    pub fn gem_create_raw(&self, arg: &mut NovaGemCreate) -> io::Result<()> {
        // SAFETY: DRM_IOCTL_NOVA_GEM_CREATE takes a struct drm_nova_gem_create.
        unsafe { ioctl(self.as_fd(), uapi::DRM_IOCTL_NOVA_GEM_CREATE, arg) }
    }

    /// `DRM_IOCTL_NOVA_GEM_CREATE`: returns the handle and the size the kernel used.
    pub fn gem_create(&self, size: u64) -> io::Result<(u32, u64)> {
        let mut arg = NovaGemCreate {
            size,
            ..Default::default()
        };
        self.gem_create_raw(&mut arg)?;
        Ok((arg.handle, arg.size))
    }

    /// `DRM_IOCTL_NOVA_GPU_NAME`: the whole name array the kernel filled in (pre-filled with
    /// 0x5a, so that a test sees what the kernel left alone).
    pub fn gpu_name_raw(&self) -> io::Result<Vec<u8>> {
        let mut arg = uapi::drm_nova_gpu_name::default();
        // CAST: the byte 0x5a as a c_char.
        arg.name.fill(0x5a as c_char);
        // SAFETY: DRM_IOCTL_NOVA_GPU_NAME takes a struct drm_nova_gpu_name.
        unsafe { ioctl(self.as_fd(), uapi::DRM_IOCTL_NOVA_GPU_NAME, &mut arg) }?;
        // CAST: c_char to the byte it holds.
        Ok(arg.name.iter().map(|&c| c as u8).collect())
    }

    /// Upstream nova's `DRM_IOCTL_NOVA_GEM_CREATE` with upstream's structure.
    pub fn upstream_gem_create(&self, arg: &mut upstream::GemCreate) -> io::Result<()> {
        // SAFETY: upstream's GEM_CREATE number encodes upstream's 16-byte structure, which holds
        // no pointer.
        unsafe { ioctl(self.as_fd(), upstream::DRM_IOCTL_NOVA_GEM_CREATE, arg) }
    }

    /// Upstream nova's `DRM_IOCTL_NOVA_GEM_INFO` with upstream's (shorter) structure.
    pub fn upstream_gem_info(&self, arg: &mut upstream::GemInfo) -> io::Result<()> {
        // SAFETY: upstream's GEM_INFO number encodes upstream's 16-byte structure, which holds
        // no pointer.
        unsafe { ioctl(self.as_fd(), upstream::DRM_IOCTL_NOVA_GEM_INFO, arg) }
    }

    /// `DRM_IOCTL_NOVA_GEM_INFO` with a caller-built argument.
    pub fn gem_info_raw(&self, arg: &mut NovaGemInfo) -> io::Result<()> {
        // SAFETY: DRM_IOCTL_NOVA_GEM_INFO takes a struct drm_nova_gem_info.
        unsafe { ioctl(self.as_fd(), uapi::DRM_IOCTL_NOVA_GEM_INFO, arg) }
    }

    /// `DRM_IOCTL_NOVA_GEM_INFO`.
    pub fn gem_info(&self, handle: u32) -> io::Result<NovaGemInfo> {
        let mut arg = NovaGemInfo {
            handle,
            ..Default::default()
        };
        self.gem_info_raw(&mut arg)?;
        Ok(arg)
    }

    /// `DRM_IOCTL_GEM_CLOSE`.
    pub fn gem_close(&self, handle: u32) -> io::Result<()> {
        drm_ffi::gem::close(self.as_fd(), handle).map(|_| ())
    }

    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: exports an object as a dma-buf.
    pub fn prime_export(&self, handle: u32, flags: u32) -> io::Result<OwnedFd> {
        let arg = drm_ffi::gem::handle_to_fd(self.as_fd(), handle, flags)?;
        if arg.fd < 0 {
            return Err(io::Error::other(format!(
                "PRIME_HANDLE_TO_FD succeeded with fd {}",
                arg.fd
            )));
        }
        // SAFETY: on success the kernel installed a new descriptor in this process for us; no one
        // else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(arg.fd) })
    }

    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: imports a dma-buf; returns the handle in this file.
    pub fn prime_import(&self, fd: BorrowedFd<'_>) -> io::Result<u32> {
        Ok(drm_ffi::gem::fd_to_handle(self.as_fd(), fd)?.handle)
    }

    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE` with any descriptor number, for the negative tests.
    ///
    /// Not through drm-ffi, which takes only descriptors that are open (a `BorrowedFd`).
    pub fn prime_import_raw(&self, fd: i32) -> io::Result<u32> {
        let mut arg = drm_ffi::drm_prime_handle {
            fd,
            ..Default::default()
        };
        // SAFETY: DRM_IOCTL_PRIME_FD_TO_HANDLE takes a struct drm_prime_handle.
        unsafe {
            ioctl(
                self.as_fd(),
                uapi::NOVA_TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE,
                &mut arg,
            )
        }?;
        Ok(arg.handle)
    }

    /// `DRM_IOCTL_MODE_CREATE_DUMB` (primary nodes only: the DRM core refuses it on render
    /// nodes).
    pub fn create_dumb(
        &self,
        width: u32,
        height: u32,
        bpp: u32,
    ) -> io::Result<drm_ffi::drm_mode_create_dumb> {
        drm_ffi::mode::dumbbuffer::create(self.as_fd(), width, height, bpp, 0)
    }

    /// `DRM_IOCTL_MODE_MAP_DUMB`: the mmap offset of a dumb buffer.
    pub fn map_dumb(&self, handle: u32) -> io::Result<u64> {
        Ok(drm_ffi::mode::dumbbuffer::map(self.as_fd(), handle, 0, 0)?.offset)
    }

    /// `DRM_IOCTL_MODE_GETRESOURCES`, for the counts and limits only (no id arrays).
    pub fn mode_resources(&self) -> io::Result<drm_ffi::drm_mode_card_res> {
        drm_ffi::mode::get_resources(self.as_fd(), None, None, None, None)
    }

    /// `DRM_IOCTL_MODE_ADDFB2` of a single-plane framebuffer; returns its id.
    pub fn add_fb2(
        &self,
        width: u32,
        height: u32,
        format: u32,
        handle: u32,
        pitch: u32,
    ) -> io::Result<u32> {
        let fb = drm_ffi::mode::add_fb2(
            self.as_fd(),
            width,
            height,
            format,
            &[handle, 0, 0, 0],
            &[pitch, 0, 0, 0],
            &[0; 4],
            &[0; 4],
            0,
        )?;
        Ok(fb.fb_id)
    }

    /// `DRM_IOCTL_MODE_RMFB`.
    pub fn rm_fb(&self, fb_id: u32) -> io::Result<()> {
        drm_ffi::mode::rm_fb(self.as_fd(), fb_id)
    }

    /// Maps `len` bytes of this file at `offset`, shared and read-write.
    pub fn mmap(&self, offset: u64, len: usize) -> io::Result<Mapping> {
        Mapping::new(self.file.as_fd(), offset, len)
    }
}

impl AsFd for Node {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// A shared, read-write memory mapping of a file, unmapped on drop.
///
/// The memory may be shared with other mappings of the same object (in this process or another),
/// so it is only accessed through raw pointers, never lent out as a Rust slice.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// mmap()s `len` bytes of `fd` at `offset` with `PROT_READ | PROT_WRITE` and `MAP_SHARED`.
    pub fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<Mapping> {
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a new mapping at an address of the kernel's choosing; it aliases no Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                off,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        match NonNull::new(ptr.cast::<u8>()) {
            Some(ptr) => Ok(Mapping { ptr, len }),
            None => Err(io::Error::other("mmap returned address 0")),
        }
    }

    /// The mapping's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    fn check(&self, offset: usize, len: usize) -> io::Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "range {offset:#x}+{len:#x} outside a mapping of {:#x}",
                    self.len
                ),
            )),
        }
    }

    /// Copies `data` into the mapping at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        self.check(offset, data.len())?;
        // SAFETY: the range is inside the live mapping (checked above), which is writable and
        // cannot overlap `data` (a Rust object, never inside a `Mapping`).
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len())
        };
        Ok(())
    }

    /// Copies from the mapping at `offset` into `buf`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        self.check(offset, buf.len())?;
        // SAFETY: as in `write`, with the direction reversed.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        Ok(())
    }

    /// Reads the whole mapping.
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; self.len];
        self.read(0, &mut buf)?;
        Ok(buf)
    }

    /// Sets `len` bytes at `offset` to `byte` (a memset).
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> io::Result<()> {
        self.check(offset, len)?;
        // SAFETY: the range is inside the live, writable mapping.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(offset), byte, len) };
        Ok(())
    }

    /// Writes one byte at `offset` with a volatile store, so that the access (and the page fault
    /// it may cause) really happens.
    pub fn touch(&self, offset: usize, byte: u8) -> io::Result<()> {
        self.check(offset, 1)?;
        // SAFETY: the byte is inside the live, writable mapping.
        unsafe { std::ptr::write_volatile(self.ptr.as_ptr().add(offset), byte) };
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is this mapping, created by mmap() and not yet unmapped; no reference
        // into it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// The system's page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

/// The DRM nodes in `dir` whose file names start with `prefix` ("renderD", "card") and whose
/// driver is `driver`.
pub fn find_nodes(dir: &Path, prefix: &str, driver: &str) -> Vec<Node> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .collect(),
        Err(_) => return Vec::new(),
    };
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| Node::open(&p).ok())
        .filter(|n| n.version().is_ok_and(|v| v.name == driver))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use drm_ffi::drm_sys::{DRM_COMMAND_BASE, DRM_IOCTL_BASE};
    use drm_ffi::{
        drm_gem_close, drm_mode_card_res, drm_mode_create_dumb, drm_mode_fb_cmd2,
        drm_mode_map_dumb, drm_prime_handle, drm_version,
    };
    use rustix::ioctl::opcode;
    use std::mem::size_of;

    // Each ioctl number below comes from the installed headers, as the C compiler evaluates
    // their macros (nova's in nova_drm.h, the generic ones through uapi.h). These tests check
    // that the structure the client passes with it, nova's generated one or drm-ffi's, is the
    // one the number encodes: `_IOWR('d', nr, struct)` (or `_IOW`, `_IOR`) rebuilt with the
    // number's own `nr` gives the number back. The layouts themselves are the C layout test's
    // (scripts/nova/uapi/nova_drm_test.c).

    /// `_IOC_NR(request)`.
    fn nr(request: u32) -> u8 {
        u8::try_from(request & 0xff).unwrap()
    }

    /// `_IOWR('d', _IOC_NR(request), T)`.
    fn iowr<T>(request: u32) -> u32 {
        opcode::read_write::<T>(DRM_IOCTL_BASE, nr(request))
    }

    /// The nova ioctls: `DRM_COMMAND_BASE + DRM_NOVA_*`, read-write but GPU_NAME (read-only:
    /// the kernel only writes the name).
    #[test]
    fn ioctl_numbers_match_the_kernel_encoding() {
        let getparam = uapi::DRM_IOCTL_NOVA_GETPARAM;
        assert_eq!(getparam, iowr::<NovaGetparam>(getparam));
        assert_eq!(
            u32::from(nr(getparam)),
            DRM_COMMAND_BASE + uapi::DRM_NOVA_GETPARAM
        );
        let query = uapi::DRM_IOCTL_NOVA_QUERY;
        assert_eq!(query, iowr::<NovaQuery>(query));
        assert_eq!(
            u32::from(nr(query)),
            DRM_COMMAND_BASE + uapi::DRM_NOVA_QUERY
        );
        let name = uapi::DRM_IOCTL_NOVA_GPU_NAME;
        assert_eq!(
            name,
            opcode::read::<uapi::drm_nova_gpu_name>(DRM_IOCTL_BASE, nr(name))
        );
        assert_eq!(
            u32::from(nr(name)),
            DRM_COMMAND_BASE + uapi::DRM_NOVA_GPU_NAME
        );
    }

    /// The generic ioctls with drm-ffi's structures: version, GEM close (write-only), PRIME,
    /// dumb buffers.
    #[test]
    fn core_ioctl_numbers_match_the_kernel_encoding() {
        use uapi::*;
        let close = NOVA_TEST_DRM_IOCTL_GEM_CLOSE;
        assert_eq!(
            close,
            opcode::write::<drm_gem_close>(DRM_IOCTL_BASE, nr(close))
        );
        let version = NOVA_TEST_DRM_IOCTL_VERSION;
        assert_eq!(version, iowr::<drm_version>(version));
        let export = NOVA_TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD;
        assert_eq!(export, iowr::<drm_prime_handle>(export));
        let import = NOVA_TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE;
        assert_eq!(import, iowr::<drm_prime_handle>(import));
        let create = NOVA_TEST_DRM_IOCTL_MODE_CREATE_DUMB;
        assert_eq!(create, iowr::<drm_mode_create_dumb>(create));
        let map = NOVA_TEST_DRM_IOCTL_MODE_MAP_DUMB;
        assert_eq!(map, iowr::<drm_mode_map_dumb>(map));
    }

    /// The mode-setting ioctls and the pixel format of the KMS checks.
    #[test]
    fn kms_ioctl_numbers_match_the_kernel_encoding() {
        use uapi::*;
        let res = NOVA_TEST_DRM_IOCTL_MODE_GETRESOURCES;
        assert_eq!(res, iowr::<drm_mode_card_res>(res));
        // Its argument is a framebuffer id, an unsigned int.
        let rmfb = NOVA_TEST_DRM_IOCTL_MODE_RMFB;
        assert_eq!(rmfb, iowr::<u32>(rmfb));
        let addfb2 = NOVA_TEST_DRM_IOCTL_MODE_ADDFB2;
        assert_eq!(addfb2, iowr::<drm_mode_fb_cmd2>(addfb2));
        // drm-fourcc's code and drm_fourcc.h's fourcc_code('X', 'R', '2', '4').
        assert_eq!(DRM_FORMAT_XRGB8888, NOVA_TEST_DRM_FORMAT_XRGB8888);
    }

    #[test]
    fn nova_gem_ioctl_numbers_match_the_kernel_encoding() {
        let create = uapi::DRM_IOCTL_NOVA_GEM_CREATE;
        assert_eq!(create, iowr::<NovaGemCreate>(create));
        assert_eq!(
            u32::from(nr(create)),
            DRM_COMMAND_BASE + uapi::DRM_NOVA_GEM_CREATE
        );
        let info = uapi::DRM_IOCTL_NOVA_GEM_INFO;
        assert_eq!(info, iowr::<NovaGemInfo>(info));
        assert_eq!(
            u32::from(nr(info)),
            DRM_COMMAND_BASE + uapi::DRM_NOVA_GEM_INFO
        );
    }

    /// Upstream's numbers are the encoding of upstream's structures, and GEM_CREATE's is ours:
    /// the same number and the same layout. GEM_INFO shares the command number and differs in
    /// size only (nova appends the mmap offset), which the DRM core bridges.
    #[test]
    fn upstream_numbers_match_upstream_layouts() {
        use super::upstream;
        let create = upstream::DRM_IOCTL_NOVA_GEM_CREATE;
        assert_eq!(create, iowr::<upstream::GemCreate>(create));
        assert_eq!(create, uapi::DRM_IOCTL_NOVA_GEM_CREATE);
        assert_eq!(size_of::<upstream::GemCreate>(), size_of::<NovaGemCreate>());
        assert_eq!(
            std::mem::offset_of!(upstream::GemCreate, size),
            std::mem::offset_of!(NovaGemCreate, size)
        );
        assert_eq!(
            std::mem::offset_of!(upstream::GemCreate, handle),
            std::mem::offset_of!(NovaGemCreate, handle)
        );
        let info = upstream::DRM_IOCTL_NOVA_GEM_INFO;
        assert_eq!(info, iowr::<upstream::GemInfo>(info));
        assert_eq!(nr(info), nr(uapi::DRM_IOCTL_NOVA_GEM_INFO));
        assert_eq!(
            std::mem::offset_of!(upstream::GemInfo, size),
            std::mem::offset_of!(NovaGemInfo, size)
        );
    }

    /// Every structure the client passes has the size its ioctl number encodes, which is what
    /// `ioctl()` checks before each call it makes.
    #[test]
    fn struct_layouts_match_the_kernel() {
        macro_rules! check {
            ($($request:ident: $ty:ty),* $(,)?) => {
                $(assert_eq!(ioc_size(uapi::$request), size_of::<$ty>(), stringify!($request));)*
            };
        }
        check!(
            DRM_IOCTL_NOVA_GETPARAM: NovaGetparam,
            DRM_IOCTL_NOVA_GEM_CREATE: NovaGemCreate,
            DRM_IOCTL_NOVA_GEM_INFO: NovaGemInfo,
            DRM_IOCTL_NOVA_GPU_NAME: uapi::drm_nova_gpu_name,
            DRM_IOCTL_NOVA_QUERY: NovaQuery,
            NOVA_TEST_DRM_IOCTL_VERSION: drm_version,
            NOVA_TEST_DRM_IOCTL_GEM_CLOSE: drm_gem_close,
            NOVA_TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD: drm_prime_handle,
            NOVA_TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE: drm_prime_handle,
            NOVA_TEST_DRM_IOCTL_MODE_CREATE_DUMB: drm_mode_create_dumb,
            NOVA_TEST_DRM_IOCTL_MODE_MAP_DUMB: drm_mode_map_dumb,
            NOVA_TEST_DRM_IOCTL_MODE_GETRESOURCES: drm_mode_card_res,
            // Its argument is a framebuffer id, an unsigned int.
            NOVA_TEST_DRM_IOCTL_MODE_RMFB: u32,
            NOVA_TEST_DRM_IOCTL_MODE_ADDFB2: drm_mode_fb_cmd2,
        );
        let mut arg = NovaGetparam::default();
        let file = File::open("/dev/null").unwrap();
        // SAFETY: the size check refuses the call before any ioctl is made.
        let refused = unsafe { ioctl(file.as_fd(), uapi::DRM_IOCTL_NOVA_GEM_INFO, &mut arg) };
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::Other);
    }

    #[test]
    fn prime_flags_match_the_kernel() {
        // DRM_CLOEXEC is O_CLOEXEC and DRM_RDWR is O_RDWR (drm.h).
        assert_eq!(i64::from(DRM_CLOEXEC), i64::from(libc::O_CLOEXEC));
        assert_eq!(i64::from(DRM_RDWR), i64::from(libc::O_RDWR));
    }

    #[test]
    fn mapping_of_anonymous_memory_round_trips_and_is_bounds_checked() {
        let ps = page_size();
        // A memfd stands in for a DRM file: same mmap() path, same Mapping type.
        // SAFETY: the name is a valid C string; memfd_create has no other preconditions.
        let fd = unsafe { libc::memfd_create(c"nova-test".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: fd is a new descriptor that we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let file = File::from(fd);
        file.set_len(2 * ps as u64).unwrap();
        let m = Mapping::new(file.as_fd(), 0, 2 * ps).unwrap();
        m.write(ps - 2, &[1, 2, 3, 4]).unwrap();
        m.touch(0, 9).unwrap();
        let m2 = Mapping::new(file.as_fd(), 0, 2 * ps).unwrap();
        let mut buf = [0u8; 4];
        m2.read(ps - 2, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
        assert_eq!(m2.read_all().unwrap()[0], 9);
        assert!(m.write(2 * ps - 1, &[0, 0]).is_err());
        assert!(m.read(usize::MAX, &mut buf).is_err());
        assert!(m.touch(2 * ps, 0).is_err());
        m.fill(0, 2 * ps, 0xa5).unwrap();
        assert!(m2.read_all().unwrap().iter().all(|&b| b == 0xa5));
        // Mapping past the end of a memfd works (SIGBUS on access), but an offset that does not
        // fit off_t is refused before the syscall.
        assert_eq!(
            Mapping::new(file.as_fd(), !0xfff_u64, ps)
                .err()
                .and_then(|e| e.raw_os_error()),
            Some(libc::EINVAL)
        );
    }
}
