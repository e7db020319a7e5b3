# SPDX-License-Identifier: MIT
# make install and the gpuvm-cuda Debian package: GPUvm's CUDA libraries
# (libcudart.so.13, target gpuvm-cudart; libcuda.so.1, target gpuvm-cuda)
# in a directory of their own, <libdir>/gpuvm-cuda/, never in the dynamic
# linker's default path, where dom0's NVIDIA libraries of the same names
# may be; the gpuvm-cuda command that runs one program with them
# (gpuvm-cuda.sh.in); its man page.  Documentation/cuda.rst, "Installing:
# the gpuvm-cuda package", says why.  Included by CMakeLists.txt after the
# libraries' targets; each rule is there only if its target is (no CUDA
# toolkit headers: nothing to install).
#
# GPUVM_REQUIRE_CUDA=ON (the package build, debian/rules) makes a missing
# library an error here rather than a package without it; the nocuda
# build profile instead sets GPUVM_CUDA_INCLUDE=OFF (the find_path result
# of CMakeLists.txt), so that nothing of them is built.
option(GPUVM_REQUIRE_CUDA "Fail unless GPUvm's CUDA libraries are built" OFF)
if(GPUVM_REQUIRE_CUDA AND NOT (TARGET gpuvm-cudart AND TARGET gpuvm-cuda))
  message(FATAL_ERROR "GPUVM_REQUIRE_CUDA: GPUvm's CUDA libraries (libcudart.so.13, "
    "libcuda.so.1) cannot be built: the CUDA toolkit's headers (cuda_runtime_api.h) "
    "were not found (GPUVM_CUDA_INCLUDE=${GPUVM_CUDA_INCLUDE}; the default place is "
    "/usr/local/cuda/include, -DGPUVM_CUDA_INCLUDE=DIR names another).  For the Debian "
    "packages without gpuvm-cuda: dpkg-buildpackage -P nocuda (make deb: "
    "DEB_BUILD_PROFILES=nocuda)")
endif()

set(GPUVM_CUDA_LIBDIR ${CMAKE_INSTALL_LIBDIR}/gpuvm-cuda)
# No namelinks (libcudart.so, libcuda.so): programs are linked against
# NVIDIA's toolkit and only run with these.
if(TARGET gpuvm-cuda)
  install(TARGETS gpuvm-cuda LIBRARY DESTINATION ${GPUVM_CUDA_LIBDIR} NAMELINK_SKIP)
endif()
if(TARGET gpuvm-cudart)
  install(TARGETS gpuvm-cudart LIBRARY DESTINATION ${GPUVM_CUDA_LIBDIR} NAMELINK_SKIP)
  set(GPUVM_CUDA_FULL_LIBDIR ${CMAKE_INSTALL_FULL_LIBDIR}/gpuvm-cuda)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/gpuvm-cuda.sh.in
    ${CMAKE_CURRENT_BINARY_DIR}/gpuvm-cuda @ONLY)
  install(PROGRAMS ${CMAKE_CURRENT_BINARY_DIR}/gpuvm-cuda DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/../man/gpuvm-cuda.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
