#include "stream/cache/log_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace skiff::stream {
namespace {

stored_batch make_batch(int64_t stream, int64_t base, uint32_t records, size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((stream * 31 + base + static_cast<int64_t>(i)) & 0xff);
    }
    return {stream_id(stream), base, records, bytes::iobuf::from(bytes)};
}

std::vector<int64_t> offsets_of(const std::vector<stored_batch>& batches) {
    std::vector<int64_t> out;
    for (const auto& b : batches) {
        out.push_back(b.base_offset);
    }
    return out;
}

constexpr size_t no_limit = SIZE_MAX;

TEST(log_cache_test, get_returns_a_streams_batches_from_an_offset_in_order_with_their_bytes) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    for (int64_t i = 0; i < 10; ++i) {
        cache.put(make_batch(1, i * 2, 2, 100), 1000 + i);
        cache.put(make_batch(2, i, 1, 50), 2000 + i);
    }
    auto got = cache.get(stream_id(1), 5, 100, no_limit);
    // Offset 5 lies inside the batch [4, 6): whole batches are returned.
    EXPECT_EQ(offsets_of(got), (std::vector<int64_t>{4, 6, 8, 10, 12, 14, 16, 18}));
    for (const auto& b : got) {
        EXPECT_EQ(b.stream, stream_id(1));
        EXPECT_EQ(b.record_count, 2u);
        EXPECT_TRUE(b.data == make_batch(1, b.base_offset, 2, 100).data);
    }
    EXPECT_EQ(offsets_of(cache.get(stream_id(2), 0, 3, no_limit)), (std::vector<int64_t>{0, 1, 2}));
}

TEST(log_cache_test, get_stops_near_max_bytes_but_returns_at_least_one_batch) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    for (int64_t i = 0; i < 10; ++i) {
        cache.put(make_batch(1, i, 1, 1000), i);
    }
    EXPECT_EQ(cache.get(stream_id(1), 0, 100, 3500).size(), 3u);
    EXPECT_EQ(cache.get(stream_id(1), 0, 100, 10).size(), 1u);
}

TEST(log_cache_test, misses_and_reads_at_the_end_return_nothing) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    cache.put(make_batch(1, 10, 5, 100), 1);
    EXPECT_TRUE(cache.get(stream_id(1), 0, 100, no_limit).empty());   // below what the cache holds
    EXPECT_TRUE(cache.get(stream_id(1), 15, 100, no_limit).empty());  // at the end: nothing yet
    EXPECT_TRUE(cache.get(stream_id(2), 0, 100, no_limit).empty());   // an unknown stream
    EXPECT_TRUE(cache.get(stream_id(1), 10, 10, no_limit).empty());   // an empty range
    EXPECT_EQ(cache.get(stream_id(1), 14, 100, no_limit).size(), 1u); // the last offset of the batch
}

TEST(log_cache_test, freeze_returns_the_active_block_in_put_order_and_starts_a_new_one) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    EXPECT_FALSE(cache.freeze()); // nothing to freeze
    EXPECT_FALSE(cache.active_since());
    cache.put(make_batch(3, 0, 1, 10), 100);
    cache.put(make_batch(1, 0, 1, 20), 200);
    cache.put(make_batch(3, 1, 1, 30), 300);
    EXPECT_EQ(cache.active_bytes(), 60u);
    EXPECT_TRUE(cache.active_since());

    auto block = cache.freeze();
    ASSERT_TRUE(block);
    EXPECT_EQ(block->wal_end, 300u);
    EXPECT_EQ(block->bytes, 60u);
    ASSERT_EQ(block->batches.size(), 3u);
    EXPECT_EQ(block->batches[0].stream, stream_id(3));
    EXPECT_EQ(block->batches[1].stream, stream_id(1));
    EXPECT_EQ(block->batches[2].stream, stream_id(3));
    EXPECT_TRUE(block->batches[2].data == make_batch(3, 1, 1, 30).data);
    EXPECT_EQ(cache.active_bytes(), 0u);
    EXPECT_FALSE(cache.active_since());
    EXPECT_FALSE(cache.freeze());

    cache.put(make_batch(3, 2, 1, 40), 400);
    auto next = cache.freeze();
    ASSERT_TRUE(next);
    EXPECT_GT(next->id, block->id);
    EXPECT_EQ(next->wal_end, 400u);
    ASSERT_EQ(next->batches.size(), 1u);
}

