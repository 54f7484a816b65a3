// SPDX-License-Identifier: GPL-2.0

//! Checks of nova's KMS device: the card node's mode configuration, which has display limits but
//! no display pipes, and framebuffers made of nova's GEM objects.

use std::path::Path;

use crate::drm::{Node, DRM_FORMAT_XRGB8888};
use crate::gem::{describe, Check};
use crate::report::Report;

/// The framebuffer size limits nova reports: those of the display engine of Fermi and later
/// (drivers/gpu/drm/nova/driver.rs, after nouveau_display.c).
const MAX_SIZE: u32 = 16384;

/// Runs the KMS checks on the nova card node at `card`.
pub fn run(card: &Path, report: &mut Report) {
    let c = match Node::open(card) {
        Ok(c) => c,
        Err(e) => {
            report.check(
                "kms-open",
                Err(format!("open {}: {}", card.display(), describe(&e))),
            );
            return;
        }
    };
    report.check("kms-resources", resources(&c));
    report.check("kms-framebuffer", framebuffer(&c));
    report.check("kms-framebuffer-limits", framebuffer_limits(&c));
}

/// GETRESOURCES succeeds, with no CRTCs, encoders or connectors and the hardware's limits.
fn resources(c: &Node) -> Check {
    let r = c
        .mode_resources()
        .map_err(|e| format!("MODE_GETRESOURCES: {}", describe(&e)))?;
    if r.count_crtcs != 0 || r.count_encoders != 0 || r.count_connectors != 0 {
        return Err(format!(
            "expected no display pipes, got {} CRTCs, {} encoders, {} connectors",
            r.count_crtcs, r.count_encoders, r.count_connectors
        ));
    }
    if r.count_fbs != 0 {
        return Err(format!("a new file has {} framebuffers", r.count_fbs));
    }
    if (r.min_width, r.max_width, r.min_height, r.max_height) != (0, MAX_SIZE, 0, MAX_SIZE) {
        return Err(format!(
            "limits {}..{} x {}..{}, expected 0..{MAX_SIZE} x 0..{MAX_SIZE}",
            r.min_width, r.max_width, r.min_height, r.max_height
        ));
    }
    Ok(())
}

/// A framebuffer of a dumb buffer and one of a GEM_CREATE object are accepted, counted in the
/// file's resources and removed again.
fn framebuffer(c: &Node) -> Check {
    let d = c
        .create_dumb(64, 32, 32)
        .map_err(|e| format!("MODE_CREATE_DUMB: {}", describe(&e)))?;
    let (h, _) = c
        .gem_create(64 * 4 * 32)
        .map_err(|e| format!("GEM_CREATE: {}", describe(&e)))?;
    let result = (|| {
        let fb1 = c
            .add_fb2(64, 32, DRM_FORMAT_XRGB8888, d.handle, d.pitch)
            .map_err(|e| format!("ADDFB2 of the dumb buffer: {}", describe(&e)))?;
        let fb2 = c
            .add_fb2(64, 32, DRM_FORMAT_XRGB8888, h, 64 * 4)
            .map_err(|e| format!("ADDFB2 of the GEM_CREATE object: {}", describe(&e)))?;
        let n = c
            .mode_resources()
            .map_err(|e| format!("MODE_GETRESOURCES: {}", describe(&e)))?
            .count_fbs;
        c.rm_fb(fb1)
            .map_err(|e| format!("RMFB {fb1}: {}", describe(&e)))?;
        c.rm_fb(fb2)
            .map_err(|e| format!("RMFB {fb2}: {}", describe(&e)))?;
        let left = c
            .mode_resources()
            .map_err(|e| format!("MODE_GETRESOURCES: {}", describe(&e)))?
            .count_fbs;
        if n != 2 || left != 0 {
            return Err(format!(
                "{n} framebuffers after two ADDFB2, {left} after removing them"
            ));
        }
        Ok(())
    })();
    let closed = c
        .gem_close(d.handle)
        .and_then(|()| c.gem_close(h))
        .map_err(|e| format!("GEM_CLOSE: {}", describe(&e)));
    result.and(closed)
}

/// A framebuffer wider than the limit, or larger than its object, is refused with EINVAL.
fn framebuffer_limits(c: &Node) -> Check {
    // One line of MAX_SIZE + 1 pixels: the object is large enough, the width is not allowed.
    let pitch = (MAX_SIZE + 1) * 4;
    let (h, _) = c
        .gem_create(u64::from(pitch))
        .map_err(|e| format!("GEM_CREATE: {}", describe(&e)))?;
    let wide = c.add_fb2(MAX_SIZE + 1, 1, DRM_FORMAT_XRGB8888, h, pitch);
    // 64 lines of a one-line object.
    let tall = c.add_fb2(64, 64, DRM_FORMAT_XRGB8888, h, pitch);
    let closed = c
        .gem_close(h)
        .map_err(|e| format!("GEM_CLOSE: {}", describe(&e)));
    for (what, r) in [("too wide", wide), ("larger than its object", tall)] {
        match r {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(format!("ADDFB2 {what}: {}, expected EINVAL", describe(&e))),
            Ok(fb) => {
                let _ = c.rm_fb(fb);
                return Err(format!("ADDFB2 {what} succeeded"));
            }
        }
    }
    closed
}
