// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// va_probe: measures, on a machine with an NVIDIA GPU, what issue 19's
// address layout relies on (Documentation/engines.rst, "Guest code on
// the GPU"): where cuMemAddressReserve honours an address hint (below and
// above 2^40, small and large), whether device memory mapped there and
// host memory mmap()ed at a chosen address and registered are reached by
// a kernel at exactly that address, and whether CUDA's reservations and
// the process's own mappings keep out of each other's way.
//
//   nvcc -O2 -o va_probe tests/gpu/va_probe.cu -lcuda && ./va_probe
//
// Prints one line per check; exits 1 if a CUDA call fails where it must
// not.
#include <cuda.h>
#include <cuda_runtime.h>
#include <sys/mman.h>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <unistd.h>

#define CK(x)                                                                 \
	do {                                                                  \
		CUresult r_ = (x);                                            \
		if (r_ != CUDA_SUCCESS) {                                     \
			const char *s_ = nullptr;                             \
			cuGetErrorName(r_, &s_);                              \
			std::printf("FAIL %s: %s\n", #x, s_ ? s_ : "?");      \
			std::exit(1);                                         \
		}                                                             \
	} while (0)

__global__ void fill(uint32_t *p, uint32_t n, uint32_t v)
{
	uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		p[i] = v + i;
}

static bool check_written(const uint32_t *host, uint32_t n, uint32_t v)
{
	for (uint32_t i = 0; i < n; i++)
		if (host[i] != v + i)
			return false;
	return true;
}

// Reserves SIZE at HINT; prints where it went; frees it.
static void reserve_at(uint64_t hint, uint64_t size)
{
	CUdeviceptr p = 0;
	CUresult r = cuMemAddressReserve(&p, size, 2 << 20, hint, 0);
	std::printf("reserve %6llu MiB at hint 0x%012llx: %s 0x%012llx%s\n",
		    (unsigned long long)(size >> 20), (unsigned long long)hint,
		    r == CUDA_SUCCESS ? "got" : "error", (unsigned long long)p,
		    r == CUDA_SUCCESS && p == hint ? " (at the hint)" : "");
	if (r == CUDA_SUCCESS)
		cuMemAddressFree(p, size);
}

int main()
{
	CK(cuInit(0));
	cudaFree(nullptr);	// the primary context, current
	CUdevice dev;
	CK(cuCtxGetDevice(&dev));
	int hostptr = 0;
	CK(cuDeviceGetAttribute(&hostptr,
		CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM, dev));
	std::printf("can use host pointer for registered memory: %d\n", hostptr);

	CUdeviceptr plain;
	CK(cuMemAlloc(&plain, 1 << 20));
	std::printf("cuMemAlloc placed 1 MiB at 0x%012llx\n", (unsigned long long)plain);

	const uint64_t hints[] = { 0x1000000000ull, 0x4000000000ull, 0x8000000000ull,
				   0xff00000000ull, 0x10000000000ull, 0x100000000000ull };
	const uint64_t sizes[] = { 2ull << 20, 1ull << 30, 64ull << 30, 256ull << 30 };
	for (uint64_t h : hints)
		for (uint64_t s : sizes)
			reserve_at(h, s);

	// Device memory at a chosen address below 2^40.
	CUmemAllocationProp prop = {};
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	size_t gran = 0;
	CK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	std::printf("granularity %zu KiB\n", gran >> 10);
	const uint64_t win = 0x8000000000ull, winsz = 64ull << 30;
	CUdeviceptr base = 0;
	CK(cuMemAddressReserve(&base, winsz, gran, win, 0));
	std::printf("window 0x%012llx (%s)\n", (unsigned long long)base,
		    base == win ? "at the hint" : "NOT at the hint");
	CUmemGenericAllocationHandle h;
	CK(cuMemCreate(&h, 4 * gran, &prop, 0));
	// A part of an allocation (offset != 0): CUDA 13 says NOT_SUPPORTED
	// ("currently must be zero"), so every piece mapped alone is an
	// allocation of its own.
	uint64_t at = base + 10 * gran;
	CUresult part = cuMemMap(at, gran, gran, h, 0);
	std::printf("map a granule at offset %zu KiB of an allocation: %s\n", gran >> 10,
		    part == CUDA_SUCCESS ? "works" : "refused");
	if (part == CUDA_SUCCESS)
		CK(cuMemUnmap(at, gran));
	CK(cuMemRelease(h));
	CK(cuMemCreate(&h, gran, &prop, 0));
	CK(cuMemMap(at, gran, 0, h, 0));
	CUmemAccessDesc acc = {};
	acc.location = prop.location;
	acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	CK(cuMemSetAccess(at, gran, &acc, 1));
	const uint32_t n = gran / 4;
	fill<<<(n + 255) / 256, 256>>>((uint32_t *)at, n, 7);
	CK((CUresult)cudaDeviceSynchronize());
	static uint32_t back[1 << 19];
	CK(cuMemcpyDtoH(back, at, gran));
	std::printf("device memory mapped at 0x%012llx: kernel wrote it: %s\n",
		    (unsigned long long)at, check_written(back, n, 7) ? "yes" : "NO");

	// An mmap() inside CUDA's reservation: refused?
	void *m = mmap((void *)(base + 20 * gran), 1 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	std::printf("mmap FIXED_NOREPLACE inside the reservation: %s\n",
		    m == MAP_FAILED ? "refused" : "ALLOWED");
	if (m != MAP_FAILED)
		munmap(m, 1 << 20);

	// Host memory at a chosen address, registered: its device pointer?
	const uint64_t hat = 0x9000000000ull;
	m = mmap((void *)hat, gran, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED) {
		std::printf("mmap at 0x%012llx refused\n", (unsigned long long)hat);
	} else {
		std::memset(m, 0, gran);
		CK(cuMemHostRegister(m, gran, CU_MEMHOSTREGISTER_DEVICEMAP));
		CUdeviceptr dp = 0;
		CK(cuMemHostGetDevicePointer(&dp, m, 0));
		std::printf("host memory at 0x%012llx registered: device pointer 0x%012llx (%s)\n",
			    (unsigned long long)hat, (unsigned long long)dp,
			    dp == hat ? "the same" : "DIFFERENT");
		fill<<<(n + 255) / 256, 256>>>((uint32_t *)dp, n, 9);
		CK((CUresult)cudaDeviceSynchronize());
		std::printf("kernel wrote host memory through it: %s\n",
			    check_written((const uint32_t *)m, n, 9) ? "yes" : "NO");
		// A reservation over registered host memory: refused?
		CUdeviceptr p = 0;
		CUresult r = cuMemAddressReserve(&p, gran, gran, hat, 0);
		std::printf("reserve at the registered host range: %s 0x%012llx\n",
			    r == CUDA_SUCCESS ? "got" : "error", (unsigned long long)p);
		if (r == CUDA_SUCCESS)
			cuMemAddressFree(p, gran);
		CK(cuMemHostUnregister(m));
		munmap(m, gran);
	}
	CK(cuMemUnmap(at, gran));
	CK(cuMemRelease(h));
	CK(cuMemAddressFree(base, winsz));
	std::printf("done\n");
	return 0;
}
