// SPDX-License-Identifier: GPL-2.0

//! Generates nova's uAPI bindings (`$OUT_DIR/uapi.rs`) from the installed `nova_drm.h`, with
//! bindgen, so that the client uses the structures, constants and ioctl numbers user space sees.
//!
//! The headers are the output of `scripts/nova/tools-uapi.sh` (run by `make tools`): the base
//! kernel's `make headers` with this checkout's `nova_drm.h`, in `tools/target/uapi/include`.
//! `NOVA_UAPI_INCLUDE` names another such directory (for example a `make headers_install`
//! output's `include`).
//!
//! bindgen loads libclang at run time: from `LIBCLANG_PATH`, else from the usual places. The nova
//! scripts build nova-test inside the build root, where `LIBCLANG_PATH` names clang 19's.

use std::env;
use std::path::PathBuf;

use bindgen::callbacks::{IntKind, ParseCallbacks};

/// Gives the `NOVA_*` macros the type of the field they are values of.
#[derive(Debug)]
struct MacroTypes;

impl ParseCallbacks for MacroTypes {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        if name.starts_with("NOVA_GETPARAM_") {
            // drm_nova_getparam.param is a __u64.
            Some(IntKind::U64)
        } else if name.starts_with("NOVA_") || name.starts_with("DRM_NOVA_") {
            // Flags of __u32 fields; ioctl numbers, which the DRM ioctl encoding keeps to 8 bits.
            Some(IntKind::U32)
        } else {
            None
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let include = env::var_os("NOVA_UAPI_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target/uapi/include"));
    let wrapper = manifest.join("uapi.h");
    println!("cargo:rerun-if-env-changed=NOVA_UAPI_INCLUDE");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    println!("cargo:rerun-if-changed={}", wrapper.display());
    // A directory: cargo looks at every file in it.
    println!("cargo:rerun-if-changed={}", include.display());
    if !include.join("drm/nova_drm.h").is_file() {
        panic!(
            "no installed nova_drm.h under {}: run `make tools` (scripts/nova/tools-uapi.sh \
             installs it), or set NOVA_UAPI_INCLUDE to a `make headers_install` include directory",
            include.display()
        );
    }

    let bindings = bindgen::Builder::default()
        .header(wrapper.to_string_lossy())
        // Only the installed headers: no C library, no compiler headers, no guessed paths.
        .clang_arg("-nostdinc")
        .clang_arg(format!("-I{}", include.display()))
        .detect_include_paths(false)
        .allowlist_file(".*/drm/nova_drm\\.h")
        .allowlist_type("nova_test_drm")
        .prepend_enum_name(false)
        .parse_callbacks(Box::new(MacroTypes))
        .derive_default(true)
        .derive_eq(true)
        .generate_cstr(true)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen on {}: {e}", wrapper.display()));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("uapi.rs");
    bindings
        .write_to_file(&out)
        .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
