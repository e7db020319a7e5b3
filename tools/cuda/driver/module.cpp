// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// module.cpp - the driver API's modules, functions and launches.  A
// module's image is PTX text, a fatbinary (with its wrapper, as
// __cudaRegisterFatBinary gets it, or bare, as `nvcc -fatbin` writes it)
// or a file of either; GPUvm compiles the PTX at once (as NVIDIA's
// driver JITs it), so that a bad or unsupported kernel fails
// cuModuleLoad* with its reason.  Cubins (ELF) carry machine code for
// NVIDIA's GPUs, which GPUvm cannot run: CUDA_ERROR_NO_BINARY_FOR_GPU,
// naming the fix.
#include <algorithm>
#include <cstring>
#include <vector>

#include "driver.hpp"
#include "fatbin.hpp"

using namespace gpuvm::cudriver;
using gpuvm::cudart::Function;
using gpuvm::cudart::Module;

namespace {

const char kNoPtx[] =
    "the image has no PTX, only cubins for NVIDIA's GPUs (GPUvm compiles PTX: build it with "
    "nvcc -fatbin -gencode arch=compute_75,code=compute_75, or -ptx)";

// The PTX an image carries.  @size: the bytes the image has when known
// (cuModuleLoad's file); 0 for an image in the program's memory, whose
// headers are then believed, as NVIDIA's driver does.
std::string ptx_of_image(const void* image, size_t size = 0) {
    namespace cuda = gpuvm::cuda;
    if (!image)
        throw DriverError(CUDA_ERROR_INVALID_VALUE, "no image");
    const auto* b = static_cast<const uint8_t*>(image);
    const char* text = static_cast<const char*>(image);
    auto need = [&](size_t n) {
        if (size && n > size)
            throw DriverError(CUDA_ERROR_INVALID_IMAGE, "the image ends inside its header");
    };
    if (strnlen(text, 4) < 4) {  // shorter than any magic: text
        if (!*text)
            throw DriverError(CUDA_ERROR_INVALID_IMAGE, "an empty image");
        return text;
    }
    uint32_t magic;
    std::memcpy(&magic, b, 4);
    std::vector<cuda::FatbinEntry> entries;
    try {
        if (magic == cuda::kFatbinWrapperMagic) {
            // A wrapper points into the program's memory: never from a file.
            if (size)
                throw DriverError(CUDA_ERROR_INVALID_IMAGE, "a fatbinary wrapper in a file");
            entries = cuda::parse_wrapper(image);
        } else if (magic == cuda::kFatbinMagic) {
            need(16);
            uint16_t header;
            uint64_t bytes;
            std::memcpy(&header, b + 6, 2);
            std::memcpy(&bytes, b + 8, 8);
            if (bytes > cuda::kMaxFatbinBytes)
                throw DriverError(CUDA_ERROR_INVALID_IMAGE, "a fatbinary of " + std::to_string(bytes) + " bytes");
            need(header + bytes);
            entries = cuda::parse_fatbin({b, header + bytes});
        } else if (std::memcmp(b, "\x7f" "ELF", 4) == 0) {
            throw DriverError(CUDA_ERROR_NO_BINARY_FOR_GPU, kNoPtx);
        } else {
            return std::string(text, strnlen(text, size ? size : cuda::kMaxFatbinBytes));
        }
    } catch (const cuda::FatbinError& e) {
        throw DriverError(CUDA_ERROR_INVALID_IMAGE, std::string("the fatbinary: ") + e.what());
    }
    const cuda::FatbinEntry* e = cuda::best_ptx(entries);
    if (!e)
        throw DriverError(CUDA_ERROR_NO_BINARY_FOR_GPU, kNoPtx);
    return e->data;
}

// Loads the PTX of @image into the current context; a failure's text
// goes to @log (cuModuleLoadDataEx's CU_JIT_ERROR_LOG_BUFFER) too.
CUresult load(const char* fn, CUmodule* out, const void* image, std::string* log = nullptr, size_t size = 0) {
    if (!out)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded(fn, [&](Runtime& rt) {
        try {
            std::string ptx = ptx_of_image(image, size);
            *out = reinterpret_cast<CUmodule>(rt.load_module(std::move(ptx), owner_of(current())));
        } catch (const std::exception& e) {
            if (log)
                *log = e.what();
            throw;
        }
    });
}

Module& module_of(Runtime& rt, CUmodule m) {
    auto* mod = reinterpret_cast<Module*>(m);
    if (!rt.is_module(mod))
        throw DriverError(CUDA_ERROR_INVALID_HANDLE, "not a module");
    return *mod;
}

Function& function_of(Runtime& rt, CUfunction f) {
    Function* fn = rt.find_function(f);
    if (!fn)
        throw DriverError(CUDA_ERROR_INVALID_HANDLE, "not a function");
    return *fn;
}

}  // namespace

