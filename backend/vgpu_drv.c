// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_drv.c - vgpu-back's local render nodes: the "native" transport.
 *
 * dom0 programs reach the vGPU core through a DRM render node whose driver
 * is "vgpu", one per device (engine), with the device's sysfs directory
 * on a platform device "vgpu.N".  Each open file is one client of the
 * device.  The ioctls copy
 * their arguments into kernel memory and call the dispatcher
 * (vgpu_op_*()), exactly as the Xen transport does for guests; only
 * host-memory objects (GEM shmem, mmap-able) and syncobjs are specific to
 * this transport.
 */
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_syncobj.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"
#include "../common/vgpu_gem_compat.h"
#include "../common/vgpu_uapi.h"

/**
 * struct vgpu_node - the render node and sysfs directory of a device
 * @drm: the DRM device (its memory lives until its last file is closed)
 * @pdev: the platform device "vgpu.N", parent of @drm, drvdata the device
 * @dev: the core's device (a reference, dropped with @drm)
 */
struct vgpu_node {
	struct drm_device drm;
	struct platform_device *pdev;
	struct vgpu_device *dev;
};

/* A host-memory object of the native node: a GEM shmem object. */
struct vgpu_native_host {
	struct drm_gem_shmem_object *shmem;
	struct iosys_map map;
	struct drm_file *file;
	atomic_t mmap_allowed;
};

static void vgpu_native_host_release(void *priv)
{
	struct vgpu_native_host *h = priv;

	if (atomic_read(&h->mmap_allowed))
		drm_vma_node_revoke(&h->shmem->base.vma_node, h->file);
	vgpu_shmem_vunmap(h->shmem, &h->map);
	drm_gem_object_put(&h->shmem->base);
	kfree(h);
}

static const struct vgpu_host_mem_ops vgpu_native_host_ops = {
	.release = vgpu_native_host_release,
};

static struct vgpu_client *vgpu_file_client(struct drm_file *file)
{
	return file->driver_priv;
}

static int vgpu_ioctl_info(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	vgpu_op_info(vgpu_file_client(file), DRM_VGPU_MODE_NATIVE, data);
	return 0;
}

static int vgpu_ioctl_ctx_create(struct drm_device *dev, void *data,
				 struct drm_file *file)
{
	return vgpu_op_ctx_create(vgpu_file_client(file), data);
}

static int vgpu_ioctl_ctx_destroy(struct drm_device *dev, void *data,
				  struct drm_file *file)
{
	return vgpu_op_ctx_destroy(vgpu_file_client(file), data);
}

static int vgpu_ioctl_ctx_stack(struct drm_device *dev, void *data,
				struct drm_file *file)
{
	return vgpu_op_ctx_stack(vgpu_file_client(file), data);
}

static int vgpu_ioctl_ctx_status(struct drm_device *dev, void *data,
				 struct drm_file *file)
{
	return vgpu_op_ctx_status(vgpu_file_client(file), data);
}

/* Host memory of a native object: GEM shmem, mappable by the process. */
static int vgpu_native_host_alloc(void *arg, u64 size,
				  struct vgpu_host_mem *mem)
{
	struct drm_file *file = arg;
	struct vgpu_native_host *h;
	int ret;

	h = kzalloc(sizeof(*h), VGPU_GFP_CLIENT);
	if (!h)
		return -ENOMEM;
	h->file = file;
	h->shmem = drm_gem_shmem_create(file->minor->dev, size);
	if (IS_ERR(h->shmem)) {
		ret = PTR_ERR(h->shmem);
		goto err_free;
	}
	ret = vgpu_shmem_vmap(h->shmem, &h->map);
	if (ret)
		goto err_put;
	mem->vaddr = h->map.vaddr;
	mem->pages = h->shmem->pages;
	mem->ops = &vgpu_native_host_ops;
	mem->priv = h;
	return 0;

err_put:
	drm_gem_object_put(&h->shmem->base);
err_free:
	kfree(h);
	return ret;
}

static int vgpu_ioctl_bo_create(struct drm_device *dev, void *data,
				struct drm_file *file)
{
	return vgpu_op_bo_create(vgpu_file_client(file), data,
				 vgpu_native_host_alloc, file);
}

static int vgpu_ioctl_bo_destroy(struct drm_device *dev, void *data,
				 struct drm_file *file)
{
	return vgpu_op_bo_destroy(vgpu_file_client(file), data);
}

