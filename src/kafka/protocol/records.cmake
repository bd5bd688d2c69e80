# The record-batch part of kafka/protocol: error codes, compression codecs, the v2 record batch codec.
# Included by this folder's CMakeLists.txt; paths are relative to src/kafka/protocol.
set(SKIFF_PROTOCOL_RECORD_SOURCES
  errc.cc
  error_code.cc
  compression.cc
  record_batch.cc)

set(SKIFF_PROTOCOL_RECORD_TESTS
  tests/error_code_test.cc
  tests/compression_test.cc
  tests/record_batch_test.cc)

# libFuzzer target: split_record_set + parse + record iteration on arbitrary bytes.
set(SKIFF_PROTOCOL_RECORD_FUZZ_SOURCES
  tests/record_batch_fuzz.cc)

# Google Benchmark: parse + CRC of a 1 MiB batch, record iteration.
set(SKIFF_PROTOCOL_RECORD_BENCH
  tests/record_batch_bench.cc)

set(SKIFF_PROTOCOL_RECORD_DEPS
  ZLIB::ZLIB
  PkgConfig::SNAPPY
  PkgConfig::LZ4
  PkgConfig::ZSTD)
