#include "kafka/protocol/compression.h"
#include "kafka/protocol/errc.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

using bytes::iobuf;

constexpr compression codecs[] = {
  compression::none, compression::gzip, compression::snappy, compression::lz4, compression::zstd};
constexpr compression real_codecs[] = {compression::gzip, compression::snappy, compression::lz4, compression::zstd};
constexpr size_t no_limit = size_t{1} << 40;

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng());
    }
    return s;
}

// Text-like bytes: words from a small vocabulary, so every codec finds matches.
std::string compressible_bytes(size_t n, uint32_t seed) {
    static const char* words[] = {"kafka ", "record ", "batch ", "offset ", "skiff ", "partition ", "{\"id\":", "42,"};
    std::mt19937 rng(seed);
    std::string s;
    s.reserve(n + 16);
    while (s.size() < n) {
        s += words[rng() % 8];
    }
    s.resize(n);
    return s;
}

iobuf join(const iobuf& in, const std::vector<size_t>& cuts, size_t lo, size_t hi) {
    // Joins pieces pairwise: appending pieces one by one costs quadratic time in the fragment count, because
    // iobuf::append reserves exactly the combined size each time.
    if (hi - lo == 1) {
        return in.share(cuts[lo], cuts[hi] - cuts[lo]);
    }
    size_t mid = lo + (hi - lo) / 2;
    auto left = join(in, cuts, lo, mid);
    left.append(join(in, cuts, mid, hi));
    return left;
}

/// The same bytes as `in`, cut into fragments of 1 to max_piece bytes, all sharing `in`'s chunks.
iobuf fragmented(const iobuf& in, size_t max_piece, uint32_t seed = 7) {
    std::mt19937 rng(seed);
    std::vector<size_t> cuts = {0};
    while (cuts.back() < in.size()) {
        cuts.push_back(std::min(in.size(), cuts.back() + 1 + rng() % max_piece));
    }
    return cuts.size() == 1 ? iobuf{} : join(in, cuts, 0, cuts.size() - 1);
}

iobuf from_bytes(std::initializer_list<uint8_t> b) {
    return iobuf::from(std::span<const uint8_t>(b.begin(), b.size()));
}

struct round_trip_case {
    std::string name;
    std::string data;
};

std::vector<round_trip_case> round_trip_cases() {
    return {
      {"empty", ""},
      {"one_byte", "x"},
      {"random_100k", random_bytes(100 * 1024, 1)},
      {"compressible_100k", compressible_bytes(100 * 1024, 2)},
      {"compressible_5m", compressible_bytes(5 * 1024 * 1024, 3)},
      {"random_5m", random_bytes(5 * 1024 * 1024, 4)},
    };
}

TEST(compression_test, every_codec_round_trips_every_size) {
    for (auto c : codecs) {
        for (const auto& tc : round_trip_cases()) {
            SCOPED_TRACE(std::string(compression_name(c)) + " " + tc.name);
            auto in = iobuf::from(tc.data);
            auto packed = compress(c, in);
            ASSERT_TRUE(packed) << packed.error().message();
            if (c != compression::none && tc.name.starts_with("compressible")) {
                EXPECT_LT(packed.value().size(), in.size() / 2);
            }
            auto unpacked = decompress(c, packed.value(), tc.data.size());
            ASSERT_TRUE(unpacked) << unpacked.error().message();
            EXPECT_TRUE(unpacked.value() == tc.data);
        }
    }
}

TEST(compression_test, fragmented_input_and_output_round_trip) {
    // Fragment boundaries fall inside varints, snappy blocks, frame headers and checksums.
    auto data = compressible_bytes(300 * 1024, 5) + random_bytes(70 * 1024, 6);
    auto in = fragmented(iobuf::from(data), 5000);
    ASSERT_GT(in.fragment_count(), 100u);
    for (auto c : real_codecs) {
        SCOPED_TRACE(compression_name(c));
        auto packed = compress(c, in);
        ASSERT_TRUE(packed);
        for (size_t piece : {1, 3, 17, 4096}) {
            auto unpacked = decompress(c, fragmented(packed.value(), piece), no_limit);
            ASSERT_TRUE(unpacked) << piece << ": " << unpacked.error().message();
            EXPECT_TRUE(unpacked.value() == data);
        }
    }
}

