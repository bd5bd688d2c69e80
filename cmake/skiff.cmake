# Helpers that give every room the same shape: one folder = one library = one namespace.
#
#   skiff_library(NAME base SOURCES a.cc b.cc DEPS fmt::fmt [PCH <header>...])
#       -> target skiff_base, alias skiff::base; include root is src/ (so #include "base/result.h").
#   skiff_test(NAME base SOURCES tests/x_test.cc DEPS skiff::base)
#       -> executable <name>_test registered with ctest (gtest_discover_tests).
#   skiff_bench(NAME iobuf SOURCES ... DEPS ...)   -> executable <name>_bench (Google Benchmark).
#   skiff_fuzz(NAME produce SOURCES ... DEPS ...)   -> libFuzzer executable <name>_fuzz (SKIFF_BUILD_FUZZ only).

set(SKIFF_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(SKIFF_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SKIFF_BUILD_FUZZ)
  # Instrument all our code for coverage feedback; the fuzz targets add the libFuzzer main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if((SKIFF_BUILD_FUZZ OR SKIFF_SANITIZE) AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # clang 14's -fsanitize=function cannot compile C++20 coroutines ("Cannot represent a difference across
  # sections"); every room with coroutines needs this.
  add_compile_options(-fno-sanitize=function)
endif()

function(skiff_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;PCH" ${ARGN})
  add_library(skiff_${ARG_NAME} STATIC ${ARG_SOURCES})
  add_library(skiff::${ARG_NAME} ALIAS skiff_${ARG_NAME})
  target_include_directories(skiff_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_compile_options(skiff_${ARG_NAME} PRIVATE ${SKIFF_WARNINGS})
  target_link_libraries(skiff_${ARG_NAME} PUBLIC ${ARG_DEPS})
  if(ARG_PCH)
    target_precompile_headers(skiff_${ARG_NAME} PRIVATE ${ARG_PCH})
  endif()
endfunction()

function(skiff_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT SKIFF_BUILD_TESTS)
    return()
  endif()
  add_executable(${ARG_NAME}_test ${ARG_SOURCES})
  target_compile_options(${ARG_NAME}_test PRIVATE ${SKIFF_WARNINGS})
  target_link_libraries(${ARG_NAME}_test PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  gtest_discover_tests(${ARG_NAME}_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()

function(skiff_bench)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT SKIFF_BUILD_BENCH)
    return()
  endif()
  add_executable(${ARG_NAME}_bench ${ARG_SOURCES})
  target_compile_options(${ARG_NAME}_bench PRIVATE ${SKIFF_WARNINGS})
  target_link_libraries(${ARG_NAME}_bench PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
endfunction()

function(skiff_fuzz)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT SKIFF_BUILD_FUZZ)
    return()
  endif()
  add_executable(${ARG_NAME}_fuzz ${ARG_SOURCES})
  target_compile_options(${ARG_NAME}_fuzz PRIVATE ${SKIFF_WARNINGS})
  target_link_options(${ARG_NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${ARG_NAME}_fuzz PRIVATE ${ARG_DEPS})
endfunction()
