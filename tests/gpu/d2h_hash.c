// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// d2h_hash.so - an LD_PRELOAD shim for comparing CUDA runtimes on the
// same program: it wraps the runtime's device-to-host copies
// (cudaMemcpy, cudaMemcpy2D, cudaMemcpyFromSymbol, cudaMemcpyAsync) and
// writes one line per copy to the file $GPUVM_D2H_LOG:
//   INDEX BYTES FNV-1a-64-OF-THE-BYTES
// Any libcudart.so.13 exports these calls, NVIDIA's and GPUvm's alike,
// so one program run over each gives two logs to compare bit for bit
// (tests/gpu/cuda-compare.sh).  An asynchronous copy is hashed once it
// has landed: at a synchronize or successful query of its stream, of an
// event recorded on its stream after it, or of the device, at a
// synchronous copy (which waits for the legacy default stream), at
// cudaFreeHost, at exit.  With $GPUVM_D2H_DUMP=PREFIX each copy's bytes
// go to PREFIX.INDEX too.  Copies of kind cudaMemcpyDefault are not
// logged (the direction is not known here); other async forms (2DAsync,
// FromSymbolAsync) are not wrapped.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kD2H = 2, kDefault = 4, kMaxPending = 1024, kMaxEvents = 256 };

/* The runtime's functions, resolved once when this library loads. */
static int (*real_memcpy)(void *, const void *, size_t, int);
static int (*real_memcpy_async)(void *, const void *, size_t, int, void *);
static int (*real_memcpy2d)(void *, size_t, const void *, size_t, size_t, size_t, int);
static int (*real_from_symbol)(void *, const void *, size_t, size_t, int);
static int (*real_stream_sync)(void *), (*real_stream_query)(void *);
static int (*real_event_sync)(void *), (*real_event_query)(void *);
static int (*real_event_record)(void *, void *);
static int (*real_device_sync)(void);
static int (*real_free_host)(void *);
static int (*real_cu_dtoh)(void *, unsigned long long, size_t);	/* the driver API's */

/* Programs copy from several threads (simpleCallback): lock protects
 * everything below. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static const char *dump;	/* GPUVM_D2H_DUMP: each copy's bytes to DUMP.INDEX */
static unsigned long count;
static struct {
	const unsigned char *p;
	size_t width, pitch, rows;
	void *stream;
} pending[kMaxPending];
static int npending;
static struct { void *event, *stream; } events[kMaxEvents];	/* last record of each */

/*
 * The next definition of @name, or NULL where the program loads no
 * library that has it (a driver-API program has no libcudart, a runtime
 * one no libcuda): then nothing calls the wrapper either.
 */
static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

__attribute__((constructor)) static void resolve(void)
{
	real_memcpy = next("cudaMemcpy");
	real_memcpy_async = next("cudaMemcpyAsync");
	real_memcpy2d = next("cudaMemcpy2D");
	real_from_symbol = next("cudaMemcpyFromSymbol");
	real_stream_sync = next("cudaStreamSynchronize");
	real_stream_query = next("cudaStreamQuery");
	real_event_sync = next("cudaEventSynchronize");
	real_event_query = next("cudaEventQuery");
	real_event_record = next("cudaEventRecord");
	real_device_sync = next("cudaDeviceSynchronize");
	real_free_host = next("cudaFreeHost");
	real_cu_dtoh = next("cuMemcpyDtoH_v2");
}

static void log_locked(const unsigned char *p, size_t width, size_t pitch, size_t rows)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t r, i;

	if (!out) {
		const char *path = getenv("GPUVM_D2H_LOG");

		out = fopen(path ? path : "/dev/stderr", "w");
		if (!out)
			abort();
		dump = getenv("GPUVM_D2H_DUMP");
		if (dump && !*dump)
			dump = NULL;
	}
	for (r = 0; r < rows; r++)
		for (i = 0; i < width; i++)
			h = (h ^ p[r * pitch + i]) * 0x100000001b3ull;
	if (dump) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s.%lu", dump, count);
		f = fopen(path, "w");
		for (r = 0; f && r < rows; r++)
			fwrite(p + r * pitch, 1, width, f);
		if (f)
			fclose(f);
	}
	fprintf(out, "%lu %zu %016llx\n", count++, width * rows, (unsigned long long)h);
	fflush(out);
}

