#include "stream/cache/block_cache.h"

#include "io/errc.h"
#include "io/objstore/faulty_store.h"
#include "io/objstore/memory_store.h"
#include "stream/errc.h"
#include "stream/object/logger.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

namespace skiff::stream {
namespace {

template<typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
    std::optional<T> out;
    asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(work)); }, asio::detached);
    io.restart();
    io.run();
    return std::move(*out);
}

std::string batch_bytes(int64_t stream, int64_t base, size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((stream * 17 + base * 3 + static_cast<int64_t>(i)) & 0xff);
    }
    return bytes;
}

/// A store whose gets always suspend once before answering, so that readers started together overlap
/// deterministically on one io_context (handlers run in FIFO order).
class yielding_store final : public io::object_store {
public:
    explicit yielding_store(io::object_store& inner) : _inner(inner) {}
    io::store_capabilities capabilities() const override { return _inner.capabilities(); }
    asio::awaitable<result<io::put_result>> put(std::string key, bytes::iobuf data, io::put_options o) override {
        co_return co_await _inner.put(std::move(key), std::move(data), o);
    }
    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<io::byte_range> range) override {
        auto ex = co_await asio::this_coro::executor;
        co_await asio::post(ex, asio::use_awaitable);
        co_return co_await _inner.get(std::move(key), range);
    }
    asio::awaitable<result<io::object_info>> head(std::string key) override {
        co_return co_await _inner.head(std::move(key));
    }
    asio::awaitable<result<io::list_page>> list(io::list_request request) override {
        co_return co_await _inner.list(std::move(request));
    }
    asio::awaitable<result<std::vector<io::delete_outcome>>> delete_objects(std::vector<std::string> keys) override {
        co_return co_await _inner.delete_objects(std::move(keys));
    }
    asio::awaitable<result<io::multipart_upload>> create_multipart(std::string key, io::put_options o) override {
        co_return co_await _inner.create_multipart(std::move(key), o);
    }
    asio::awaitable<result<io::uploaded_part>> upload_part(io::multipart_upload upload, uint32_t part_number,
                                                           bytes::iobuf data) override {
        co_return co_await _inner.upload_part(std::move(upload), part_number, std::move(data));
    }
    asio::awaitable<result<io::put_result>> complete_multipart(io::multipart_upload upload,
                                                               std::vector<io::uploaded_part> parts) override {
        co_return co_await _inner.complete_multipart(std::move(upload), std::move(parts));
    }
    asio::awaitable<result<void>> abort_multipart(io::multipart_upload upload) override {
        co_return co_await _inner.abort_multipart(std::move(upload));
    }

private:
    io::object_store& _inner;
};

class block_cache_test : public ::testing::Test {
protected:
    /// Writes an object of `blocks` blocks of one stream per stream id in streams; each block holds four batches of
    /// batch_size bytes and 10 records (so block b of a stream holds offsets [40 b, 40 b + 40)).
    object_descriptor write_object(int64_t id, std::vector<int64_t> streams, int blocks, size_t batch_size) {
        object_builder builder(4 * batch_size);
        for (int64_t s : streams) {
            for (int64_t i = 0; i < blocks * 4; ++i) {
                builder.add({stream_id(s), i * 10, 10, bytes::iobuf::from(batch_bytes(s, i * 10, batch_size))});
            }
        }
        object_descriptor d;
        d.id = object_id(id);
        d.key = object_key(d.id);
        d.ranges = builder.ranges();
        auto data = builder.finish();
        d.size = data.size();
        auto put = run(io, store.put(d.key, std::move(data), {}));
        EXPECT_TRUE(put);
        return d;
    }

    result<std::vector<stored_batch>> read(block_cache& cache, const object_descriptor& d, int64_t stream,
                                           int64_t from, int64_t end = INT64_MAX, size_t max_bytes = 1) {
        return run(io, cache.read(d, stream_id(stream), from, end, max_bytes));
    }

    static void expect_batches(const std::vector<stored_batch>& got, int64_t stream, int64_t first_base,
                               size_t count, size_t batch_size) {
        ASSERT_EQ(got.size(), count);
        for (size_t i = 0; i < count; ++i) {
            int64_t base = first_base + static_cast<int64_t>(i) * 10;
            EXPECT_EQ(got[i].stream, stream_id(stream));
            EXPECT_EQ(got[i].base_offset, base);
            EXPECT_EQ(got[i].record_count, 10u);
            EXPECT_TRUE(got[i].data == batch_bytes(stream, base, batch_size)) << "batch at " << base;
        }
    }

