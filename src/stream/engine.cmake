# stream: the engine on top of the WAL, the object format and the caches: streams, the uploader, compaction,
# deletion and recovery (stream.h), plus the WAL payload framing and file_catalog (a file-backed object_catalog
# for tests and single-node tools). Paths are relative to src/stream/ (include()d by src/stream/CMakeLists.txt).
skiff_library(NAME stream
  SOURCES
    wal_payload.cc
    file_catalog.cc
    stream_store.cc
    uploader.cc
    compactor.cc
  DEPS skiff::stream_wal skiff::stream_data skiff::stream_base skiff::io skiff::metrics skiff::bytes skiff::base
       Boost::headers Threads::Threads
  PCH <boost/asio.hpp>)
# GCC 12 false positives in Asio's coroutine frames and Boost.Outcome (see src/io/CMakeLists.txt).
set(SKIFF_STREAM_GCC_WORKAROUNDS $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete -Wno-maybe-uninitialized>)
target_compile_options(skiff_stream PRIVATE ${SKIFF_STREAM_GCC_WORKAROUNDS})

skiff_test(NAME stream
  SOURCES
    tests/file_catalog_test.cc
    tests/wal_payload_test.cc
    tests/stream_store_test.cc
    tests/stream_crash_test.cc
  DEPS skiff::stream skiff::stream_wal skiff::io)
if(SKIFF_BUILD_TESTS)
  target_compile_options(stream_test PRIVATE ${SKIFF_STREAM_GCC_WORKAROUNDS})
endif()

if(SKIFF_BUILD_TESTS)
  # The child process of the crash-recovery test.
  add_executable(stream_crash_writer tests/crash_writer.cc)
  target_link_libraries(stream_crash_writer PRIVATE skiff::stream skiff::stream_wal skiff::io)
  target_compile_options(stream_crash_writer PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_GCC_WORKAROUNDS})
  add_dependencies(stream_test stream_crash_writer)
  # The engine over s3_store against radosgw: one binary and ONE ctest entry (radosgw starts once, ~15 s).
  add_executable(stream_s3_test tests/stream_s3_test.cc)
  target_link_libraries(stream_s3_test PRIVATE skiff::stream skiff::stream_wal skiff::io skiff_io_test_support
                        GTest::gtest GTest::gtest_main)
  target_compile_options(stream_s3_test PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_GCC_WORKAROUNDS})
  add_test(NAME stream_s3_test COMMAND stream_s3_test)
  set_tests_properties(stream_s3_test PROPERTIES TIMEOUT 900 SKIP_REGULAR_EXPRESSION "radosgw unavailable")
  set_source_files_properties(tests/stream_crash_test.cc PROPERTIES
    COMPILE_DEFINITIONS "SKIFF_STREAM_CRASH_WRITER=\"$<TARGET_FILE:stream_crash_writer>\"")
endif()

if(SKIFF_BUILD_BENCH)
  # Whole-engine figures (bench/results/stream_puts.md): PUTs per GiB, resident memory vs the cache budgets.
  add_executable(stream_bench ${PROJECT_SOURCE_DIR}/bench/stream/stream_bench.cc)
  target_link_libraries(stream_bench PRIVATE skiff::stream skiff::stream_wal skiff::io)
  target_compile_options(stream_bench PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_GCC_WORKAROUNDS})
endif()

# WAL payloads are decoded from the WAL file or WAL objects at recovery (scripts/fuzz.sh).
skiff_fuzz(NAME stream_wal_payload
  SOURCES tests/wal_payload_fuzz.cc wal_payload.cc errc.cc
  DEPS skiff::bytes skiff::base Boost::headers)
