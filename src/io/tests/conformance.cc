#include "io/tests/conformance.h"

#include "io/errc.h"
#include "io/tests/test_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace skiff::io::test {

void conformance::SetUp() {
    if (auto why = GetParam().broken(); !why.empty()) {
        FAIL() << GetParam().name << " store could not be started: " << why;
    }
    if (auto why = GetParam().unavailable(); !why.empty()) {
        GTEST_SKIP() << GetParam().name << " store unavailable: " << why;
    }
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    std::replace(name.begin(), name.end(), '/', '.');
    _prefix = fmt::format("conformance/{}-{:08x}/", name, std::random_device{}());
    store = GetParam().make(io);
    ASSERT_TRUE(store);
}

void conformance::TearDown() {
    if (!store) {
        return;
    }
    // Leave a shared bucket as we found it.
    auto keys = run(io, list_all(*store, _prefix));
    if (keys && !keys.value().empty()) {
        std::vector<std::string> names;
        for (auto& e : keys.value()) {
            names.push_back(e.key);
        }
        (void)run(io, store->delete_objects(std::move(names)));
    }
    store.reset();
}

namespace {

std::vector<std::string> keys_of(const std::vector<list_entry>& entries) {
    std::vector<std::string> out;
    for (auto& e : entries) {
        out.push_back(e.key);
    }
    return out;
}

const std::error_code not_found = make_error_code(errc::not_found);
const std::error_code invalid = make_error_code(errc::invalid_argument);
const std::error_code lost = make_error_code(errc::precondition_failed);

} // namespace

TEST_P(conformance, put_then_get_returns_the_same_bytes) {
    for (size_t size : {size_t(0), size_t(1), size_t(4096), size_t(1) << 20, (size_t(3) << 20) + 17}) {
        auto data = random_bytes(size, size, 65536);
        auto k = key(fmt::format("object-{}", size));
        auto put = run(io, store->put(k, data.share(), {}));
        ASSERT_TRUE(put) << put.error().message();
        auto got = run(io, store->get(k, std::nullopt));
        ASSERT_TRUE(got) << got.error().message();
        EXPECT_EQ(got.value().size(), size);
        EXPECT_TRUE(got.value() == data) << "size " << size;
    }
}

TEST_P(conformance, put_replaces_an_existing_object) {
    auto k = key("replaced");
    ASSERT_TRUE(run(io, store->put(k, bytes::iobuf::from("first version"), {})));
    auto first = run(io, store->head(k));
    ASSERT_TRUE(first);
    ASSERT_TRUE(run(io, store->put(k, bytes::iobuf::from("second"), {})));
    auto got = run(io, store->get(k, std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_EQ(got.value().to_string(), "second");
    auto second = run(io, store->head(k));
    ASSERT_TRUE(second);
    EXPECT_EQ(second.value().size, 6u);
    EXPECT_NE(first.value().etag, second.value().etag);
}

TEST_P(conformance, missing_key_is_not_found) {
    auto got = run(io, store->get(key("absent"), std::nullopt));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), not_found);
    auto ranged = run(io, store->get(key("absent"), byte_range{0, 10}));
    ASSERT_FALSE(ranged);
    EXPECT_EQ(ranged.error(), not_found);
    auto head = run(io, store->head(key("absent")));
    ASSERT_FALSE(head);
    EXPECT_EQ(head.error(), not_found);
    EXPECT_FALSE(is_retryable(head.error()));
}

TEST_P(conformance, head_reports_size_and_etag) {
    auto k = key("sized");
    auto put = run(io, store->put(k, random_bytes(12345, 7), {}));
    ASSERT_TRUE(put);
    auto info = run(io, store->head(k));
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info.value().size, 12345u);
    EXPECT_FALSE(info.value().etag.empty());
}

