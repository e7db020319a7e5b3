// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// worker_probe: measures, on a machine with an NVIDIA GPU, the memory
// model issue 19 plans for vgpu-engined (Documentation/engines.rst,
// "Guest code on the GPU"): the parent process owns device memory in
// 2 MiB allocations (the GPU's mapping granularity, each mappable on its
// own), exports each as a POSIX file descriptor, and a worker process
// (started with fork + exec, as CUDA cannot be used across a plain fork)
// imports them over a Unix socket and maps them at the guest's GPU
// addresses inside a window it reserved.  Prints the cost of each step
// per allocation, the worker's start, a kernel's view of the memory, and
// what a fault in the worker leaves of it.
//
//   nvcc -O2 -o worker_probe tests/gpu/worker_probe.cu -lcuda && ./worker_probe [N]
//
// N: allocations of 2 MiB (default 256: 512 MiB).
#include <cuda.h>
#include <cuda_runtime.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define CK(x)                                                                 \
	do {                                                                  \
		CUresult r_ = (x);                                            \
		if (r_ != CUDA_SUCCESS) {                                     \
			const char *s_ = nullptr;                             \
			cuGetErrorName(r_, &s_);                              \
			std::printf("FAIL %s:%d %s: %s\n", __FILE__, __LINE__, \
				    #x, s_ ? s_ : "?");                       \
			std::exit(1);                                         \
		}                                                             \
	} while (0)

static const uint64_t kWindow = 0x1000000000ull;	// 64 GiB
static const uint64_t kWindowSize = 64ull << 30;
static const size_t kPiece = 2 << 20;

static double now_us()
{
	return std::chrono::duration<double, std::micro>(
		       std::chrono::steady_clock::now().time_since_epoch()).count();
}

__global__ void stamp(uint32_t *p, uint32_t v)
{
	p[threadIdx.x] = v + threadIdx.x;
}

__global__ void check(const uint32_t *p, uint32_t v, int *bad)
{
	if (p[threadIdx.x] != v + threadIdx.x)
		atomicAdd(bad, 1);
}

__global__ void wild(uint32_t *p)
{
	*p = 1;
}

static CUmemAllocationProp props(CUdevice dev)
{
	CUmemAllocationProp prop = {};
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return prop;
}

// One fd per message, SCM_RIGHTS.
static void send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	struct msghdr m = {};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1) {
		std::perror("sendmsg");
		std::exit(1);
	}
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	struct msghdr m = {};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	if (recvmsg(sock, &m, 0) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd;
	std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

// The worker: imports N pieces, maps piece i at kWindow + 2 MiB * i in
// reverse order (the guest's addresses need not follow the parent's),
// checks the parent's stamps, writes its own, and with "fault" ends with
// a wild store.
static int worker(int sock, int n, bool fault)
{
	double t0 = now_us();
	CK(cuInit(0));
	CUdevice dev;
	CK(cuDeviceGet(&dev, 0));
	CUcontext ctx;
	CK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CK(cuCtxSetCurrent(ctx));
	double t_ctx = now_us();
	CUdeviceptr base = 0;
	CK(cuMemAddressReserve(&base, kWindowSize, kPiece, kWindow, 0));
	if (base != kWindow) {
		std::printf("worker: window at 0x%llx, not at the hint\n", (unsigned long long)base);
		return 1;
	}
	CUmemAllocationProp prop = props(dev);
	CUmemAccessDesc acc = {};
	acc.location = prop.location;
	acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	double imp = 0, map = 0;
	for (int i = 0; i < n; i++) {
		int fd = recv_fd(sock);
		if (fd < 0)
			return 1;
		double a = now_us();
		CUmemGenericAllocationHandle h;
		CK(cuMemImportFromShareableHandle(&h, (void *)(uintptr_t)fd,
						  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
		close(fd);
		double b = now_us();
		uint64_t at = kWindow + (uint64_t)(n - 1 - i) * kPiece;
		CK(cuMemMap(at, kPiece, 0, h, 0));
		CK(cuMemSetAccess(at, kPiece, &acc, 1));
		CK(cuMemRelease(h));	// the mapping keeps it
		map += now_us() - b;
		imp += b - a;
	}
	double t_mapped = now_us();
	int *bad;
	CK(cuMemAllocManaged((CUdeviceptr *)&bad, sizeof(int), CU_MEM_ATTACH_GLOBAL));
	*bad = 0;
	for (int i = 0; i < n; i++)
		check<<<1, 256>>>((uint32_t *)(kWindow + (uint64_t)(n - 1 - i) * kPiece), 1000u * i, bad);
	CK((CUresult)cudaDeviceSynchronize());
	double t_first = now_us();
	for (int i = 0; i < n; i++)
		stamp<<<1, 256>>>((uint32_t *)(kWindow + (uint64_t)(n - 1 - i) * kPiece), 7000u * i);
	CK((CUresult)cudaDeviceSynchronize());
	std::printf("worker: context %.1f ms; import %.1f us and map %.1f us per piece; %d pieces read as the parent wrote them: %s; %.2f ms from exec to the first kernels' end\n",
		    (t_ctx - t0) / 1000, imp / n, map / n, n, *bad ? "NO" : "yes",
		    (t_first - t0) / 1000);
	std::fflush(stdout);
	if (fault) {
		wild<<<1, 1>>>((uint32_t *)(kWindow + kWindowSize - 4096));	// reserved, not mapped
		cudaError_t e = cudaDeviceSynchronize();
		std::printf("worker: a store to an unmapped address of the window: %s\n", cudaGetErrorName(e));
		std::fflush(stdout);
		return 3;
	}
	(void)t_mapped;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 3 && !std::strcmp(argv[1], "--worker"))
		return worker(std::atoi(argv[2]), std::atoi(argv[3]), argc > 4);
	int n = argc > 1 ? std::atoi(argv[1]) : 256;
	CK(cuInit(0));
	cudaFree(nullptr);
	CUdevice dev;
	CK(cuCtxGetDevice(&dev));
	CUmemAllocationProp prop = props(dev);
	CUmemAccessDesc acc = {};
	acc.location = prop.location;
	acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;

	// The parent: N pieces, each mapped in its own window (to stamp and
	// check them) and exported.
	std::vector<CUmemGenericAllocationHandle> h(n);
	std::vector<int> fds(n);
	CUdeviceptr pbase = 0;
	CK(cuMemAddressReserve(&pbase, (size_t)n * kPiece, kPiece, 0, 0));
	double create = 0, exp = 0, map = 0;
	for (int i = 0; i < n; i++) {
		double a = now_us();
		CK(cuMemCreate(&h[i], kPiece, &prop, 0));
		double b = now_us();
		CK(cuMemExportToShareableHandle(&fds[i], h[i], CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
		double c = now_us();
		CK(cuMemMap(pbase + i * kPiece, kPiece, 0, h[i], 0));
		CK(cuMemSetAccess(pbase + i * kPiece, kPiece, &acc, 1));
		map += now_us() - c;
		create += b - a;
		exp += c - b;
	}
	for (int i = 0; i < n; i++)
		stamp<<<1, 256>>>((uint32_t *)(pbase + i * kPiece), 1000u * i);
	CK((CUresult)cudaDeviceSynchronize());
	std::printf("parent: %d pieces of 2 MiB: create %.1f us, export %.1f us, map %.1f us per piece\n",
		    n, create / n, exp / n, map / n);
	std::fflush(stdout);

	// Two workers in turn: the first faults on purpose, the second must
	// find the first's stamps.
	for (int round = 0; round < 2; round++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
			std::perror("socketpair");
			return 1;
		}
		double t0 = now_us();
		pid_t pid = fork();
		if (!pid) {
			close(sv[0]);
			std::string s = std::to_string(sv[1]), k = std::to_string(n);
			if (round == 0)
				execl("/proc/self/exe", argv[0], "--worker", s.c_str(), k.c_str(), "fault", (char *)nullptr);
			else
				execl("/proc/self/exe", argv[0], "--worker", s.c_str(), k.c_str(), (char *)nullptr);
			_exit(127);
		}
		close(sv[1]);
		for (int i = 0; i < n; i++)
			send_fd(sv[0], fds[i]);
		int st = 0;
		waitpid(pid, &st, 0);
		close(sv[0]);
		std::printf("parent: worker %d (%s) ended with status %d after %.1f ms\n", round,
			    round ? "plain" : "faulting", WEXITSTATUS(st), (now_us() - t0) / 1000);
		// The parent's context and memory after the worker: the stamps
		// the worker wrote (7000 i) are there.
		int *bad;
		CK(cuMemAllocManaged((CUdeviceptr *)&bad, sizeof(int), CU_MEM_ATTACH_GLOBAL));
		*bad = 0;
		for (int i = 0; i < n; i++)
			check<<<1, 256>>>((uint32_t *)(pbase + i * kPiece), 7000u * i, bad);
		CK((CUresult)cudaDeviceSynchronize());
		std::printf("parent: its context works after the worker; the worker's writes are in the memory: %s\n",
			    *bad ? "NO" : "yes");
		CK(cuMemFree((CUdeviceptr)bad));
		for (int i = 0; i < n; i++)
			stamp<<<1, 256>>>((uint32_t *)(pbase + i * kPiece), 1000u * i);
		CK((CUresult)cudaDeviceSynchronize());
	}
	double a = now_us();
	for (int i = 0; i < n; i++) {
		CK(cuMemUnmap(pbase + i * kPiece, kPiece));
		CK(cuMemRelease(h[i]));
		close(fds[i]);
	}
	std::printf("parent: unmap and release %.1f us per piece\n", (now_us() - a) / n);
	CK(cuMemAddressFree(pbase, (size_t)n * kPiece));
	return 0;
}
