// SPDX-License-Identifier: GPL-2.0

//! The GEM, mmap and PRIME uAPI checks: nova_drm.h's "nova GEM objects", plus the DRM core
//! ioctls that act on them (GEM_CLOSE, PRIME_HANDLE_TO_FD, PRIME_FD_TO_HANDLE).
//!
//! Where the errno comes from the DRM core rather than from nova, the comment at the check names
//! the kernel function that returns it (linux 7.3).

use std::fmt::Debug;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::drm::{self, param, Mapping, Node, NovaGemCreate, NovaGemInfo, DRM_CLOEXEC, DRM_RDWR};
use crate::report::Report;

/// A check's outcome: `Err` carries the reason.
pub type Check = Result<(), String>;

const MIB: u64 = 1 << 20;
/// The uid and gid of "nobody", which the unprivileged checks run as.
const NOBODY: u32 = 65534;
/// The flags every export uses: a close-on-exec fd that can be mapped writable.
const EXPORT_FLAGS: u32 = DRM_CLOEXEC | DRM_RDWR;

/// An errno's symbolic name, for messages.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOTTY => "ENOTTY",
        libc::EFBIG => "EFBIG",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => "E?",
    }
}

/// An I/O error with its errno's name: "EINVAL (Invalid argument (os error 22))".
pub fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{} ({e})", errno_name(n)),
        None => e.to_string(),
    }
}

/// Turns an I/O error into a check failure that says what failed.
pub trait Ctx<T> {
    /// Prefixes the error with `what`.
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T> Ctx<T> for io::Result<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {}", describe(&e)))
    }
}

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Check {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

/// Expects `r` to have failed with `want`.
fn expect_errno<T: Debug>(what: &str, r: io::Result<T>, want: i32) -> Check {
    match r {
        Ok(v) => Err(format!(
            "{what} succeeded ({v:?}), expected {}",
            errno_name(want)
        )),
        Err(e) if e.raw_os_error() == Some(want) => Ok(()),
        Err(e) => Err(format!(
            "{what}: expected {}, got {}",
            errno_name(want),
            describe(&e)
        )),
    }
}

/// A seed that differs from run to run (for patterns and random offsets).
pub fn random_seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15
}

/// `len` pseudo-random bytes determined by `seed` (xorshift64).
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Compares `got` with `want`, naming the first difference.
fn same(what: &str, got: &[u8], want: &[u8]) -> Check {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} bytes, expected {}",
            got.len(),
            want.len()
        ));
    }
    match got.iter().zip(want).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{what}: byte {i:#x} is {:#04x}, expected {:#04x}",
            got[i], want[i]
        )),
    }
}

fn write_pattern(m: &Mapping, seed: u64) -> Check {
    m.write(0, &pattern(seed, m.len()))
        .ctx("writing the pattern through the mapping")
}

fn expect_pattern(what: &str, m: &Mapping, seed: u64) -> Check {
    let got = m.read_all().ctx(what)?;
    same(what, &got, &pattern(seed, m.len()))
}

fn to_usize(v: u64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{v:#x} does not fit usize"))
}

/// A handle in one DRM file, closed when dropped (errors ignored; `close` reports them).
struct Gem<'a> {
    node: &'a Node,
    handle: u32,
    /// The size the kernel reported (GEM_CREATE's written-back size, GEM_INFO's or the dumb
    /// buffer's).
    size: u64,
}

impl<'a> Gem<'a> {
    /// GEM_CREATE.
    fn new(node: &'a Node, size: u64) -> Result<Gem<'a>, String> {
        let (handle, size_out) = node
            .gem_create(size)
            .ctx(&format!("GEM_CREATE of {size:#x} bytes"))?;
        Ok(Gem {
            node,
            handle,
            size: size_out,
        })
    }

    /// PRIME_FD_TO_HANDLE, then GEM_INFO for the size.
    fn import(node: &'a Node, fd: BorrowedFd<'_>) -> Result<Gem<'a>, String> {
        let handle = node.prime_import(fd).ctx("PRIME_FD_TO_HANDLE")?;
        let mut gem = Gem {
            node,
            handle,
            size: 0,
        };
        gem.size = gem.info()?.size;
        Ok(gem)
    }

    /// Takes over a handle made elsewhere (a dumb buffer).
    fn adopt(node: &'a Node, handle: u32, size: u64) -> Gem<'a> {
        Gem { node, handle, size }
    }

    fn info(&self) -> Result<NovaGemInfo, String> {
        self.node
            .gem_info(self.handle)
            .ctx(&format!("GEM_INFO of handle {}", self.handle))
    }

    /// GEM_INFO, then an mmap() of the whole object.
    fn map(&self) -> Result<Mapping, String> {
        let info = self.info()?;
        self.node
            .mmap(info.mmap_offset, to_usize(info.size)?)
            .ctx(&format!(
                "mmap of {:#x} bytes at offset {:#x}",
                info.size, info.mmap_offset
            ))
    }

    fn export(&self) -> Result<std::os::fd::OwnedFd, String> {
        self.node
            .prime_export(self.handle, EXPORT_FLAGS)
            .ctx(&format!("PRIME_HANDLE_TO_FD of handle {}", self.handle))
    }

    /// GEM_CLOSE, reporting its error.
    fn close(self) -> Check {
        let (node, handle) = (self.node, self.handle);
        std::mem::forget(self);
        node.gem_close(handle)
            .ctx(&format!("GEM_CLOSE of handle {handle}"))
    }
}

impl Drop for Gem<'_> {
    fn drop(&mut self) {
        let _ = self.node.gem_close(self.handle);
    }
}

