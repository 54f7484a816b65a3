// SPDX-License-Identifier: GPL-2.0

//! A thin, libdrm-like wrapper over the DRM and nova ioctls the tests use, with the structures
//! laid out as in `include/uapi/drm/drm.h`, `drm_mode.h` and `nova_drm.h`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;
const DRM_IOCTL_BASE: u64 = b'd' as u64;
/// First driver-specific ioctl number.
pub const DRM_COMMAND_BASE: u64 = 0x40;

/// `_IOC(dir, 'd', nr, size)` as the kernel's asm-generic/ioctl.h encodes it.
const fn drm_ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (DRM_IOCTL_BASE << 8) | nr
}

/// `_IOWR('d', nr, size)`.
pub const fn drm_iowr(nr: u64, size: usize) -> u64 {
    drm_ioc(IOC_READ | IOC_WRITE, nr, size)
}

/// `_IOW('d', nr, size)`.
pub const fn drm_iow(nr: u64, size: usize) -> u64 {
    drm_ioc(IOC_WRITE, nr, size)
}

/// `_IOR('d', nr, size)`.
pub const fn drm_ior(nr: u64, size: usize) -> u64 {
    drm_ioc(IOC_READ, nr, size)
}

/// `struct drm_version`.
#[repr(C)]
#[derive(Default)]
struct DrmVersion {
    version_major: i32,
    version_minor: i32,
    version_patchlevel: i32,
    name_len: usize,
    name: usize,
    date_len: usize,
    date: usize,
    desc_len: usize,
    desc: usize,
}

/// `struct drm_gem_close`.
#[repr(C)]
#[derive(Default)]
struct GemClose {
    handle: u32,
    pad: u32,
}

/// `struct drm_prime_handle`.
#[repr(C)]
#[derive(Default)]
struct PrimeHandle {
    handle: u32,
    flags: u32,
    fd: i32,
}

/// `struct drm_mode_create_dumb`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct ModeCreateDumb {
    /// In: height in pixels.
    pub height: u32,
    /// In: width in pixels.
    pub width: u32,
    /// In: bits per pixel.
    pub bpp: u32,
    /// In: flags (none defined).
    pub flags: u32,
    /// Out: the new object's handle.
    pub handle: u32,
    /// Out: bytes per line.
    pub pitch: u32,
    /// Out: the object's size in bytes.
    pub size: u64,
}

/// `struct drm_mode_map_dumb`.
#[repr(C)]
#[derive(Default)]
struct ModeMapDumb {
    handle: u32,
    pad: u32,
    offset: u64,
}

/// `struct drm_mode_card_res`: the KMS resources of a device and its framebuffer size limits.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct ModeCardRes {
    /// In: user pointer to an array of `count_fbs` framebuffer ids (0: don't copy).
    pub fb_id_ptr: u64,
    /// In: user pointer for the CRTC ids.
    pub crtc_id_ptr: u64,
    /// In: user pointer for the connector ids.
    pub connector_id_ptr: u64,
    /// In: user pointer for the encoder ids.
    pub encoder_id_ptr: u64,
    /// Out: the number of framebuffers of this file.
    pub count_fbs: u32,
    /// Out: the number of CRTCs.
    pub count_crtcs: u32,
    /// Out: the number of connectors.
    pub count_connectors: u32,
    /// Out: the number of encoders.
    pub count_encoders: u32,
    /// Out: the smallest framebuffer width.
    pub min_width: u32,
    /// Out: the largest framebuffer width.
    pub max_width: u32,
    /// Out: the smallest framebuffer height.
    pub min_height: u32,
    /// Out: the largest framebuffer height.
    pub max_height: u32,
}

/// `struct drm_mode_fb_cmd2`: a framebuffer made of GEM objects.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct ModeFbCmd2 {
    /// Out: the new framebuffer's id.
    pub fb_id: u32,
    /// In: width in pixels.
    pub width: u32,
    /// In: height in pixels.
    pub height: u32,
    /// In: the fourcc pixel format.
    pub pixel_format: u32,
    /// In: `DRM_MODE_FB_*` flags.
    pub flags: u32,
    /// In: the GEM handle of each plane.
    pub handles: [u32; 4],
    /// In: bytes per line of each plane.
    pub pitches: [u32; 4],
    /// In: byte offset of each plane in its object.
    pub offsets: [u32; 4],
    /// In: format modifiers (with `DRM_MODE_FB_MODIFIERS`).
    pub modifier: [u64; 4],
}

