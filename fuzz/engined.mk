# SPDX-License-Identifier: GPL-2.0 OR MIT
# The fuzzer of vgpu-engined's message handling (fuzz/fuzz_engined.cpp):
# the bridge with the CUDA back end over a fake libcuda, or the
# interpreter.  `make fuzz` (top level) builds it and runs it for
# FUZZ_ENGINED_SECONDS.
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OUT ?= $(TOP)/build/fuzz
CC := clang
CXX := clang++
SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
INC := -I$(TOP)/tools/vgpu-engined -I$(TOP)/tools/tests -I$(TOP)/tools/libvgpu/include -I$(TOP)/common \
	-I$(TOP)/include/uapi/drm -I/usr/include/libdrm
CXXFLAGS := -std=c++20 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter $(SAN) $(INC)
CFLAGS := -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -fno-strict-aliasing $(SAN) $(INC)

CXXSRC := tools/vgpu-engined/bridge.cpp tools/vgpu-engined/cuda_backend.cpp \
	tools/vgpu-engined/cuda_api.cpp tools/vgpu-engined/cuda_native.cpp \
	tools/vgpu-engined/ptx.cpp \
	tools/vgpu-engined/ptx_alu.cpp \
	tools/vgpu-engined/interp_backend.cpp tools/tests/fake_cuda.cpp \
	fuzz/fuzz_engined.cpp
CSRC := common/vgpu_interp.c common/vgpu_isa.c common/vgpu_pt.c common/vgpu_run.c
EOBJS := $(patsubst %.cpp,$(OUT)/e/%.o,$(CXXSRC)) $(patsubst %.c,$(OUT)/e/%.o,$(CSRC))

$(OUT)/fuzz-engined: $(EOBJS)
	$(CXX) $(CXXFLAGS) -o $@ $^ -ldl -lpthread

$(OUT)/e/%.o: $(TOP)/%.cpp $(wildcard $(TOP)/tools/vgpu-engined/*.hpp $(TOP)/tools/tests/fake_cuda.hpp)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(OUT)/e/%.o: $(TOP)/%.c $(wildcard $(TOP)/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