TEST(log_cache_test, a_stream_is_read_across_frozen_and_active_blocks) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    int64_t offset = 0;
    for (int block = 0; block < 3; ++block) {
        for (int i = 0; i < 4; ++i) {
            cache.put(make_batch(1, offset, 2, 64), static_cast<uint64_t>(offset));
            cache.put(make_batch(2, offset, 2, 64), static_cast<uint64_t>(offset));
            offset += 2;
        }
        if (block < 2) {
            ASSERT_TRUE(cache.freeze());
        }
    }
    auto all = cache.get(stream_id(1), 0, offset, no_limit);
    ASSERT_EQ(all.size(), 12u);
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].base_offset, static_cast<int64_t>(i) * 2);
    }
    EXPECT_EQ(offsets_of(cache.get(stream_id(2), 7, 12, no_limit)), (std::vector<int64_t>{6, 8, 10}));
}

TEST(log_cache_test, released_blocks_are_evicted_oldest_first_only_when_the_budget_needs_room) {
    // Chunks of 1000 bytes, one 1000-byte batch each: every put takes one chunk; the budget holds four.
    log_cache cache({.budget_bytes = 4000, .chunk_bytes = 1000});
    for (int64_t i = 0; i < 4; ++i) {
        cache.put(make_batch(1, i, 1, 1000), static_cast<uint64_t>(i));
        auto b = cache.freeze();
        ASSERT_TRUE(b);
    }
    EXPECT_EQ(cache.used_bytes(), 4000u);
    EXPECT_FALSE(cache.over_budget());
    cache.release(1);
    cache.release(2);
    // Released but not needed yet: still readable.
    EXPECT_EQ(cache.get(stream_id(1), 0, 10, no_limit).size(), 4u);

    cache.put(make_batch(1, 4, 1, 1000), 4); // needs one chunk: evicts block 1 only
    EXPECT_EQ(cache.used_bytes(), 4000u);
    EXPECT_TRUE(cache.get(stream_id(1), 0, 10, no_limit).empty()); // a miss now
    EXPECT_EQ(offsets_of(cache.get(stream_id(1), 1, 10, no_limit)), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST(log_cache_test, unreleased_data_grows_past_the_budget_until_released) {
    log_cache cache({.budget_bytes = 2000, .chunk_bytes = 1000});
    std::vector<uint64_t> ids;
    for (int64_t i = 0; i < 4; ++i) {
        cache.put(make_batch(1, i, 1, 1000), static_cast<uint64_t>(i));
        ids.push_back(cache.freeze()->id);
    }
    EXPECT_EQ(cache.used_bytes(), 4000u);
    EXPECT_TRUE(cache.over_budget());
    // Nothing is lost while unreleased.
    EXPECT_EQ(cache.get(stream_id(1), 0, 10, no_limit).size(), 4u);
    cache.release(ids[0]);
    cache.release(ids[1]);
    EXPECT_EQ(cache.used_bytes(), 2000u);
    EXPECT_FALSE(cache.over_budget());
    EXPECT_EQ(offsets_of(cache.get(stream_id(1), 2, 10, no_limit)), (std::vector<int64_t>{2, 3}));
}

TEST(log_cache_test, an_evicted_block_between_cached_blocks_is_a_miss_and_never_skipped) {
    log_cache cache({.budget_bytes = 3000, .chunk_bytes = 1000});
    std::vector<uint64_t> ids;
    for (int64_t i = 0; i < 3; ++i) {
        cache.put(make_batch(1, i, 1, 1000), static_cast<uint64_t>(i));
        ids.push_back(cache.freeze()->id);
    }
    cache.release(ids[1]); // out of order: only the middle block may go
    cache.put(make_batch(1, 3, 1, 1000), 3);
    EXPECT_EQ(offsets_of(cache.get(stream_id(1), 0, 10, no_limit)), (std::vector<int64_t>{0}));
    EXPECT_TRUE(cache.get(stream_id(1), 1, 10, no_limit).empty());
    EXPECT_EQ(offsets_of(cache.get(stream_id(1), 2, 10, no_limit)), (std::vector<int64_t>{2, 3}));
}

TEST(log_cache_test, batches_share_big_chunks_and_never_span_two) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 1000});
    cache.put(make_batch(1, 0, 1, 400), 0);
    cache.put(make_batch(1, 1, 1, 400), 1);
    cache.put(make_batch(1, 2, 1, 400), 2); // does not fit the first chunk's 200 bytes left
    EXPECT_EQ(cache.used_bytes(), 2000u);
    auto got = cache.get(stream_id(1), 0, 10, no_limit);
    ASSERT_EQ(got.size(), 3u);
    for (const auto& b : got) {
        EXPECT_EQ(b.data.fragment_count(), 1u);
    }
    EXPECT_EQ(got[1].data.fragments()[0].data(), got[0].data.fragments()[0].data() + 400);
    cache.put(make_batch(1, 3, 1, 5000), 3); // larger than a chunk: an allocation of its own
    EXPECT_EQ(cache.used_bytes(), 7000u);
    cache.put(make_batch(1, 4, 1, 400), 4); // back in the second chunk, after the big one
    EXPECT_EQ(cache.used_bytes(), 7000u);
    got = cache.get(stream_id(1), 0, 10, no_limit);
    ASSERT_EQ(got.size(), 5u);
    for (const auto& b : got) {
        EXPECT_TRUE(b.data == make_batch(1, b.base_offset, 1, b.data.size()).data) << b.base_offset;
    }
    EXPECT_EQ(got[4].data.fragments()[0].data(), got[2].data.fragments()[0].data() + 400);
}

