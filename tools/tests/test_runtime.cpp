// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// libvgpu's error reporting without a GPU: the end-to-end scenarios cover
// the runtime against the real render node.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "vgpu/vgpu.hpp"

namespace {

TEST(Runtime, OpeningAMissingNodeCarriesErrno) {
    try {
        vgpu::Device::open("/nonexistent/renderD999");
        FAIL() << "no exception";
    } catch (const vgpu::Error& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/renderD999"), std::string::npos);
    }
}

TEST(Runtime, ANodeThatIsNotVgpuIsRefused) {
    try {
        vgpu::Device::open("/dev/null");
        FAIL() << "no exception";
    } catch (const vgpu::Error& e) {
        EXPECT_EQ(e.code(), ENOTTY) << e.what();
        EXPECT_NE(std::string(e.what()).find("VGPU_GET_INFO"), std::string::npos);
    }
}

TEST(Runtime, ContextErrorsDescribeTheFault) {
    vgpu::ContextStatus st;
    st.state = vgpu::ContextState::Faulted;
    st.fault_addr = 0x105124;
    st.fault_kind = 1;
    vgpu::ContextError e(st);
    EXPECT_EQ(e.code(), EFAULT);
    EXPECT_NE(std::string(e.what()).find("0x105124"), std::string::npos);
    st.state = vgpu::ContextState::Hung;
    EXPECT_EQ(vgpu::ContextError(st).code(), ETIMEDOUT);
    st.state = vgpu::ContextState::Banned;
    EXPECT_EQ(vgpu::ContextError(st).code(), ECANCELED);
}

TEST(Runtime, ModuleFilesAreValidated) {
    const char* path = "test_runtime_bad.vgpu";
    {
        std::ofstream f(path, std::ios::binary);
        f << "not a module";
    }
    EXPECT_THROW(vgpu::Module::load_file(path), vgpu::ModuleFormatError);
    std::remove(path);
    EXPECT_THROW(vgpu::Module::load_file("/nonexistent.vgpu"), vgpu::Error);
}

}  // namespace