/// Opens a new DRM file of `path`.
fn open(path: &Path) -> Result<Node, String> {
    Node::open(path).ctx(&format!("open {}", path.display()))
}

/// The dma-buf (device, inode) behind a descriptor: two descriptors of one dma-buf share it.
fn file_id(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    // SAFETY: stat is plain old data; fstat fills it in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open and `st` is writable.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.st_dev, st.st_ino))
}

/// Runs the suite against the nova render node `render` (and its primary node `card`).
pub fn run(render: &Node, card: Option<&Node>, report: &mut Report) {
    let path = render.path().to_owned();
    let ps = drm::page_size() as u64;
    // A file of the suite's own, so that handle numbers are not shared with other checks.
    let a = match open(&path) {
        Ok(a) => a,
        Err(e) => {
            report.check("gem-open", Err(e));
            return;
        }
    };

    // Creation and its written-back size.
    report.check("gem-create-rounds-up", create_rounds_up(&a, ps));
    report.check("gem-create-exact", create_exact(&a, ps));
    report.check("gem-info", info(&a, ps));
    report.check("gem-close", close(&a, ps));
    // drm_gem_close_ioctl() returns drm_gem_handle_delete()'s -EINVAL for a handle that is not
    // (or no longer) in the file (drivers/gpu/drm/drm_gem.c).
    report.check("gem-close-twice", close_twice(&a, ps));

    // Sizes: 0, and sizes that cannot be a whole number of pages or an object at all.
    for (name, size) in [
        ("gem-create-size-zero", 0),
        ("gem-create-size-u64-max", u64::MAX),
        ("gem-create-size-2pow63", 1 << 63),
        ("gem-create-size-rounding-overflow", u64::MAX - ps + 2),
    ] {
        report.check(name, create_fails(&a, size, 0, libc::EINVAL));
    }
    report.check("gem-create-pad", create_pad(&a, ps));
    report.check("gem-upstream-layout", upstream_layout(&a, ps));
    report.check("gem-info-pad", info_pad(&a, ps));
    for bad in [0u32, 0xdead_beef] {
        report.check(
            &format!("gem-info-bad-handle-{bad:#x}"),
            expect_errno("GEM_INFO", a.gem_info(bad), libc::ENOENT),
        );
        // drm_gem_handle_delete(): -EINVAL (drm_gem.c).
        report.check(
            &format!("gem-close-bad-handle-{bad:#x}"),
            expect_errno("GEM_CLOSE", a.gem_close(bad), libc::EINVAL),
        );
    }
    report.check("gem-info-other-file", info_other_file(&a, &path, ps));
    report.check("files-isolated", files_isolated(&a, &path, ps));

    // mmap() failures: none of these touches memory.
    report.check("mmap-other-file-denied", mmap_other_file(&a, &path, ps));
    report.check("mmap-beyond-size", mmap_beyond_size(&a, ps));
    report.check("mmap-inside-offset", mmap_inside_offset(&a, ps));
    report.check("mmap-unregistered-offset", mmap_unregistered(&a, ps));
    report.check("mmap-after-close", mmap_after_close(&a, ps));

    // PRIME failures.
    report.check("prime-negative", prime_negative(&a, ps));

    // Everything that reads or writes a mapping runs in a child process: a fault the kernel
    // cannot serve kills it with SIGBUS, which then fails one group instead of the whole run.
    report.isolated("mmap-suite", |r| {
        let a = match open(&path) {
            Ok(a) => a,
            Err(e) => return r.check("mmap-open", Err(e)),
        };
        r.check("mmap-zero-filled", mmap_zero_filled(&a, ps));
        r.check("mmap-round-trip", mmap_round_trip(&a, ps));
        r.check("mmap-partial", mmap_partial(&a, ps));
        r.check("mmap-coherent", mmap_coherent(&a, ps));
        r.check("mmap-outlives-handle", mmap_outlives_handle(&a, ps));
    });
    report.isolated("prime-suite", |r| {
        let a = match open(&path) {
            Ok(a) => a,
            Err(e) => return r.check("prime-open", Err(e)),
        };
        prime_sharing(&a, &path, ps, r);
        r.check("prime-keeps-object-alive", prime_keeps_alive(&a, &path, ps));
    });
    report.isolated("vgem-suite", |r| {
        let a = match open(&path) {
            Ok(a) => a,
            Err(e) => return r.check("vgem-open", Err(e)),
        };
        let vgem = drm::find_nodes(Path::new(crate::DRI), "card", "vgem");
        // vgem makes objects only with MODE_CREATE_DUMB and MAP_DUMB, which the DRM core does not
        // allow on render nodes (drm_ioctl.c: no DRM_RENDER_ALLOW, so drm_ioctl_permit() says
        // -EACCES): use vgem's primary node.
        let Some(vgem) = vgem.first() else {
            let why = "no vgem primary node (driver \"vgem\") in /dev/dri".to_owned();
            r.check("prime-import-vgem", Err(why.clone()));
            r.check("prime-export-to-vgem", Err(why));
            return;
        };
        r.check("prime-import-vgem", prime_import_vgem(&a, vgem));
        r.check(
            "prime-import-vgem-repeated",
            prime_import_vgem_repeated(&a, vgem),
        );
        r.check("prime-export-to-vgem", prime_export_to_vgem(&a, vgem, ps));
    });
    // Objects the DRM core creates through the shmem helper rather than nova's GEM_CREATE: dumb
    // buffers on the card node.
    match card {
        Some(card) => {
            let card_path = card.path().to_owned();
            report.isolated("dumb-suite", |r| {
                let (c, a) = match (open(&card_path), open(&path)) {
                    (Ok(c), Ok(a)) => (c, a),
                    (Err(e), _) | (_, Err(e)) => return r.check("dumb-open", Err(e)),
                };
                r.check("dumb-buffer-gem-info-mmap", dumb_buffer(&c, ps));
                r.check("dumb-buffer-prime-to-render", dumb_to_render(&c, &a));
            });
        }
        None => println!("nova-test: skip dumb-suite: no nova primary node"),
    }

    unprivileged(render, card, report);
}

