/* SPDX-License-Identifier: MIT */

#ifndef __NOVA_DRM_H__
#define __NOVA_DRM_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: nova uAPI
 *
 * nova-drm is the DRM driver for NVIDIA GPUs of the Turing generation and
 * later. Its device has a primary (card) node and a render node; every
 * ioctl below is allowed on both.
 *
 * Stability: this uAPI is not stable. nova is in development and its uAPI
 * serves testing of the driver and of the infrastructure it brings
 * upstream; no user space should depend on it yet. It is, however, never
 * changed silently under a number that upstream nova also uses: the ioctls
 * upstream nova defines (GETPARAM, GEM_CREATE, GEM_INFO) keep upstream's
 * numbers and upstream's layout, and nova only appends fields at the end
 * of a structure (the DRM core zero-fills what an older, shorter structure
 * lacks and copies back only what it holds). A structure whose existing
 * fields change gets a new ioctl number. Parameters and ioctls nova adds
 * may change or go away until the uAPI is declared stable.
 *
 * All structures are laid out with explicit sizes and natural alignment,
 * identical on 32-bit and 64-bit user space. Values that the kernel may
 * grow are &__u64. Fields named pad must be zero; the kernel rejects
 * anything else with -EINVAL so that they can be given a meaning later.
 */

/**
 * DOC: nova GETPARAM parameters
 *
 * The parameters &DRM_IOCTL_NOVA_GETPARAM reports. Each value is
 * returned in full in &drm_nova_getparam.value (64 bits, never truncated).
 *
 * NOVA_GETPARAM_VRAM_BAR_SIZE
 *	Size in bytes of the CPU-visible aperture onto the GPU's memory
 *	(PCI BAR1).
 *
 * NOVA_GETPARAM_CHIPSET
 *	The chipset code: the architecture in bits 11:4 and the
 *	implementation in bits 3:0, as in NVIDIA's chip names (0x192 is
 *	AD102, 0x172 GA102).
 *
 * NOVA_GETPARAM_ARCHITECTURE
 *	The architecture code alone: 0x16 Turing, 0x17 Ampere, 0x18 Hopper,
 *	0x19 Ada, 0x1a Blackwell GB10x, 0x1b Blackwell GB20x.
 *
 * NOVA_GETPARAM_REVISION
 *	The chip's stepping, major revision in bits 7:4 and minor in 3:0
 *	(0xa1 is A1).
 *
 * NOVA_GETPARAM_PCI_DEVICE_ID
 *	The PCI device id of the board.
 *
 * NOVA_GETPARAM_VRAM_SIZE
 *	Size in bytes of the GPU's memory (VRAM), as the GPU's firmware
 *	(GSP-RM) reports it once nova-core has booted it. Fails with
 *	-ENODEV on a GPU whose GSP nova-core does not boot yet.
 */
#define NOVA_GETPARAM_VRAM_BAR_SIZE	0x1
#define NOVA_GETPARAM_CHIPSET		0x2
#define NOVA_GETPARAM_ARCHITECTURE	0x3
#define NOVA_GETPARAM_REVISION		0x4
#define NOVA_GETPARAM_PCI_DEVICE_ID	0x5
#define NOVA_GETPARAM_VRAM_SIZE		0x6

/**
 * struct drm_nova_getparam - query a device parameter
 *
 * Used with &DRM_IOCTL_NOVA_GETPARAM.
 */
struct drm_nova_getparam {
	/**
	 * @param: In, the parameter to query, one of the NOVA_GETPARAM_*
	 * values. An unknown parameter fails with -EINVAL.
	 */
	__u64 param;

	/**
	 * @value: Out, the parameter's value. Left unchanged on error.
	 */
	__u64 value;
};

/**
 * DOC: nova GEM objects
 *
 * A GEM object is a buffer in system memory, created with
 * &DRM_IOCTL_NOVA_GEM_CREATE. Its pages are allocated on first access,
 * not at creation. It is mapped into user space with mmap() on the DRM
 * file, at the offset &DRM_IOCTL_NOVA_GEM_INFO reports, and shared with
 * other devices and processes through PRIME (DRM_IOCTL_PRIME_HANDLE_TO_FD,
 * DRM_IOCTL_PRIME_FD_TO_HANDLE). A handle is released with
 * DRM_IOCTL_GEM_CLOSE; the object lives on while any handle, mapping or
 * dma-buf refers to it.
 *
 * Handles belong to the DRM file that created or imported them: another
 * file, even of the same process, cannot use them (-ENOENT).
 *
 * Every handle of a nova file names a nova GEM object, however it was
 * made: by &DRM_IOCTL_NOVA_GEM_CREATE, by a PRIME import (of nova's own
 * dma-buf or of another device's) or, on the card node, by the generic
 * DRM_IOCTL_MODE_CREATE_DUMB. &DRM_IOCTL_NOVA_GEM_INFO and mmap() work on
 * all of them.
 */

