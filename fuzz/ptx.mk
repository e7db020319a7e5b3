# SPDX-License-Identifier: GPL-2.0 OR MIT
# The fuzzer of the PTX front end (fuzz/fuzz_ptx.cpp).  `make fuzz` (top
# level) builds it and runs it for FUZZ_PTX_SECONDS from a corpus of the
# PTX nvcc made for the tests (build/user/ptx/ptx-data) when there is one.
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OUT ?= $(TOP)/build/fuzz
CXX := clang++
SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
CXXFLAGS := -std=c++20 -g -O1 -Wall -Wextra -Werror $(SAN) -I$(TOP)/tools/ptx -I$(TOP)/common \
	-Wno-c99-designator
SRC := $(wildcard $(TOP)/tools/ptx/ptx_*.cpp) $(TOP)/fuzz/fuzz_ptx.cpp
# One object a source (make -j compiles them side by side).
POBJS := $(patsubst $(TOP)/%.cpp,$(OUT)/p/%.o,$(SRC))

$(OUT)/fuzz-ptx: $(POBJS)
	$(CXX) $(CXXFLAGS) -o $@ $^

$(OUT)/p/%.o: $(TOP)/%.cpp $(wildcard $(TOP)/tools/ptx/*.hpp)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<