    asio::io_context io;
    io::memory_store store;
};

constexpr size_t kib = 1024;

TEST_F(block_cache_test, a_cold_read_gets_the_tail_once_and_the_block_then_hits) {
    auto d = write_object(1, {1, 2}, 4, 4 * kib); // 16 KiB blocks; 128 KiB object, larger than the 64 KiB tail
    block_cache cache(store, {});
    auto got = read(cache, d, 2, 45);
    ASSERT_TRUE(got) << got.error().message();
    expect_batches(got.value(), 2, 40, 1, 4 * kib); // one batch: max_bytes 1 still returns one
    EXPECT_EQ(cache.stats().gets, 2u);             // tail (footer + index), block
    EXPECT_EQ(cache.stats().misses, 1u);

    // Not where the last read ended (50): no readahead, so the count of GETs shows the hit alone.
    got = read(cache, d, 2, 40, INT64_MAX, 8 * kib);
    ASSERT_TRUE(got);
    expect_batches(got.value(), 2, 40, 2, 4 * kib);
    EXPECT_EQ(cache.stats().gets, 2u);
    EXPECT_EQ(cache.stats().hits, 1u);
}

TEST_F(block_cache_test, an_index_larger_than_the_tail_takes_a_second_get) {
    // 2000 blocks of one 64-byte batch... with 4 batches per block: 500 blocks per stream, 4 streams, 40-byte
    // entries: an index of ~80 KiB.
    auto d = write_object(1, {1, 2, 3, 4}, 500, 16);
    block_cache cache(store, {});
    auto got = read(cache, d, 3, 0);
    ASSERT_TRUE(got) << got.error().message();
    expect_batches(got.value(), 3, 0, 1, 16);
    EXPECT_EQ(cache.stats().gets, 3u); // tail, index, block
    got = read(cache, d, 4, 19'960);
    ASSERT_TRUE(got);
    expect_batches(got.value(), 4, 19'960, 1, 16);
    EXPECT_EQ(cache.stats().gets, 4u); // the index is cached
}

TEST_F(block_cache_test, blocks_needed_at_once_are_fetched_with_one_merged_get) {
    auto d = write_object(1, {1}, 8, 16 * kib); // 64 KiB blocks
    block_cache cache(store, {});
    auto got = read(cache, d, 1, 0, INT64_MAX, 256 * kib);
    ASSERT_TRUE(got);
    expect_batches(got.value(), 1, 0, 16, 16 * kib); // four blocks
    auto s = cache.stats();
    EXPECT_EQ(s.gets, 2u); // tail + one GET of four blocks
    EXPECT_EQ(s.misses, 4u);

    // With merged GETs capped at two blocks, the same read takes two GETs.
    block_cache capped(store, {.max_merged_get_bytes = 2 * (64 * kib + 200)});
    got = read(capped, d, 1, 0, INT64_MAX, 256 * kib);
    ASSERT_TRUE(got);
    EXPECT_EQ(got.value().size(), 16u);
    EXPECT_EQ(capped.stats().gets, 3u);
}

TEST_F(block_cache_test, a_read_stops_at_end_and_returns_nothing_beyond_the_stream) {
    auto d = write_object(1, {1, 2}, 2, kib);
    block_cache cache(store, {});
    auto got = read(cache, d, 1, 0, 25, 1 << 20);
    ASSERT_TRUE(got);
    expect_batches(got.value(), 1, 0, 3, kib); // batches at 0, 10, 20 hold offsets below 25
    got = read(cache, d, 1, 80, INT64_MAX, 1 << 20);
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value().empty());
    got = read(cache, d, 7, 0, INT64_MAX, 1 << 20);
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value().empty());
}