fn create_rounds_up(a: &Node, ps: u64) -> Check {
    let o1 = Gem::new(a, 1)?;
    let o2 = Gem::new(a, ps + 1)?;
    ensure(o1.handle != 0 && o2.handle != 0, || {
        format!("handle 0 returned ({}, {})", o1.handle, o2.handle)
    })?;
    ensure(o1.handle != o2.handle, || {
        format!("two objects got handle {}", o1.handle)
    })?;
    ensure(o1.size == ps, || {
        format!(
            "size 1 was written back as {:#x}, expected {ps:#x}",
            o1.size
        )
    })?;
    ensure(o2.size == 2 * ps, || {
        format!(
            "size {:#x} was written back as {:#x}, expected {:#x}",
            ps + 1,
            o2.size,
            2 * ps
        )
    })?;
    o1.close()?;
    o2.close()
}

fn create_exact(a: &Node, ps: u64) -> Check {
    for size in [ps, MIB] {
        let o = Gem::new(a, size)?;
        ensure(o.size == size, || {
            format!("size {size:#x} was written back as {:#x}", o.size)
        })?;
        o.close()?;
    }
    Ok(())
}

fn info(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, 3 * ps)?;
    let i = o.info()?;
    ensure(i.handle == o.handle && i.pad == 0, || {
        format!("GEM_INFO changed its inputs: {i:?}")
    })?;
    ensure(i.size == 3 * ps, || {
        format!("size {:#x}, expected {:#x}", i.size, 3 * ps)
    })?;
    ensure(i.mmap_offset != 0, || "mmap offset 0".to_owned())?;
    ensure(i.mmap_offset % ps == 0, || {
        format!("mmap offset {:#x} is not page-aligned", i.mmap_offset)
    })?;
    let again = o.info()?;
    ensure(
        again.mmap_offset == i.mmap_offset && again.size == i.size,
        || format!("second GEM_INFO says {again:?}, first {i:?}"),
    )?;
    let o2 = Gem::new(a, ps)?;
    let i2 = o2.info()?;
    let disjoint =
        i2.mmap_offset >= i.mmap_offset + i.size || i.mmap_offset >= i2.mmap_offset + i2.size;
    ensure(disjoint, || {
        format!("mmap ranges overlap: {i:?} and {i2:?}")
    })?;
    o2.close()?;
    o.close()
}

fn close(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let h = o.handle;
    o.close()?;
    expect_errno("GEM_INFO after GEM_CLOSE", a.gem_info(h), libc::ENOENT)
}

fn close_twice(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let h = o.handle;
    o.close()?;
    expect_errno("second GEM_CLOSE", a.gem_close(h), libc::EINVAL)
}

/// Expects GEM_CREATE of `size` with `pad` to fail with `want`.
fn create_fails(a: &Node, size: u64, pad: u32, want: i32) -> Check {
    let mut arg = NovaGemCreate {
        size,
        pad,
        handle: 0,
    };
    match a.gem_create_raw(&mut arg) {
        Ok(()) => {
            let _ = a.gem_close(arg.handle);
            Err(format!(
                "size {size:#x} pad {pad:#x}: created handle {} of {:#x} bytes, expected {}",
                arg.handle,
                arg.size,
                errno_name(want)
            ))
        }
        Err(e) if e.raw_os_error() == Some(want) => Ok(()),
        Err(e) => Err(format!(
            "size {size:#x} pad {pad:#x}: expected {}, got {}",
            errno_name(want),
            describe(&e)
        )),
    }
}

/// Every nonzero `pad` is refused: it holds no flags.
fn create_pad(a: &Node, ps: u64) -> Check {
    for bit in 0..32 {
        create_fails(a, ps, 1 << bit, libc::EINVAL)?;
    }
    create_fails(a, ps, u32::MAX, libc::EINVAL)
}

