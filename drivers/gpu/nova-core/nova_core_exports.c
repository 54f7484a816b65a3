// SPDX-License-Identifier: GPL-2.0
/*
 * Export shim for the nova_core Rust crate.
 *
 * nova-drm is a separate module that calls into nova_core's crate. Until
 * kbuild can link Rust crates across modules by itself, the Rust symbols
 * that nova-drm references are exported from here. The list is generated
 * by drivers/gpu/Makefile from the two objects.
 */

#include <linux/export.h>

#define EXPORT_SYMBOL_RUST_GPL(sym) \
	extern int sym;             \
	EXPORT_SYMBOL_GPL(sym)

#include "exports_nova_core_generated.h"