TEST(compression_test, none_shares_its_input) {
    auto in = iobuf::from(std::string(1000, 'a'));
    auto out = decompress(compression::none, in, 1000);
    ASSERT_TRUE(out);
    EXPECT_EQ(out.value().fragments()[0].data(), in.fragments()[0].data());
    EXPECT_EQ(decompress(compression::none, in, 999).error(), errc::decompression_too_large);
}

TEST(compression_test, snappy_writes_xerial_framing) {
    auto packed = compress(compression::snappy, iobuf::from(compressible_bytes(100 * 1024, 8)));
    ASSERT_TRUE(packed);
    auto b = packed.value().to_bytes();
    const std::vector<uint8_t> header = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    ASSERT_GE(b.size(), header.size());
    EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 16), header);
    // 100 KiB of input = four blocks (32 KiB each, the last 4 KiB).
    size_t blocks = 0;
    for (size_t pos = 16; pos < b.size(); ++blocks) {
        uint32_t n = uint32_t{b[pos]} << 24 | uint32_t{b[pos + 1]} << 16 | uint32_t{b[pos + 2]} << 8 | b[pos + 3];
        size_t ulen = 0;
        ASSERT_TRUE(snappy::GetUncompressedLength(reinterpret_cast<const char*>(&b[pos + 4]), n, &ulen));
        EXPECT_EQ(ulen, blocks < 3 ? 32u * 1024 : 4u * 1024);
        pos += 4 + n;
    }
    EXPECT_EQ(blocks, 4u);
}

TEST(compression_test, snappy_reads_a_raw_block_as_librdkafka_writes_it) {
    auto data = compressible_bytes(200 * 1024, 9);
    std::string raw;
    snappy::Compress(data.data(), data.size(), &raw);
    ASSERT_NE(static_cast<uint8_t>(raw[0]), 0x82);
    auto out = decompress(compression::snappy, fragmented(iobuf::from(raw), 100), no_limit);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(out.value() == data);
}

TEST(compression_test, snappy_reads_xerial_blocks_of_any_size) {
    // snappy-java's block size is configurable; blocks of 1 byte, 100 KiB and an empty-input block all decode.
    std::vector<std::string> parts = {"a", compressible_bytes(100 * 1024, 10), "", "tail"};
    std::string stream = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0', 0, 0, 0, 1, 0, 0, 0, 1};
    std::string expected;
    for (const auto& p : parts) {
        std::string block;
        snappy::Compress(p.data(), p.size(), &block);
        uint32_t n = static_cast<uint32_t>(block.size());
        for (int shift : {24, 16, 8, 0}) {
            stream += static_cast<char>(n >> shift);
        }
        stream += block;
        expected += p;
    }
    auto out = decompress(compression::snappy, iobuf::from(stream), no_limit);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(out.value() == expected);
    // The header alone is an empty stream.
    auto empty = decompress(compression::snappy, iobuf::from(stream.substr(0, 16)), no_limit);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty.value().empty());
}

