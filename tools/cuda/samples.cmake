# SPDX-License-Identifier: MIT
# The NVIDIA cuda-samples subset (CUDA_SAMPLES_DIR) built with
# nvcc -cudart shared and run against GPUvm's libcudart.so.13 with the
# interpreter backend (the driver-API samples, NAME ending in Drv, against
# GPUvm's libcuda.so.1): one ctest cuda-sample.NAME per sample that
# tests/samples.list says passes or is refused (see that file).
# Included from CMakeLists.txt once gpuvm-cudart exists.
set(CUDA_SAMPLES_DIR "${CMAKE_CURRENT_SOURCE_DIR}/../../../shared/cuda-samples" CACHE PATH
    "NVIDIA cuda-samples subset (test data)")
if(NOT EXISTS ${CUDA_SAMPLES_DIR}/Samples)
  message(STATUS "cuda-samples: none at ${CUDA_SAMPLES_DIR}")
  return()
endif()
set(GPUVM_SAMPLES_OUT ${CMAKE_BINARY_DIR}/gpuvm-cuda/samples)
option(GPUVM_CUDA_SLOW_SAMPLES
  "Also build the samples samples.list calls slow (for a GPU machine: tests/gpu/pack.sh); no ctest runs them" OFF)
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/tests/samples.list lines REGEX "^[A-Za-z]")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/tests/samples.list)
set(sample_bins)
foreach(line ${lines})
  string(REGEX REPLACE "#.*" "" line "${line}")
  string(REGEX REPLACE "[ \t]+" ";" f "${line}")
  list(FILTER f EXCLUDE REGEX "^$")
  list(GET f 0 name)
  list(GET f 1 expect)
  set(args)
  list(LENGTH f n)
  if(n GREATER 2)
    list(SUBLIST f 2 -1 args)
  endif()
  if(expect STREQUAL "skip" OR (expect STREQUAL "slow" AND NOT GPUVM_CUDA_SLOW_SAMPLES))
    continue()  # not built: too slow for make check, here and in the test bed
  endif()
  file(GLOB dir LIST_DIRECTORIES true ${CUDA_SAMPLES_DIR}/Samples/*/${name})
  if(NOT dir)
    message(FATAL_ERROR "samples.list: no sample ${name}")
  endif()
  file(GLOB srcs ${dir}/*.cu ${dir}/*.cpp)
  if(name MATCHES "Drv$")
    # A driver-API sample: the program (its .cpp, linked with -lcuda, the
    # toolkit's stub; GPUvm's libcuda.so.1 at run time) loads its kernels
    # from NAME64.fatbin, found beside it (the sample looks in its working
    # directory).  Its own build puts only cubins there; GPUvm compiles
    # PTX, which this build puts in instead (code=compute_75).
    file(GLOB cus ${dir}/*.cu)
    file(GLOB cpps ${dir}/*.cpp)
    set(fatbins)
    foreach(cu ${cus})
      get_filename_component(stem ${cu} NAME_WE)
      add_custom_command(OUTPUT ${GPUVM_SAMPLES_OUT}/${stem}64.fatbin
        COMMAND ${CMAKE_COMMAND} -E make_directory ${GPUVM_SAMPLES_OUT}
        COMMAND ${NVCC} -fatbin -gencode=arch=compute_75,code=compute_75 -I${CUDA_SAMPLES_DIR}/Common
                -o ${GPUVM_SAMPLES_OUT}/${stem}64.fatbin ${cu}
        DEPENDS ${cu} COMMENT "nvcc cuda-sample ${name}: ${stem}64.fatbin" VERBATIM)
      list(APPEND fatbins ${GPUVM_SAMPLES_OUT}/${stem}64.fatbin)
    endforeach()
    add_custom_command(OUTPUT ${GPUVM_SAMPLES_OUT}/${name}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${GPUVM_SAMPLES_OUT}
      COMMAND ${NVCC} -O2 -cudart none -I${CUDA_SAMPLES_DIR}/Common -I${dir}
              ${cpps} -o ${GPUVM_SAMPLES_OUT}/${name} -lcuda
      DEPENDS ${cpps} ${fatbins} COMMENT "nvcc cuda-sample ${name}" VERBATIM)
  else()
    add_custom_command(OUTPUT ${GPUVM_SAMPLES_OUT}/${name}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${GPUVM_SAMPLES_OUT}
      COMMAND ${NVCC} -O2 -cudart shared -arch=sm_75 -I${CUDA_SAMPLES_DIR}/Common -I${dir}
              ${srcs} -o ${GPUVM_SAMPLES_OUT}/${name}
      DEPENDS ${srcs} COMMENT "nvcc cuda-sample ${name}" VERBATIM)
  endif()
  list(APPEND sample_bins ${GPUVM_SAMPLES_OUT}/${name})
  if(expect STREQUAL "pass" OR expect STREQUAL "refused")
    add_test(NAME cuda-sample.${name}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/run_cuda_program.sh
              $<TARGET_FILE_DIR:gpuvm-cudart> ${expect} ${GPUVM_SAMPLES_OUT}/${name} ${args})
    set_tests_properties(cuda-sample.${name} PROPERTIES TIMEOUT 120)
  endif()
endforeach()
# Eight host threads calling the runtime, over vgpu-engined's back end in
# the process: its calls must all run on one thread (backend_engine.cpp).
if(";${sample_bins};" MATCHES "/simpleCallback;")
  add_test(NAME cuda-engine.simpleCallback
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/run_cuda_program.sh
            $<TARGET_FILE_DIR:gpuvm-cudart> pass ${GPUVM_SAMPLES_OUT}/simpleCallback)
  set_tests_properties(cuda-engine.simpleCallback PROPERTIES TIMEOUT 120
    ENVIRONMENT "GPUVM_CUDA_BACKEND=engine-interp")
endif()
# deviceQuery over two emulated devices (backend.hpp, GPUVM_CUDA_DEVICES):
# it reports both, and no peer access between them.
if(";${sample_bins};" MATCHES "/deviceQuery;")
  add_test(NAME cuda-sample.deviceQuery.2devices
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/run_cuda_program.sh
            $<TARGET_FILE_DIR:gpuvm-cudart> pass ${GPUVM_SAMPLES_OUT}/deviceQuery)
  set_tests_properties(cuda-sample.deviceQuery.2devices PROPERTIES TIMEOUT 120
    ENVIRONMENT "GPUVM_CUDA_DEVICES=2"
    PASS_REGULAR_EXPRESSION "Detected 2 CUDA Capable device.*Device 1: .*GPU1\\) : No.*RESULT deviceQuery pass pass")
endif()
add_custom_target(gpuvm-cuda-samples ALL DEPENDS ${sample_bins} gpuvm-cudart gpuvm-cuda)
