// SPDX-License-Identifier: GPL-2.0

//! Checks of nova's KMS device: the card node's mode configuration, which has display limits but
//! no display pipes (no CRTCs, encoders, connectors or planes) yet.

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
    report.check("kms-no-framebuffer-formats", no_framebuffer_formats(&c));
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

/// No framebuffer can be created: the GEM framebuffer helper accepts only formats a plane of
/// the device supports (drm_gem_fb_create_with_funcs(), for atomic drivers), and nova has no
/// planes yet. A well-formed ADDFB2 of a dumb buffer or of a GEM_CREATE object is refused with
/// EINVAL, and the file is left without framebuffers.
fn no_framebuffer_formats(c: &Node) -> Check {
    let d = c
        .create_dumb(64, 32, 32)
        .map_err(|e| format!("MODE_CREATE_DUMB: {}", describe(&e)))?;
    let (h, _) = c
        .gem_create(64 * 4 * 32)
        .map_err(|e| format!("GEM_CREATE: {}", describe(&e)))?;
    let dumb = c.add_fb2(64, 32, DRM_FORMAT_XRGB8888, d.handle, d.pitch);
    let gem = c.add_fb2(64, 32, DRM_FORMAT_XRGB8888, h, 64 * 4);
    let mut result = Ok(());
    for (what, r) in [("a dumb buffer", dumb), ("a GEM_CREATE object", gem)] {
        let outcome = match r {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
            Err(e) => Err(format!(
                "ADDFB2 XRGB8888 of {what}: {}, expected EINVAL (no plane)",
                describe(&e)
            )),
            Ok(fb) => {
                let _ = c.rm_fb(fb);
                Err(format!(
                    "ADDFB2 XRGB8888 of {what} succeeded without planes"
                ))
            }
        };
        result = result.and(outcome);
    }
    let fbs = c
        .mode_resources()
        .map_err(|e| format!("MODE_GETRESOURCES: {}", describe(&e)))
        .and_then(|r| match r.count_fbs {
            0 => Ok(()),
            n => Err(format!("{n} framebuffers after the refused ADDFB2s")),
        });
    let closed = c
        .gem_close(d.handle)
        .and_then(|()| c.gem_close(h))
        .map_err(|e| format!("GEM_CLOSE: {}", describe(&e)));
    result.and(fbs).and(closed)
}