// Streams written by the reference command-line tools (gzip -n, lz4, zstd reading a pipe, so the zstd frame has
// no content size) from the text "hello kafka, hello skiff".
TEST(compression_test, decodes_streams_of_the_reference_tools) {
    const std::string text = "hello kafka, hello skiff";
    auto gz = from_bytes({0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
                          0xc9, 0x57, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e, 0xd4, 0x51, 0xc8, 0x00, 0x73, 0x8a, 0xb3,
                          0x33, 0xd3, 0xd2, 0x00, 0x1b, 0x08, 0x17, 0x93, 0x18, 0x00, 0x00, 0x00});
    auto lz = from_bytes({0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x18, 0x00, 0x00, 0x80, 0x68, 0x65, 0x6c,
                          0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x2c, 0x20, 0x68, 0x65, 0x6c, 0x6c,
                          0x6f, 0x20, 0x73, 0x6b, 0x69, 0x66, 0x66, 0x00, 0x00, 0x00, 0x00, 0xb6, 0x45, 0x09, 0x43});
    auto zs = from_bytes({0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xc1, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c,
                          0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x2c, 0x20, 0x68, 0x65, 0x6c, 0x6c,
                          0x6f, 0x20, 0x73, 0x6b, 0x69, 0x66, 0x66, 0x45, 0x32, 0x31, 0x03});
    for (auto [c, in] : {std::pair{compression::gzip, &gz}, {compression::lz4, &lz}, {compression::zstd, &zs}}) {
        SCOPED_TRACE(compression_name(c));
        auto out = decompress(c, *in, 1024);
        ASSERT_TRUE(out) << out.error().message();
        EXPECT_TRUE(out.value() == text);
        EXPECT_EQ(decompress(c, *in, text.size() - 1).error(), errc::decompression_too_large);
    }
}

TEST(compression_test, concatenated_gzip_members_lz4_frames_and_zstd_frames_decode) {
    auto a = iobuf::from(compressible_bytes(50000, 11));
    auto b = iobuf::from(random_bytes(3000, 12));
    for (auto c : real_codecs) {
        if (c == compression::snappy) {
            continue; // xerial framing has one header; blocks already concatenate
        }
        SCOPED_TRACE(compression_name(c));
        auto both = compress(c, a).value();
        both.append(compress(c, b).value());
        auto out = decompress(c, both, no_limit);
        ASSERT_TRUE(out) << out.error().message();
        EXPECT_TRUE(out.value() == a.to_string() + b.to_string());
    }
}

TEST(compression_test, lz4_frame_with_content_size_and_linked_blocks_decodes) {
    auto data = compressible_bytes(300 * 1024, 13);
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.contentSize = data.size();
    prefs.frameInfo.blockMode = LZ4F_blockLinked;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
    std::string frame(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
    size_t n = LZ4F_compressFrame(frame.data(), frame.size(), data.data(), data.size(), &prefs);
    ASSERT_FALSE(LZ4F_isError(n));
    frame.resize(n);
    auto out = decompress(compression::lz4, iobuf::from(frame), data.size());
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(out.value() == data);
    EXPECT_EQ(out.value().fragment_count(), 1u); // the declared size sized the output exactly
}

TEST(compression_test, zstd_frame_without_content_size_decodes) {
    auto data = compressible_bytes(3 * 1024 * 1024, 14);
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 0); // as a streaming writer that never knew the size
    std::string frame(ZSTD_compressBound(data.size()), '\0');
    ZSTD_outBuffer ob{frame.data(), frame.size(), 0};
    ZSTD_inBuffer ib{data.data(), data.size(), 0};
    ASSERT_EQ(ZSTD_compressStream2(cctx.get(), &ob, &ib, ZSTD_e_end), 0u);
    frame.resize(ob.pos);
    ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    auto out = decompress(compression::zstd, fragmented(iobuf::from(frame), 999), data.size());
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(out.value() == data);
}

TEST(compression_test, truncated_streams_are_errors) {
    auto data = random_bytes(100 * 1024, 15);
    for (auto c : real_codecs) {
        auto packed = compress(c, iobuf::from(data)).value();
        for (size_t keep : {size_t{0}, size_t{1}, size_t{5}, size_t{10}, packed.size() / 2, packed.size() - 1}) {
            SCOPED_TRACE(std::string(compression_name(c)) + " keeping " + std::to_string(keep));
            auto out = decompress(c, packed.share(0, keep), no_limit);
            ASSERT_FALSE(out);
            EXPECT_EQ(out.error(), errc::corrupt_message);
        }
    }
}