/// A program built against upstream nova's header: its GEM_CREATE structure (handle, pad, size)
/// under upstream's number creates an object of the size it asked for and returns its handle,
/// and upstream's shorter GEM_INFO reports that size.
fn upstream_layout(a: &Node, ps: u64) -> Check {
    let want = 3 * ps;
    let mut arg = drm::upstream::GemCreate {
        // Filled with a value the kernel must overwrite, as garbage in an uninitialised field.
        handle: 0xdead_beef,
        pad: 0,
        size: want - 1,
    };
    a.upstream_gem_create(&mut arg)
        .ctx("upstream-layout GEM_CREATE")?;
    let o = Gem {
        node: a,
        handle: arg.handle,
        size: arg.size,
    };
    ensure(arg.handle != 0xdead_beef && arg.handle != 0, || {
        format!(
            "upstream-layout GEM_CREATE returned handle {:#x}",
            arg.handle
        )
    })?;
    ensure(arg.size == want && arg.pad == 0, || {
        format!(
            "upstream-layout GEM_CREATE of {:#x} bytes: size {:#x} pad {:#x}, expected {want:#x}, 0",
            want - 1,
            arg.size,
            arg.pad
        )
    })?;
    let i = o.info()?;
    ensure(i.size == want, || {
        format!(
            "GEM_INFO of the upstream-layout object: {:#x} bytes, expected {want:#x}",
            i.size
        )
    })?;
    let mut up = drm::upstream::GemInfo {
        handle: arg.handle,
        ..Default::default()
    };
    a.upstream_gem_info(&mut up)
        .ctx("upstream-layout GEM_INFO")?;
    ensure(
        up.handle == arg.handle && up.size == want && up.pad == 0,
        || format!("upstream-layout GEM_INFO: {up:?}, expected size {want:#x}"),
    )?;
    let mut bad = drm::upstream::GemCreate {
        handle: 0,
        pad: 1,
        size: ps,
    };
    expect_errno(
        "upstream-layout GEM_CREATE with pad 1",
        a.upstream_gem_create(&mut bad).map(|()| bad),
        libc::EINVAL,
    )?;
    o.close()
}

fn info_pad(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    for pad in [1, 0x8000_0000] {
        let mut arg = NovaGemInfo {
            handle: o.handle,
            pad,
            ..Default::default()
        };
        expect_errno(
            &format!("GEM_INFO with pad {pad:#x}"),
            a.gem_info_raw(&mut arg).map(|()| arg),
            libc::EINVAL,
        )?;
    }
    o.close()
}

fn info_other_file(a: &Node, path: &Path, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let b = open(path)?;
    expect_errno(
        &format!("GEM_INFO in another file of handle {}", o.handle),
        b.gem_info(o.handle),
        libc::ENOENT,
    )?;
    o.close()
}

fn files_isolated(a: &Node, path: &Path, ps: u64) -> Check {
    let xs = [
        Gem::new(a, 2 * ps)?,
        Gem::new(a, 2 * ps)?,
        Gem::new(a, 2 * ps)?,
    ];
    // A new file has no handles: each of A's numbers is unknown there.
    let b = open(path)?;
    for x in &xs {
        let h = x.handle;
        expect_errno(
            &format!("B: GEM_INFO of A's handle {h}"),
            b.gem_info(h),
            libc::ENOENT,
        )?;
        // drm_gem_handle_delete(): -EINVAL (drm_gem.c).
        expect_errno(
            &format!("B: GEM_CLOSE of A's handle {h}"),
            b.gem_close(h),
            libc::EINVAL,
        )?;
        // drm_gem_prime_handle_to_dmabuf(): -ENOENT (drm_prime.c).
        expect_errno(
            &format!("B: PRIME_HANDLE_TO_FD of A's handle {h}"),
            b.prime_export(h, EXPORT_FLAGS),
            libc::ENOENT,
        )?;
    }
    // B's own objects take handle numbers that A uses too; each file sees its own object.
    let ys = [Gem::new(&b, 3 * ps)?, Gem::new(&b, 3 * ps)?];
    for y in &ys {
        let yi = y.info()?;
        ensure(yi.size == 3 * ps, || {
            format!(
                "B: handle {} has size {:#x}, expected {:#x}",
                y.handle,
                yi.size,
                3 * ps
            )
        })?;
    }
    // B's failed closes left A's objects alone.
    for x in &xs {
        let xi = x.info()?;
        ensure(xi.size == 2 * ps, || {
            format!(
                "A: handle {} has size {:#x}, expected {:#x}",
                x.handle,
                xi.size,
                2 * ps
            )
        })?;
    }
    for g in ys.into_iter().chain(xs) {
        g.close()?;
    }
    Ok(())
}

fn mmap_other_file(a: &Node, path: &Path, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let i = o.info()?;
    let b = open(path)?;
    // drm_gem_object_lookup_at_offset(): the offset exists but B has no handle to the object
    // (drm_vma_node_is_allowed()), -EACCES (drm_gem.c).
    expect_errno(
        &format!("B: mmap of A's offset {:#x}", i.mmap_offset),
        b.mmap(i.mmap_offset, to_usize(ps)?).map(|m| m.len()),
        libc::EACCES,
    )?;
    o.close()
}

fn mmap_beyond_size(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, 2 * ps)?;
    let i = o.info()?;
    // drm_gem_object_lookup_at_offset(): no object spans the range, -EINVAL (drm_gem.c).
    expect_errno(
        &format!("mmap of {:#x} bytes of a {:#x}-byte object", 3 * ps, i.size),
        a.mmap(i.mmap_offset, to_usize(3 * ps)?).map(|m| m.len()),
        libc::EINVAL,
    )?;
    o.close()
}

fn mmap_inside_offset(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, 2 * ps)?;
    let i = o.info()?;
    // The lookup is exact on the start (drm_vma_offset_exact_lookup_locked()): -EINVAL.
    expect_errno(
        &format!(
            "mmap at offset {:#x} (second page of the object)",
            i.mmap_offset + ps
        ),
        a.mmap(i.mmap_offset + ps, to_usize(ps)?).map(|m| m.len()),
        libc::EINVAL,
    )?;
    o.close()
}

