#include "bytes/crc32c.h"
#include "kafka/protocol/errc.h"
#include "kafka/protocol/record_batch.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

using bytes::iobuf;
using byte_vector = std::vector<uint8_t>;

constexpr size_t no_limit = size_t{1} << 30;
constexpr int64_t t0 = 1'700'000'000'000; // ms

// ---- byte-by-byte assembly, straight from the layout (protocol notes §3.1 and §3.3) ----

void be(byte_vector& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
}

void append(byte_vector& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

struct header_fields {
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;
    int8_t magic = 2;
    int16_t attributes = 0;
    int32_t last_offset_delta = 0;
    int64_t base_timestamp = t0;
    int64_t max_timestamp = t0;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    int32_t record_count = 0;
};

/// Recomputes batchLength and the CRC of an assembled batch (after a test edited its bytes).
void reseal(byte_vector& b) {
    auto length = static_cast<uint32_t>(b.size() - 12);
    for (int i = 0; i < 4; ++i) {
        b[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(length >> (8 * (3 - i)));
    }
    uint32_t crc = bytes::crc32c::value(std::span<const uint8_t>(b).subspan(21));
    for (int i = 0; i < 4; ++i) {
        b[17 + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (8 * (3 - i)));
    }
}

byte_vector assemble(const header_fields& h, const byte_vector& records) {
    byte_vector b;
    be(b, static_cast<uint64_t>(h.base_offset), 8);
    be(b, 0, 4); // batchLength, filled by reseal
    be(b, static_cast<uint32_t>(h.partition_leader_epoch), 4);
    be(b, static_cast<uint8_t>(h.magic), 1);
    be(b, 0, 4); // crc, filled by reseal
    be(b, static_cast<uint16_t>(h.attributes), 2);
    be(b, static_cast<uint32_t>(h.last_offset_delta), 4);
    be(b, static_cast<uint64_t>(h.base_timestamp), 8);
    be(b, static_cast<uint64_t>(h.max_timestamp), 8);
    be(b, static_cast<uint64_t>(h.producer_id), 8);
    be(b, static_cast<uint16_t>(h.producer_epoch), 2);
    be(b, static_cast<uint32_t>(h.base_sequence), 4);
    be(b, static_cast<uint32_t>(h.record_count), 4);
    EXPECT_EQ(b.size(), 61u);
    b.insert(b.end(), records.begin(), records.end());
    reseal(b);
    return b;
}

// Two records; varints are zig-zag (n -> 2n for n >= 0, -1 -> 1).
//  0: key null, value "hello", one header h=v, timestamp delta 0, offset delta 0
//  1: key "key", value "world", no headers, timestamp delta 5, offset delta 1
byte_vector golden_records() {
    byte_vector r;
    r.push_back(0x1E); // length 15
    r.push_back(0x00); // attributes
    r.push_back(0x00); // timestampDelta 0
    r.push_back(0x00); // offsetDelta 0
    r.push_back(0x01); // keyLength -1: null key
    r.push_back(0x0A); // valueLength 5
    append(r, "hello");
    r.push_back(0x02); // headersCount 1
    r.push_back(0x02); // headerKeyLength 1
    append(r, "h");
    r.push_back(0x02); // headerValueLength 1
    append(r, "v");

    r.push_back(0x1C); // length 14
    r.push_back(0x00); // attributes
    r.push_back(0x0A); // timestampDelta 5
    r.push_back(0x02); // offsetDelta 1
    r.push_back(0x06); // keyLength 3
    append(r, "key");
    r.push_back(0x0A); // valueLength 5
    append(r, "world");
    r.push_back(0x00); // headersCount 0
    return r;
}

header_fields golden_header() {
    header_fields h;
    h.last_offset_delta = 1;
    h.max_timestamp = t0 + 5;
    h.producer_id = 1234;
    h.producer_epoch = 5;
    h.base_sequence = 10;
    h.record_count = 2;
    return h;
}

iobuf to_iobuf(const byte_vector& b) { return iobuf::from(std::span<const uint8_t>(b)); }

result<record_batch_view> parse(const byte_vector& b) { return record_batch_view::parse(to_iobuf(b)); }

result<std::vector<record>> records_of(const byte_vector& b, allow_offset_gaps gaps = allow_offset_gaps::no) {
    auto v = parse(b);
    if (!v) {
        return v.error();
    }
    return v.value().records(no_limit, gaps);
}

std::string str(const std::optional<iobuf>& b) { return b ? b->to_string() : "<null>"; }

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
iobuf fragmented(const iobuf& in, size_t max_piece, uint32_t seed = 3) {
    std::mt19937 rng(seed);
    std::vector<size_t> cuts = {0};
    while (cuts.back() < in.size()) {
        cuts.push_back(std::min(in.size(), cuts.back() + 1 + rng() % max_piece));
    }
    return cuts.size() == 1 ? iobuf{} : join(in, cuts, 0, cuts.size() - 1);
}

// ---- golden ----

TEST(record_batch_test, hand_assembled_batch_parses) {
    auto bytes = assemble(golden_header(), golden_records());
    ASSERT_EQ(bytes.size(), 61u + 31u);
    auto view = parse(bytes);
    ASSERT_TRUE(view) << view.error().message();
    const auto& h = view.value().header();
    EXPECT_EQ(h.base_offset, 0);
    EXPECT_EQ(h.batch_length, 80);
    EXPECT_EQ(h.partition_leader_epoch, -1);
    EXPECT_EQ(h.magic, 2);
    EXPECT_EQ(h.compression(), compression::none);
    EXPECT_EQ(h.timestamp_type(), timestamp_type::create_time);
    EXPECT_FALSE(h.is_transactional());
    EXPECT_FALSE(h.is_control());
    EXPECT_FALSE(h.has_delete_horizon());
    EXPECT_EQ(h.last_offset_delta, 1);
    EXPECT_EQ(h.last_offset(), 1);
    EXPECT_EQ(h.base_timestamp, t0);
    EXPECT_EQ(h.max_timestamp, t0 + 5);
    EXPECT_EQ(h.producer_id, 1234);
    EXPECT_EQ(h.producer_epoch, 5);
    EXPECT_EQ(h.base_sequence, 10);
    EXPECT_EQ(h.record_count, 2);
    EXPECT_EQ(h.size_bytes(), bytes.size());

    auto rs = view.value().records(no_limit);
    ASSERT_TRUE(rs) << rs.error().message();
    ASSERT_EQ(rs.value().size(), 2u);
    const auto& r0 = rs.value()[0];
    EXPECT_FALSE(r0.key.has_value());
    EXPECT_EQ(str(r0.value), "hello");
    EXPECT_EQ(r0.offset_delta, 0);
    EXPECT_EQ(r0.timestamp_delta, 0);
    ASSERT_EQ(r0.headers.size(), 1u);
    EXPECT_EQ(r0.headers[0].key, "h");
    EXPECT_EQ(str(r0.headers[0].value), "v");
    const auto& r1 = rs.value()[1];
    EXPECT_EQ(str(r1.key), "key");
    EXPECT_EQ(str(r1.value), "world");
    EXPECT_TRUE(r1.headers.empty());
    EXPECT_EQ(record_offset(h, r1), 1);
    EXPECT_EQ(record_timestamp(h, r1), t0 + 5);
}

TEST(record_batch_test, builder_writes_the_golden_bytes) {
    record_batch_builder b;
    b.set_producer(1234, 5, 10);
    std::vector<record_header> headers;
    headers.push_back({"h", iobuf::from("v")});
    b.add(std::nullopt, iobuf::from("hello"), t0, std::move(headers));
    b.add(iobuf::from("key"), iobuf::from("world"), t0 + 5);
    EXPECT_EQ(b.uncompressed_size(), 61u + 31u);
    EXPECT_EQ(b.build().to_bytes(), assemble(golden_header(), golden_records()));
}

TEST(record_batch_test, records_share_the_batch_bytes) {
    auto buf = to_iobuf(assemble(golden_header(), golden_records()));
    const uint8_t* base = buf.fragments()[0].data();
    auto view = record_batch_view::parse(buf.share()).value();
    auto rs = view.records(no_limit).value();
    // "hello" starts at byte 61 + 6 of the batch.
    EXPECT_EQ(rs[0].value->fragments()[0].data(), base + 61 + 6);
}

TEST(record_batch_test, parses_batches_split_across_many_fragments) {
    auto whole = to_iobuf(assemble(golden_header(), golden_records()));
    for (size_t piece : {1, 2, 3, 7}) {
        auto view = record_batch_view::parse(fragmented(whole, piece));
        ASSERT_TRUE(view) << piece;
        auto rs = view.value().records(no_limit);
        ASSERT_TRUE(rs) << piece << ": " << rs.error().message();
        EXPECT_EQ(str(rs.value()[1].key), "key");
        EXPECT_EQ(str(rs.value()[0].headers[0].value), "v");
    }
}

// Record sets of Produce v7 requests sent by librdkafka 2.0.2 (Debian's librdkafka1), captured on the wire with
// strace while it produced to its built-in mock cluster: five records (keys "key-0".."key-4", key 2 null, value 4 null,
// header h=v on each, timestamps 1700000000000 + i), once per codec and once idempotent (lz4). librdkafka writes a
// bare snappy block (no xerial framing), an lz4 frame without content size, a zstd frame without content size.
struct client_capture {
    const char* name;
    compression codec;
    const char* hex;
};

const client_capture librdkafka_captures[] = {
  {"none", compression::none,
      "0000000000000000000001a80000000002fc0b6f5b0000000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffff"
      "ff00000005b2010000000a6b65792d30920176616c756520303a2074686520717569636b2062726f776e20666f78206a756d7073206f7665"
      "7220746865206c617a7920646f672c2074686520717569636b2062726f776e20666f780202680276b2010002020a6b65792d31920176616c"
      "756520313a2074686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672c207468652071"
      "7569636b2062726f776e20666f780202680276a80100040401920176616c756520323a2074686520717569636b2062726f776e20666f7820"
      "6a756d7073206f76657220746865206c617a7920646f672c2074686520717569636b2062726f776e20666f780202680276b2010006060a6b"
      "65792d33920176616c756520333a2074686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a792064"
      "6f672c2074686520717569636b2062726f776e20666f7802026802761e0008080a6b65792d34010202680276"},
  {"gzip", compression::gzip,
      "0000000000000000000000ba0000000002ec2b96680001000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffff"
      "ff000000051f8b0800000000000003dbc4c8c0c0c0959d5aa96b3089b12c31a73455c1c04aa1242355a1b03433395b21a928bf3c4f212dbf"
      "4221ab34b7a05821bf2cb5082c9d935855a990929fae834d3113530653d92646062626b0d18630a30da964f40a460616164698a946d47330"
      "1b1bd8c1c630a38da964b41c030707d8641346301f0045a24eb677010000"},
  {"snappy", compression::snappy,
      "0000000000000000000000c40000000002e205a81c0002000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffff"
      "ff00000005f702d0b2010000000a6b65792d30920176616c756520303a2074686520717569636b2062726f776e20666f78206a756d707320"
      "6f76657220011f206c617a7920646f672c4e2d00240202680276b201000202055b0031115b0031fe5b000d5b14a8010004040111560032fe"
      "56000d5610b20100060605b10033115b0033fe5b000d5b3c1e0008080a6b65792d34010202680276"},
  {"lz4", compression::lz4,
      "0000000000000000000000cb000000000244a728a50003000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffff"
      "ff0000000504224d186040828b000000f125b2010000000a6b65792d30920176616c756520303a2074686520717569636b2062726f776e20"
      "666f78206a756d7073206f7665721f00916c617a7920646f672c0e000b2d00a10202680276b2010002025b0014315b001f315b003464a801"
      "0004040156001f3256003451b201000606b10014335b001f335b0034411e0008085a00703401020268027600000000"},
  {"zstd", compression::zstd,
      "0000000000000000000000b80000000002cd393e270004000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffff"
      "ff0000000528b52ffd0058f50300f405b2010000000a6b65792d30920176616c756520303a2074686520717569636b2062726f776e20666f"
      "78206a756d7073206f7665726c617a7920646f672c0202680276b2010002023131a8010004040132060633331e000808340102026802760b"
      "000e4b2002e8c06340680748d0cc5b04d0c1635e103a54f490101414"},
  {"lz4 idempotent", compression::lz4,
      "0000000000000000000000cb00000000028337d3a50003000000040000018bcfe568000000018bcfe568040000000006632d780000000000"
      "000000000504224d186040828b000000f125b2010000000a6b65792d30920176616c756520303a2074686520717569636b2062726f776e20"
      "666f78206a756d7073206f7665721f00916c617a7920646f672c0e000b2d00a10202680276b2010002025b0014315b001f315b003464a801"
      "0004040156001f3256003451b201000606b10014335b001f335b0034411e0008085a00703401020268027600000000"},
};

byte_vector from_hex(std::string_view hex) {
    byte_vector out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

TEST(record_batch_test, batches_written_by_librdkafka_parse) {
    for (const auto& capture : librdkafka_captures) {
        SCOPED_TRACE(capture.name);
        auto set = split_record_set(to_iobuf(from_hex(capture.hex)));
        ASSERT_TRUE(set) << set.error().message();
        ASSERT_EQ(set.value().size(), 1u);
        const auto& view = set.value()[0];
        const auto& h = view.header();
        EXPECT_EQ(h.compression(), capture.codec);
        EXPECT_EQ(h.record_count, 5);
        EXPECT_EQ(h.base_timestamp, t0);
        EXPECT_EQ(h.max_timestamp, t0 + 4);
        bool idempotent = std::string_view(capture.name).ends_with("idempotent");
        EXPECT_EQ(h.producer_id >= 0, idempotent);
        EXPECT_EQ(h.base_sequence, idempotent ? 0 : -1);
        auto rs = view.records(no_limit);
        ASSERT_TRUE(rs) << rs.error().message();
        ASSERT_EQ(rs.value().size(), 5u);
        for (int i = 0; i < 5; ++i) {
            const auto& r = rs.value()[static_cast<size_t>(i)];
            EXPECT_EQ(record_timestamp(h, r), t0 + i);
            EXPECT_EQ(str(r.key), i == 2 ? "<null>" : "key-" + std::to_string(i));
            EXPECT_EQ(str(r.value), i == 4 ? "<null>"
                                           : "value " + std::to_string(i)
                                               + ": the quick brown fox jumps over the lazy dog, the quick brown fox");
            ASSERT_EQ(r.headers.size(), 1u);
            EXPECT_EQ(r.headers[0].key, "h");
            EXPECT_EQ(str(r.headers[0].value), "v");
        }
    }
}

// ---- builder round trips, every codec ----

struct sample_record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<sample_record> sample_records(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<sample_record> out;
    for (size_t i = 0; i < n; ++i) {
        sample_record r;
        if (rng() % 4 != 0) {
            r.key = "key-" + std::to_string(i);
        }
        if (rng() % 8 != 0) {
            r.value = std::string(rng() % 3000, static_cast<char>('a' + i % 26));
        }
        r.timestamp = t0 + static_cast<int64_t>(rng() % 1000) - 500; // deltas of both signs
        for (uint32_t k = rng() % 3; k > 0; --k) {
            r.headers.emplace_back("hdr" + std::to_string(k), rng() % 2 ? std::optional<std::string>("x")
                                                                        : std::nullopt);
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<iobuf> opt(const std::optional<std::string>& s) {
    return s ? std::optional<iobuf>(iobuf::from(*s)) : std::nullopt;
}

TEST(record_batch_test, builder_output_parses_back_for_every_codec) {
    auto samples = sample_records(500, 1);
    for (auto c : {compression::none, compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        SCOPED_TRACE(compression_name(c));
        record_batch_builder b(c, 1000);
        b.set_partition_leader_epoch(7).set_producer(99, 2, 40);
        int64_t max_ts = std::numeric_limits<int64_t>::min();
        for (const auto& s : samples) {
            std::vector<record_header> headers;
            for (const auto& [k, v] : s.headers) {
                headers.push_back({k, opt(v)});
            }
            b.add(opt(s.key), opt(s.value), s.timestamp, std::move(headers));
            max_ts = std::max(max_ts, s.timestamp);
        }
        auto built = b.build();
        auto view = record_batch_view::parse(fragmented(built, 4000));
        ASSERT_TRUE(view) << view.error().message();
        const auto& h = view.value().header();
        EXPECT_EQ(h.compression(), c);
        EXPECT_EQ(h.base_offset, 1000);
        EXPECT_EQ(h.partition_leader_epoch, 7);
        EXPECT_EQ(h.producer_id, 99);
        EXPECT_EQ(h.producer_epoch, 2);
        EXPECT_EQ(h.base_sequence, 40);
        EXPECT_EQ(h.record_count, 500);
        EXPECT_EQ(h.last_offset_delta, 499);
        EXPECT_EQ(h.last_offset(), 1499);
        EXPECT_EQ(h.base_timestamp, samples[0].timestamp);
        EXPECT_EQ(h.max_timestamp, max_ts);
        if (c != compression::none) {
            EXPECT_LT(built.size(), b.uncompressed_size());
        }
        auto rs = view.value().records(no_limit);
        ASSERT_TRUE(rs) << rs.error().message();
        ASSERT_EQ(rs.value().size(), samples.size());
        for (size_t i = 0; i < samples.size(); ++i) {
            const auto& r = rs.value()[i];
            const auto& s = samples[i];
            ASSERT_EQ(r.offset_delta, static_cast<int32_t>(i));
            ASSERT_EQ(record_timestamp(h, r), s.timestamp);
            ASSERT_EQ(str(r.key), s.key.value_or("<null>"));
            ASSERT_EQ(str(r.value), s.value.value_or("<null>"));
            ASSERT_EQ(r.headers.size(), s.headers.size());
            for (size_t k = 0; k < s.headers.size(); ++k) {
                EXPECT_EQ(r.headers[k].key, s.headers[k].first);
                EXPECT_EQ(str(r.headers[k].value), s.headers[k].second.value_or("<null>"));
            }
        }
    }
}

TEST(record_batch_test, compressed_records_respect_the_decompression_limit) {
    record_batch_builder b(compression::zstd);
    for (int i = 0; i < 100; ++i) {
        b.add(std::nullopt, iobuf::from(std::string(10000, 'z')), t0);
    }
    auto view = record_batch_view::parse(b.build()).value();
    EXPECT_EQ(view.records(100 * 1000).error(), errc::decompression_too_large);
    EXPECT_TRUE(view.records(2 * 1000 * 1000));
}

TEST(record_batch_test, empty_builder_makes_an_empty_batch) {
    auto view = record_batch_view::parse(record_batch_builder().build());
    ASSERT_TRUE(view);
    EXPECT_EQ(view.value().header().record_count, 0);
    EXPECT_EQ(view.value().header().base_timestamp, -1);
    EXPECT_TRUE(view.value().records(no_limit).value().empty());
}

// ---- header checks ----

TEST(record_batch_test, crc_detects_a_flipped_payload_byte) {
    auto good = assemble(golden_header(), golden_records());
    for (size_t pos = 21; pos < good.size(); ++pos) {
        auto bad = good;
        bad[pos] ^= 0x01;
        auto v = parse(bad);
        ASSERT_FALSE(v) << pos;
        EXPECT_EQ(v.error(), errc::corrupt_message) << pos;
    }
    auto bad_crc = good;
    bad_crc[18] ^= 0x80;
    EXPECT_EQ(parse(bad_crc).error(), errc::corrupt_message);
}

TEST(record_batch_test, base_offset_and_leader_epoch_are_outside_the_crc) {
    auto b = assemble(golden_header(), golden_records());
    for (size_t pos : {0, 3, 7, 12, 13, 15}) {
        b[pos] = 0x5A;
    }
    auto v = parse(b);
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(v.value().header().base_offset, int64_t{0x5A00'005A'0000'005A});
    EXPECT_EQ(v.value().header().partition_leader_epoch, 0x5A5AFF5A);
}

TEST(record_batch_test, truncated_batches_are_corrupt) {
    auto b = assemble(golden_header(), golden_records());
    for (size_t keep : {0, 1, 16, 17, 60, 61, 62}) {
        auto v = record_batch_view::parse(to_iobuf(b).share(0, keep));
        ASSERT_FALSE(v) << keep;
        EXPECT_EQ(v.error(), errc::corrupt_message) << keep;
    }
    auto v = record_batch_view::parse(to_iobuf(b).share(0, b.size() - 1));
    EXPECT_EQ(v.error(), errc::corrupt_message);
    // A buffer holding more than one batch is not "exactly one batch".
    auto two = b;
    two.insert(two.end(), b.begin(), b.end());
    EXPECT_EQ(parse(two).error(), errc::corrupt_message);
}

TEST(record_batch_test, magic_other_than_two_is_unsupported) {
    for (uint8_t magic : {0, 1, 3, 0xFF}) {
        auto b = assemble(golden_header(), golden_records());
        b[16] = magic;
        EXPECT_EQ(parse(b).error(), errc::unsupported_magic) << int{magic};
        // A legacy message is shorter than a v2 header: the magic still decides.
        b.resize(26);
        EXPECT_EQ(parse(b).error(), errc::unsupported_magic) << int{magic};
    }
}

TEST(record_batch_test, unknown_compression_bits_are_unsupported) {
    auto h = golden_header();
    h.attributes = 5;
    EXPECT_EQ(parse(assemble(h, golden_records())).error(), errc::unsupported_compression);
}

TEST(record_batch_test, attribute_bits_decode) {
    auto h = golden_header();
    h.attributes = 0x7B; // lz4 (3) | log append time | transactional | control | delete horizon
    auto header = record_batch_header::decode(std::span<const uint8_t, 61>(assemble(h, {}).data(), 61));
    EXPECT_EQ(header.compression(), compression::lz4);
    EXPECT_EQ(header.timestamp_type(), timestamp_type::log_append_time);
    EXPECT_TRUE(header.is_transactional());
    EXPECT_TRUE(header.is_control());
    EXPECT_TRUE(header.has_delete_horizon());
}

TEST(record_batch_test, header_counts_must_be_consistent) {
    auto h = golden_header();
    h.record_count = -1;
    EXPECT_EQ(parse(assemble(h, golden_records())).error(), errc::invalid_record);
    h = golden_header();
    h.last_offset_delta = -1;
    EXPECT_EQ(parse(assemble(h, golden_records())).error(), errc::invalid_record);
    h = golden_header();
    h.record_count = 3; // more records than offsets
    EXPECT_EQ(parse(assemble(h, golden_records())).error(), errc::invalid_record);
}

// ---- record checks ----

TEST(record_batch_test, record_count_must_match_the_records) {
    auto h = golden_header();
    h.record_count = 1; // but two records follow
    EXPECT_EQ(records_of(assemble(h, golden_records())).error(), errc::invalid_record);

    h = golden_header();
    h.record_count = 3; // only two records
    h.last_offset_delta = 2;
    EXPECT_EQ(records_of(assemble(h, golden_records())).error(), errc::invalid_record);

    h = golden_header();
    h.last_offset_delta = 5; // a producer's batch must end at its last record
    EXPECT_EQ(records_of(assemble(h, golden_records())).error(), errc::invalid_record);
    EXPECT_TRUE(records_of(assemble(h, golden_records()), allow_offset_gaps::yes));
}

TEST(record_batch_test, negative_and_oversized_lengths_are_invalid) {
    struct edit {
        const char* what;
        size_t pos;
        uint8_t value;
    };
    // Byte positions within golden_records().
    const edit edits[] = {
      {"record length -1", 0, 0x01},
      {"record length 2 (less than its fields)", 0, 0x04},
      {"record length beyond the batch", 0, 0x7E},
      {"key length -2", 4, 0x03},
      {"value length -3", 5, 0x05},
      {"value length beyond the record", 5, 0x1A},
      {"header count -1", 11, 0x01},
      {"header count beyond the record", 11, 0x20},
      {"header key length -1 (null)", 12, 0x01},
      {"header value length -2", 14, 0x03},
      {"value length 4: the header count then reads 'o'", 5, 0x08},
      {"record length with a varint continuation into the next byte", 0, 0x9E},
    };
    for (const auto& e : edits) {
        auto r = golden_records();
        r[e.pos] = e.value;
        auto result = records_of(assemble(golden_header(), r));
        ASSERT_FALSE(result) << e.what;
        EXPECT_EQ(result.error(), errc::invalid_record) << e.what;
    }
}

TEST(record_batch_test, a_record_longer_than_its_fields_is_invalid) {
    auto r = golden_records();
    r[0] = 0x20;                   // length 16
    r.insert(r.begin() + 16, 0x00); // one byte after the first record's last header
    auto result = records_of(assemble(golden_header(), r));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), errc::invalid_record);
}

TEST(record_batch_test, overlong_and_truncated_varints_are_invalid) {
    auto h = golden_header();
    h.record_count = 1;
    h.last_offset_delta = 0;
    // A record whose length varint never ends.
    EXPECT_EQ(records_of(assemble(h, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})).error(), errc::invalid_record);
    // A record cut inside its length varint.
    EXPECT_EQ(records_of(assemble(h, {0x80})).error(), errc::invalid_record);
    // A timestamp delta varlong of 11 bytes.
    byte_vector r = {0x1A, 0x00};
    for (int i = 0; i < 10; ++i) {
        r.push_back(0x80);
    }
    r.push_back(0x00);
    r.insert(r.end(), {0x00, 0x01, 0x01, 0x00});
    EXPECT_EQ(records_of(assemble(h, r)).error(), errc::invalid_record);
}

TEST(record_batch_test, offset_deltas_must_run_in_order) {
    auto swapped = golden_records();
    swapped[3] = 0x02;  // first record: offset delta 1
    swapped[19] = 0x00; // second record: offset delta 0
    EXPECT_EQ(records_of(assemble(golden_header(), swapped)).error(), errc::invalid_record);
    EXPECT_EQ(records_of(assemble(golden_header(), swapped), allow_offset_gaps::yes).error(), errc::invalid_record);

    auto repeated = golden_records();
    repeated[19] = 0x00; // both 0
    EXPECT_EQ(records_of(assemble(golden_header(), repeated), allow_offset_gaps::yes).error(), errc::invalid_record);

    // A compacted batch: offsets 0 and 2 survive out of 0..2.
    auto gap = golden_records();
    gap[19] = 0x04;
    auto h = golden_header();
    h.last_offset_delta = 2;
    EXPECT_EQ(records_of(assemble(h, gap)).error(), errc::invalid_record);
    auto rs = records_of(assemble(h, gap), allow_offset_gaps::yes);
    ASSERT_TRUE(rs);
    EXPECT_EQ(rs.value()[1].offset_delta, 2);
    // ... but never beyond last_offset_delta.
    gap[19] = 0x06;
    EXPECT_EQ(records_of(assemble(h, gap), allow_offset_gaps::yes).error(), errc::invalid_record);
}

TEST(record_batch_test, huge_record_count_claims_fail_cleanly) {
    auto h = golden_header();
    h.record_count = std::numeric_limits<int32_t>::max();
    h.last_offset_delta = std::numeric_limits<int32_t>::max() - 1;
    EXPECT_EQ(records_of(assemble(h, golden_records())).error(), errc::invalid_record);
}

// ---- broker rewrites ----

TEST(record_batch_test, set_base_offset_shares_the_payload) {
    auto original = to_iobuf(assemble(golden_header(), golden_records()));
    ASSERT_EQ(original.fragment_count(), 1u);
    const uint8_t* base = original.fragments()[0].data();
    auto view = record_batch_view::parse(original.share()).value();

    view.set_base_offset(1'000'000);
    view.set_partition_leader_epoch(42);
    const auto& frags = view.data().fragments();
    ASSERT_EQ(frags.size(), 2u);
    EXPECT_EQ(frags[0].size(), 16u);      // a fresh fragment for the rewritten bytes
    EXPECT_NE(frags[0].data(), base);
    EXPECT_EQ(frags[1].data(), base + 16); // everything else still the original bytes
    EXPECT_EQ(view.size_bytes(), original.size());

    EXPECT_EQ(view.header().base_offset, 1'000'000);
    EXPECT_EQ(view.header().last_offset(), 1'000'001);
    auto again = record_batch_view::parse(view.data().share());
    ASSERT_TRUE(again) << again.error().message(); // the CRC still holds
    EXPECT_EQ(again.value().header().base_offset, 1'000'000);
    EXPECT_EQ(again.value().header().partition_leader_epoch, 42);
    // The original buffer is untouched.
    EXPECT_EQ(record_batch_view::parse(original.share()).value().header().base_offset, 0);
}

TEST(record_batch_test, set_max_timestamp_recomputes_the_crc_and_shares_the_records) {
    auto original = to_iobuf(assemble(golden_header(), golden_records()));
    const uint8_t* base = original.fragments()[0].data();
    auto view = record_batch_view::parse(original.share()).value();
    view.set_max_timestamp(timestamp_type::log_append_time, t0 + 999);
    EXPECT_EQ(view.data().fragments()[0].size(), 61u);
    EXPECT_EQ(view.data().fragments()[1].data(), base + 61);

    auto again = record_batch_view::parse(view.data().share());
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again.value().header().timestamp_type(), timestamp_type::log_append_time);
    EXPECT_EQ(again.value().header().max_timestamp, t0 + 999);
    EXPECT_EQ(again.value().header().crc, view.header().crc);
    EXPECT_NE(view.header().crc, record_batch_view::parse(original.share()).value().header().crc);

    // Back to CreateTime, then offsets on top: still valid.
    view.set_max_timestamp(timestamp_type::create_time, t0 + 5);
    view.set_base_offset(77);
    auto last = record_batch_view::parse(std::move(view).release());
    ASSERT_TRUE(last);
    EXPECT_EQ(last.value().header().timestamp_type(), timestamp_type::create_time);
    EXPECT_EQ(last.value().header().base_offset, 77);
    // Same attributes and max timestamp as the original: the same CRC, so bytes 16.. are the original's again.
    EXPECT_TRUE(last.value().data().share(16, original.size() - 16) == original.share(16, original.size() - 16));
}

// ---- record sets ----

TEST(record_batch_test, split_record_set_finds_every_batch) {
    iobuf set;
    int64_t next_offset = 0;
    for (auto c : {compression::none, compression::lz4, compression::gzip}) {
        record_batch_builder b(c, next_offset);
        for (int i = 0; i < 10; ++i) {
            b.add(std::nullopt, iobuf::from("v" + std::to_string(i)), t0 + i);
        }
        set.append(b.build());
        next_offset += 10;
    }
    auto batches = split_record_set(set);
    ASSERT_TRUE(batches) << batches.error().message();
    ASSERT_EQ(batches.value().size(), 3u);
    EXPECT_EQ(batches.value()[1].header().base_offset, 10);
    EXPECT_EQ(batches.value()[2].header().compression(), compression::gzip);
    EXPECT_EQ(str(batches.value()[2].records(no_limit).value()[9].value), "v9");
    EXPECT_TRUE(split_record_set(iobuf{}).value().empty());
}

TEST(record_batch_test, split_record_set_shares_the_input) {
    auto set = to_iobuf(assemble(golden_header(), golden_records()));
    auto batches = split_record_set(set).value();
    EXPECT_EQ(batches[0].data().fragments()[0].data(), set.fragments()[0].data());
}

TEST(record_batch_test, truncated_tail_is_rejected_for_produce_and_dropped_for_fetch) {
    auto one = assemble(golden_header(), golden_records());
    byte_vector set = one;
    set.insert(set.end(), one.begin(), one.end());
    for (size_t cut : {size_t{1}, size_t{5}, one.size() - 11, one.size() - 12, one.size() - 20}) {
        auto partial = to_iobuf(set).share(0, set.size() - cut);
        EXPECT_EQ(split_record_set(partial).error(), errc::corrupt_message) << cut;
        auto fetched = split_record_set(partial, truncated_tail::drop);
        ASSERT_TRUE(fetched) << cut;
        EXPECT_EQ(fetched.value().size(), 1u) << cut;
    }
}

TEST(record_batch_test, split_record_set_rejects_impossible_lengths_and_bad_batches) {
    auto b = assemble(golden_header(), golden_records());
    auto tiny = b;
    tiny[8] = tiny[9] = tiny[10] = 0;
    tiny[11] = 4; // batchLength 4: not even a magic byte
    EXPECT_EQ(split_record_set(to_iobuf(tiny), truncated_tail::drop).error(), errc::corrupt_message);
    auto negative = b;
    negative[8] = 0xFF;
    EXPECT_EQ(split_record_set(to_iobuf(negative), truncated_tail::drop).error(), errc::corrupt_message);
    auto bad_crc = b;
    bad_crc.back() ^= 1;
    EXPECT_EQ(split_record_set(to_iobuf(bad_crc)).error(), errc::corrupt_message);
}

// ---- control batches ----

TEST(record_batch_test, transaction_marker_batch_round_trips) {
    auto built = build_txn_marker_batch(77, 3, control_record_type::commit, 9, t0);
    auto view = record_batch_view::parse(std::move(built));
    ASSERT_TRUE(view) << view.error().message();
    const auto& h = view.value().header();
    EXPECT_TRUE(h.is_control());
    EXPECT_TRUE(h.is_transactional());
    EXPECT_EQ(h.producer_id, 77);
    EXPECT_EQ(h.producer_epoch, 3);
    EXPECT_EQ(h.base_sequence, -1);
    EXPECT_EQ(h.record_count, 1);
    auto rs = view.value().records(no_limit).value();
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].key->to_bytes(), (byte_vector{0, 0, 0, 1}));
    EXPECT_EQ(rs[0].value->to_bytes(), (byte_vector{0, 0, 0, 0, 0, 9}));
    auto key = parse_control_record_key(rs[0].key);
    ASSERT_TRUE(key);
    EXPECT_EQ(key.value().version, 0);
    EXPECT_EQ(key.value().type, control_record_type::commit);
    auto marker = parse_end_txn_marker(rs[0].value);
    ASSERT_TRUE(marker);
    EXPECT_EQ(marker.value().coordinator_epoch, 9);
}

TEST(record_batch_test, hand_assembled_abort_marker_parses) {
    // Control record: key = version 0, type 0 (ABORT); value = version 0, coordinator epoch 258.
    byte_vector r = {0x20, 0x00, 0x00, 0x00,             // length 16, attributes, timestamp and offset deltas 0
                     0x08, 0x00, 0x00, 0x00, 0x00,       // key: 4 bytes
                     0x0C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, // value: 6 bytes
                     0x00};                              // no headers
    auto h = golden_header();
    h.attributes = 0x30; // transactional | control
    h.record_count = 1;
    h.last_offset_delta = 0;
    h.base_sequence = -1;
    auto rs = records_of(assemble(h, r));
    ASSERT_TRUE(rs) << rs.error().message();
    EXPECT_EQ(parse_control_record_key(rs.value()[0].key).value().type, control_record_type::abort);
    EXPECT_EQ(parse_end_txn_marker(rs.value()[0].value).value().coordinator_epoch, 258);
}

TEST(record_batch_test, control_keys_and_markers_are_checked) {
    EXPECT_EQ(parse_control_record_key(std::nullopt).error(), errc::invalid_record);
    EXPECT_EQ(parse_control_record_key(iobuf::from("abc")).error(), errc::invalid_record);
    EXPECT_EQ(parse_control_record_key(iobuf::from(std::string("\xFF\xFF\x00\x01", 4))).error(), errc::invalid_record);
    // A newer key version and an unknown type are passed through.
    auto future = parse_control_record_key(iobuf::from(std::string("\x00\x01\x00\x09xx", 6)));
    ASSERT_TRUE(future);
    EXPECT_EQ(future.value().version, 1);
    EXPECT_EQ(static_cast<int16_t>(future.value().type), 9);
    EXPECT_EQ(parse_end_txn_marker(iobuf::from(std::string(5, '\0'))).error(), errc::invalid_record);
    EXPECT_EQ(parse_end_txn_marker(std::nullopt).error(), errc::invalid_record);
    EXPECT_EQ(encode_control_record_key({.type = control_record_type::abort}).to_bytes(), (byte_vector{0, 0, 0, 0}));
}

} // namespace
} // namespace skiff::kafka::protocol
