// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// memory.cpp - the driver API's memory, copies, streams and events.  As
// in libcudart, a blocking copy first waits for the work before it (and
// reports its faults); the Async forms are queued in order with
// everything else, whatever the stream; events time on the host after
// waiting for the work before them.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "driver.hpp"

using namespace gpuvm::cudriver;

namespace {

// [va, va + n) inside one allocation the current device maps: device
// memory or mapped host memory (cuMemHostGetDevicePointer's addresses).
void check_device(Runtime& rt, CUdeviceptr va, size_t n) {
    rt.refuse_foreign(va, n, "the address");
    if (!rt.find(va, n).second)
        throw DriverError(CUDA_ERROR_INVALID_VALUE, "not memory of the device");
}

// The copies: each address the memory of the device it names, current
// or not (unified addressing, Runtime::write/read/copy).
void htod(Runtime& rt, CUdeviceptr dst, const void* src, size_t n) {
    if (n)
        rt.write(dst, src, n);
}

void dtoh(Runtime& rt, void* dst, CUdeviceptr src, size_t n) {
    if (n)
        rt.read(dst, src, n);
}

void dtod(Runtime& rt, CUdeviceptr dst, CUdeviceptr src, size_t n) {
    if (n)
        rt.copy(dst, src, n);
}

// cuMemsetD8/16/32: @n elements of @size bytes of @value.
void memset_elems(Runtime& rt, CUdeviceptr va, uint32_t value, size_t n, unsigned size) {
    if (va % size)
        throw DriverError(CUDA_ERROR_INVALID_VALUE, "a misaligned address");
    if (n > SIZE_MAX / size)
        throw DriverError(CUDA_ERROR_INVALID_VALUE, "too many elements");
    size_t bytes = n * size;
    if (!bytes)
        return;
    check_device(rt, va, bytes);
    if (size == 1) {
        rt.memset(va, static_cast<int>(value), bytes);
        return;
    }
    uint32_t pat = size == 2 ? (value & 0xffff) * 0x10001u : value;
    auto& b = rt.backend();
    size_t head = std::min(bytes, static_cast<size_t>((4 - va % 4) % 4));  // 0 or 2
    size_t body = (bytes - head) & ~size_t{3};
    size_t tail = bytes - head - body;                                     // 0 or 2
    uint16_t half = static_cast<uint16_t>(value);
    if (head)
        b.write(va, &half, 2);
    if (body)
        b.fill(va + head, body, pat);
    if (tail)
        b.write(va + head + body, &half, 2);
}

}  // namespace

extern "C" {

// ---- memory --------------------------------------------------------------------

CUresult cuMemAlloc(CUdeviceptr* p, size_t size) {
    if (!p || !size)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuMemAlloc", [&](Runtime& rt) { *p = rt.malloc(size, false, nullptr, owner_of(current())); });
}

CUresult cuMemAllocPitch(CUdeviceptr* p, size_t* pitch, size_t width, size_t height, unsigned int elem) {
    if (!p || !pitch || !width || !height || (elem != 4 && elem != 8 && elem != 16))
        return CUDA_ERROR_INVALID_VALUE;
    size_t row = (width + 255) & ~size_t{255};
    if (row < width || height > SIZE_MAX / row)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = cuMemAlloc(p, row * height);
    if (r == CUDA_SUCCESS)
        *pitch = row;
    return r;
}

CUresult cuMemFree(CUdeviceptr p) {
    if (!p)
        return CUDA_SUCCESS;
    return guarded("cuMemFree", [&](Runtime& rt) { rt.free(p); }, kCtx);
}

CUresult cuMemGetAddressRange(CUdeviceptr* base, size_t* size, CUdeviceptr p) {
    return guarded("cuMemGetAddressRange", [&](Runtime& rt) {
        auto [b, a] = rt.find(p, 1);
        if (!a)
            throw DriverError(CUDA_ERROR_NOT_FOUND, "not memory of the device");
        if (base)
            *base = b;
        if (size)
            *size = a->size;
    });
}

CUresult cuMemHostAlloc(void** p, size_t size, unsigned int) {
    if (!p || !size)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuMemHostAlloc", [&](Runtime& rt) { rt.malloc(size, true, p, owner_of(current())); });
}

CUresult cuMemAllocHost(void** p, size_t size) { return cuMemHostAlloc(p, size, 0); }

CUresult cuMemFreeHost(void* p) {
    return guarded("cuMemFreeHost", [&](Runtime& rt) { rt.free_host(p); }, kCtx);
}

CUresult cuMemHostGetDevicePointer(CUdeviceptr* dev, void* host, unsigned int flags) {
    if (!dev || flags)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuMemHostGetDevicePointer", [&](Runtime& rt) {
        auto va = rt.device_of_host(host);
        if (!va)
            throw DriverError(CUDA_ERROR_INVALID_VALUE, "not memory cuMemHostAlloc returned");
        *dev = *va;
    });
}