fn mmap_unregistered(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let i = o.info()?;
    // Far above the few objects this run creates (the DRM offset space spans 2^40 bytes from
    // 4 GiB), at a page that changes from run to run.
    let off = i.mmap_offset + (1 << 36) + (random_seed() % (1 << 20)) * ps;
    expect_errno(
        &format!("mmap at unregistered offset {off:#x}"),
        a.mmap(off, to_usize(ps)?).map(|m| m.len()),
        libc::EINVAL,
    )?;
    o.close()
}

fn mmap_after_close(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, ps)?;
    let i = o.info()?;
    o.close()?;
    // The last reference is gone, so is the object's offset: -EINVAL.
    expect_errno(
        &format!("mmap at offset {:#x} of a closed object", i.mmap_offset),
        a.mmap(i.mmap_offset, to_usize(ps)?).map(|m| m.len()),
        libc::EINVAL,
    )
}

fn prime_negative(a: &Node, ps: u64) -> Check {
    // drm_gem_prime_handle_to_dmabuf(): unknown handle, -ENOENT (drm_prime.c).
    expect_errno(
        "PRIME_HANDLE_TO_FD of handle 0xdeadbeef",
        a.prime_export(0xdead_beef, EXPORT_FLAGS),
        libc::ENOENT,
    )?;
    let o = Gem::new(a, ps)?;
    // drm_prime_handle_to_fd_ioctl(): flags other than DRM_CLOEXEC | DRM_RDWR, -EINVAL.
    expect_errno(
        "PRIME_HANDLE_TO_FD with flags 0x1",
        a.prime_export(o.handle, 0x1),
        libc::EINVAL,
    )?;
    // dma_buf_get(): a descriptor that is not a dma-buf, -EINVAL; no descriptor, -EBADF
    // (drivers/dma-buf/dma-buf.c).
    expect_errno(
        "PRIME_FD_TO_HANDLE of the DRM file's own fd",
        a.prime_import(a.as_fd()),
        libc::EINVAL,
    )?;
    expect_errno(
        "PRIME_FD_TO_HANDLE of fd -1",
        a.prime_import_raw(-1),
        libc::EBADF,
    )?;
    o.close()
}

fn mmap_zero_filled(a: &Node, ps: u64) -> Check {
    let o = Gem::new(a, 16 * ps)?;
    let m = o.map()?;
    let got = m.read_all().ctx("reading a new object")?;
    if let Some(i) = got.iter().position(|&b| b != 0) {
        return Err(format!("new object: byte {i:#x} is {:#04x}, not 0", got[i]));
    }
    drop(m);
    o.close()
}

fn mmap_round_trip(a: &Node, ps: u64) -> Check {
    let seed = random_seed();
    let o = Gem::new(a, 16 * ps)?;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    drop(m);
    let m = o.map()?;
    expect_pattern("second mapping", &m, seed)?;
    drop(m);
    o.close()
}

fn mmap_partial(a: &Node, ps: u64) -> Check {
    let seed = random_seed();
    let o = Gem::new(a, 4 * ps)?;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    let i = o.info()?;
    let first = a
        .mmap(i.mmap_offset, to_usize(ps)?)
        .ctx("mmap of the first page alone")?;
    let mut got = vec![0u8; first.len()];
    first.read(0, &mut got).ctx("reading the first page")?;
    same(
        "first page",
        &got,
        &pattern(seed, to_usize(4 * ps)?)[..got.len()],
    )?;
    drop((first, m));
    o.close()
}

fn mmap_coherent(a: &Node, ps: u64) -> Check {
    let seed = random_seed();
    let o = Gem::new(a, 4 * ps)?;
    let m1 = o.map()?;
    let m2 = o.map()?;
    write_pattern(&m1, seed)?;
    expect_pattern("second of two live mappings", &m2, seed)?;
    write_pattern(&m2, !seed)?;
    expect_pattern("first of two live mappings", &m1, !seed)?;
    drop((m1, m2));
    o.close()
}

fn mmap_outlives_handle(a: &Node, ps: u64) -> Check {
    let seed = random_seed();
    let o = Gem::new(a, 4 * ps)?;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    let h = o.handle;
    o.close()?;
    expect_errno("GEM_INFO after GEM_CLOSE", a.gem_info(h), libc::ENOENT)?;
    // The mapping holds the object.
    expect_pattern("mapping after GEM_CLOSE", &m, seed)?;
    write_pattern(&m, !seed)?;
    expect_pattern("mapping after GEM_CLOSE, rewritten", &m, !seed)
}

