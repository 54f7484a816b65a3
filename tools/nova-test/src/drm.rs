// SPDX-License-Identifier: GPL-2.0

//! A thin wrapper over the DRM and nova ioctls the tests use, with the
//! structures laid out as in `include/uapi/drm/drm.h` and `nova_drm.h`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;
const DRM_IOCTL_BASE: u64 = b'd' as u64;
/// First driver-specific ioctl number.
pub const DRM_COMMAND_BASE: u64 = 0x40;

/// `_IOWR('d', nr, size)` as the kernel's ioctl.h encodes it.
pub const fn drm_iowr(nr: u64, size: usize) -> u64 {
    ((IOC_READ | IOC_WRITE) << 30) | ((size as u64) << 16) | (DRM_IOCTL_BASE << 8) | nr
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

/// `struct drm_nova_getparam`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct NovaGetparam {
    /// In: the parameter.
    pub param: u64,
    /// Out: its value.
    pub value: u64,
}

/// `DRM_IOCTL_VERSION`.
pub const DRM_IOCTL_VERSION: u64 = drm_iowr(0x00, std::mem::size_of::<DrmVersion>());
/// `DRM_IOCTL_NOVA_GETPARAM`.
pub const DRM_IOCTL_NOVA_GETPARAM: u64 =
    drm_iowr(DRM_COMMAND_BASE, std::mem::size_of::<NovaGetparam>());

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

/// An open DRM node.
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

    #[test]
    fn ioctl_numbers_match_the_kernel_encoding() {
        // DRM_IOCTL_VERSION is 0xc0406400 on 64-bit kernels (drm.h, struct of 64 bytes).
        assert_eq!(DRM_IOCTL_VERSION, 0xc040_6400);
        // DRM_IOWR(0x40, 16 bytes).
        assert_eq!(DRM_IOCTL_NOVA_GETPARAM, 0xc010_6440);
        assert_eq!(std::mem::size_of::<NovaGetparam>(), 16);
    }
}
