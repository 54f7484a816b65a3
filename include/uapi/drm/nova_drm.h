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
 *
 * NOVA_GETPARAM_GPC_COUNT
 *	The number of enabled GPCs (graphics processing clusters), as GSP-RM
 *	reports them (NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO). nouveau
 *	reports the same number in bits 7:0 of NOUVEAU_GETPARAM_GRAPH_UNITS.
 *	Fails with -ENODEV where nova-core does not boot GSP-RM yet.
 *
 * NOVA_GETPARAM_TPC_COUNT
 *	The number of enabled TPCs (texture processing clusters) of all GPCs
 *	together (NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO for each enabled
 *	GPC). nouveau reports it in bits 23:8 of NOUVEAU_GETPARAM_GRAPH_UNITS.
 *	Fails with -ENODEV where nova-core does not boot GSP-RM yet.
 *
 * NOVA_GETPARAM_GPC_MASK
 *	The mask of enabled GPCs: bit n is set if GPC n is enabled.
 *	Fails with -ENODEV where nova-core does not boot GSP-RM yet.
 */
#define NOVA_GETPARAM_VRAM_BAR_SIZE	0x1
#define NOVA_GETPARAM_CHIPSET		0x2
#define NOVA_GETPARAM_ARCHITECTURE	0x3
#define NOVA_GETPARAM_REVISION		0x4
#define NOVA_GETPARAM_PCI_DEVICE_ID	0x5
#define NOVA_GETPARAM_VRAM_SIZE		0x6
#define NOVA_GETPARAM_GPC_COUNT		0x7
#define NOVA_GETPARAM_TPC_COUNT		0x8
#define NOVA_GETPARAM_GPC_MASK		0x9

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

/**
 * DOC: nova queries
 *
 * &DRM_IOCTL_NOVA_QUERY reports a list the GPU's firmware (GSP-RM) gave
 * nova-core when it booted, as an array of elements of one type:
 *
 * NOVA_QUERY_ENGINES
 *	The engines that run work submitted through channels, in the order
 *	of GSP-RM's device info table
 *	(NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE): an array of
 *	&struct drm_nova_engine.
 *
 * NOVA_QUERY_CLASSES
 *	The object classes the GPU offers, in GSP-RM's order
 *	(NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2): an array of __u32 class
 *	numbers as NVIDIA's class headers define them (0xc797 is AMPERE_B,
 *	the 3D class of GA10x; 0xc997 ADA_A; 0xc7b5 AMPERE_DMA_COPY_B).
 *
 * Both fail with -ENODEV on a GPU whose GSP nova-core does not boot yet.
 * Further queries get new numbers; an element type never changes.
 */
#define NOVA_QUERY_ENGINES		0x1
#define NOVA_QUERY_CLASSES		0x2

/*
 * The kinds of engine in &drm_nova_engine.kind. NOVA_ENGINE_UNKNOWN is an
 * engine GSP-RM lists whose kind this kernel does not know.
 */
#define NOVA_ENGINE_UNKNOWN		0x0
#define NOVA_ENGINE_GRAPHICS		0x1
#define NOVA_ENGINE_COPY		0x2
#define NOVA_ENGINE_NVDEC		0x3
#define NOVA_ENGINE_NVENC		0x4
#define NOVA_ENGINE_NVJPG		0x5
#define NOVA_ENGINE_OFA			0x6
#define NOVA_ENGINE_SEC2		0x7
#define NOVA_ENGINE_SW			0x8

/**
 * struct drm_nova_engine - one engine, an element of NOVA_QUERY_ENGINES
 */
struct drm_nova_engine {
	/**
	 * @kind: The kind of engine, one of the NOVA_ENGINE_* values.
	 */
	__u32 kind;

	/**
	 * @instance: The engine's instance among the engines of its kind:
	 * copy engine 3 has kind NOVA_ENGINE_COPY and instance 3.
	 */
	__u32 instance;

	/**
	 * @runlist: The runlist that serves the engine, as GSP-RM numbers
	 * it. Engines that share a runlist share their channels' scheduling.
	 */
	__u32 runlist;

	/**
	 * @pad: Zero.
	 */
	__u32 pad;
};

/**
 * struct drm_nova_query - read a list about the GPU
 *
 * Used with &DRM_IOCTL_NOVA_QUERY, in two steps as user space usually
 * does: first with @count 0 to learn the number of elements, then with an
 * array of at least that many.
 */
struct drm_nova_query {
	/**
	 * @query: In, the list to read, one of the NOVA_QUERY_* values. An
	 * unknown query fails with -EINVAL.
	 */
	__u32 query;

	/**
	 * @count: In, the number of elements the array at @data has room
	 * for; 0 to only ask for the number. Out, the number of elements
	 * the list has. If the list has more than @count elements and
	 * @count is not 0, the call fails with -EINVAL and writes nothing.
	 */
	__u32 count;

	/**
	 * @data: In, the user-space address of the array (ignored if @count
	 * is 0). Elements past the list's number are left untouched. An
	 * address that cannot be written fails with -EFAULT.
	 */
	__u64 data;
};

#define DRM_NOVA_GETPARAM		0x00
#define DRM_NOVA_GEM_CREATE		0x01
#define DRM_NOVA_GEM_INFO		0x02
#define DRM_NOVA_GPU_NAME		0x03
#define DRM_NOVA_QUERY			0x04

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
 * DRM_IOCTL_NOVA_QUERY
 *	Reads the GPU's engines or classes; see &struct drm_nova_query.
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
	DRM_IOCTL_NOVA_QUERY = DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_QUERY,
					struct drm_nova_query),
};

#if defined(__cplusplus)
}
#endif

#endif /* __NOVA_DRM_H__ */