static int vgpu_ioctl_bo_mmap_offset(struct drm_device *dev, void *data,
				     struct drm_file *file)
{
	struct drm_vgpu_bo_mmap_offset *a = data;
	struct vgpu_native_host *h;
	struct vgpu_bo *bo;
	int ret = vgpu_check_bo_mmap_offset(a);

	if (ret)
		return ret;
	bo = vgpu_bo_lookup(vgpu_file_client(file), a->handle);
	if (!bo)
		return -ENOENT;
	if (bo->domain != DRM_VGPU_DOMAIN_HOST) {
		ret = -EINVAL;	/* device memory is not CPU-mappable */
		goto out;
	}
	h = bo->host_priv;
	ret = drm_gem_create_mmap_offset(&h->shmem->base);
	if (ret)
		goto out;
	ret = drm_vma_node_allow_once(&h->shmem->base.vma_node, file);
	if (ret)
		goto out;
	atomic_set(&h->mmap_allowed, 1);
	a->offset = drm_vma_node_offset_addr(&h->shmem->base.vma_node);
out:
	vgpu_bo_put(bo);
	return ret;
}

static int vgpu_ioctl_vm_bind(struct drm_device *dev, void *data,
			      struct drm_file *file)
{
	struct drm_vgpu_vm_bind *a = data;
	struct drm_vgpu_vm_bind_op *ops;
	int ret = vgpu_check_vm_bind(a);

	if (ret)
		return ret;
	ops = memdup_user(u64_to_user_ptr(a->ops),
			  array_size(a->num_ops, sizeof(*ops)));
	if (IS_ERR(ops))
		return PTR_ERR(ops);
	ret = vgpu_op_vm_bind(vgpu_file_client(file), a->ctx_id, ops,
			      a->num_ops, &a->num_done);
	kfree(ops);
	return ret;
}

static int vgpu_ioctl_submit(struct drm_device *dev, void *data,
			     struct drm_file *file)
{
	struct drm_vgpu_submit *a = data;
	struct dma_fence *in[DRM_VGPU_MAX_IN_SYNCS] = {};
	u32 handles[DRM_VGPU_MAX_IN_SYNCS];
	struct drm_syncobj *out_sync = NULL;
	struct dma_fence *done = NULL;
	struct drm_vgpu_cmd *cmds;
	u32 i, nin = 0;
	int ret = vgpu_check_submit(a);

	if (ret)
		return ret;
	cmds = kvmalloc_array(a->num_cmds, sizeof(*cmds), VGPU_GFP_CLIENT_KV);
	if (!cmds)
		return -ENOMEM;
	if (copy_from_user(cmds, u64_to_user_ptr(a->cmds),
			   array_size(a->num_cmds, sizeof(*cmds)))) {
		ret = -EFAULT;
		goto out_cmds;
	}
	if (a->num_in_syncs &&
	    copy_from_user(handles, u64_to_user_ptr(a->in_syncs),
			   a->num_in_syncs * sizeof(u32))) {
		ret = -EFAULT;
		goto out_cmds;
	}
	for (nin = 0; nin < a->num_in_syncs; nin++) {
		ret = drm_syncobj_find_fence(file, handles[nin], 0, 0, &in[nin]);
		if (ret)
			goto out_fences;
	}
	if (a->out_sync) {
		out_sync = drm_syncobj_find(file, a->out_sync);
		if (!out_sync) {
			ret = -ENOENT;
			goto out_fences;
		}
	}
	ret = vgpu_op_submit(vgpu_file_client(file), a->ctx_id, cmds,
			     a->num_cmds, in, nin, &done, &a->seqno);
	if (ret)
		goto out_sync;
	cmds = NULL;	/* owned by the job now */
	if (out_sync)
		drm_syncobj_replace_fence(out_sync, done);
	dma_fence_put(done);
out_sync:
	if (out_sync)
		drm_syncobj_put(out_sync);
out_fences:
	for (i = 0; i < nin; i++)
		dma_fence_put(in[i]);
out_cmds:
	kvfree(cmds);
	return ret;
}

static int vgpu_drm_open(struct drm_device *drm, struct drm_file *file)
{
	struct vgpu_device *dev = container_of(drm, struct vgpu_node, drm)->dev;
	struct vgpu_client *c;
	char name[48];
	int idx;

	/* The node's device memory lives as long as @drm (its reference). */
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;		/* the engine is going */
	snprintf(name, sizeof(name), "pid%d/%s", task_tgid_nr(current),
		 current->comm);
	/* dom0's render-node clients of a device share it as one group. */
	c = vgpu_client_create(dev, name, dev->native_group);
	drm_dev_exit(idx);
	if (IS_ERR(c))
		return PTR_ERR(c);
	file->driver_priv = c;
	return 0;
}

