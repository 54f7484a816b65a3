// SPDX-License-Identifier: GPL-2.0
/*
 * Compiled against the headers that `make headers_install` installs: the
 * uAPI header must be self-contained, compile warning-free in strict C, and
 * keep the layout user space was built against.
 */
#include <stddef.h>
#include <drm/nova_drm.h>

#define CHECK(expr) _Static_assert(expr, #expr)

CHECK(sizeof(struct drm_nova_getparam) == 16);
CHECK(offsetof(struct drm_nova_getparam, value) == 8);
CHECK(sizeof(struct drm_nova_gem_create) == 16);
/* Upstream nova's layout under upstream's number: handle, pad, size. */
CHECK(offsetof(struct drm_nova_gem_create, handle) == 0);
CHECK(offsetof(struct drm_nova_gem_create, pad) == 4);
CHECK(offsetof(struct drm_nova_gem_create, size) == 8);
CHECK(sizeof(struct drm_nova_gem_info) == 24);
/* Upstream's handle, pad, size, then nova's appended mmap offset. */
CHECK(offsetof(struct drm_nova_gem_info, handle) == 0);
CHECK(offsetof(struct drm_nova_gem_info, pad) == 4);
CHECK(offsetof(struct drm_nova_gem_info, size) == 8);
CHECK(offsetof(struct drm_nova_gem_info, mmap_offset) == 16);
CHECK(DRM_IOCTL_NOVA_GETPARAM == 0xc0106440u);
CHECK(DRM_IOCTL_NOVA_GEM_CREATE == 0xc0106441u);
CHECK(DRM_IOCTL_NOVA_GEM_INFO == 0xc0186442u);
CHECK(sizeof(struct drm_nova_gpu_name) == 64);
CHECK(DRM_IOCTL_NOVA_GPU_NAME == 0x80406443u);
CHECK(NOVA_GETPARAM_VRAM_BAR_SIZE == 1 && NOVA_GETPARAM_PCI_DEVICE_ID == 5);
CHECK(NOVA_GETPARAM_VRAM_SIZE == 6);
CHECK(NOVA_GETPARAM_GPC_COUNT == 7 && NOVA_GETPARAM_TPC_COUNT == 8);
CHECK(NOVA_GETPARAM_GPC_MASK == 9);
CHECK(sizeof(struct drm_nova_query) == 16);
CHECK(offsetof(struct drm_nova_query, query) == 0);
CHECK(offsetof(struct drm_nova_query, count) == 4);
CHECK(offsetof(struct drm_nova_query, data) == 8);
CHECK(sizeof(struct drm_nova_engine) == 16);
CHECK(offsetof(struct drm_nova_engine, kind) == 0);
CHECK(offsetof(struct drm_nova_engine, instance) == 4);
CHECK(offsetof(struct drm_nova_engine, runlist) == 8);
CHECK(DRM_IOCTL_NOVA_QUERY == 0xc0106444u);
CHECK(NOVA_QUERY_ENGINES == 1 && NOVA_QUERY_CLASSES == 2);
CHECK(NOVA_ENGINE_GRAPHICS == 1 && NOVA_ENGINE_COPY == 2 && NOVA_ENGINE_SW == 8);

int main(void)
{
	return 0;
}