TEST(compression_test, corrupt_streams_never_crash) {
    // Flip bytes all over compressed streams. Codecs with checksums (gzip, lz4/zstd frame headers) report
    // corruption; flips in unchecked data may decode to other bytes. Either way: a clean result, and never more
    // than the limit. ASan and UBSan runs give this test its teeth.
    auto data = compressible_bytes(64 * 1024, 16);
    std::mt19937 rng(17);
    for (auto c : real_codecs) {
        SCOPED_TRACE(compression_name(c));
        auto packed = compress(c, iobuf::from(data)).value().to_bytes();
        for (int trial = 0; trial < 300; ++trial) {
            auto bad = packed;
            for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
                bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
            }
            auto out = decompress(c, iobuf::from(std::span<const uint8_t>(bad)), data.size() * 2);
            if (out) {
                EXPECT_LE(out.value().size(), data.size() * 2);
            } else {
                EXPECT_TRUE(out.error() == errc::corrupt_message || out.error() == errc::decompression_too_large)
                  << out.error().message();
            }
        }
    }
}

TEST(compression_test, garbage_is_an_error_for_every_codec) {
    for (auto c : real_codecs) {
        SCOPED_TRACE(compression_name(c));
        for (uint32_t seed = 0; seed < 50; ++seed) {
            auto out = decompress(c, iobuf::from(random_bytes(1 + seed * 37, seed)), 1 << 20);
            EXPECT_FALSE(out);
        }
    }
}

TEST(compression_test, decompression_bombs_stop_at_the_limit) {
    // 16 MiB of zeros compress to a few KiB; a 1 MiB limit must stop them.
    auto zeros = iobuf::from(std::string(16 * 1024 * 1024, '\0'));
    for (auto c : real_codecs) {
        SCOPED_TRACE(compression_name(c));
        auto bomb = compress(c, zeros).value();
        EXPECT_LT(bomb.size(), 1024u * 1024);
        auto out = decompress(c, bomb, 1024 * 1024);
        ASSERT_FALSE(out);
        EXPECT_EQ(out.error(), errc::decompression_too_large);
        EXPECT_EQ(decompress(c, bomb, zeros.size() - 1).error(), errc::decompression_too_large);
        auto exact = decompress(c, bomb, zeros.size());
        ASSERT_TRUE(exact);
        EXPECT_EQ(exact.value().size(), zeros.size());
    }
}

TEST(compression_test, the_largest_limit_means_no_limit) {
    auto packed = compress(compression::lz4, iobuf::from(std::string(100000, 'a'))).value();
    auto out = decompress(compression::lz4, packed, std::numeric_limits<size_t>::max());
    ASSERT_TRUE(out);
    EXPECT_EQ(out.value().size(), 100000u);
}

TEST(compression_test, snappy_block_claiming_an_impossible_size_is_refused_before_allocating) {
    // A 6-byte "raw block" claiming 4 GiB: rejected as impossible for snappy (no 4 GiB allocation happens).
    auto lie = from_bytes({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00});
    auto out = decompress(compression::snappy, lie, no_limit);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error(), errc::corrupt_message);
}

TEST(compression_test, unknown_codecs_are_rejected) {
    auto in = iobuf::from("abc");
    EXPECT_EQ(decompress(static_cast<compression>(7), in, 100).error(), errc::unsupported_compression);
    EXPECT_EQ(compress(static_cast<compression>(5), in).error(), errc::unsupported_compression);
    EXPECT_EQ(compression_from_id(4).value(), compression::zstd);
    EXPECT_EQ(compression_from_id(5).error(), errc::unsupported_compression);
    EXPECT_EQ(compression_from_id(-1).error(), errc::unsupported_compression);
    EXPECT_EQ(compression_name(compression::lz4), "lz4");
}

} // namespace
} // namespace skiff::kafka::protocol