CUresult cuMemGetInfo(size_t* free, size_t* total) {
    if (!free || !total)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuMemGetInfo", [&](Runtime& rt) {
        *total = rt.backend().total_memory();
        *free = *total - std::min(*total, rt.backend().used_memory());
    });
}

// ---- copies and memset ------------------------------------------------------------

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t n) {
    return guarded("cuMemcpyHtoD", [&](Runtime& rt) {
        rt.synchronize();
        htod(rt, dst, src, n);
    });
}

CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t n) {
    return guarded("cuMemcpyDtoH", [&](Runtime& rt) {
        rt.synchronize();
        dtoh(rt, dst, src, n);
    });
}

CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    return guarded("cuMemcpyDtoD", [&](Runtime& rt) {
        dtod(rt, dst, src, n);
        rt.synchronize_at(dst);  // the device the copy ran on
    });
}

// cuMemcpy takes device addresses on both sides (GPUvm's vGPU maps no
// host memory of the program's own), of any device.
CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) { return cuMemcpyDtoD(dst, src, n); }

CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
    return guarded("cuMemcpyHtoDAsync", [&](Runtime& rt) {
        rt.check_stream(s);
        htod(rt, dst, src, n);
    });
}

CUresult cuMemcpyDtoHAsync(void* dst, CUdeviceptr src, size_t n, CUstream s) {
    return guarded("cuMemcpyDtoHAsync", [&](Runtime& rt) {
        rt.check_stream(s);
        dtoh(rt, dst, src, n);
    });
}

CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    return guarded("cuMemcpyDtoDAsync", [&](Runtime& rt) {
        rt.check_stream(s);
        dtod(rt, dst, src, n);
    });
}

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    return cuMemcpyDtoDAsync(dst, src, n, s);
}

CUresult cuMemsetD8(CUdeviceptr p, unsigned char v, size_t n) {
    return guarded("cuMemsetD8", [&](Runtime& rt) { memset_elems(rt, p, v, n, 1); });
}

CUresult cuMemsetD16(CUdeviceptr p, unsigned short v, size_t n) {
    return guarded("cuMemsetD16", [&](Runtime& rt) { memset_elems(rt, p, v, n, 2); });
}

CUresult cuMemsetD32(CUdeviceptr p, unsigned int v, size_t n) {
    return guarded("cuMemsetD32", [&](Runtime& rt) { memset_elems(rt, p, v, n, 4); });
}

CUresult cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, CUstream s) {
    return guarded("cuMemsetD8Async", [&](Runtime& rt) {
        rt.check_stream(s);
        memset_elems(rt, p, v, n, 1);
    });
}

CUresult cuMemsetD16Async(CUdeviceptr p, unsigned short v, size_t n, CUstream s) {
    return guarded("cuMemsetD16Async", [&](Runtime& rt) {
        rt.check_stream(s);
        memset_elems(rt, p, v, n, 2);
    });
}

