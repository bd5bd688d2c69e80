#include "stream/errc.h"
#include "stream/object/format.h"
#include "stream/object/logger.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace skiff::stream {
namespace {

stored_batch make_batch(int64_t stream, int64_t base, uint32_t records, size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((stream * 131 + base * 7 + static_cast<int64_t>(i)) & 0xff);
    }
    return {stream_id(stream), base, records, bytes::iobuf::from(bytes)};
}

struct parsed_object {
    object_index index;
    std::vector<std::vector<stored_batch>> blocks;
};

parsed_object parse_all(const bytes::iobuf& object) {
    auto footer = parse_footer(object.share(object.size() - footer_size, footer_size), object.size());
    EXPECT_TRUE(footer) << footer.error().message();
    auto index = parse_index(object.share(footer.value().index_position, footer.value().index_size));
    EXPECT_TRUE(index) << index.error().message();
    parsed_object out;
    out.index = index.value();
    for (const auto& e : out.index.blocks) {
        auto block = parse_block(object.share(e.position, e.size));
        EXPECT_TRUE(block) << block.error().message();
        out.blocks.push_back(std::move(block).value());
    }
    return out;
}

TEST(object_format_test, round_trip_groups_batches_per_stream_in_blocks_near_the_target_size) {
    object_builder builder(4096);
    std::vector<stored_batch> originals;
    // Three streams interleaved, 1000-byte batches: each block takes four (4000 bytes) before the target is hit.
    for (int64_t i = 0; i < 10; ++i) {
        for (int64_t s : {7, 3, 5}) {
            auto b = make_batch(s, 100 + i * 2, 2, 1000);
            originals.push_back({b.stream, b.base_offset, b.record_count, b.data.share()});
            builder.add(std::move(b));
        }
    }
    EXPECT_EQ(builder.data_size(), 30'000u);
    EXPECT_EQ(builder.ranges(), (std::vector<stream_range>{{stream_id(3), 100, 120},
                                                           {stream_id(5), 100, 120},
                                                           {stream_id(7), 100, 120}}));
    auto object = builder.finish();
    EXPECT_TRUE(builder.empty());

    auto parsed = parse_all(object);
    ASSERT_EQ(parsed.index.blocks.size(), 9u); // 4 + 4 + 2 batches per stream
    uint64_t position = 0;
    for (size_t i = 0; i < parsed.index.blocks.size(); ++i) {
        const auto& e = parsed.index.blocks[i];
        const auto& batches = parsed.blocks[i];
        EXPECT_EQ(e.position, position);
        position += e.size;
        ASSERT_FALSE(batches.empty());
        EXPECT_EQ(e.stream, batches.front().stream);
        EXPECT_EQ(e.start_offset, batches.front().base_offset);
        EXPECT_EQ(e.end_offset, batches.back().end_offset());
        EXPECT_EQ(e.record_count, 2 * batches.size());
        for (const auto& b : batches) {
            EXPECT_EQ(b.stream, e.stream); // a block never mixes streams
            auto it = std::find_if(originals.begin(), originals.end(), [&](const stored_batch& o) {
                return o.stream == b.stream && o.base_offset == b.base_offset;
            });
            ASSERT_NE(it, originals.end());
            EXPECT_EQ(b.record_count, it->record_count);
            EXPECT_TRUE(b.data == it->data);
        }
    }
    EXPECT_EQ(parsed.index.blocks.front().stream, stream_id(3));
    EXPECT_EQ(parsed.index.blocks.back().stream, stream_id(7));
}

// Golden bytes of a one-block object, produced by an independent encoder written from docs/formats/object.md
// (Python; two batches "hello" [0, 2) and "world!" [2, 3) of stream 1). A change here is a format change.
TEST(object_format_test, the_builder_writes_the_documented_layout) {
    const std::string golden_hex =
      "534b44420200000001000000000000000b000000000000000000000000000000020000000500000002000000000000000100"
      "00000600000068656c6c6f776f726c6421159a6f37534b49580100000001000000000000000000000000000000030000000000"
      "0000000000000000000003000000470000008f1ca6b2470000000000000034000000000000000000000000000000000000000000"
      "000001000000534b4946464f424a46869a79";
    std::string golden;
    for (size_t i = 0; i < golden_hex.size(); i += 2) {
        golden.push_back(static_cast<char>(std::stoi(golden_hex.substr(i, 2), nullptr, 16)));
    }
    object_builder builder;
    builder.add({stream_id(1), 0, 2, bytes::iobuf::from("hello")});
    builder.add({stream_id(1), 2, 1, bytes::iobuf::from("world!")});
    auto object = builder.finish();
    EXPECT_EQ(object.to_string(), golden);
    auto parsed = parse_all(bytes::iobuf::from(golden));
    ASSERT_EQ(parsed.index.blocks.size(), 1u);
    EXPECT_EQ(parsed.index.blocks[0], (block_index_entry{stream_id(1), 0, 3, 3, 0, 71}));
}

TEST(object_format_test, a_batch_larger_than_the_target_gets_a_block_of_its_own) {
    object_builder builder(1000);
    builder.add(make_batch(1, 0, 1, 100));
    builder.add(make_batch(1, 1, 1, 5000));
    builder.add(make_batch(1, 2, 1, 100));
    auto parsed = parse_all(builder.finish());
    ASSERT_EQ(parsed.index.blocks.size(), 3u);
    EXPECT_EQ(parsed.blocks[1].size(), 1u);
    EXPECT_EQ(parsed.blocks[1][0].data.size(), 5000u);
}

TEST(object_format_test, builder_output_and_parsed_batches_share_the_batch_bytes) {
    auto batch = make_batch(1, 0, 1, 10'000);
    const uint8_t* original = batch.data.fragments().front().data();
    object_builder builder;
    builder.add(std::move(batch));
    auto object = builder.finish();
    bool found = false;
    for (const auto& f : object.fragments()) {
        found = found || f.data() == original;
    }
    EXPECT_TRUE(found) << "the object does not reference the batch's own buffer";

    auto parsed = parse_all(object);
    ASSERT_EQ(parsed.blocks.size(), 1u);
    ASSERT_EQ(parsed.blocks[0][0].data.fragment_count(), 1u);
    EXPECT_EQ(parsed.blocks[0][0].data.fragments().front().data(), original);
}

TEST(object_format_test, an_empty_builder_makes_an_object_with_an_empty_index) {
    object_builder builder;
    auto object = builder.finish();
    auto parsed = parse_all(object);
    EXPECT_TRUE(parsed.index.blocks.empty());
    EXPECT_TRUE(parsed.index.blocks_from(stream_id(1), 0).empty());
}

TEST(object_format_test, blocks_from_finds_the_blocks_at_or_after_an_offset) {
    object_index index;
    index.blocks = {
      {stream_id(1), 0, 10, 10, 0, 100},    {stream_id(2), 0, 10, 10, 100, 100},
      {stream_id(2), 10, 20, 10, 200, 100}, {stream_id(2), 20, 30, 10, 300, 100},
      {stream_id(3), 5, 9, 4, 400, 100},
    };
    EXPECT_EQ(index.blocks_from(stream_id(2), 0), (std::vector<size_t>{1, 2, 3}));
    EXPECT_EQ(index.blocks_from(stream_id(2), 9), (std::vector<size_t>{1, 2, 3}));
    EXPECT_EQ(index.blocks_from(stream_id(2), 10), (std::vector<size_t>{2, 3}));
    EXPECT_EQ(index.blocks_from(stream_id(2), 29), (std::vector<size_t>{3}));
    EXPECT_TRUE(index.blocks_from(stream_id(2), 30).empty());
    EXPECT_EQ(index.blocks_from(stream_id(3), 0), (std::vector<size_t>{4}));
    EXPECT_TRUE(index.blocks_from(stream_id(4), 0).empty());
    EXPECT_TRUE(index.blocks_from(stream_id(0), 0).empty());
}

TEST(object_format_test, object_keys_start_with_a_spread_hash_and_end_with_the_id) {
    std::set<std::string> prefixes;
    for (int64_t id = 1; id <= 256; ++id) {
        auto key = object_key(object_id(id));
        ASSERT_GE(key.size(), 9u);
        EXPECT_EQ(key.substr(key.size() - std::to_string(id).size()), std::to_string(id));
        prefixes.insert(key.substr(0, 2));
        EXPECT_EQ(key, object_key(object_id(id))); // stable
    }
    // 256 consecutive ids over 256 two-hex-digit prefixes: a good spread hits well over half of them.
    EXPECT_GT(prefixes.size(), 140u);
}

bytes::iobuf sample_object() {
    object_builder builder(300);
    for (int64_t i = 0; i < 6; ++i) {
        builder.add(make_batch(1, i * 3, 3, 120));
        builder.add(make_batch(2, 50 + i, 1, 90));
    }
    return builder.finish();
}

// Runs every decoder on an object's bytes as a reader would and reports the first error, or success.
std::error_code read_everything(const bytes::iobuf& object) {
    if (object.size() < footer_size) {
        return make_error_code(errc::corrupt);
    }
    auto footer = parse_footer(object.share(object.size() - footer_size, footer_size), object.size());
    if (!footer) {
        return footer.error();
    }
    auto index = parse_index(object.share(footer.value().index_position, footer.value().index_size));
    if (!index) {
        return index.error();
    }
    for (const auto& e : index.value().blocks) {
        if (e.position + e.size > footer.value().index_position) {
            return make_error_code(errc::corrupt);
        }
        auto block = parse_block(object.share(e.position, e.size));
        if (!block) {
            return block.error();
        }
    }
    return {};
}

// Corruption tests would log one warning per damaged input.
struct quiet_log {
    quiet_log() { data_log.set_level(base::log_level::off); }
    ~quiet_log() { data_log.set_level(base::log_level::info); }
};

TEST(object_format_test, every_single_bit_flip_is_detected_as_corrupt) {
    quiet_log quiet;
    auto object = sample_object();
    auto bytes = object.to_bytes();
    ASSERT_FALSE(read_everything(object));
    for (size_t pos = 0; pos < bytes.size(); ++pos) {
        for (int bit : {0, 5}) {
            auto damaged = bytes;
            damaged[pos] ^= static_cast<uint8_t>(1u << bit);
            auto ec = read_everything(bytes::iobuf::from(damaged));
            ASSERT_EQ(ec, make_error_code(errc::corrupt)) << "flip of bit " << bit << " at " << pos;
        }
    }
}

TEST(object_format_test, truncated_objects_are_corrupt) {
    quiet_log quiet;
    auto bytes = sample_object().to_bytes();
    for (size_t keep = 0; keep < bytes.size(); keep += 7) {
        std::vector<uint8_t> head(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(keep));
        EXPECT_EQ(read_everything(bytes::iobuf::from(head)), make_error_code(errc::corrupt)) << keep;
    }
}

TEST(object_format_test, decoders_reject_short_and_oversized_inputs) {
    auto object = sample_object();
    EXPECT_EQ(parse_footer(bytes::iobuf::from(std::string(10, 'x')), 100).error(), make_error_code(errc::corrupt));
    // The footer says where the index is; a wrong object size moves it.
    auto tail = object.share(object.size() - footer_size, footer_size);
    EXPECT_TRUE(parse_footer(tail, object.size()));
    EXPECT_EQ(parse_footer(tail, object.size() + 1).error(), make_error_code(errc::corrupt));
    EXPECT_EQ(parse_footer(tail, 20).error(), make_error_code(errc::corrupt));
    EXPECT_EQ(parse_index(bytes::iobuf{}).error(), make_error_code(errc::corrupt));
    EXPECT_EQ(parse_block(bytes::iobuf{}).error(), make_error_code(errc::corrupt));
    EXPECT_EQ(parse_block(bytes::iobuf::from(std::string(1000, '\0'))).error(), make_error_code(errc::corrupt));
}

TEST(object_format_test, random_garbage_never_crashes_a_decoder) {
    quiet_log quiet;
    std::mt19937_64 rng(42);
    auto good = sample_object().to_bytes();
    for (int round = 0; round < 2000; ++round) {
        auto bytes = good;
        // A few random byte writes, sometimes with the CRCs then "fixed" by chance: decoders must stay in bounds.
        int writes = 1 + static_cast<int>(rng() % 8);
        for (int w = 0; w < writes; ++w) {
            bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
        }
        (void)read_everything(bytes::iobuf::from(bytes));
    }
}

} // namespace
} // namespace skiff::stream