extern "C" {

CUresult cuModuleLoadData(CUmodule* module, const void* image) { return load("cuModuleLoadData", module, image); }

CUresult cuModuleLoadFatBinary(CUmodule* module, const void* fatbin) {
    return load("cuModuleLoadFatBinary", module, fatbin);
}

// Options are hints to NVIDIA's JIT but for the error log, which gets
// the reason a module did not load.
CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int n, CUjit_option* options,
                            void** values) {
    if (n && (!options || !values))
        return CUDA_ERROR_INVALID_VALUE;
    std::string log;
    CUresult r = load("cuModuleLoadDataEx", module, image, &log);
    // Each log: its buffer gets the text (NUL-terminated, cut to its size)
    // and its size slot the length written; the info log stays empty.
    char* bufs[2] = {};
    size_t* slots[2] = {};
    for (unsigned i = 0; i < n; i++) {
        switch (options[i]) {
        case CU_JIT_ERROR_LOG_BUFFER: bufs[0] = static_cast<char*>(values[i]); break;
        case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES: slots[0] = reinterpret_cast<size_t*>(&values[i]); break;
        case CU_JIT_INFO_LOG_BUFFER: bufs[1] = static_cast<char*>(values[i]); break;
        case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES: slots[1] = reinterpret_cast<size_t*>(&values[i]); break;
        case CU_JIT_WALL_TIME: std::memset(&values[i], 0, sizeof(float)); break;
        default: break;  // hints to NVIDIA's JIT
        }
    }
    const std::string texts[2] = {log, ""};
    for (int k = 0; k < 2; k++) {
        if (!bufs[k] || !slots[k] || !*slots[k])
            continue;
        size_t len = std::min(texts[k].size(), *slots[k] - 1);
        std::memcpy(bufs[k], texts[k].data(), len);
        bufs[k][len] = 0;
        *slots[k] = len;
    }
    return r;
}

CUresult cuModuleLoad(CUmodule* module, const char* fname) {
    if (!fname)
        return CUDA_ERROR_INVALID_VALUE;
    std::vector<uint8_t> bytes;
    try {
        bytes = gpuvm::cuda::read_file(fname);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "GPUvm CUDA driver: cuModuleLoad: %s\n", e.what());
        return CUDA_ERROR_FILE_NOT_FOUND;
    }
    size_t size = bytes.size();
    bytes.push_back(0);  // PTX text ends there
    return load("cuModuleLoad", module, bytes.data(), nullptr, size);
}

CUresult cuModuleUnload(CUmodule module) {
    return guarded("cuModuleUnload", [&](Runtime& rt) { rt.unload_module(&module_of(rt, module)); }, kCtx);
}

CUresult cuModuleGetFunction(CUfunction* out, CUmodule module, const char* name) {
    if (!out || !name)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuModuleGetFunction", [&](Runtime& rt) {
        try {
            *out = reinterpret_cast<CUfunction>(&rt.module_function(module_of(rt, module), name));
        } catch (const gpuvm::cudart::CudaError& e) {
            throw DriverError(CUDA_ERROR_NOT_FOUND, e.what());
        }
    });
}

CUresult cuModuleGetGlobal(CUdeviceptr* dptr, size_t* bytes, CUmodule module, const char* name) {
    if (!name)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuModuleGetGlobal", [&](Runtime& rt) {
        try {
            auto [va, size] = rt.module_global(module_of(rt, module), name);
            if (dptr)
                *dptr = va;
            if (bytes)
                *bytes = size;
        } catch (const gpuvm::cudart::CudaError& e) {
            throw DriverError(CUDA_ERROR_NOT_FOUND, e.what());
        }
    });
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                        unsigned int by, unsigned int bz, unsigned int shared, CUstream stream, void** params,
                        void** extra) {
    return guarded("cuLaunchKernel", [&](Runtime& rt) {
        Function& fn = function_of(rt, f);
        rt.check_stream(stream);
        std::array<uint32_t, 3> grid{gx, gy, gz}, block{bx, by, bz};
        if (params && extra)
            throw DriverError(CUDA_ERROR_INVALID_VALUE, "both kernelParams and extra");
        if (!extra) {
            rt.launch(fn, grid, block, params, shared);
            return;
        }
        const void* buf = nullptr;
        size_t size = 0;
        bool have_size = false;
        for (size_t i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
            if (i >= 64)
                throw DriverError(CUDA_ERROR_INVALID_VALUE, "extra: no CU_LAUNCH_PARAM_END");
            if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
                buf = extra[i + 1];
            } else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE) {
                std::memcpy(&size, extra[i + 1], sizeof(size));
                have_size = true;
            } else {
                throw DriverError(CUDA_ERROR_INVALID_VALUE, "extra: an unknown option");
            }
        }
        if (!have_size && buf)
            throw DriverError(CUDA_ERROR_INVALID_VALUE, "extra: a buffer without CU_LAUNCH_PARAM_BUFFER_SIZE");
        rt.launch_packed(fn, grid, block, buf, size, shared);
    });
}

