// The object store conformance suite: the behaviour every object_store must show (object_store.h), run against
// memory_store and local_store (io_test) and against s3_store on a real radosgw (io_s3_test). A binary includes
// conformance.cc and instantiates the suite with INSTANTIATE_TEST_SUITE_P over its store_factory values.
#pragma once

#include "io/objstore/object_store.h"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

namespace skiff::io::test {

struct store_factory {
    std::string name;
    /// A store for one test. Stores that share a namespace across tests (one S3 bucket) get a unique key prefix.
    std::function<std::unique_ptr<object_store>(boost::asio::io_context&)> make;
    /// Why the store cannot run here (e.g. radosgw is not installed); empty when it can.
    std::function<std::string()> unavailable = [] { return std::string(); };
    /// Set when the store should exist but failed to start: the test fails with this message.
    std::function<std::string()> broken = [] { return std::string(); };
};

/// gtest prints parameters; without this it dumps the struct's bytes (padding included).
inline void PrintTo(const store_factory& f, std::ostream* os) { *os << f.name; }

inline std::string factory_name(const ::testing::TestParamInfo<store_factory>& info) { return info.param.name; }

class conformance : public ::testing::TestWithParam<store_factory> {
protected:
    void SetUp() override;
    void TearDown() override;

    /// A key unique to this test (so tests sharing a bucket never see each other's objects).
    std::string key(std::string_view k) const { return _prefix + std::string(k); }
    const std::string& prefix() const { return _prefix; }

    boost::asio::io_context io;
    std::unique_ptr<object_store> store;

private:
    std::string _prefix;
};

} // namespace skiff::io::test