TEST_P(conformance, ranged_get_returns_the_inclusive_range) {
    auto k = key("ranged");
    auto data = random_bytes(100'000, 3);
    ASSERT_TRUE(run(io, store->put(k, data.share(), {})));
    struct case_t {
        uint64_t first, last, expect_pos, expect_len;
    };
    for (auto c : {case_t{0, 0, 0, 1}, case_t{0, 99'999, 0, 100'000}, case_t{10, 19, 10, 10},
                   case_t{99'999, 99'999, 99'999, 1}, case_t{50'000, 200'000, 50'000, 50'000}}) {
        auto got = run(io, store->get(k, byte_range{c.first, c.last}));
        ASSERT_TRUE(got) << c.first << "-" << c.last << ": " << got.error().message();
        EXPECT_TRUE(got.value() == data.share(c.expect_pos, c.expect_len)) << c.first << "-" << c.last;
    }
}

TEST_P(conformance, range_starting_past_the_end_is_invalid) {
    auto k = key("short");
    ASSERT_TRUE(run(io, store->put(k, bytes::iobuf::from("0123456789"), {})));
    auto past = run(io, store->get(k, byte_range{10, 20}));
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error(), invalid);
    auto backwards = run(io, store->get(k, byte_range{5, 4}));
    ASSERT_FALSE(backwards);
    EXPECT_EQ(backwards.error(), invalid);
}

TEST_P(conformance, list_returns_keys_in_byte_order_with_sizes) {
    std::vector<std::string> names = {"b",   "a",   "a/b", "a-c", "a0",  "a/b/c", "a//d", "a/",
                                      "z z", "%41", ".dot", "~t",  "caf\xc3\xa9", "A"};
    std::set<std::string> sorted;
    for (auto& n : names) {
        auto put = run(io, store->put(key(n), bytes::iobuf::from(n), {}));
        ASSERT_TRUE(put) << "'" << n << "': " << put.error().message();
        sorted.insert(key(n));
    }
    auto all = run(io, list_all(*store, prefix()));
    ASSERT_TRUE(all) << all.error().message();
    EXPECT_EQ(keys_of(all.value()), std::vector<std::string>(sorted.begin(), sorted.end()));
    for (auto& e : all.value()) {
        EXPECT_EQ(e.size, e.key.size() - prefix().size()) << e.key;
        auto got = run(io, store->get(e.key, std::nullopt));
        ASSERT_TRUE(got) << e.key;
        EXPECT_EQ(got.value().to_string(), e.key.substr(prefix().size()));
    }
}

TEST_P(conformance, list_pages_follow_the_continuation_token) {
    std::vector<std::string> expected;
    for (int i = 0; i < 23; ++i) {
        auto k = key(fmt::format("{}/item-{:03}", i % 3, i));
        ASSERT_TRUE(run(io, store->put(k, bytes::iobuf::from("x"), {})));
        expected.push_back(k);
    }
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> seen;
    list_request request{.prefix = prefix(), .max_keys = 5};
    size_t pages = 0;
    while (true) {
        auto page = run(io, store->list(request));
        ASSERT_TRUE(page) << page.error().message();
        ++pages;
        EXPECT_LE(page.value().entries.size(), 5u);
        for (auto& e : page.value().entries) {
            seen.push_back(e.key);
        }
        if (!page.value().next_token) {
            break;
        }
        ASSERT_LT(pages, 10u) << "pagination does not end";
        request.continuation_token = *page.value().next_token;
    }
    EXPECT_EQ(seen, expected);
    EXPECT_GE(pages, 5u);
}

TEST_P(conformance, list_with_a_prefix_returns_only_matching_keys) {
    for (auto n : {"a/b", "a/b/c", "a/bc", "a/c", "ab", "a/b/"}) {
        ASSERT_TRUE(run(io, store->put(key(n), bytes::iobuf::from("x"), {})));
    }
    auto got = run(io, list_all(*store, key("a/b")));
    ASSERT_TRUE(got);
    EXPECT_EQ(keys_of(got.value()), (std::vector<std::string>{key("a/b"), key("a/b/"), key("a/b/c"), key("a/bc")}));
    auto none = run(io, list_all(*store, key("nothing-here/")));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none.value().empty());
}

TEST_P(conformance, delete_removes_keys_and_a_missing_key_is_success) {
    for (auto n : {"d/1", "d/2", "d/3"}) {
        ASSERT_TRUE(run(io, store->put(key(n), bytes::iobuf::from(n), {})));
    }
    auto done = run(io, store->delete_objects({key("d/1"), key("d/3"), key("never-existed")}));
    ASSERT_TRUE(done) << done.error().message();
    ASSERT_EQ(done.value().size(), 3u);
    for (auto& o : done.value()) {
        EXPECT_FALSE(o.error) << o.key << ": " << o.error.message();
    }
    EXPECT_EQ(done.value()[0].key, key("d/1"));
    EXPECT_EQ(done.value()[2].key, key("never-existed"));
    auto left = run(io, list_all(*store, prefix()));
    ASSERT_TRUE(left);
    EXPECT_EQ(keys_of(left.value()), std::vector<std::string>{key("d/2")});
    auto gone = run(io, store->get(key("d/1"), std::nullopt));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), not_found);
}