/// `DRM_FORMAT_XRGB8888` (drm_fourcc.h): `fourcc_code('X', 'R', '2', '4')`.
pub const DRM_FORMAT_XRGB8888: u32 = u32::from_le_bytes(*b"XR24");

/// `struct drm_nova_getparam`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct NovaGetparam {
    /// In: the parameter.
    pub param: u64,
    /// Out: its value.
    pub value: u64,
}

/// `struct drm_nova_gem_create`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct NovaGemCreate {
    /// In: the size in bytes; out: the size the kernel used (whole pages).
    pub size: u64,
    /// In: creation flags (none defined; must be 0).
    pub flags: u32,
    /// Out: the new object's handle.
    pub handle: u32,
}

/// `struct drm_nova_gem_info`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct NovaGemInfo {
    /// In: the object's handle.
    pub handle: u32,
    /// Must be zero.
    pub pad: u32,
    /// Out: the object's size in bytes.
    pub size: u64,
    /// Out: the offset to mmap() the object at on this file.
    pub mmap_offset: u64,
}

/// `DRM_IOCTL_VERSION`.
pub const DRM_IOCTL_VERSION: u64 = drm_iowr(0x00, std::mem::size_of::<DrmVersion>());
/// `DRM_IOCTL_GEM_CLOSE`.
pub const DRM_IOCTL_GEM_CLOSE: u64 = drm_iow(0x09, std::mem::size_of::<GemClose>());
/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`.
pub const DRM_IOCTL_PRIME_HANDLE_TO_FD: u64 = drm_iowr(0x2d, std::mem::size_of::<PrimeHandle>());
/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`.
pub const DRM_IOCTL_PRIME_FD_TO_HANDLE: u64 = drm_iowr(0x2e, std::mem::size_of::<PrimeHandle>());
/// `DRM_IOCTL_MODE_CREATE_DUMB`.
pub const DRM_IOCTL_MODE_CREATE_DUMB: u64 = drm_iowr(0xb2, std::mem::size_of::<ModeCreateDumb>());
/// `DRM_IOCTL_MODE_MAP_DUMB`.
pub const DRM_IOCTL_MODE_MAP_DUMB: u64 = drm_iowr(0xb3, std::mem::size_of::<ModeMapDumb>());
/// `DRM_IOCTL_MODE_GETRESOURCES`.
pub const DRM_IOCTL_MODE_GETRESOURCES: u64 = drm_iowr(0xa0, std::mem::size_of::<ModeCardRes>());
/// `DRM_IOCTL_MODE_RMFB` (its argument is a framebuffer id, an `unsigned int`).
pub const DRM_IOCTL_MODE_RMFB: u64 = drm_iowr(0xaf, std::mem::size_of::<u32>());
/// `DRM_IOCTL_MODE_ADDFB2`.
pub const DRM_IOCTL_MODE_ADDFB2: u64 = drm_iowr(0xb8, std::mem::size_of::<ModeFbCmd2>());
/// `DRM_IOCTL_NOVA_GETPARAM`.
pub const DRM_IOCTL_NOVA_GETPARAM: u64 =
    drm_iowr(DRM_COMMAND_BASE, std::mem::size_of::<NovaGetparam>());
/// `DRM_IOCTL_NOVA_GEM_CREATE`.
pub const DRM_IOCTL_NOVA_GEM_CREATE: u64 = drm_iowr(
    DRM_COMMAND_BASE + 0x01,
    std::mem::size_of::<NovaGemCreate>(),
);
/// `DRM_IOCTL_NOVA_GEM_INFO`.
pub const DRM_IOCTL_NOVA_GEM_INFO: u64 =
    drm_iowr(DRM_COMMAND_BASE + 0x02, std::mem::size_of::<NovaGemInfo>());

/// `struct drm_nova_gpu_name`.
#[repr(C)]
pub struct NovaGpuName {
    /// Out: the GPU's name, NUL-terminated, the rest zeroed.
    pub name: [u8; 64],
}

/// `DRM_IOCTL_NOVA_GPU_NAME`.
pub const DRM_IOCTL_NOVA_GPU_NAME: u64 =
    drm_ior(DRM_COMMAND_BASE + 0x03, std::mem::size_of::<NovaGpuName>());

