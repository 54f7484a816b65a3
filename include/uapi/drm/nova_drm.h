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
 */
#define NOVA_GETPARAM_VRAM_BAR_SIZE	0x1
#define NOVA_GETPARAM_CHIPSET		0x2
#define NOVA_GETPARAM_ARCHITECTURE	0x3
#define NOVA_GETPARAM_REVISION		0x4
#define NOVA_GETPARAM_PCI_DEVICE_ID	0x5

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

#define DRM_NOVA_GETPARAM		0x00

/**
 * DOC: nova ioctls
 *
 * DRM_IOCTL_NOVA_GETPARAM
 *	Reads one device parameter; see &struct drm_nova_getparam.
 *
 * The ioctl numbers are enumerators rather than macros so that bindings
 * generators (such as the kernel's bindgen step for Rust) see their values.
 */
enum {
	DRM_IOCTL_NOVA_GETPARAM = DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GETPARAM,
					   struct drm_nova_getparam),
};

#if defined(__cplusplus)
}
#endif

#endif /* __NOVA_DRM_H__ */
