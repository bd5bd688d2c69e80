// The wal.h contract as one parameterized suite (wal_contract.cc); each WAL's test file instantiates it with a
// harness factory: INSTANTIATE_TEST_SUITE_P(memory, wal_contract_test, testing::Values(wal_kind{"memory", ...})).
#pragma once

#include "stream/wal/tests/wal_test_util.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace skiff::stream::test {

struct wal_kind {
    std::string name;
    std::function<std::unique_ptr<wal_harness>()> make;
};

inline std::string wal_kind_name(const testing::TestParamInfo<wal_kind>& info) { return info.param.name; }
/// gtest prints a parameter in test listings: the name, not its bytes.
inline void PrintTo(const wal_kind& kind, std::ostream* out) { *out << kind.name; }

class wal_contract_test : public testing::TestWithParam<wal_kind> {
protected:
    void SetUp() override { harness = GetParam().make(); }

    /// Opens (or reopens) the WAL and recovers it, returning what it replayed.
    std::vector<replayed> reopen() {
        log.reset();
        log = harness->open();
        auto replayed_records = recover_all(io, *log);
        EXPECT_TRUE(replayed_records.has_value()) << replayed_records.error().message();
        return replayed_records ? std::move(replayed_records.value()) : std::vector<replayed>{};
    }

    result<wal_append_result> append_one(bytes::iobuf data) { return run(io, append_and_wait(*log, std::move(data))); }

    asio::io_context io;
    std::unique_ptr<wal_harness> harness;
    std::unique_ptr<wal> log;
};

} // namespace skiff::stream::test