/// `DRM_CLOEXEC`, a `drm_prime_handle` flag: the dma-buf fd is close-on-exec.
pub const DRM_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
/// `DRM_RDWR`, a `drm_prime_handle` flag: the dma-buf fd may be mapped writable.
pub const DRM_RDWR: u32 = libc::O_RDWR as u32;

/// The NOVA_GETPARAM_* parameters.
pub mod param {
    /// BAR1 size in bytes.
    pub const VRAM_BAR_SIZE: u64 = 0x1;
    /// Chipset code.
    pub const CHIPSET: u64 = 0x2;
    /// Architecture code.
    pub const ARCHITECTURE: u64 = 0x3;
    /// Stepping.
    pub const REVISION: u64 = 0x4;
    /// PCI device id.
    pub const PCI_DEVICE_ID: u64 = 0x5;
    /// VRAM size in bytes, from GSP-RM.
    pub const VRAM_SIZE: u64 = 0x6;
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

fn ioctl<T>(file: &File, request: u64, arg: &mut T) -> io::Result<()> {
    loop {
        // SAFETY: `arg` is a live, exclusively borrowed value of the type the request encodes.
        let ret = unsafe { libc::ioctl(file.as_raw_fd(), request as _, arg as *mut T) };
        if ret == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) && err.raw_os_error() != Some(libc::EAGAIN) {
            return Err(err);
        }
    }
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
        let mut v = DrmVersion::default();
        ioctl(&self.file, DRM_IOCTL_VERSION, &mut v)?;
        let mut name = vec![0u8; v.name_len];
        let mut desc = vec![0u8; v.desc_len];
        let mut date = vec![0u8; v.date_len];
        v.name = name.as_mut_ptr() as usize;
        v.desc = desc.as_mut_ptr() as usize;
        v.date = date.as_mut_ptr() as usize;
        ioctl(&self.file, DRM_IOCTL_VERSION, &mut v)?;
        name.truncate(v.name_len);
        desc.truncate(v.desc_len);
        Ok(Version {
            major: v.version_major,
            minor: v.version_minor,
            name: String::from_utf8_lossy(&name).into_owned(),
            desc: String::from_utf8_lossy(&desc).into_owned(),
        })
    }

    /// The first call of `DRM_IOCTL_VERSION` alone (no buffers, the kernel only reports the
    /// lengths); returns the name's length. The benchmark's reference ioctl.
    pub fn version_lengths(&self) -> io::Result<usize> {
        let mut v = DrmVersion::default();
        ioctl(&self.file, DRM_IOCTL_VERSION, &mut v)?;
        Ok(v.name_len)
    }

    /// `DRM_IOCTL_NOVA_GETPARAM` with a caller-built argument, so that tests can check what the
    /// kernel leaves in it on error.
    pub fn getparam_raw(&self, arg: &mut NovaGetparam) -> io::Result<()> {
        ioctl(&self.file, DRM_IOCTL_NOVA_GETPARAM, arg)
    }

    /// `DRM_IOCTL_NOVA_GETPARAM`.
    pub fn getparam(&self, param: u64) -> io::Result<u64> {
        let mut arg = NovaGetparam { param, value: 0 };
        self.getparam_raw(&mut arg)?;
        Ok(arg.value)
    }

    /// `DRM_IOCTL_NOVA_GEM_CREATE` with a caller-built argument.
    pub fn gem_create_raw(&self, arg: &mut NovaGemCreate) -> io::Result<()> {
        ioctl(&self.file, DRM_IOCTL_NOVA_GEM_CREATE, arg)
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

    /// `DRM_IOCTL_NOVA_GPU_NAME`: the whole 64-byte array the kernel filled in (pre-filled
    /// with 0x5a, so that a test sees what the kernel left alone).
    pub fn gpu_name_raw(&self) -> io::Result<[u8; 64]> {
        let mut arg = NovaGpuName { name: [0x5a; 64] };
        ioctl(&self.file, DRM_IOCTL_NOVA_GPU_NAME, &mut arg)?;
        Ok(arg.name)
    }

    /// `DRM_IOCTL_NOVA_GEM_INFO` with a caller-built argument.
    pub fn gem_info_raw(&self, arg: &mut NovaGemInfo) -> io::Result<()> {
        ioctl(&self.file, DRM_IOCTL_NOVA_GEM_INFO, arg)
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
        let mut arg = GemClose { handle, pad: 0 };
        ioctl(&self.file, DRM_IOCTL_GEM_CLOSE, &mut arg)
    }

    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: exports an object as a dma-buf.
    pub fn prime_export(&self, handle: u32, flags: u32) -> io::Result<OwnedFd> {
        let mut arg = PrimeHandle {
            handle,
            flags,
            fd: -1,
        };
        ioctl(&self.file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &mut arg)?;
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
        self.prime_import_raw(fd.as_raw_fd())
    }

    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE` with any descriptor number, for the negative tests.
    pub fn prime_import_raw(&self, fd: i32) -> io::Result<u32> {
        let mut arg = PrimeHandle {
            handle: 0,
            flags: 0,
            fd,
        };
        ioctl(&self.file, DRM_IOCTL_PRIME_FD_TO_HANDLE, &mut arg)?;
        Ok(arg.handle)
    }

    /// `DRM_IOCTL_MODE_CREATE_DUMB` (primary nodes only: the DRM core refuses it on render
    /// nodes).
    pub fn create_dumb(&self, width: u32, height: u32, bpp: u32) -> io::Result<ModeCreateDumb> {
        let mut arg = ModeCreateDumb {
            width,
            height,
            bpp,
            ..Default::default()
        };
        ioctl(&self.file, DRM_IOCTL_MODE_CREATE_DUMB, &mut arg)?;
        Ok(arg)
    }

    /// `DRM_IOCTL_MODE_MAP_DUMB`: the mmap offset of a dumb buffer.
    pub fn map_dumb(&self, handle: u32) -> io::Result<u64> {
        let mut arg = ModeMapDumb {
            handle,
            ..Default::default()
        };
        ioctl(&self.file, DRM_IOCTL_MODE_MAP_DUMB, &mut arg)?;
        Ok(arg.offset)
    }

    /// `DRM_IOCTL_MODE_GETRESOURCES`, for the counts and limits only (no id arrays).
    pub fn mode_resources(&self) -> io::Result<ModeCardRes> {
        let mut arg = ModeCardRes::default();
        ioctl(&self.file, DRM_IOCTL_MODE_GETRESOURCES, &mut arg)?;
        Ok(arg)
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
        let mut arg = ModeFbCmd2 {
            width,
            height,
            pixel_format: format,
            handles: [handle, 0, 0, 0],
            pitches: [pitch, 0, 0, 0],
            ..Default::default()
        };
        ioctl(&self.file, DRM_IOCTL_MODE_ADDFB2, &mut arg)?;
        Ok(arg.fb_id)
    }

    /// `DRM_IOCTL_MODE_RMFB`.
    pub fn rm_fb(&self, fb_id: u32) -> io::Result<()> {
        let mut arg = fb_id;
        ioctl(&self.file, DRM_IOCTL_MODE_RMFB, &mut arg)
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
    use std::mem::{align_of, offset_of, size_of};

    // The expected values were printed by a C program built against the kernel's
    // include/uapi/drm/{drm.h,drm_mode.h} (linux 7.3.4) and include/uapi/drm/nova_drm.h on x86_64.

    #[test]
    fn ioctl_numbers_match_the_kernel_encoding() {
        // DRM_IOCTL_VERSION is 0xc0406400 on 64-bit kernels (drm.h, struct of 64 bytes).
        assert_eq!(DRM_IOCTL_VERSION, 0xc040_6400);
        // DRM_IOWR(0x40, 16 bytes).
        assert_eq!(DRM_IOCTL_NOVA_GETPARAM, 0xc010_6440);
        assert_eq!(std::mem::size_of::<NovaGetparam>(), 16);
        // DRM_IOR(0x43, 64 bytes): the kernel only writes the name.
        assert_eq!(DRM_IOCTL_NOVA_GPU_NAME, 0x8040_6443);
    }

    #[test]
    fn core_ioctl_numbers_match_the_kernel_encoding() {
        // DRM_IOW(0x09, struct drm_gem_close): write-only, 8 bytes.
        assert_eq!(DRM_IOCTL_GEM_CLOSE, 0x4008_6409);
        // DRM_IOWR(0x2d / 0x2e, struct drm_prime_handle): 12 bytes.
        assert_eq!(DRM_IOCTL_PRIME_HANDLE_TO_FD, 0xc00c_642d);
        assert_eq!(DRM_IOCTL_PRIME_FD_TO_HANDLE, 0xc00c_642e);
        // DRM_IOWR(0xB2, struct drm_mode_create_dumb): 32 bytes.
        assert_eq!(DRM_IOCTL_MODE_CREATE_DUMB, 0xc020_64b2);
        // DRM_IOWR(0xB3, struct drm_mode_map_dumb): 16 bytes.
        assert_eq!(DRM_IOCTL_MODE_MAP_DUMB, 0xc010_64b3);
    }

    #[test]
    fn kms_ioctl_numbers_match_the_kernel_encoding() {
        // DRM_IOWR(0xA0, struct drm_mode_card_res): 64 bytes.
        assert_eq!(DRM_IOCTL_MODE_GETRESOURCES, 0xc040_64a0);
        // DRM_IOWR(0xAF, unsigned int).
        assert_eq!(DRM_IOCTL_MODE_RMFB, 0xc004_64af);
        // DRM_IOWR(0xB8, struct drm_mode_fb_cmd2): 104 bytes.
        assert_eq!(DRM_IOCTL_MODE_ADDFB2, 0xc068_64b8);
        // fourcc_code('X', 'R', '2', '4').
        assert_eq!(DRM_FORMAT_XRGB8888, 0x3432_5258);
    }

    #[test]
    fn nova_gem_ioctl_numbers_match_the_kernel_encoding() {
        // DRM_IOWR(DRM_COMMAND_BASE + 0x01, struct drm_nova_gem_create): 16 bytes.
        assert_eq!(DRM_IOCTL_NOVA_GEM_CREATE, 0xc010_6441);
        // DRM_IOWR(DRM_COMMAND_BASE + 0x02, struct drm_nova_gem_info): 24 bytes.
        assert_eq!(DRM_IOCTL_NOVA_GEM_INFO, 0xc018_6442);
    }

    #[test]
    fn struct_layouts_match_the_kernel() {
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(size_of::<GemClose>(), 8);
        assert_eq!(size_of::<PrimeHandle>(), 12);
        assert_eq!(align_of::<PrimeHandle>(), 4);
        assert_eq!(offset_of!(PrimeHandle, fd), 8);
        assert_eq!(size_of::<ModeCreateDumb>(), 32);
        assert_eq!(offset_of!(ModeCreateDumb, handle), 16);
        assert_eq!(offset_of!(ModeCreateDumb, pitch), 20);
        assert_eq!(offset_of!(ModeCreateDumb, size), 24);
        assert_eq!(size_of::<ModeMapDumb>(), 16);
        assert_eq!(offset_of!(ModeMapDumb, offset), 8);
        assert_eq!(size_of::<ModeCardRes>(), 64);
        assert_eq!(offset_of!(ModeCardRes, count_fbs), 32);
        assert_eq!(offset_of!(ModeCardRes, min_width), 48);
        assert_eq!(offset_of!(ModeCardRes, max_height), 60);
        assert_eq!(size_of::<ModeFbCmd2>(), 104);
        assert_eq!(offset_of!(ModeFbCmd2, handles), 20);
        assert_eq!(offset_of!(ModeFbCmd2, offsets), 52);
        assert_eq!(offset_of!(ModeFbCmd2, modifier), 72);
        assert_eq!(size_of::<NovaGemCreate>(), 16);
        assert_eq!(offset_of!(NovaGemCreate, size), 0);
        assert_eq!(offset_of!(NovaGemCreate, flags), 8);
        assert_eq!(offset_of!(NovaGemCreate, handle), 12);
        assert_eq!(size_of::<NovaGemInfo>(), 24);
        assert_eq!(offset_of!(NovaGemInfo, handle), 0);
        assert_eq!(offset_of!(NovaGemInfo, pad), 4);
        assert_eq!(offset_of!(NovaGemInfo, size), 8);
        assert_eq!(offset_of!(NovaGemInfo, mmap_offset), 16);
    }

    #[test]
    fn prime_flags_match_the_kernel() {
        // DRM_CLOEXEC is O_CLOEXEC and DRM_RDWR is O_RDWR (drm.h); x86_64 values.
        assert_eq!(DRM_CLOEXEC, 0x80000);
        assert_eq!(DRM_RDWR, 0x2);
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
