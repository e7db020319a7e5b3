// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// check.h - what every test program of this directory shares: CHECK(call)
// stops the program with "FAIL <PROG>: line N: call: error" when a CUDA
// call fails.  Define PROG (the program's name) before including it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        cudaError_t e_ = (call);                                                                     \
        if (e_ != cudaSuccess) {                                                                     \
            printf("FAIL " PROG ": line %d: %s: %s (%s)\n", __LINE__, #call, cudaGetErrorName(e_), \
                   cudaGetErrorString(e_));                                                          \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)