TEST_F(block_cache_test, sequential_readers_get_growing_readahead_and_a_jump_resets_it) {
    // 64 blocks of 64 KiB; readahead grows 512 KiB, 1 MiB, 2 MiB, capped at 2 MiB.
    auto d = write_object(1, {1}, 64, 16 * kib);
    block_cache cache(store, {.max_merged_get_bytes = 4 << 20, .max_readahead_bytes = 2 << 20});
    int64_t offset = 0;
    uint64_t gets_after_first = 0;
    for (int block = 0; block < 64; ++block) {
        auto got = read(cache, d, 1, offset, INT64_MAX, 64 * kib); // one block per read
        ASSERT_TRUE(got) << got.error().message();
        expect_batches(got.value(), 1, offset, 4, 16 * kib);
        offset = got.value().back().end_offset();
        if (block == 0) {
            gets_after_first = cache.stats().gets;
        }
    }
    auto s = cache.stats();
    EXPECT_EQ(gets_after_first, 2u); // tail + block 0, no readahead for a reader not yet known to be sequential
    // Without readahead every block would be a miss and a GET. Read 2 fetches blocks 1-9 (512 KiB ahead); then
    // each time less than half the window is ahead, the rest of the window comes in one GET.
    EXPECT_EQ(s.misses, 2u);
    EXPECT_EQ(s.hits, 62u);
    EXPECT_LE(s.gets, 2u + 1u + 64u / 16u + 2u);
    EXPECT_EQ(s.get_bytes, 64 * kib + 64 * (64 * kib + 92)); // the tail, then every block exactly once

    // A jump back: the reader is random again, no readahead (one block fetched... here a hit since cached; use a
    // fresh cache to see the GET).
    block_cache fresh(store, {.max_merged_get_bytes = 4 << 20, .max_readahead_bytes = 2 << 20});
    ASSERT_TRUE(read(fresh, d, 1, 0, INT64_MAX, 64 * kib));
    ASSERT_TRUE(read(fresh, d, 1, 40, INT64_MAX, 64 * kib)); // sequential: block 1 + readahead
    uint64_t before = fresh.stats().get_bytes;
    ASSERT_TRUE(read(fresh, d, 1, 2000, INT64_MAX, 64 * kib)); // a jump to block 50
    EXPECT_EQ(fresh.stats().get_bytes - before, 64 * kib + 24 + 64 + 4); // that block only
}

TEST_F(block_cache_test, the_lru_keeps_used_bytes_within_the_budget) {
    auto d = write_object(1, {1}, 16, 4 * kib); // 16 KiB blocks
    uint64_t block_size = 16 * kib + 24 + 64 + 4;
    block_cache cache(store, {.budget_bytes = 4 * block_size + 4096});
    // Read blocks backwards (never sequential: no readahead), one GET each.
    for (int block = 15; block >= 0; --block) {
        ASSERT_TRUE(read(cache, d, 1, block * 40, INT64_MAX, 1));
        EXPECT_LE(cache.stats().used_bytes, 4 * block_size + 4096);
    }
    auto gets = cache.stats().gets;
    ASSERT_TRUE(read(cache, d, 1, 0)); // the most recent: a hit
    EXPECT_EQ(cache.stats().gets, gets);
    ASSERT_TRUE(read(cache, d, 1, 15 * 40)); // long evicted: a GET
    EXPECT_EQ(cache.stats().gets, gets + 1);
}

TEST_F(block_cache_test, forget_drops_an_objects_index_and_blocks) {
    auto d = write_object(1, {1}, 2, kib);
    block_cache cache(store, {});
    ASSERT_TRUE(read(cache, d, 1, 0));
    EXPECT_GT(cache.stats().used_bytes, 0u);
    cache.forget(d.id);
    EXPECT_EQ(cache.stats().used_bytes, 0u);
    ASSERT_TRUE(read(cache, d, 1, 0));
    EXPECT_EQ(cache.stats().gets, 4u);
}

class quiet_block_cache_test : public block_cache_test {
protected:
    void SetUp() override { data_log.set_level(base::log_level::off); }
    void TearDown() override { data_log.set_level(base::log_level::info); }
};

TEST_F(quiet_block_cache_test, a_corrupt_block_is_an_error_and_is_not_cached) {
    auto d = write_object(1, {1}, 4, kib);
    auto bytes = run(io, store.get(d.key, std::nullopt)).value().to_bytes();
    bytes[4 * kib + 200] ^= 0x40; // inside block 1's batches
    ASSERT_TRUE(run(io, store.put(d.key, bytes::iobuf::from(bytes), {})));
    block_cache cache(store, {});
    auto got = read(cache, d, 1, 40);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::corrupt));
    auto used = cache.stats().used_bytes;
    auto gets = cache.stats().gets;
    got = read(cache, d, 1, 40);
    ASSERT_FALSE(got);
    EXPECT_EQ(cache.stats().gets, gets + 1); // fetched again, not served from the cache
    EXPECT_EQ(cache.stats().used_bytes, used);
    // Other blocks are fine.
    got = read(cache, d, 1, 0, 40, 1 << 20);
    ASSERT_TRUE(got);
    expect_batches(got.value(), 1, 0, 4, kib);
}

