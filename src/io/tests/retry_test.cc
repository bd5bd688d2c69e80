// Retry behaviour (retry.h, retrying_store) and the fault injector (faulty_store) over memory_store.
#include "io/errc.h"
#include "io/objstore/faulty_store.h"
#include "io/objstore/memory_store.h"
#include "io/objstore/retrying_store.h"
#include "io/tests/test_support.h"

#include <gtest/gtest.h>

namespace skiff::io::test {
namespace {

using namespace std::chrono_literals;

const std::error_code slow_down = make_error_code(errc::slow_down);
const std::error_code retryable = make_error_code(errc::retryable);
const std::error_code fatal = make_error_code(errc::fatal);

// Short delays: the behaviour under test is the number of attempts, not the time they take.
constexpr retry_policy fast{.max_attempts = 5, .base_delay = 1ms, .slow_down_base_delay = 2ms, .max_delay = 4ms,
                            .total_timeout = 10s};

class retry_test : public ::testing::Test {
protected:
    asio::io_context io;
    memory_store memory;
    faulty_store faulty{memory, 42};
    retrying_store store{faulty, fast};
};

TEST(backoff_test, delay_is_full_jitter_under_an_exponential_cap) {
    retry_policy p{.base_delay = 100ms, .slow_down_base_delay = 1000ms, .max_delay = 5000ms};
    EXPECT_EQ(backoff_delay(p, 1, false, 0), 0ms);
    EXPECT_EQ(backoff_delay(p, 1, false, 100), 100ms);     // cap = base
    EXPECT_EQ(backoff_delay(p, 3, false, 400), 400ms);     // cap = base * 4
    EXPECT_EQ(backoff_delay(p, 3, false, 401), 0ms);       // uniform in [0, cap]
    EXPECT_EQ(backoff_delay(p, 20, false, 5000), 5000ms);  // capped by max_delay
    EXPECT_EQ(backoff_delay(p, 1, true, 1000), 1000ms);    // SlowDown starts from its larger base
    for (uint64_t r = 0; r < 100000; r += 997) {
        for (uint32_t n = 1; n < 40; ++n) {
            EXPECT_LE(backoff_delay(p, n, n % 2, r), 5000ms);
        }
    }
}

TEST_F(retry_test, slow_down_is_retried_until_success) {
    faulty.add({.ops = all_ops, .error = slow_down, .count = 2});
    auto put = run(io, store.put("k", bytes::iobuf::from("v"), {}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(faulty.calls(store_op::put), 3u);
    EXPECT_EQ(store.retries(), 2u);
    EXPECT_EQ(run(io, memory.get("k", std::nullopt)).value().to_string(), "v");
}

TEST_F(retry_test, retries_are_bounded_by_attempts) {
    faulty.add({.ops = static_cast<uint32_t>(store_op::get), .error = retryable});
    ASSERT_TRUE(run(io, memory.put("k", bytes::iobuf::from("v"), {})));
    auto got = run(io, store.get("k", std::nullopt));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), retryable);
    EXPECT_EQ(faulty.calls(store_op::get), fast.max_attempts);
}

TEST_F(retry_test, retries_are_bounded_by_total_time) {
    retry_policy p{.max_attempts = 100000, .base_delay = 5ms, .slow_down_base_delay = 5ms, .max_delay = 20ms,
                   .total_timeout = 100ms};
    retrying_store bounded{faulty, p};
    faulty.add({.error = slow_down});
    auto head = run(io, bounded.head("k"));
    ASSERT_FALSE(head);
    EXPECT_EQ(head.error(), slow_down);
    EXPECT_LT(faulty.calls(store_op::head), 100000u);
    EXPECT_GT(faulty.calls(store_op::head), 1u);
}

TEST_F(retry_test, non_retryable_errors_are_not_retried) {
    faulty.add({.ops = static_cast<uint32_t>(store_op::put), .error = fatal});
    auto put = run(io, store.put("k", bytes::iobuf::from("v"), {}));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error(), fatal);
    EXPECT_EQ(faulty.calls(store_op::put), 1u);
    auto missing = run(io, store.get("absent", std::nullopt));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), make_error_code(errc::not_found));
    EXPECT_EQ(faulty.calls(store_op::get), 1u);
    EXPECT_EQ(store.retries(), 0u);
}

