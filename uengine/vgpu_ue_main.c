// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_main.c - vgpu-uengine.ko: its parameters and its instances,
 * one per GPU (instances=N).  Instance 0 is /dev/vgpu-uengine, as when
 * the module served one GPU; instance N >= 1 is /dev/vgpu-uengineN.
 * They register their engines with vgpu-back in order: with no other
 * engine loaded before, instance N is vgpu-back's engine N.
 */
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "vgpu_ue.h"

module_param_named(mem_mb, vgpu_ue_mem_mb, uint, 0444);
MODULE_PARM_DESC(mem_mb, "Device memory vgpu-back may promise to clients, MiB, per instance; an engine process must have at least this much (default 256)");

module_param_named(page_kb, vgpu_ue_page_kb, uint, 0444);
MODULE_PARM_DESC(page_kb, "GPU page, KiB, per instance: the granularity at which contexts map; a power of two, 4 to 1048576 (default 4; 2048 for a back end on a GPU's virtual-memory API)");

module_param_named(va_start_gb, vgpu_ue_va_start_gb, uint, 0444);
MODULE_PARM_DESC(va_start_gb, "Lowest GPU address a context may map, GiB (default 0: 64 KiB, rounded up to the page)");

module_param_named(va_end_gb, vgpu_ue_va_end_gb, uint, 0444);
MODULE_PARM_DESC(va_end_gb, "One past the highest GPU address a context may map, GiB (default 0: 1024, the ISA's 2^40)");

module_param_cb(watchdog_ms, &vgpu_watchdog_param_ops, &vgpu_ue_watchdog_ms, 0644);
MODULE_PARM_DESC(watchdog_ms, "Engine time after which a launch is ended as hung (copies and fills never are), ms (1 to 3600000, default 2000)");

module_param_named(op_timeout_ms, vgpu_ue_op_timeout_ms, uint, 0644);
MODULE_PARM_DESC(op_timeout_ms, "Time the engine process has to answer an operation (a RUN: on top of its budget and the watchdog), ms (default 5000)");

static unsigned int instances = 1;
module_param(instances, uint, 0444);
MODULE_PARM_DESC(instances, "GPUs served, each an engine of vgpu-back with a device and an engine process of its own: /dev/vgpu-uengine, /dev/vgpu-uengine1, ... (default 1, at most 16)");

/* The instances, made in order at load; constant until unload. */
static struct vgpu_ue *vgpu_ue_all[VGPU_UE_MAX_INSTANCES];
static unsigned int vgpu_ue_count;

static void vgpu_ue_destroy_all(void)
{
	while (vgpu_ue_count)
		vgpu_ue_destroy(vgpu_ue_all[--vgpu_ue_count]);
}

static int __init vgpu_ue_init(void)
{
	struct vgpu_ue *ue;

	if (!vgpu_ue_mem_mb || vgpu_ue_mem_mb > (1U << 20)) {
		pr_err("vgpu-uengine: mem_mb must be 1..1048576\n");
		return -EINVAL;
	}
	if (vgpu_ue_page_kb < 4 || vgpu_ue_page_kb > (1U << 20) ||
	    !is_power_of_2(vgpu_ue_page_kb)) {
		pr_err("vgpu-uengine: page_kb must be a power of two, 4..1048576\n");
		return -EINVAL;
	}
	if (vgpu_ue_va_start_gb > 1024 || vgpu_ue_va_end_gb > 1024) {
		pr_err("vgpu-uengine: va_start_gb and va_end_gb must be at most 1024\n");
		return -EINVAL;
	}
	if (!instances || instances > VGPU_UE_MAX_INSTANCES) {
		pr_err("vgpu-uengine: instances must be 1..%u\n",
		       VGPU_UE_MAX_INSTANCES);
		return -EINVAL;
	}
	while (vgpu_ue_count < instances) {
		ue = vgpu_ue_create(vgpu_ue_count);
		if (IS_ERR(ue)) {
			pr_err("vgpu-uengine: instance %u: %ld\n",
			       vgpu_ue_count, PTR_ERR(ue));
			vgpu_ue_destroy_all();
			return PTR_ERR(ue);
		}
		vgpu_ue_all[vgpu_ue_count++] = ue;
	}
	return 0;
}

static void __exit vgpu_ue_exit(void)
{
	vgpu_ue_destroy_all();
}

module_init(vgpu_ue_init);
module_exit(vgpu_ue_exit);
MODULE_DESCRIPTION("GPUvm engine bridge: engine operations run by a dom0 process (vgpu-engined), one per GPU");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