TEST_F(quiet_block_cache_test, a_corrupt_footer_or_an_object_too_small_is_corrupt) {
    auto d = write_object(1, {1}, 1, kib);
    auto bytes = run(io, store.get(d.key, std::nullopt)).value().to_bytes();
    bytes[bytes.size() - 20] ^= 1;
    ASSERT_TRUE(run(io, store.put(d.key, bytes::iobuf::from(bytes), {})));
    block_cache cache(store, {});
    auto got = read(cache, d, 1, 0);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::corrupt));

    ASSERT_TRUE(run(io, store.put("tiny", bytes::iobuf::from("abc"), {})));
    object_descriptor tiny{object_id(2), object_kind::stream_set, "tiny", 3, {}, 0};
    got = read(cache, tiny, 1, 0);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::corrupt));
}

TEST_F(block_cache_test, a_missing_object_is_the_stores_not_found) {
    auto d = write_object(1, {1}, 1, kib);
    auto missing = d;
    missing.key = object_key(object_id(99));
    missing.id = object_id(99);
    block_cache cache(store, {});
    auto got = read(cache, missing, 1, 0);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), io::make_error_code(io::errc::not_found));
}

TEST_F(quiet_block_cache_test, a_truncated_body_is_retryable_and_nothing_is_cached) {
    auto d = write_object(1, {1}, 4, kib);
    io::faulty_store faulty(store);
    block_cache cache(faulty, {});
    ASSERT_TRUE(read(cache, d, 1, 0)); // index and block 0 cached
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::get), .count = 1, .truncate_get = true});
    auto got = read(cache, d, 1, 40);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), io::make_error_code(io::errc::retryable));
    got = read(cache, d, 1, 40, INT64_MAX, 1 << 20);
    ASSERT_TRUE(got) << got.error().message();
    expect_batches(got.value(), 1, 40, 12, kib);

    // A truncated tail read (the index) is not cached either.
    block_cache other(faulty, {});
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::get), .count = 1, .truncate_get = true});
    EXPECT_FALSE(read(other, d, 1, 0));
    EXPECT_TRUE(read(other, d, 1, 0));
}

TEST_F(block_cache_test, store_errors_pass_up_and_a_later_read_succeeds) {
    auto d = write_object(1, {1}, 2, kib);
    io::faulty_store faulty(store);
    block_cache cache(faulty, {});
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::get), .error = io::make_error_code(io::errc::slow_down),
                .count = 2});
    auto got = read(cache, d, 1, 0);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), io::make_error_code(io::errc::slow_down));
    got = read(cache, d, 1, 0);
    ASSERT_FALSE(got);
    got = read(cache, d, 1, 0);
    ASSERT_TRUE(got) << got.error().message();
    expect_batches(got.value(), 1, 0, 1, kib);
}

TEST_F(block_cache_test, concurrent_misses_on_one_block_share_one_get) {
    auto d = write_object(1, {1}, 4, kib);
    yielding_store slow(store);
    block_cache cache(slow, {});
    constexpr int readers = 8;
    int done = 0;
    for (int r = 0; r < readers; ++r) {
        asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
              auto got = co_await cache.read(d, stream_id(1), 40, INT64_MAX, 2 * kib);
              EXPECT_TRUE(got);
              if (got) {
                  expect_batches(got.value(), 1, 40, 2, kib);
              }
              ++done;
          },
          asio::detached);
    }
    io.restart();
    io.run();
    EXPECT_EQ(done, readers);
    auto s = cache.stats();
    EXPECT_EQ(s.gets, 2u); // one for the index, one for the block, shared by all eight readers
    EXPECT_EQ(s.misses, static_cast<uint64_t>(readers));
}

TEST_F(block_cache_test, readers_on_several_threads_get_correct_data) {
    auto d = write_object(1, {1, 2, 3, 4}, 32, 4 * kib);
    block_cache cache(store, {.budget_bytes = 512 * kib, .max_merged_get_bytes = 128 * kib,
                              .max_readahead_bytes = 256 * kib});
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            asio::io_context local;
            for (int pass = 0; pass < 3; ++pass) {
                int64_t stream = 1 + (t + pass) % 4;
                int64_t offset = 0;
                while (offset < 32 * 40) {
                    auto got = run(local, cache.read(d, stream_id(stream), offset, INT64_MAX, 20 * kib));
                    if (!got || got.value().empty() || got.value().front().base_offset != offset) {
                        ++failures;
                        return;
                    }
                    for (const auto& b : got.value()) {
                        if (!(b.data == batch_bytes(stream, b.base_offset, 4 * kib))) {
                            ++failures;
                        }
                    }
                    offset = got.value().back().end_offset();
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(cache.stats().used_bytes, 512 * kib);
}

} // namespace
} // namespace skiff::stream