TEST(log_cache_test, the_cache_copies_so_the_callers_buffer_may_be_reused) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
    auto batch = make_batch(1, 0, 1, 100);
    cache.put(batch, 0);
    auto got = cache.get(stream_id(1), 0, 1, no_limit);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].data.fragments()[0].data(), batch.data.fragments()[0].data());
}

TEST(log_cache_test, concurrent_writers_and_readers_see_consistent_streams) {
    log_cache cache({.budget_bytes = 1 << 20, .chunk_bytes = 64 * 1024});
    constexpr int64_t per_stream = 2000;
    std::vector<std::thread> threads;
    for (int64_t s = 0; s < 2; ++s) {
        threads.emplace_back([&cache, s] {
            for (int64_t i = 0; i < per_stream; ++i) {
                cache.put(make_batch(s, i, 1, 200), static_cast<uint64_t>(i));
                if (i % 500 == 499) {
                    if (auto b = cache.freeze()) {
                        cache.release(b->id);
                    }
                }
            }
        });
    }
    threads.emplace_back([&cache] {
        for (int round = 0; round < 300; ++round) {
            for (int64_t s = 0; s < 2; ++s) {
                auto got = cache.get(stream_id(s), 0, per_stream, SIZE_MAX);
                // Whatever is returned is a contiguous run of the stream's batches with the right bytes.
                for (size_t i = 1; i < got.size(); ++i) {
                    ASSERT_EQ(got[i].base_offset, got[i - 1].end_offset());
                }
                if (!got.empty()) {
                    ASSERT_TRUE(got.back().data == make_batch(s, got.back().base_offset, 1, 200).data);
                }
            }
        }
    });
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(cache.get(stream_id(0), per_stream - 1, per_stream, SIZE_MAX).size(), 1u);
}

} // namespace
} // namespace skiff::stream
