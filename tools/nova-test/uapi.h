/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What nova-test's build script (build.rs) hands to bindgen: the installed
 * uAPI headers, as user space includes them.
 *
 * nova's structures, constants and ioctl numbers come from nova_drm.h
 * itself. Generic DRM goes through the drm-ffi crate (src/drm.rs); the enum
 * below only lets bindgen see the values of drm.h's function-like ioctl and
 * fourcc macros, which it cannot expand. The client uses them to issue the
 * two generic ioctls drm-ffi has no raw form of, and its tests check that
 * drm-ffi's structures have the sizes these numbers encode.
 */

#include <drm/nova_drm.h>
#include <drm/drm_fourcc.h>

enum nova_test_drm {
	NOVA_TEST_DRM_IOCTL_VERSION = DRM_IOCTL_VERSION,
	NOVA_TEST_DRM_IOCTL_GEM_CLOSE = DRM_IOCTL_GEM_CLOSE,
	NOVA_TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD = DRM_IOCTL_PRIME_HANDLE_TO_FD,
	NOVA_TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE = DRM_IOCTL_PRIME_FD_TO_HANDLE,
	NOVA_TEST_DRM_IOCTL_MODE_GETRESOURCES = DRM_IOCTL_MODE_GETRESOURCES,
	NOVA_TEST_DRM_IOCTL_MODE_RMFB = DRM_IOCTL_MODE_RMFB,
	NOVA_TEST_DRM_IOCTL_MODE_CREATE_DUMB = DRM_IOCTL_MODE_CREATE_DUMB,
	NOVA_TEST_DRM_IOCTL_MODE_MAP_DUMB = DRM_IOCTL_MODE_MAP_DUMB,
	NOVA_TEST_DRM_IOCTL_MODE_ADDFB2 = DRM_IOCTL_MODE_ADDFB2,
	NOVA_TEST_DRM_FORMAT_XRGB8888 = DRM_FORMAT_XRGB8888,
};