/**
 * struct drm_nova_gem_create - create a GEM object
 *
 * Used with &DRM_IOCTL_NOVA_GEM_CREATE. The layout is upstream nova's, field
 * for field (handle, pad, size), under upstream's ioctl number: a program
 * built against upstream's header works unchanged.
 */
struct drm_nova_gem_create {
	/**
	 * @handle: Out, the new object's handle in this DRM file.
	 */
	__u32 handle;

	/**
	 * @pad: Must be zero (-EINVAL otherwise). No creation flags are
	 * defined; should some be, they get a new ioctl number.
	 */
	__u32 pad;

	/**
	 * @size: In, the size in bytes, at least 1. The kernel rounds it up
	 * to a whole number of pages and writes back the size it used. A
	 * size of 0, or one whose rounding overflows, fails with -EINVAL.
	 */
	__u64 size;
};

/**
 * struct drm_nova_gem_info - query a GEM object
 *
 * Used with &DRM_IOCTL_NOVA_GEM_INFO.
 */
struct drm_nova_gem_info {
	/**
	 * @handle: In, the object's handle. An unknown handle, or one of
	 * another DRM file, fails with -ENOENT.
	 */
	__u32 handle;

	/**
	 * @pad: Must be zero (-EINVAL otherwise).
	 */
	__u32 pad;

	/**
	 * @size: Out, the object's size in bytes (a whole number of pages).
	 */
	__u64 size;

	/**
	 * @mmap_offset: Out, the offset to pass to mmap() on this DRM file
	 * to map the object. A mapping may cover at most the object's size.
	 * nova's addition after upstream's fields: a program built against
	 * upstream's 16-byte structure gets @size and no offset.
	 */
	__u64 mmap_offset;
};

/**
 * struct drm_nova_gpu_name - the GPU's name
 *
 * Used with &DRM_IOCTL_NOVA_GPU_NAME.
 */
struct drm_nova_gpu_name {
	/**
	 * @name: Out, the GPU's marketing name as its firmware (GSP-RM)
	 * reports it, for example "NVIDIA GeForce RTX 4090": UTF-8,
	 * NUL-terminated, the rest of the array zeroed. GSP-RM keeps the name
	 * in 64 bytes, so it always fits.
	 */
	char name[64];
};

#define DRM_NOVA_GETPARAM		0x00
#define DRM_NOVA_GEM_CREATE		0x01
#define DRM_NOVA_GEM_INFO		0x02
#define DRM_NOVA_GPU_NAME		0x03

/**
 * DOC: nova ioctls
 *
 * DRM_IOCTL_NOVA_GETPARAM
 *	Reads one device parameter; see &struct drm_nova_getparam.
 *
 * DRM_IOCTL_NOVA_GEM_CREATE
 *	Creates a GEM object; see &struct drm_nova_gem_create.
 *
 * DRM_IOCTL_NOVA_GEM_INFO
 *	Reports a GEM object's size and mmap offset; see
 *	&struct drm_nova_gem_info.
 *
 * DRM_IOCTL_NOVA_GPU_NAME
 *	Reports the GPU's name; see &struct drm_nova_gpu_name. Fails with
 *	-ENODEV on a GPU whose GSP nova-core does not boot yet.
 *
 * The ioctl numbers are enumerators rather than macros so that bindings
 * generators (such as the kernel's bindgen step for Rust) see their values.
 */
enum {
	DRM_IOCTL_NOVA_GETPARAM = DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GETPARAM,
					   struct drm_nova_getparam),
	DRM_IOCTL_NOVA_GEM_CREATE = DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_CREATE,
					     struct drm_nova_gem_create),
	DRM_IOCTL_NOVA_GEM_INFO = DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_INFO,
					   struct drm_nova_gem_info),
	DRM_IOCTL_NOVA_GPU_NAME = DRM_IOR(DRM_COMMAND_BASE + DRM_NOVA_GPU_NAME,
					  struct drm_nova_gpu_name),
};

#if defined(__cplusplus)
}
#endif

#endif /* __NOVA_DRM_H__ */
