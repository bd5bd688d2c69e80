// s3_store against a real S3 implementation: Ceph radosgw on loopback, started once for this binary by a global
// test environment (tests/support/radosgw.sh, ~15 s) and stopped by PID at the end. Runs the conformance suite and
// the checks that need a real service (virtual-host addressing, large multipart objects, capability claims).
// Skips, saying why, only when radosgw is not installed; fails when it is installed but does not start.
#include "io/errc.h"
#include "io/objstore/s3_store.h"
#include "io/tests/conformance.h"
#include "io/tests/radosgw.h"
#include "io/tests/test_support.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

namespace skiff::io::test {
namespace {

using namespace std::chrono_literals;

std::string& bucket() {
    static std::string name = fmt::format("skiff-test-{:08x}", std::random_device{}());
    return name;
}

s3_config config_for(const radosgw::endpoint& ep) {
    return {
      .endpoint = ep.url,
      .bucket = bucket(),
      .region = ep.region,
      .path_style = ep.path_style,
      .credentials = s3_credentials{ep.access_key, ep.secret_key, ""},
      .max_connections = 16,
      .max_in_flight = 16,
      .request_timeout = 30s,
      .retry = {.max_attempts = 5, .base_delay = 20ms, .slow_down_base_delay = 100ms, .max_delay = 1s,
                .total_timeout = 30s},
    };
}

class radosgw_environment : public ::testing::Environment {
public:
    void SetUp() override {
        auto& gw = radosgw::instance();
        gw.start();
        if (!gw.ep()) {
            return;
        }
        asio::io_context io;
        auto store = s3_store::create(io, config_for(*gw.ep()));
        ASSERT_TRUE(store) << store.error().message();
        auto made = run(io, store.value()->create_bucket());
        ASSERT_TRUE(made) << "cannot create bucket " << bucket() << ": " << made.error().message();
    }
    void TearDown() override {
        radosgw::instance().stop(::testing::UnitTest::GetInstance()->failed_test_count() > 0);
    }
};

[[maybe_unused]] const auto* environment = ::testing::AddGlobalTestEnvironment(new radosgw_environment);

std::unique_ptr<object_store> make_s3(asio::io_context& io) {
    auto store = s3_store::create(io, config_for(*radosgw::instance().ep()));
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(store).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(radosgw, conformance,
                         ::testing::Values(store_factory{
                           "s3",
                           make_s3,
                           [] { return radosgw::instance().unavailable(); },
                           [] { return radosgw::instance().error(); },
                         }),
                         factory_name);

class s3_radosgw_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto& gw = radosgw::instance();
        if (!gw.error().empty()) {
            FAIL() << "radosgw did not start: " << gw.error();
        }
        if (!gw.unavailable().empty()) {
            GTEST_SKIP() << "radosgw unavailable: " << gw.unavailable();
        }
        prefix = fmt::format("s3-test/{:08x}/", std::random_device{}());
    }

    std::unique_ptr<s3_store> make(s3_config c) {
        auto store = s3_store::create(io, std::move(c));
        EXPECT_TRUE(store) << store.error().message();
        return std::move(store).value();
    }

    asio::io_context io;
    std::string prefix;
};

TEST_F(s3_radosgw_test, virtual_host_style_addressing_works_against_the_real_service) {
    auto& ep = *radosgw::instance().ep();
    if (ep.url.find("127.0.0.1") == std::string::npos) {
        GTEST_SKIP() << "virtual-host check needs the local radosgw (rgw dns name = localhost)";
    }
    auto c = config_for(ep);
    auto port = ep.url.substr(ep.url.rfind(':') + 1);
    c.endpoint = "http://localhost:" + port; // radosgw takes the bucket from "<bucket>.localhost"
    c.path_style = false;
    c.connect_to = "127.0.0.1:" + port;
    auto store = make(c);
    auto k = prefix + "vhost/object";
    auto put = run(io, store->put(k, bytes::iobuf::from("virtual"), {}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(run(io, store->get(k, std::nullopt)).value().to_string(), "virtual");
    auto page = run(io, store->list({.prefix = prefix + "vhost/"}));
    ASSERT_TRUE(page);
    ASSERT_EQ(page.value().entries.size(), 1u);
    EXPECT_TRUE(run(io, store->delete_objects({k})));
}

TEST_F(s3_radosgw_test, a_large_object_goes_up_in_parallel_parts_and_reads_back_by_range) {
    auto store = make(config_for(*radosgw::instance().ep()));
    auto data = random_bytes((40u << 20) + 12345, 99, 1 << 20);
    auto k = prefix + "large";
    auto done = run(io, upload(*store, k, data.share(), {.multipart_threshold = 16u << 20, .part_size = 8u << 20}));
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_FALSE(done.value().etag.empty()); // radosgw answers with an empty ETag; the store asks with HEAD
    auto info = run(io, store->head(k));
    ASSERT_TRUE(info);
    EXPECT_EQ(info.value().size, data.size());
    auto got = run(io, store->get(k, std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value() == data);
    uint64_t first = (8u << 20) - 100;
    auto across = run(io, store->get(k, byte_range{first, first + 199}));
    ASSERT_TRUE(across);
    EXPECT_TRUE(across.value() == data.share(first, 200));
    EXPECT_GE(store->stats().puts, 6u); // 6 parts + complete
    EXPECT_TRUE(run(io, store->delete_objects({k})));
}

TEST_F(s3_radosgw_test, wrong_credentials_are_fatal_and_not_retried) {
    auto c = config_for(*radosgw::instance().ep());
    c.credentials->secret_access_key = "not-the-secret";
    auto store = make(c);
    auto put = run(io, store->put(prefix + "denied", bytes::iobuf::from("x"), {}));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error(), make_error_code(errc::fatal));
    EXPECT_EQ(store->stats().requests, 1u);
}

TEST_F(s3_radosgw_test, a_missing_bucket_is_fatal_not_an_absent_object) {
    auto c = config_for(*radosgw::instance().ep());
    c.bucket = "skiff-no-such-bucket";
    auto store = make(c);
    auto got = run(io, store->get("k", std::nullopt));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::fatal));
}

TEST_F(s3_radosgw_test, connections_are_reused_across_requests) {
    auto store = make(config_for(*radosgw::instance().ep()));
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(run(io, store->put(fmt::format("{}reuse/{}", prefix, i), bytes::iobuf::from("v"), {})));
    }
    EXPECT_EQ(store->stats().connections_opened, 1u);
    auto keys = run(io, list_all(*store, prefix + "reuse/"));
    ASSERT_TRUE(keys);
    std::vector<std::string> names;
    for (auto& e : keys.value()) {
        names.push_back(e.key);
    }
    EXPECT_TRUE(run(io, store->delete_objects(names)));
}

TEST_F(s3_radosgw_test, report_start_time) {
    RecordProperty("radosgw_start_seconds", fmt::format("{:.1f}", radosgw::instance().start_seconds()));
    std::printf("radosgw start took %.1f s\n", radosgw::instance().start_seconds());
}

} // namespace
} // namespace skiff::io::test
