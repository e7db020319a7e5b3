// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// math_transcendental_f32.cu - expf, logf, sinf, cosf and powf (without
// -use_fast_math) against a long double reference: see transcendental.h.
// The double functions: math_transcendental_f64.
#define PROG "math_transcendental_f32"
typedef float Real;
static const char* kNames[] = {"expf", "logf", "sinf", "cosf", "powf"};
static const double kUlps[] = {2, 1, 2, 2, 4};  // the Programming Guide's bounds
#include "transcendental.h"
