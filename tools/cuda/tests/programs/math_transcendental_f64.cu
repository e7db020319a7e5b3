// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// math_transcendental_f64.cu - exp, log, sin, cos and pow in double
// against a long double reference: see transcendental.h.  The float
// functions: math_transcendental_f32.
#define PROG "math_transcendental_f64"
typedef double Real;
static const char* kNames[] = {"exp", "log", "sin", "cos", "pow"};
static const double kUlps[] = {1, 1, 2, 2, 2};  // the Programming Guide's bounds
#include "transcendental.h"