/// The PRIME checks on one object shared between files of the nova device.
fn prime_sharing(a: &Node, path: &Path, ps: u64, r: &mut Report) {
    let seed = random_seed();
    let setup = || -> Result<(Gem<'_>, Mapping), String> {
        let o = Gem::new(a, 8 * ps)?;
        let m = o.map()?;
        write_pattern(&m, seed)?;
        Ok((o, m))
    };
    let (o, m) = match setup() {
        Ok(x) => x,
        Err(e) => {
            for name in [
                "prime-export",
                "prime-self-import",
                "prime-reexport-same-dmabuf",
                "prime-import-other-file",
                "prime-dmabuf-mmap",
            ] {
                r.check(name, Err(format!("setup: {e}")));
            }
            return;
        }
    };

    let fd = o.export();
    r.check(
        "prime-export",
        fd.as_ref().map_err(Clone::clone).and_then(|fd| {
            // SAFETY: F_GETFD on an open descriptor.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            ensure(flags >= 0 && flags & libc::FD_CLOEXEC != 0, || {
                format!("dma-buf fd flags {flags:#x}: DRM_CLOEXEC did not set FD_CLOEXEC")
            })
        }),
    );
    let Ok(fd) = fd else {
        let why = "no dma-buf (prime-export failed)".to_owned();
        for name in [
            "prime-self-import",
            "prime-reexport-same-dmabuf",
            "prime-import-other-file",
            "prime-dmabuf-mmap",
        ] {
            r.check(name, Err(why.clone()));
        }
        return;
    };

    // drm_gem_prime_fd_to_handle() finds the dma-buf in the file's own PRIME table.
    r.check(
        "prime-self-import",
        a.prime_import(fd.as_fd())
            .ctx("PRIME_FD_TO_HANDLE in the exporting file")
            .and_then(|h| {
                if h == o.handle {
                    return Ok(());
                }
                let _ = a.gem_close(h);
                Err(format!(
                    "import gave handle {h}, the object's is {}",
                    o.handle
                ))
            }),
    );

    // drm_gem_prime_handle_to_dmabuf() hands out the object's one dma-buf again.
    r.check(
        "prime-reexport-same-dmabuf",
        (|| {
            let fd2 = o.export()?;
            let id1 = file_id(fd.as_fd()).ctx("fstat")?;
            let id2 = file_id(fd2.as_fd()).ctx("fstat")?;
            ensure(id1 == id2, || {
                format!("second export is another dma-buf: {id1:?} vs {id2:?}")
            })
        })(),
    );

    r.check(
        "prime-import-other-file",
        (|| {
            let b = open(path)?;
            let ob = Gem::import(&b, fd.as_fd())?;
            ensure(ob.size == o.size, || {
                format!("imported size {:#x}, exported {:#x}", ob.size, o.size)
            })?;
            let mb = ob.map()?;
            expect_pattern("B's mapping of the import", &mb, seed)?;
            write_pattern(&mb, !seed)?;
            expect_pattern("A's mapping after B wrote", &m, !seed)?;
            write_pattern(&m, seed)?;
            drop(mb);
            ob.close()
        })(),
    );

    r.check(
        "prime-dmabuf-mmap",
        (|| {
            let seed = random_seed();
            write_pattern(&m, seed)?;
            let md =
                Mapping::new(fd.as_fd(), 0, to_usize(o.size)?).ctx("mmap of the dma-buf fd")?;
            expect_pattern("dma-buf mapping", &md, seed)
        })(),
    );
    drop(m);
    let _ = o.close();
}

fn prime_keeps_alive(a: &Node, path: &Path, ps: u64) -> Check {
    let seed = random_seed();
    let o = Gem::new(a, 8 * ps)?;
    let size = o.size;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    drop(m);
    let fd = o.export()?;
    let h = o.handle;
    o.close()?;
    expect_errno("GEM_INFO after GEM_CLOSE", a.gem_info(h), libc::ENOENT)?;
    // Only the dma-buf holds the object now.
    let c = open(path)?;
    let oc = Gem::import(&c, fd.as_fd())?;
    ensure(oc.size == size, || {
        format!("imported size {:#x}, exported {size:#x}", oc.size)
    })?;
    let mc = oc.map()?;
    expect_pattern("mapping of the re-imported object", &mc, seed)?;
    drop(mc);
    oc.close()
}

fn prime_import_vgem(a: &Node, vgem: &Node) -> Check {
    let seed = random_seed();
    // 1024 x 16 pixels of 32 bits: 64 KiB.
    let d = vgem
        .create_dumb(1024, 16, 32)
        .ctx("vgem MODE_CREATE_DUMB 1024x16x32")?;
    let vo = Gem::adopt(vgem, d.handle, d.size);
    let off = vgem.map_dumb(d.handle).ctx("vgem MODE_MAP_DUMB")?;
    let vm = vgem
        .mmap(off, to_usize(d.size)?)
        .ctx(&format!("vgem mmap of {:#x} bytes at {off:#x}", d.size))?;
    write_pattern(&vm, seed)?;
    let fd = vgem
        .prime_export(vo.handle, EXPORT_FLAGS)
        .ctx("vgem PRIME_HANDLE_TO_FD")?;
    let no = Gem::import(a, fd.as_fd())?;
    ensure(no.size == d.size, || {
        format!("nova sees size {:#x}, vgem made {:#x}", no.size, d.size)
    })?;
    let nm = no.map()?;
    expect_pattern("nova's mapping of vgem's buffer", &nm, seed)?;
    write_pattern(&nm, !seed)?;
    expect_pattern("vgem's mapping after nova wrote", &vm, !seed)?;
    drop((nm, vm));
    no.close()?;
    vo.close()
}

/// Imports and closes vgem buffers many times: each import is an object the DRM core allocates
/// through nova's `gem_create_object` callback and frees through nova's GEM free callback, so
/// KASAN sees any disagreement about its type or size.
fn prime_import_vgem_repeated(a: &Node, vgem: &Node) -> Check {
    for i in 0..32u32 {
        let d = vgem
            .create_dumb(256, 1 + i % 4, 32)
            .ctx("vgem MODE_CREATE_DUMB")?;
        let vo = Gem::adopt(vgem, d.handle, d.size);
        let fd = vgem
            .prime_export(vo.handle, EXPORT_FLAGS)
            .ctx("vgem PRIME_HANDLE_TO_FD")?;
        let no = Gem::import(a, fd.as_fd())?;
        let info = no.info()?;
        ensure(info.size == d.size && info.mmap_offset != 0, || {
            format!(
                "import {i}: GEM_INFO size {:#x} offset {:#x}, vgem made {:#x}",
                info.size, info.mmap_offset, d.size
            )
        })?;
        no.close()?;
        vo.close()?;
    }
    Ok(())
}