/* Logs the pending copies of @stream (all of them when @all), in order. */
static void flush_locked(int all, void *stream)
{
	int i, n = 0;

	for (i = 0; i < npending; i++) {
		if (all || pending[i].stream == stream)
			log_locked(pending[i].p, pending[i].width, pending[i].pitch, pending[i].rows);
		else
			pending[n++] = pending[i];
	}
	npending = n;
}

static void flush(int all, void *stream)
{
	pthread_mutex_lock(&lock);
	flush_locked(all, stream);
	pthread_mutex_unlock(&lock);
}

/* A synchronous copy: what is pending has landed first. */
static void log_now(const void *p, size_t width, size_t pitch, size_t rows)
{
	pthread_mutex_lock(&lock);
	flush_locked(1, NULL);
	log_locked(p, width, pitch, rows);
	pthread_mutex_unlock(&lock);
}

__attribute__((destructor)) static void at_exit(void)
{
	flush(1, NULL);
}

int cudaMemcpy(void *dst, const void *src, size_t n, int kind)
{
	int r = real_memcpy(dst, src, n, kind);

	if (!r && kind == kD2H)
		log_now(dst, n, n, 1);
	else if (!r)
		flush(1, NULL);
	return r;
}

/* A driver-API program's copy (cuMemcpyDtoH, as cuda.h names it). */
int cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t n)
{
	int r = real_cu_dtoh(dst, src, n);

	if (!r)
		log_now(dst, n, n, 1);
	return r;
}

int cudaMemcpyAsync(void *dst, const void *src, size_t n, int kind, void *stream)
{
	int r = real_memcpy_async(dst, src, n, kind, stream);

	if (r || kind != kD2H)
		return r;
	pthread_mutex_lock(&lock);
	if (npending == kMaxPending)
		flush_locked(1, NULL);
	pending[npending].p = dst;
	pending[npending].width = n;
	pending[npending].pitch = n;
	pending[npending].rows = 1;
	pending[npending].stream = stream;
	npending++;
	pthread_mutex_unlock(&lock);
	return r;
}

int cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
		 size_t height, int kind)
{
	int r = real_memcpy2d(dst, dpitch, src, spitch, width, height, kind);

	if (!r && kind == kD2H)
		log_now(dst, width, dpitch, height);
	return r;
}

int cudaMemcpyFromSymbol(void *dst, const void *sym, size_t n, size_t off, int kind)
{
	int r = real_from_symbol(dst, sym, n, off, kind);

	if (!r && (kind == kD2H || kind == kDefault))	/* from a symbol: device to host */
		log_now(dst, n, n, 1);
	return r;
}

/* Stream 0 (the legacy default stream) waits for every blocking stream. */
int cudaStreamSynchronize(void *s)
{
	int r = real_stream_sync(s);

	if (!r)
		flush(s == NULL, s);
	return r;
}

int cudaStreamQuery(void *s)
{
	int r = real_stream_query(s);

	if (!r)
		flush(s == NULL, s);
	return r;
}

int cudaEventRecord(void *e, void *s)
{
	int r = real_event_record(e, s), i, free_slot = -1;

	if (r)
		return r;
	pthread_mutex_lock(&lock);
	for (i = 0; i < kMaxEvents; i++) {
		if (events[i].event == e)
			break;
		if (!events[i].event && free_slot < 0)
			free_slot = i;
	}
	if (i == kMaxEvents)
		i = free_slot;
	if (i >= 0) {
		events[i].event = e;
		events[i].stream = s;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* An event's completion lands what its stream queued before it (an
 * event never recorded here, or of stream 0: everything). */
static void flush_event(void *e)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < kMaxEvents && events[i].event != e; i++)
		;
	if (i < kMaxEvents && events[i].stream)
		flush_locked(0, events[i].stream);
	else
		flush_locked(1, NULL);
	pthread_mutex_unlock(&lock);
}

int cudaEventSynchronize(void *e)
{
	int r = real_event_sync(e);

	if (!r)
		flush_event(e);
	return r;
}

int cudaEventQuery(void *e)
{
	int r = real_event_query(e);

	if (!r)
		flush_event(e);
	return r;
}

int cudaDeviceSynchronize(void)
{
	int r = real_device_sync();

	if (!r)
		flush(1, NULL);
	return r;
}

int cudaFreeHost(void *p)
{
	flush(1, NULL);
	return real_free_host(p);
}