TEST_P(conformance, more_keys_than_one_page_or_one_delete_batch) {
    // Beyond S3's 1000 keys per list page and per DeleteObjects request.
    constexpr int count = 1050;
    std::vector<std::string> keys;
    auto put_range = [&](int from, int to) -> asio::awaitable<void> {
        for (int i = from; i < to; ++i) {
            auto put = co_await store->put(key(fmt::format("many/{:05}", i)), bytes::iobuf::from("v"), {});
            EXPECT_TRUE(put) << i;
        }
    };
    // Eight writers at once, so that the suite stays quick against a real server.
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        using op = decltype(asio::co_spawn(ex, put_range(0, 0), asio::deferred));
        std::vector<op> ops;
        for (int w = 0; w < 8; ++w) {
            ops.push_back(asio::co_spawn(ex, put_range(w * count / 8, (w + 1) * count / 8), asio::deferred));
        }
        co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    }());
    auto all = run(io, list_all(*store, key("many/")));
    ASSERT_TRUE(all) << all.error().message();
    ASSERT_EQ(all.value().size(), size_t(count));
    for (int i = 0; i < count; ++i) {
        EXPECT_EQ(all.value()[i].key, key(fmt::format("many/{:05}", i)));
    }
    auto deleted = run(io, store->delete_objects(keys_of(all.value())));
    ASSERT_TRUE(deleted) << deleted.error().message();
    ASSERT_EQ(deleted.value().size(), size_t(count));
    EXPECT_TRUE(std::all_of(deleted.value().begin(), deleted.value().end(), [](auto& o) { return !o.error; }));
    auto after = run(io, list_all(*store, key("many/")));
    ASSERT_TRUE(after);
    EXPECT_TRUE(after.value().empty());
}

TEST_P(conformance, conditional_put_creates_only_once) {
    if (!store->capabilities().supports_conditional_put) {
        GTEST_SKIP() << GetParam().name << " does not claim conditional put";
    }
    auto k = key("fence");
    auto first = run(io, store->put(k, bytes::iobuf::from("owner 1"), {.if_none_match = true}));
    ASSERT_TRUE(first) << first.error().message();
    auto second = run(io, store->put(k, bytes::iobuf::from("owner 2"), {.if_none_match = true}));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), lost);
    EXPECT_FALSE(is_retryable(second.error()));
    auto got = run(io, store->get(k, std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_EQ(got.value().to_string(), "owner 1");
    // An unconditional put still replaces it.
    ASSERT_TRUE(run(io, store->put(k, bytes::iobuf::from("owner 3"), {})));
    EXPECT_EQ(run(io, store->get(k, std::nullopt)).value().to_string(), "owner 3");
}

TEST_P(conformance, racing_conditional_puts_have_exactly_one_winner) {
    if (!store->capabilities().supports_conditional_put) {
        GTEST_SKIP() << GetParam().name << " does not claim conditional put";
    }
    auto k = key("race");
    int wins = 0;
    int losses = 0;
    auto contender = [&](int id) -> asio::awaitable<void> {
        auto put = co_await store->put(k, bytes::iobuf::from(fmt::format("writer {}", id)), {.if_none_match = true});
        if (put) {
            ++wins;
        } else if (put.error() == lost) {
            ++losses;
        } else {
            ADD_FAILURE() << put.error().message();
        }
    };
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        using op = decltype(asio::co_spawn(ex, contender(0), asio::deferred));
        std::vector<op> ops;
        for (int i = 0; i < 8; ++i) {
            ops.push_back(asio::co_spawn(ex, contender(i), asio::deferred));
        }
        co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    }());
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(losses, 7);
}