/// A dumb buffer on nova's card node: the DRM core creates it through the shmem helper, and
/// nova's own GEM_INFO must treat it like one of its objects.
fn dumb_buffer(c: &Node, ps: u64) -> Check {
    let seed = random_seed();
    // 256 x 16 pixels of 32 bits: 16 KiB.
    let d = c
        .create_dumb(256, 16, 32)
        .ctx("nova MODE_CREATE_DUMB 256x16x32")?;
    let o = Gem::adopt(c, d.handle, d.size);
    ensure(
        d.pitch == 1024 && d.size >= 16 * 1024 && d.size % ps == 0,
        || format!("dumb buffer pitch {} size {:#x}", d.pitch, d.size),
    )?;
    let off = c.map_dumb(d.handle).ctx("nova MODE_MAP_DUMB")?;
    let info = o.info()?;
    ensure(info.size == d.size && info.mmap_offset == off, || {
        format!(
            "GEM_INFO says size {:#x} offset {:#x}; CREATE_DUMB/MAP_DUMB said {:#x}/{off:#x}",
            info.size, info.mmap_offset, d.size
        )
    })?;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    let m2 = c
        .mmap(off, to_usize(d.size)?)
        .ctx("second mmap of the dumb buffer")?;
    expect_pattern("second mapping of the dumb buffer", &m2, seed)?;
    drop((m, m2));
    o.close()
}

/// A dumb buffer exported from the card node and imported on the render node is the same object
/// (self-import), with its content.
fn dumb_to_render(c: &Node, a: &Node) -> Check {
    let seed = random_seed();
    let d = c
        .create_dumb(64, 64, 32)
        .ctx("nova MODE_CREATE_DUMB 64x64x32")?;
    let o = Gem::adopt(c, d.handle, d.size);
    let m = o.map()?;
    write_pattern(&m, seed)?;
    let fd = o.export()?;
    let ao = Gem::import(a, fd.as_fd())?;
    ensure(ao.size == d.size, || {
        format!(
            "render node sees size {:#x}, dumb buffer is {:#x}",
            ao.size, d.size
        )
    })?;
    let am = ao.map()?;
    expect_pattern("render node's mapping of the dumb buffer", &am, seed)?;
    drop((m, am));
    ao.close()?;
    o.close()
}

fn prime_export_to_vgem(a: &Node, vgem: &Node, ps: u64) -> Check {
    let o = Gem::new(a, 16 * ps)?;
    let fd = o.export()?;
    // vgem attaches to and maps nova's dma-buf (drm_gem_prime_import_dev()).
    let vh = vgem
        .prime_import(fd.as_fd())
        .ctx("vgem PRIME_FD_TO_HANDLE of nova's dma-buf")?;
    let vo = Gem::adopt(vgem, vh, o.size);
    // Re-exporting an import hands back the original dma-buf.
    let fd2 = vgem
        .prime_export(vo.handle, EXPORT_FLAGS)
        .ctx("vgem PRIME_HANDLE_TO_FD of the import")?;
    let id1 = file_id(fd.as_fd()).ctx("fstat")?;
    let id2 = file_id(fd2.as_fd()).ctx("fstat")?;
    ensure(id1 == id2, || {
        format!("vgem re-exported another dma-buf: {id1:?} vs {id2:?}")
    })?;
    vo.close()?;
    o.close()
}

/// The unprivileged checks: a child running as nobody uses the render node, and cannot open the
/// primary node.
fn unprivileged(render: &Node, card: Option<&Node>, report: &mut Report) {
    let path = render.path().to_owned();
    let chipset = render.getparam(param::CHIPSET);
    let mode = match std::fs::metadata(&path) {
        Ok(md) => md.permissions().mode() & 0o7777,
        Err(e) => {
            report.check(
                "unprivileged",
                Err(format!("stat {}: {}", path.display(), describe(&e))),
            );
            return;
        }
    };
    // devtmpfs creates DRM nodes root-owned with mode 0600; udev's default rules then make render
    // nodes world read-writable (MODE="0666"), which is what lets ordinary users use the GPU.
    // There is no udev in the guest, so do what it would do, here for the render node only.
    if let Err(e) = std::fs::set_permissions(&path, PermissionsExt::from_mode(0o666)) {
        report.check(
            "unprivileged",
            Err(format!("chmod 0666 {}: {}", path.display(), describe(&e))),
        );
        return;
    }

    // The primary node is left as it is: if it is still root's and 0600, nobody cannot open it.
    let card_closed: Option<PathBuf> = card.and_then(|c| {
        let md = std::fs::metadata(c.path()).ok()?;
        (md.uid() == 0 && md.permissions().mode() & 0o777 == 0o600).then(|| c.path().to_owned())
    });
    match (card, &card_closed) {
        (None, _) => println!("nova-test: skip unprivileged-card-denied: no nova primary node"),
        (Some(c), None) => println!(
            "nova-test: skip unprivileged-card-denied: {} is not root's with mode 0600",
            c.path().display()
        ),
        _ => {}
    }

    report.isolated("unprivileged", |r| {
        let dropped = drop_privileges();
        let ok = dropped.is_ok();
        r.check("unprivileged-drop", dropped);
        if !ok {
            // Anything further would run with privileges and prove nothing.
            return;
        }
        let node = Node::open(&path).ctx(&format!("open {} as nobody", path.display()));
        let node = match node {
            Ok(n) => {
                r.check("unprivileged-open-render", Ok(()));
                n
            }
            Err(e) => return r.check("unprivileged-open-render", Err(e)),
        };
        r.check(
            "unprivileged-getparam",
            node.getparam(param::CHIPSET)
                .ctx("GETPARAM CHIPSET")
                .and_then(|v| match &chipset {
                    Ok(want) => {
                        ensure(v == *want, || format!("chipset {v:#x}, root saw {want:#x}"))
                    }
                    Err(e) => Err(format!("root's GETPARAM CHIPSET failed: {}", describe(e))),
                }),
        );
        r.check("unprivileged-gem", unprivileged_gem(&node));
        if let Some(card) = &card_closed {
            r.check(
                "unprivileged-card-denied",
                expect_errno(
                    &format!("open {} as nobody", card.display()),
                    Node::open(card).map(|_| ()),
                    libc::EACCES,
                ),
            );
        }
    });

    if let Err(e) = std::fs::set_permissions(&path, PermissionsExt::from_mode(mode)) {
        report.check(
            "unprivileged-restore-mode",
            Err(format!(
                "chmod {mode:o} {}: {}",
                path.display(),
                describe(&e)
            )),
        );
    }
}