CUresult cuFuncGetAttribute(int* value, CUfunction_attribute attr, CUfunction f) {
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuFuncGetAttribute", [&](Runtime& rt) {
        const auto& k = *function_of(rt, f).info;
        switch (attr) {
        case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
            *value = k.maxntid[0] ? static_cast<int>(k.maxntid[0] * std::max(1u, k.maxntid[1]) *
                                                     std::max(1u, k.maxntid[2]))
                                  : 1024;
            break;
        case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = static_cast<int>(k.program_shared); break;
        case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = 0; break;
        case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = static_cast<int>(k.local_per_thread); break;
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = static_cast<int>(k.registers); break;
        case CU_FUNC_ATTRIBUTE_PTX_VERSION:
        case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = 75; break;
        case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: *value = 0; break;
        case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
            *value = static_cast<int>(k.max_dynamic_shared());
            break;
        default: throw DriverError(CUDA_ERROR_INVALID_VALUE, "function attribute " + std::to_string(attr));
        }
    });
}

// Hints that change nothing on GPUvm (one shared-memory size, no cache
// configuration); a dynamic shared memory size beyond it is refused.
CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute attr, int value) {
    return guarded("cuFuncSetAttribute", [&](Runtime& rt) {
        const auto& k = *function_of(rt, f).info;
        if (attr == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES &&
            (value < 0 || value > static_cast<int>(k.max_dynamic_shared())))
            throw DriverError(CUDA_ERROR_INVALID_VALUE, "more than 48 KiB of shared memory");
    });
}

CUresult cuFuncSetCacheConfig(CUfunction f, CUfunc_cache) {
    return guarded("cuFuncSetCacheConfig", [&](Runtime& rt) { function_of(rt, f); });
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* n, CUfunction f, int block, size_t dynamic) {
    if (!n)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuOccupancyMaxActiveBlocksPerMultiprocessor", [&](Runtime& rt) {
        *n = gpuvm::cudart::occupancy(*function_of(rt, f).info, block, dynamic);
    });
}

// The block size (a multiple of 32, or the kernel's limit when below 32)
// that keeps the most threads resident, the largest on a tie, and the
// grid that fills the one multiprocessor.  @dynamic_of (the program's
// callback, which may call CUDA) runs before the runtime's lock is taken.
CUresult cuOccupancyMaxPotentialBlockSize(int* min_grid, int* block_size, CUfunction f,
                                          CUoccupancyB2DSize dynamic_of, size_t dynamic, int limit) {
    if (!min_grid || !block_size)
        return CUDA_ERROR_INVALID_VALUE;
    std::vector<size_t> dyn(1025, dynamic);
    if (dynamic_of)
        for (int b = 1; b <= 1024; b++)
            if (b % 32 == 0 || b < 32)
                dyn[b] = dynamic_of(b);
    return guarded("cuOccupancyMaxPotentialBlockSize", [&](Runtime& rt) {
        const auto& k = *function_of(rt, f).info;
        int max_block = k.maxntid[0] ? static_cast<int>(k.maxntid[0] * std::max(1u, k.maxntid[1]) *
                                                        std::max(1u, k.maxntid[2]))
                                     : 1024;
        if (limit > 0)
            max_block = std::min(max_block, limit);
        max_block = std::clamp(max_block, 1, 1024);
        int best = max_block < 32 ? max_block : 0;
        int best_blocks = best ? gpuvm::cudart::occupancy(k, best, dyn[best]) : 0;
        for (int b = 32; b <= max_block; b += 32) {
            int blocks = gpuvm::cudart::occupancy(k, b, dyn[b]);
            if (blocks * b >= best_blocks * best) {
                best = b;
                best_blocks = blocks;
            }
        }
        *block_size = best;
        *min_grid = best_blocks;  // one multiprocessor
    });
}

}  // extern "C"