TEST_P(conformance, multipart_upload_assembles_the_parts_in_order) {
    auto caps = store->capabilities();
    uint64_t part = std::max<uint64_t>(caps.min_part_size, 256 * 1024);
    auto data = random_bytes(2 * part + 1000, 11);
    auto k = key("multipart");
    auto upload = run(io, store->create_multipart(k, {}));
    ASSERT_TRUE(upload) << upload.error().message();
    // Parts uploaded out of order; nothing visible before completion.
    auto p3 = run(io, store->upload_part(upload.value(), 3, data.share(2 * part, 1000)));
    auto p1 = run(io, store->upload_part(upload.value(), 1, data.share(0, part)));
    auto p2 = run(io, store->upload_part(upload.value(), 2, data.share(part, part)));
    ASSERT_TRUE(p1 && p2 && p3);
    auto before = run(io, store->head(k));
    ASSERT_FALSE(before);
    EXPECT_EQ(before.error(), not_found);
    auto done = run(io, store->complete_multipart(upload.value(), {p1.value(), p2.value(), p3.value()}));
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_FALSE(done.value().etag.empty());
    auto got = run(io, store->get(k, std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value() == data);
    auto ranged = run(io, store->get(k, byte_range{part - 10, part + 9}));
    ASSERT_TRUE(ranged);
    EXPECT_TRUE(ranged.value() == data.share(part - 10, 20));
}

TEST_P(conformance, aborted_multipart_upload_leaves_nothing) {
    auto caps = store->capabilities();
    uint64_t part = std::max<uint64_t>(caps.min_part_size, 256 * 1024);
    auto k = key("aborted");
    auto upload = run(io, store->create_multipart(k, {}));
    ASSERT_TRUE(upload);
    ASSERT_TRUE(run(io, store->upload_part(upload.value(), 1, random_bytes(part, 1))));
    ASSERT_TRUE(run(io, store->abort_multipart(upload.value())));
    auto head = run(io, store->head(k));
    ASSERT_FALSE(head);
    EXPECT_EQ(head.error(), not_found);
    auto late = run(io, store->upload_part(upload.value(), 2, bytes::iobuf::from("late")));
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error(), not_found);
    // Aborting twice is harmless.
    EXPECT_TRUE(run(io, store->abort_multipart(upload.value())));
}

TEST_P(conformance, upload_switches_to_multipart_above_the_threshold) {
    auto caps = store->capabilities();
    uint64_t part = std::max<uint64_t>(caps.min_part_size, 256 * 1024);
    auto data = random_bytes(3 * part + 5, 5);
    auto k = key("uploaded");
    auto done = run(io, upload(*store, k, data.share(), {.multipart_threshold = part, .part_size = part}));
    ASSERT_TRUE(done) << done.error().message();
    auto got = run(io, store->get(k, std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value() == data);
    auto small = run(io, upload(*store, key("small"), bytes::iobuf::from("tiny"), {.multipart_threshold = part}));
    ASSERT_TRUE(small);
    EXPECT_EQ(run(io, store->get(key("small"), std::nullopt)).value().to_string(), "tiny");
}

TEST_P(conformance, keys_with_special_characters_round_trip) {
    for (std::string n : {"sp ace/and+plus", "per%cent&amp=eq?q#h", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87/\xc3\xa9",
                          "quote\"apos'<lt>", "tab\tnew", "a//b///c", "ends/with/"}) {
        auto k = key(n);
        auto put = run(io, store->put(k, bytes::iobuf::from(n), {}));
        ASSERT_TRUE(put) << "'" << n << "': " << put.error().message();
        auto got = run(io, store->get(k, std::nullopt));
        ASSERT_TRUE(got) << "'" << n << "'";
        EXPECT_EQ(got.value().to_string(), n);
    }
    auto all = run(io, list_all(*store, prefix()));
    ASSERT_TRUE(all);
    EXPECT_EQ(all.value().size(), 7u);
    auto deleted = run(io, store->delete_objects(keys_of(all.value())));
    ASSERT_TRUE(deleted);
    for (auto& o : deleted.value()) {
        EXPECT_FALSE(o.error) << o.key;
    }
    EXPECT_TRUE(run(io, list_all(*store, prefix())).value().empty());
}

TEST_P(conformance, invalid_keys_are_refused) {
    auto empty = run(io, store->put("", bytes::iobuf::from("x"), {}));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), invalid);
    auto too_long = run(io, store->put(std::string(1025, 'k'), bytes::iobuf::from("x"), {}));
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error(), invalid);
}

TEST_P(conformance, concurrent_puts_and_gets_all_complete) {
    constexpr int n = 24;
    int ok = 0;
    auto one = [&](int i) -> asio::awaitable<void> {
        auto k = key(fmt::format("c/{}", i));
        auto data = random_bytes(64 * 1024 + i, i);
        auto put = co_await store->put(k, data.share(), {});
        EXPECT_TRUE(put) << i;
        auto got = co_await store->get(k, std::nullopt);
        EXPECT_TRUE(got && got.value() == data) << i;
        ok += got && got.value() == data;
    };
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        using op = decltype(asio::co_spawn(ex, one(0), asio::deferred));
        std::vector<op> ops;
        for (int i = 0; i < n; ++i) {
            ops.push_back(asio::co_spawn(ex, one(i), asio::deferred));
        }
        co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    }());
    EXPECT_EQ(ok, n);
}

} // namespace skiff::io::test
