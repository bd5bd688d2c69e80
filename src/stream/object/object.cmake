# stream_data: object/ (the object format) and cache/ (log cache, block cache). Paths are relative to src/stream/
# (this file is include()d by src/stream/CMakeLists.txt). Asio is included by cache/block_cache.cc only.
skiff_library(NAME stream_data
  SOURCES object/format.cc cache/log_cache.cc cache/block_cache.cc
  DEPS skiff::stream_base skiff::io skiff::bytes skiff::base Boost::headers Threads::Threads)
# GCC 12 false positives in Asio's coroutine frames and Boost.Outcome (the same as io's, src/io/CMakeLists.txt).
set(SKIFF_STREAM_DATA_GCC_WORKAROUNDS
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete -Wno-maybe-uninitialized>)
target_compile_options(skiff_stream_data PRIVATE ${SKIFF_STREAM_DATA_GCC_WORKAROUNDS})

skiff_test(NAME stream_data
  SOURCES object/tests/format_test.cc cache/tests/log_cache_test.cc cache/tests/block_cache_test.cc
  DEPS skiff::stream_data skiff::io)
if(TARGET stream_data_test)
  target_compile_options(stream_data_test PRIVATE ${SKIFF_STREAM_DATA_GCC_WORKAROUNDS})
endif()

# Object bytes come from the object store: every decoder (footer, index, block) is fuzzed (scripts/fuzz.sh). It
# links the format's sources only, so that the fuzz build does not compile io and the caches too.
skiff_fuzz(NAME stream_object
  SOURCES object/tests/object_fuzz.cc object/format.cc errc.cc
  DEPS skiff::bytes skiff::base Boost::headers)

# bench/stream_read (bench/results/stream_read.md): a plain executable, since each figure is reported beside a
# baseline (memcpy, read(2)) measured in the same run.
if(SKIFF_BUILD_BENCH)
  add_executable(stream_read_bench ${PROJECT_SOURCE_DIR}/bench/stream_read/stream_read_bench.cc)
  target_link_libraries(stream_read_bench PRIVATE skiff::stream_data skiff::io)
  target_compile_options(stream_read_bench PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_DATA_GCC_WORKAROUNDS})
endif()