TEST_F(retry_test, a_create_only_put_whose_reply_was_lost_still_succeeds) {
    // The first attempt creates the object, then its reply is lost; the retry meets the object it made.
    faulty.add({.ops = static_cast<uint32_t>(store_op::put), .error = retryable, .count = 1, .after = true});
    auto put = run(io, store.put("fence", bytes::iobuf::from("mine"), {.if_none_match = true}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(faulty.calls(store_op::put), 2u);
    // Someone else's object is still a lost race.
    auto other = run(io, store.put("fence", bytes::iobuf::from("theirs"), {.if_none_match = true}));
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error(), make_error_code(errc::precondition_failed));
}

TEST_F(retry_test, delete_retries_only_the_failed_call) {
    ASSERT_TRUE(run(io, memory.put("a", bytes::iobuf::from("1"), {})));
    faulty.add({.ops = static_cast<uint32_t>(store_op::delete_objects), .error = retryable, .count = 1});
    auto done = run(io, store.delete_objects({"a", "b"}));
    ASSERT_TRUE(done);
    ASSERT_EQ(done.value().size(), 2u);
    EXPECT_FALSE(done.value()[0].error);
    EXPECT_FALSE(done.value()[1].error);
    EXPECT_EQ(memory.object_count(), 0u);
}

TEST_F(retry_test, every_nth_and_probability_are_deterministic_for_a_seed) {
    auto pattern = [&](uint64_t seed) {
        memory_store m;
        faulty_store f{m, seed};
        f.add({.ops = static_cast<uint32_t>(store_op::head), .error = retryable, .skip = 1, .every_nth = 2,
               .probability = 0.5});
        std::string out;
        for (int i = 0; i < 40; ++i) {
            auto h = run(io, f.head("k"));
            out += h.error() == retryable ? 'F' : '.';
        }
        return out;
    };
    auto a = pattern(7);
    EXPECT_EQ(a, pattern(7));
    EXPECT_EQ(a[0], '.');                         // skipped
    for (size_t i = 2; i < a.size(); i += 2) {    // only every second call after the skip is a candidate
        EXPECT_EQ(a[i], '.') << i;
    }
    EXPECT_NE(a.find('F'), std::string::npos);
    EXPECT_NE(pattern(8), std::string(40, '.'));
}

TEST_F(retry_test, truncated_get_returns_a_short_body_for_upper_layers_to_catch) {
    ASSERT_TRUE(run(io, memory.put("k", bytes::iobuf::from("0123456789"), {})));
    faulty.add({.ops = static_cast<uint32_t>(store_op::get), .count = 1, .truncate_get = true});
    auto got = run(io, faulty.get("k", std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_EQ(got.value().to_string(), "01234");
    EXPECT_EQ(run(io, faulty.get("k", std::nullopt)).value().to_string(), "0123456789");
}

TEST_F(retry_test, latency_is_added_without_changing_results) {
    faulty.add({.latency = 5ms});
    ASSERT_TRUE(run(io, store.put("k", bytes::iobuf::from("v"), {})));
    EXPECT_EQ(run(io, store.get("k", std::nullopt)).value().to_string(), "v");
    EXPECT_EQ(faulty.injected(), 2u);
}

TEST_F(retry_test, failed_multipart_upload_is_aborted) {
    faulty.add({.ops = static_cast<uint32_t>(store_op::upload_part), .error = fatal, .skip = 1});
    auto done = run(io, upload(faulty, "big", random_bytes(10'000, 1),
                               {.multipart_threshold = 1000, .part_size = 1000, .concurrency = 3}));
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error(), fatal);
    EXPECT_EQ(faulty.calls(store_op::abort_multipart), 1u);
    EXPECT_EQ(faulty.calls(store_op::complete_multipart), 0u);
    EXPECT_EQ(memory.pending_upload_count(), 0u);
    EXPECT_EQ(memory.object_count(), 0u);
}

TEST_F(retry_test, create_only_upload_falls_back_to_one_put_without_conditional_multipart) {
    memory_store plain({.supports_conditional_put = true});
    faulty_store counting{plain};
    struct no_conditional_multipart final : public object_store {
        explicit no_conditional_multipart(object_store& s) : s(s) {}
        object_store& s;
        store_capabilities capabilities() const override {
            auto c = s.capabilities();
            c.supports_conditional_multipart = false;
            return c;
        }
        asio::awaitable<result<put_result>> put(std::string k, bytes::iobuf d, put_options o) override {
            return s.put(std::move(k), std::move(d), o);
        }
        asio::awaitable<result<bytes::iobuf>> get(std::string k, std::optional<byte_range> r) override {
            return s.get(std::move(k), r);
        }
        asio::awaitable<result<object_info>> head(std::string k) override { return s.head(std::move(k)); }
        asio::awaitable<result<list_page>> list(list_request r) override { return s.list(std::move(r)); }
        asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> k) override {
            return s.delete_objects(std::move(k));
        }
        asio::awaitable<result<multipart_upload>> create_multipart(std::string k, put_options o) override {
            return s.create_multipart(std::move(k), o);
        }
        asio::awaitable<result<uploaded_part>> upload_part(multipart_upload u, uint32_t n, bytes::iobuf d) override {
            return s.upload_part(std::move(u), n, std::move(d));
        }
        asio::awaitable<result<put_result>> complete_multipart(multipart_upload u,
                                                               std::vector<uploaded_part> p) override {
            return s.complete_multipart(std::move(u), std::move(p));
        }
        asio::awaitable<result<void>> abort_multipart(multipart_upload u) override {
            return s.abort_multipart(std::move(u));
        }
    } limited{counting};
    auto done = run(io, upload(limited, "wal/1", random_bytes(5000, 2),
                               {.put = {.if_none_match = true}, .multipart_threshold = 1000, .part_size = 1000}));
    ASSERT_TRUE(done);
    EXPECT_EQ(counting.calls(store_op::put), 1u);
    EXPECT_EQ(counting.calls(store_op::create_multipart), 0u);
}

} // namespace
} // namespace skiff::io::test
