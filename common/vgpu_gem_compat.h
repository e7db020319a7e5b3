/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_gem_compat.h - the DRM interfaces that changed between the
 * kernels GPUvm supports.  Kernel mappings of GEM shmem objects: 6.1's
 * helper locks internally; from 6.5 it wants the reservation lock held,
 * which the _unlocked GEM wrappers (6.2+, probed by Kbuild:
 * VGPU_HAVE_GEM_VMAP_UNLOCKED) take, named drm_gem_vmap() from 6.16
 * (VGPU_HAVE_GEM_VMAP).  struct drm_driver's .date is gone
 * from 6.14 (VGPU_HAVE_DRM_DRIVER_DATE).
 */
#ifndef VGPU_GEM_COMPAT_H
#define VGPU_GEM_COMPAT_H

#include <linux/iosys-map.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>

static inline int vgpu_shmem_vmap(struct drm_gem_shmem_object *shmem,
				  struct iosys_map *map)
{
#if defined(VGPU_HAVE_GEM_VMAP)
	return drm_gem_vmap(&shmem->base, map);
#elif defined(VGPU_HAVE_GEM_VMAP_UNLOCKED)
	return drm_gem_vmap_unlocked(&shmem->base, map);
#else
	return drm_gem_shmem_vmap(shmem, map);
#endif
}

static inline void vgpu_shmem_vunmap(struct drm_gem_shmem_object *shmem,
				     struct iosys_map *map)
{
#if defined(VGPU_HAVE_GEM_VMAP)
	drm_gem_vunmap(&shmem->base, map);
#elif defined(VGPU_HAVE_GEM_VMAP_UNLOCKED)
	drm_gem_vunmap_unlocked(&shmem->base, map);
#else
	drm_gem_shmem_vunmap(shmem, map);
#endif
}

/* A struct drm_driver initialiser of its date, where the kernel has one. */
#ifdef VGPU_HAVE_DRM_DRIVER_DATE
#define VGPU_DRM_DRIVER_DATE(d)	.date = (d),
#else
#define VGPU_DRM_DRIVER_DATE(d)
#endif

#endif /* VGPU_GEM_COMPAT_H */