/// setgroups([]), setgid(nobody), setuid(nobody), and check that there is no way back.
fn drop_privileges() -> Check {
    // SAFETY: plain system calls on no memory but a null list of zero groups.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(format!(
                "setgroups([]): {}",
                describe(&io::Error::last_os_error())
            ));
        }
        if libc::setgid(NOBODY) != 0 {
            return Err(format!(
                "setgid({NOBODY}): {}",
                describe(&io::Error::last_os_error())
            ));
        }
        if libc::setuid(NOBODY) != 0 {
            return Err(format!(
                "setuid({NOBODY}): {}",
                describe(&io::Error::last_os_error())
            ));
        }
        let ids = [
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        ];
        ensure(ids.iter().all(|&id| id == NOBODY), || {
            format!("ids are {ids:?} (uid, euid, gid, egid), expected {NOBODY}")
        })?;
        let groups = libc::getgroups(0, std::ptr::null_mut());
        ensure(groups == 0, || {
            format!("{groups} supplementary groups remain")
        })?;
        ensure(libc::setuid(0) != 0, || {
            "setuid(0) succeeded after dropping privileges".to_owned()
        })
    }
}

fn unprivileged_gem(node: &Node) -> Check {
    let seed = random_seed();
    let ps = drm::page_size() as u64;
    let o = Gem::new(node, 4 * ps)?;
    ensure(o.size == 4 * ps, || format!("size {:#x}", o.size))?;
    let m = o.map()?;
    write_pattern(&m, seed)?;
    drop(m);
    let m = o.map()?;
    expect_pattern("second mapping", &m, seed)?;
    drop(m);
    let h = o.handle;
    o.close()?;
    expect_errno("GEM_INFO after GEM_CLOSE", node.gem_info(h), libc::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_isolated_child_drops_to_nobody() {
        // A root-only file stands in for the primary node.
        let secret = std::env::temp_dir().join(format!("nova-test-{}.secret", std::process::id()));
        std::fs::write(&secret, b"x").unwrap();
        std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o600)).unwrap();
        let mut r = Report::default();
        r.isolated("drop", |c| match drop_privileges() {
            Ok(()) => c.check(
                "denied",
                expect_errno(
                    "open as nobody",
                    std::fs::File::open(&secret).map(|_| ()),
                    libc::EACCES,
                ),
            ),
            // Not root, or in a namespace without uid 65534: nothing to check here.
            Err(_) => c.check("cannot-drop", Ok(())),
        });
        std::fs::remove_file(&secret).unwrap();
        assert_eq!(r.counts(), (1, 0));
    }

    #[test]
    fn patterns_depend_on_the_seed_only() {
        assert_eq!(pattern(7, 100), pattern(7, 100));
        assert_ne!(pattern(7, 100), pattern(8, 100));
        assert_eq!(pattern(7, 13), pattern(7, 100)[..13]);
        assert_eq!(pattern(0, 0).len(), 0);
    }

    #[test]
    fn comparisons_name_the_first_difference() {
        assert!(same("x", &[1, 2, 3], &[1, 2, 3]).is_ok());
        let e = same("x", &[1, 2, 3], &[1, 9, 3]).unwrap_err();
        assert!(e.contains("byte 0x1"), "{e}");
        assert!(same("x", &[1], &[1, 2]).is_err());
    }

    #[test]
    fn errno_expectations() {
        let einval = || -> io::Result<()> { Err(io::Error::from_raw_os_error(libc::EINVAL)) };
        assert!(expect_errno("op", einval(), libc::EINVAL).is_ok());
        let e = expect_errno("op", einval(), libc::ENOENT).unwrap_err();
        assert!(e.contains("expected ENOENT, got EINVAL"), "{e}");
        let e = expect_errno("op", Ok(5), libc::ENOENT).unwrap_err();
        assert!(e.contains("succeeded (5)"), "{e}");
    }
}