CUresult cuMemsetD32Async(CUdeviceptr p, unsigned int v, size_t n, CUstream s) {
    return guarded("cuMemsetD32Async", [&](Runtime& rt) {
        rt.check_stream(s);
        memset_elems(rt, p, v, n, 4);
    });
}

// ---- streams -------------------------------------------------------------------------

CUresult cuStreamCreate(CUstream* s, unsigned int) {
    if (!s)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuStreamCreate", [&](Runtime& rt) {
        *s = static_cast<CUstream>(const_cast<void*>(rt.create_stream()));
    });
}

CUresult cuStreamCreateWithPriority(CUstream* s, unsigned int flags, int) { return cuStreamCreate(s, flags); }

CUresult cuStreamDestroy(CUstream s) {
    return guarded("cuStreamDestroy", [&](Runtime& rt) {
        if (!rt.destroy_stream(s))
            throw DriverError(CUDA_ERROR_INVALID_HANDLE, "not a stream");
    }, kCtx);
}

CUresult cuStreamSynchronize(CUstream s) {
    return guarded("cuStreamSynchronize", [&](Runtime& rt) {
        rt.check_stream(s);
        rt.synchronize(rt.stream_device(s));
    });
}

CUresult cuStreamQuery(CUstream s) { return cuStreamSynchronize(s); }

CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int) {
    return guarded("cuStreamWaitEvent", [&](Runtime& rt) {
        rt.check_stream(s);
        rt.event_of(e);
    });
}

// Host functions run once the work before them is done: here, at once
// after waiting for it, in the calling thread.
CUresult cuLaunchHostFunc(CUstream s, CUhostFn fn, void* data) {
    if (!fn)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = cuStreamSynchronize(s);
    if (r == CUDA_SUCCESS)
        fn(data);
    return r;
}

CUresult cuStreamAddCallback(CUstream s, CUstreamCallback cb, void* data, unsigned int flags) {
    if (!cb || flags)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = cuStreamSynchronize(s);
    if (r == CUDA_SUCCESS)  // a call that fails runs nothing
        cb(s, r, data);
    return r;
}

// ---- events --------------------------------------------------------------------------

CUresult cuEventCreate(CUevent* e, unsigned int) {
    if (!e)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuEventCreate", [&](Runtime& rt) { *e = reinterpret_cast<CUevent>(rt.create_event()); });
}

CUresult cuEventDestroy(CUevent e) {
    return guarded("cuEventDestroy", [&](Runtime& rt) {
        if (!rt.destroy_event(e))
            throw DriverError(CUDA_ERROR_INVALID_HANDLE, "not an event");
    }, kCtx);
}

CUresult cuEventRecord(CUevent e, CUstream s) {
    return guarded("cuEventRecord", [&](Runtime& rt) {
        rt.check_stream(s);
        auto& ev = rt.event_of(e);
        rt.synchronize(rt.stream_device(s));
        ev.t = std::chrono::steady_clock::now();
        ev.recorded = true;
    });
}

CUresult cuEventRecordWithFlags(CUevent e, CUstream s, unsigned int) { return cuEventRecord(e, s); }

CUresult cuEventSynchronize(CUevent e) {
    return guarded("cuEventSynchronize", [&](Runtime& rt) {
        rt.event_of(e);
        rt.synchronize();
    });
}

CUresult cuEventQuery(CUevent e) { return cuEventSynchronize(e); }

CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    if (!ms)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuEventElapsedTime", [&](Runtime& rt) {
        auto& a = rt.event_of(start);
        auto& b = rt.event_of(end);
        if (!a.recorded || !b.recorded)
            throw DriverError(CUDA_ERROR_INVALID_HANDLE, "an event not recorded");
        *ms = std::chrono::duration<float, std::milli>(b.t - a.t).count();
    });
}

}  // extern "C"
