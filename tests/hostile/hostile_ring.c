// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * hostile_ring.c - connections of the hostile frontend: a fresh ring and
 * event channel for each, XenStore keys (honest or malformed), and the
 * frontend's side of the state machine, driven by polling the backend's
 * state so that the cases control every step.
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_hostile.h"

enum xenbus_state hostile_backend_state(struct hostile *h)
{
	return xenbus_read_driver_state(h->dev->otherend);
}

/*
 * Waits until the backend is in one of @states (a mask of STATE()).
 * Return: that state, or -ETIMEDOUT.
 */
int hostile_wait_backend(struct hostile *h, unsigned int states,
			 unsigned int timeout_ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(timeout_ms);
	enum xenbus_state s;

	do {
		s = hostile_backend_state(h);
		if (STATE(s) & states)
			return s;
		/* A guest polling XenStore faster only loads xenstored. */
		usleep_range(10000, 20000);
	} while (time_before(jiffies, end));
	return -ETIMEDOUT;
}

void hostile_free_ring(struct hostile *h)
{
	if (h->irq) {
		unbind_from_irqhandler(h->irq, h);
		h->irq = 0;
	}
	/* Ends the ring's grant the deferred way: the backend may map it. */
	if (h->ring_va)
		xenbus_teardown_ring(&h->ring_va, 1, &h->ring_ref);
}

static int hostile_write_keys(struct hostile *h, const struct hostile_keys *k)
{
	struct xenbus_device *dev = h->dev;
	char ref[16], port[16];
	int ret;

	snprintf(ref, sizeof(ref), "%u", h->ring_ref);
	snprintf(port, sizeof(port), "%u", h->evtchn);
	ret = xenbus_printf(XBT_NIL, dev->nodename, "ring-ref", "%s",
			    k && k->ring_ref ? k->ring_ref : ref);
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "event-channel", "%s",
				   k && k->event_channel ? k->event_channel : port);
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "protocol-version",
				   "%s", k && k->protocol_version ?
				   k->protocol_version : "1");
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "mode", "%s",
				   k && k->mode ? k->mode : VGPUIF_MODE_NAIVE);
	return ret;
}

/**
 * hostile_open() - connect a new ring, with keys @k
 * @h: the device; the backend must be in InitWait
 * @k: XenStore values, or NULL for honest ones
 * @ms: out (may be NULL): milliseconds from Initialised to the backend's
 *	answer (its back-off shows here)
 *
 * Return: 0 when the backend connected; -EPROTO when it refused (went
 * Closing or Closed); -ETIMEDOUT.
 */
int hostile_open(struct hostile *h, const struct hostile_keys *k,
		 unsigned int *ms)
{
	struct xenbus_device *dev = h->dev;
	ktime_t t0;
	int ret;

	ret = xenbus_setup_ring(dev, GFP_KERNEL, &h->ring_va, 1, &h->ring_ref);
	if (ret)
		return ret;
	SHARED_RING_INIT((struct vgpuif_sring *)h->ring_va);
	FRONT_RING_INIT(&h->ring, (struct vgpuif_sring *)h->ring_va,
			XEN_PAGE_SIZE);
	ret = xenbus_alloc_evtchn(dev, &h->evtchn);
	if (ret)
		return ret;
	ret = bind_evtchn_to_irqhandler(h->evtchn, hostile_irq, 0,
					"vgpu-hostile", h);
	if (ret < 0) {
		xenbus_free_evtchn(dev, h->evtchn);
		return ret;
	}
	h->irq = ret;
	ret = hostile_write_keys(h, k);
	if (ret)
		return ret;
	t0 = ktime_get();
	xenbus_switch_state(dev, XenbusStateInitialised);
	ret = hostile_wait_backend(h, STATE(XenbusStateConnected) |
				   STATE(XenbusStateClosing) |
				   STATE(XenbusStateClosed), 30000);
	if (ms)
		*ms = ktime_ms_delta(ktime_get(), t0);
	if (ret < 0)
		return ret;
	if (ret != XenbusStateConnected)
		return -EPROTO;
	xenbus_switch_state(dev, XenbusStateConnected);
	return 0;
}

/**
 * hostile_close() - close the connection as a frontend does, and wait
 *	for the backend to be ready again
 * @h: the device
 *
 * Return: the backend's state at the end: InitWait (ready), or Closed
 * (it keeps the device closed); -ETIMEDOUT.
 */
int hostile_close(struct hostile *h)
{
	struct xenbus_device *dev = h->dev;
	int ret;

	if (dev->state != XenbusStateClosed) {
		xenbus_switch_state(dev, XenbusStateClosing);
		ret = hostile_wait_backend(h, STATE(XenbusStateClosing) |
					   STATE(XenbusStateClosed), 20000);
		if (ret < 0)
			return ret;
	}
	xenbus_switch_state(dev, XenbusStateClosed);
	hostile_free_ring(h);
	/* The backend goes Closed, then InitWait, unless it locks us out. */
	ret = hostile_wait_backend(h, STATE(XenbusStateInitWait), 5000);
	if (ret < 0 && hostile_backend_state(h) == XenbusStateClosed)
		return XenbusStateClosed;
	return ret;
}
