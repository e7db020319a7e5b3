// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// d2h_hash.so - an LD_PRELOAD shim for comparing CUDA runtimes on the
// same program: it wraps the runtime's device-to-host copies (cudaMemcpy,
// cudaMemcpy2D, cudaMemcpyFromSymbol and their Async forms) and writes
// one line per copy to the file $GPUVM_D2H_LOG:
//   INDEX BYTES FNV-1a-64-OF-THE-BYTES
// Any libcudart.so.13 exports these calls, NVIDIA's and GPUvm's alike,
// so one program run over each gives two logs to compare bit for bit
// (tests/gpu/cuda-compare.sh).  An asynchronous copy is hashed at the
// next call that waits for it (a synchronize, a successful query, a
// synchronous copy, cudaFreeHost of its buffer, exit); with
// $GPUVM_D2H_DUMP=PREFIX each copy's bytes go to PREFIX.INDEX too.  Copies of kind
// cudaMemcpyDefault are not logged (the direction is not known here).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kD2H = 2, kMaxPending = 1024 };
typedef int (*memcpy_fn)(void *, const void *, size_t, int);

/* Programs copy from several threads (simpleCallback): lock protects
 * out, dump, count and pending. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static const char *dump;	/* GPUVM_D2H_DUMP: each copy's bytes to DUMP.INDEX */
static unsigned long count;
static struct { const unsigned char *p; size_t width, pitch, rows; } pending[kMaxPending];
static int npending;

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "d2h_hash: no %s in the runtime\n", name);
		abort();
	}
	return f;
}

static void log_rows_locked(const unsigned char *p, size_t width, size_t pitch, size_t rows)
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

static void flush_locked(void)
{
	int i;

	for (i = 0; i < npending; i++)
		log_rows_locked(pending[i].p, pending[i].width, pending[i].pitch, pending[i].rows);
	npending = 0;
}

static void flush_pending(void)
{
	pthread_mutex_lock(&lock);
	flush_locked();
	pthread_mutex_unlock(&lock);
}

/* Flushes what is pending, then logs this copy. */
static void log_rows(const unsigned char *p, size_t width, size_t pitch, size_t rows)
{
	pthread_mutex_lock(&lock);
	flush_locked();
	log_rows_locked(p, width, pitch, rows);
	pthread_mutex_unlock(&lock);
}

static void later(const void *p, size_t width, size_t pitch, size_t rows)
{
	pthread_mutex_lock(&lock);
	if (npending == kMaxPending)
		flush_locked();
	pending[npending].p = p;
	pending[npending].width = width;
	pending[npending].pitch = pitch;
	pending[npending].rows = rows;
	npending++;
	pthread_mutex_unlock(&lock);
}

__attribute__((destructor)) static void at_exit(void)
{
	flush_pending();
}

int cudaMemcpy(void *dst, const void *src, size_t n, int kind)
{
	static memcpy_fn real;
	int r;

	if (!real)
		real = (memcpy_fn)next("cudaMemcpy");
	r = real(dst, src, n, kind);
	flush_pending();
	if (!r && kind == kD2H)
		log_rows(dst, n, n, 1);
	return r;
}

int cudaMemcpyAsync(void *dst, const void *src, size_t n, int kind, void *stream)
{
	static int (*real)(void *, const void *, size_t, int, void *);
	int r;

	if (!real)
		real = next("cudaMemcpyAsync");
	r = real(dst, src, n, kind, stream);
	if (!r && kind == kD2H)
		later(dst, n, n, 1);
	return r;
}

int cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
		 size_t height, int kind)
{
	static int (*real)(void *, size_t, const void *, size_t, size_t, size_t, int);
	int r;

	if (!real)
		real = next("cudaMemcpy2D");
	r = real(dst, dpitch, src, spitch, width, height, kind);
	flush_pending();
	if (!r && kind == kD2H)
		log_rows(dst, width, dpitch, height);
	return r;
}

int cudaMemcpyFromSymbol(void *dst, const void *sym, size_t n, size_t off, int kind)
{
	static int (*real)(void *, const void *, size_t, size_t, int);
	int r;

	if (!real)
		real = next("cudaMemcpyFromSymbol");
	r = real(dst, sym, n, off, kind);
	flush_pending();
	if (!r && (kind == kD2H || kind == 4))	/* from a symbol: always device to host */
		log_rows(dst, n, n, 1);
	return r;
}

/* The calls after which an asynchronous copy has landed. */
#define WAIT1(name, T)						\
	int name(T a)						\
	{							\
		static int (*real)(T);				\
		int r;						\
		if (!real)					\
			real = next(#name);			\
		r = real(a);					\
		if (!r)						\
			flush_pending();			\
		return r;					\
	}
WAIT1(cudaStreamSynchronize, void *)
WAIT1(cudaEventSynchronize, void *)
WAIT1(cudaStreamQuery, void *)
WAIT1(cudaEventQuery, void *)

int cudaDeviceSynchronize(void)
{
	static int (*real)(void);
	int r;

	if (!real)
		real = next("cudaDeviceSynchronize");
	r = real();
	if (!r)
		flush_pending();
	return r;
}

int cudaFreeHost(void *p)
{
	static int (*real)(void *);

	if (!real)
		real = next("cudaFreeHost");
	flush_pending();
	return real(p);
}
