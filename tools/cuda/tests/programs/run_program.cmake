# SPDX-License-Identifier: MIT
# Copyright (C) 2026 GPUvm developers
#
# Runs one program of tools/cuda/tests/programs and judges it by the
# manifest (EXPECTED beside this file), for ctest (tools/cuda/CMakeLists.txt
# registers cuda-program.NAME):
#
#   cmake -DPROGRAM=<executable> -DNAME=<name> -DEXPECTED=<manifest> -P run_program.cmake
#
# The environment (GPUVM_CUDA_BACKEND, LD_LIBRARY_PATH) is the test's.
#   NAME pass             passes when the program exits 0 and prints the
#                         line "PASS NAME";
#   NAME refused: REASON  passes when the program fails (non-zero exit, no
#                         PASS line) and its output holds the GPUvm CUDA
#                         runtime's line saying what is not supported,
#                         with REASON in it.  The day GPUvm supports the
#                         feature this test fails: the entry must then be
#                         changed to "pass".
# Anything else fails, with the program's output in the test's log.
cmake_minimum_required(VERSION 3.20)

foreach(v PROGRAM NAME EXPECTED)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_program.cmake: -D${v}=... is missing")
  endif()
endforeach()

# The manifest's entry for NAME.
file(STRINGS "${EXPECTED}" lines)
set(mode "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[ \t]*#" OR line MATCHES "^[ \t]*$")
    continue()
  endif()
  if(line MATCHES "^([A-Za-z0-9_]+)[ \t]+(.*[^ \t])[ \t]*$" AND CMAKE_MATCH_1 STREQUAL NAME)
    set(mode "${CMAKE_MATCH_2}")
  endif()
endforeach()
set(reason "")
if(mode STREQUAL "pass")
elseif(mode MATCHES "^refused:[ \t]*(.+)$")
  set(reason "${CMAKE_MATCH_1}")
  set(mode "refused")
elseif(mode STREQUAL "")
  message(FATAL_ERROR "${NAME}: not listed in ${EXPECTED} (add 'pass' or 'refused: <reason>')")
else()
  message(FATAL_ERROR "${NAME}: '${mode}' in ${EXPECTED} is neither 'pass' nor 'refused: <reason>'")
endif()

execute_process(COMMAND "${PROGRAM}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out  # stdout and stderr together
  TIMEOUT 55)         # under ctest's 60: a hang is reported here
message("${out}")
message("exit status: ${rc}")

set(passed OFF)
if(rc STREQUAL "0" AND out MATCHES "(^|\n)PASS ${NAME}\r?(\n|$)")
  set(passed ON)
endif()

if(mode STREQUAL "pass")
  if(NOT passed)
    message(FATAL_ERROR "${NAME}: expected to pass; it did not (exit status ${rc})")
  endif()
  return()
endif()

# refused
if(passed)
  message(FATAL_ERROR "${NAME}: passes now: change its line in ${EXPECTED} to 'pass'")
endif()
if(rc STREQUAL "0" OR out MATCHES "(^|\n)PASS ${NAME}")
  message(FATAL_ERROR "${NAME}: expected to fail as refused (exit status ${rc})")
endif()
# Line by line (not as a CMake list: the output may hold ';' or '[').
set(found OFF)
set(rest "${out}")
while(NOT rest STREQUAL "")
  string(FIND "${rest}" "\n" nl)
  if(nl EQUAL -1)
    set(l "${rest}")
    set(rest "")
  else()
    string(SUBSTRING "${rest}" 0 ${nl} l)
    math(EXPR next "${nl} + 1")
    string(SUBSTRING "${rest}" ${next} -1 rest)
  endif()
  string(FIND "${l}" "GPUvm CUDA runtime: " at_runtime)
  string(FIND "${l}" "not supported" at_not)
  string(FIND "${l}" "${reason}" at_reason)
  if(NOT at_runtime EQUAL -1 AND NOT at_not EQUAL -1 AND NOT at_reason EQUAL -1)
    set(found ON)
  endif()
endwhile()
if(NOT found)
  message(FATAL_ERROR "${NAME}: expected the GPUvm CUDA runtime's 'not supported' line with "
    "'${reason}'; not in the output: the program fails for another reason, or GPUvm now refuses "
    "it for another one (update ${EXPECTED})")
endif()