static void vgpu_drm_postclose(struct drm_device *dev, struct drm_file *file)
{
	vgpu_client_destroy(vgpu_file_client(file));
}

static const struct drm_ioctl_desc vgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VGPU_GET_INFO, vgpu_ioctl_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_CREATE, vgpu_ioctl_ctx_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_DESTROY, vgpu_ioctl_ctx_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_STATUS, vgpu_ioctl_ctx_status, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_CREATE, vgpu_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_DESTROY, vgpu_ioctl_bo_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_MMAP_OFFSET, vgpu_ioctl_bo_mmap_offset, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_VM_BIND, vgpu_ioctl_vm_bind, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_SUBMIT, vgpu_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_STACK, vgpu_ioctl_ctx_stack, DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_FOPS(vgpu_fops);

static const struct drm_driver vgpu_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ,
	.open = vgpu_drm_open,
	.postclose = vgpu_drm_postclose,
	.ioctls = vgpu_ioctls,
	.num_ioctls = ARRAY_SIZE(vgpu_ioctls),
	.fops = &vgpu_fops,
	.name = "vgpu",
	.desc = "GPUvm virtual GPU",
	VGPU_DRM_DRIVER_DATE("20261123")
	.major = 1,
	.minor = 0,
};

static void vgpu_node_release(struct drm_device *drm, void *arg)
{
	vgpu_device_put(arg);
}

/*
 * A device came: its platform device "vgpu.N" with the engine's and
 * dom0's sysfs groups, and its render node.
 */
static int vgpu_node_add(struct vgpu_device *dev)
{
	struct platform_device *pdev;
	struct vgpu_node *node;
	int ret;

	pdev = platform_device_register_simple("vgpu", dev->index, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_pdev;
	}
	dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	platform_set_drvdata(pdev, dev);
	node = devm_drm_dev_alloc(&pdev->dev, &vgpu_drm_driver,
				  struct vgpu_node, drm);
	if (IS_ERR(node)) {
		ret = PTR_ERR(node);
		goto err_devres;
	}
	node->pdev = pdev;
	vgpu_device_get(dev);
	node->dev = dev;
	ret = drmm_add_action_or_reset(&node->drm, vgpu_node_release, dev);
	if (!ret)
		ret = devm_device_add_group(&pdev->dev, &vgpu_engine_group);
	if (!ret)
		ret = devm_device_add_group(&pdev->dev, &vgpu_native_attr_group);
	if (!ret)
		ret = drm_dev_register(&node->drm, 0);
	if (ret)
		goto err_devres;
	dev->node_priv = node;
	vgpu_debugfs_device_add(dev);
	return 0;

err_devres:
	devres_release_group(&pdev->dev, NULL);
err_pdev:
	platform_device_unregister(pdev);
	return ret;
}

/* A device went (it has no client): its render node and sysfs go. */
static void vgpu_node_remove(struct vgpu_device *dev)
{
	struct vgpu_node *node = dev->node_priv;
	struct platform_device *pdev = node->pdev;

	vgpu_debugfs_device_remove(dev);
	dev->node_priv = NULL;
	drm_dev_unplug(&node->drm);
	devres_release_group(&pdev->dev, NULL);
	platform_device_unregister(pdev);
}

static const struct vgpu_device_listener vgpu_node_listener = {
	.added = vgpu_node_add,
	.removed = vgpu_node_remove,
};

static int __init vgpu_back_init(void)
{
	int ret;

	vgpu_debugfs_init();
	vgpu_devices_listen(&vgpu_node_listener);
	ret = vgpu_xen_init();
	if (ret) {
		vgpu_devices_listen(NULL);
		vgpu_debugfs_fini();
		return ret;
	}
	pr_info("vgpu: ready for engines (uAPI %d)\n", DRM_VGPU_UAPI_VERSION);
	return 0;
}

/* Engine modules depend on vgpu-back: every device is gone by now. */
static void __exit vgpu_back_exit(void)
{
	vgpu_xen_fini();
	vgpu_devices_listen(NULL);
	vgpu_debugfs_fini();
}

module_init(vgpu_back_init);
module_exit(vgpu_back_exit);
MODULE_DESCRIPTION("GPUvm backend: vGPU core and dom0 render node");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
