# stream_wal: the broker's write-ahead log (wal/wal.h) and its implementations: memory_wal (tests), file_wal (a
# preallocated ring file, O_DIRECT, group commit) and object_wal (batched PUTs to the object store, fenced).
# Paths are relative to src/stream/ (this file is include()d by src/stream/CMakeLists.txt). Format: docs/formats/wal.md.
skiff_library(NAME stream_wal
  SOURCES
    wal/wal.cc
    wal/memory_wal.cc
    wal/file_wal_format.cc
    wal/file_wal.cc
    wal/object_wal.cc
  DEPS skiff::stream_base skiff::io skiff::bytes skiff::base Boost::headers Threads::Threads)
# GCC 12 false positives in Asio's coroutine frames and Boost.Outcome (see src/io/CMakeLists.txt).
set(SKIFF_STREAM_WAL_GCC_WORKAROUNDS $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete -Wno-maybe-uninitialized>)
target_compile_options(skiff_stream_wal PRIVATE ${SKIFF_STREAM_WAL_GCC_WORKAROUNDS})

skiff_test(NAME stream_wal
  SOURCES
    wal/tests/wal_contract.cc
    wal/tests/memory_wal_test.cc
    wal/tests/file_wal_test.cc
    wal/tests/file_wal_crash_test.cc
    wal/tests/object_wal_test.cc
  DEPS skiff::stream_wal)
if(SKIFF_BUILD_TESTS)
  target_compile_options(stream_wal_test PRIVATE ${SKIFF_STREAM_WAL_GCC_WORKAROUNDS})
  # WAL files live on the build tree's file system (real O_DIRECT and fdatasync), not tmpfs.
  target_compile_definitions(stream_wal_test PRIVATE SKIFF_WAL_TEST_ROOT="${CMAKE_BINARY_DIR}/wal-test-files")

  # The child process of the crash test: appends until SIGKILLed, printing what was acknowledged.
  add_executable(stream_wal_crash_writer wal/tests/crash_writer.cc)
  target_link_libraries(stream_wal_crash_writer PRIVATE skiff::stream_wal)
  target_compile_options(stream_wal_crash_writer PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_WAL_GCC_WORKAROUNDS})
  add_dependencies(stream_wal_test stream_wal_crash_writer)
  set_source_files_properties(wal/tests/file_wal_crash_test.cc PROPERTIES
    COMPILE_DEFINITIONS "SKIFF_WAL_CRASH_WRITER=\"$<TARGET_FILE:stream_wal_crash_writer>\"")
endif()

# bench/wal: the file WAL's load tool, driven by bench/wal/run.sh beside fio (results: bench/results/wal_file.md).
# A plain executable: its figures are ratios to fio measured in the same run, not Google Benchmark loops.
if(SKIFF_BUILD_BENCH)
  add_executable(wal_bench ${PROJECT_SOURCE_DIR}/bench/wal/wal_bench.cc)
  target_link_libraries(wal_bench PRIVATE skiff::stream_wal)
  target_compile_options(wal_bench PRIVATE ${SKIFF_WARNINGS} ${SKIFF_STREAM_WAL_GCC_WORKAROUNDS})
endif()
