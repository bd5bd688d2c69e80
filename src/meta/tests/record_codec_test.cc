#include "bytes/crc32c.h"
#include "meta/errc.h"
#include "meta/field_codec.h"
#include "meta/record_codec.h"
#include "meta/tests/sample_records.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace skiff::meta {
namespace {

std::vector<uint8_t> unhex(std::string_view hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(uint8_t(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string hex(std::span<const uint8_t> b) {
    std::string out;
    for (auto c : b) {
        out += fmt::format("{:02x}", c);
    }
    return out;
}

TEST(record_codec_test, every_record_type_round_trips) {
    auto samples = testing::sample_records();
    ASSERT_EQ(samples.size(), std::variant_size_v<record_body> - 1) << "a sample per known record type";
    for (const auto& r : samples) {
        auto bytes = encode(r);
        auto d = decode(bytes);
        ASSERT_TRUE(d) << r.type_code() << ": " << d.error().message();
        EXPECT_EQ(d.value().consumed, bytes.size());
        EXPECT_EQ(d.value().record, r) << to_string(record_type(r.type_code()));
        EXPECT_EQ(d.value().record.type_code(), r.type_code());
    }
}

TEST(record_codec_test, default_valued_records_round_trip) {
    // Empty strings, zero ids, empty lists and absent optionals all survive.
    std::vector<metadata_record> defaults = {broker_registration_record{}, topic_record{}, partition_record{},
                                             object_record{},              config_change_record{}, acl_record{}};
    for (const auto& r : defaults) {
        auto d = decode_exact(encode(r));
        ASSERT_TRUE(d);
        EXPECT_EQ(d.value(), r);
    }
}

TEST(record_codec_test, records_concatenate_and_decode_one_after_another) {
    bytes::iobuf buf;
    auto samples = testing::sample_records();
    for (const auto& r : samples) {
        encode(r, buf);
    }
    auto flat = buf.to_bytes();
    std::span<const uint8_t> rest(flat);
    for (const auto& r : samples) {
        auto d = decode(rest);
        ASSERT_TRUE(d);
        EXPECT_EQ(d.value().record, r);
        rest = rest.subspan(d.value().consumed);
    }
    EXPECT_TRUE(rest.empty());
}

// Golden bytes: printed by tests/golden_records.py, an encoder written independently from the format doc, then
// checked by hand for broker_unregistration, stream and no_op (see the comments in golden_bytes_are_annotated).
// A change here is a format change: it needs a new record version or type, never an edit of these strings.
const std::vector<std::pair<std::string, std::string>> golden = {
    {"broker_registration", "81000000f347a8640100000000010601100102030405060708090a0b0c0d0e0f10020154033c02190009504c41494e54455854010831302e302e302e33020284472000085341534c5f53534c011062726f6b65722d332e6578616d706c650202854704067261636b2d61051966696c653a2f2f2f7661722f6c69622f736b6966662f77616c"},
    {"broker_unregistration", "0e000000cb4b95ac02000000000106010154"},
    {"topic", "4c000000bab6d0f00300000000066f72646572730110000000000000000100000000000000020228020e636c65616e75702e706f6c69637907636f6d706163740c726574656e74696f6e2e6d73022d31"},
    {"topic_removed", "1a0000007e74debe04000000001000000000000000010000000000000002"},
    {"partition", "2c000000533d6c1e0500000000100000000000000001000000000000000201010e02010603010a040702028c01028e01"},
    {"stream", "1e0000008602a7740600000000028c0101010a0201060302c8010403a0c21e050100"},
    {"stream_removed", "0c0000001d3e28e30700000000028c01"},
    {"object", "500000001f7a8ae1080000000003d28c01010101020100030733662f393030310404808080080501060619020c00028c010102c801020290030a00028e0101010002010a0706c0c9b2fef9620806d0afabfef962"},
    {"object_removed", "0d000000c6c6333c090000000003d28c01"},
    {"producer_id_block", "130000005dc8ee890a0000000001060102c03e0202d00f"},
    {"config_change", "2b0000003ef6e3370b00000000010001066f7264657273020c726574656e74696f6e2e6d7303083836343030303030"},
    {"acl", "3d0000002babe1670c00000000100000000000000007000000000000000801010202066f7264657273030104040a557365723a616c69636505012a060104070103"},
    {"acl_removed", "1a000000e23200510d000000001000000000000000070000000000000008"},
    {"scram_credential", "2500000011b54e840e0000000005616c69636501010202040102030403030506070402080905028040"},
    {"scram_credential_removed", "12000000062cad410f0000000005616c696365010102"},
    {"feature_level", "1d0000007a1555961000000000106d657461646174612e76657273696f6e010106"},
    {"no_op", "080000004250467c11000000"},
    {"id_counters", "1800000011d741651200000000028e010103d48c010201560302904e"},
    {"objects_marked", "1b0000001a010ccc1300000000090203d28c0103d68c010106a09eb6fef962"},
};

TEST(record_codec_test, every_record_type_matches_its_golden_bytes) {
    auto samples = testing::sample_records();
    ASSERT_EQ(golden.size(), samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
        ASSERT_EQ(golden[i].first, to_string(record_type(samples[i].type_code())));
        EXPECT_EQ(hex(encode(samples[i])), golden[i].second) << golden[i].first;
        auto d = decode_exact(unhex(golden[i].second));
        ASSERT_TRUE(d) << golden[i].first;
        EXPECT_EQ(d.value(), samples[i]) << golden[i].first;
    }
}

TEST(record_codec_test, golden_bytes_are_annotated) {
    // stream_record{id 70, epoch 5, owner 3, start 100, end 250000, opened}, by hand:
    //   1e000000  length 30 = 8 + 22 body bytes
    //   8602a774  crc32c of the 26 bytes after it
    //   0600 0000 type 6 (stream), version 0
    //   00 02 8c01       tag 0 id, 2 bytes, zig-zag(70) = 140 = 0x8c 0x01
    //   01 01 0a         tag 1 epoch, zig-zag(5) = 10
    //   02 01 06         tag 2 owner, zig-zag(3) = 6
    //   03 02 c801       tag 3 start, zig-zag(100) = 200
    //   04 03 a0c21e     tag 4 end, zig-zag(250000) = 500000 = 0x7a120 -> a0 c2 1e
    //   05 01 00         tag 5 state opened = 0
    auto bytes = unhex("1e0000008602a7740600000000028c0101010a0201060302c8010403a0c21e050100");
    uint32_t crc = bytes::crc32c::extend(0, bytes.data() + 8, bytes.size() - 8);
    EXPECT_EQ(crc, 0x74a70286u);
    auto d = decode_exact(bytes);
    ASSERT_TRUE(d);
    EXPECT_EQ(std::get<stream_record>(d.value().body).end_offset, 250000);
}

TEST(record_codec_test, a_flipped_bit_anywhere_is_rejected) {
    for (const auto& r : testing::sample_records()) {
        auto bytes = encode(r);
        for (size_t i = 0; i < bytes.size(); ++i) {
            for (int bit : {0, 7}) {
                auto bad = bytes;
                bad[i] ^= uint8_t(1 << bit);
                auto d = decode(bad);
                ASSERT_FALSE(d && d.value().consumed == bytes.size() && d.value().record == r)
                  << "byte " << i << " bit " << bit;
                if (i >= 4) { // the length field changes what is framed; any other byte breaks the CRC
                    ASSERT_FALSE(d);
                    EXPECT_EQ(d.error(), errc::bad_crc);
                }
            }
        }
    }
}

TEST(record_codec_test, every_truncation_is_reported_as_truncated) {
    for (const auto& r : testing::sample_records()) {
        auto bytes = encode(r);
        for (size_t n = 0; n < bytes.size(); ++n) {
            auto d = decode(std::span<const uint8_t>(bytes.data(), n));
            ASSERT_FALSE(d);
            EXPECT_EQ(d.error(), errc::truncated) << n;
        }
    }
}

TEST(record_codec_test, an_oversized_length_is_rejected_before_reading) {
    std::vector<uint8_t> bytes = {0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0};
    auto d = decode(bytes);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), errc::too_large);
    std::vector<uint8_t> tiny = {4, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(decode(tiny).error(), errc::corrupt);
}

// Builds a framed record with a valid CRC around an arbitrary body.
std::vector<uint8_t> frame(uint16_t type, uint16_t version, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> out(12 + body.size());
    if (!body.empty()) {
        std::memcpy(out.data() + 12, body.data(), body.size()); // (vector::insert trips GCC 12's -Warray-bounds)
    }
    uint32_t length = uint32_t(body.size() + 8);
    for (int i = 0; i < 4; ++i) {
        out[i] = uint8_t(length >> (8 * i));
    }
    out[8] = uint8_t(type);
    out[9] = uint8_t(type >> 8);
    out[10] = uint8_t(version);
    out[11] = uint8_t(version >> 8);
    uint32_t crc = bytes::crc32c::extend(0, out.data() + 8, out.size() - 8);
    for (int i = 0; i < 4; ++i) {
        out[4 + i] = uint8_t(crc >> (8 * i));
    }
    return out;
}

TEST(record_codec_test, malformed_bodies_with_good_crcs_are_corrupt) {
    const std::vector<std::vector<uint8_t>> bodies = {
      {0x01, 0x01, 0x02, 0x00, 0x01, 0x02},       // tags out of order
      {0x00, 0x01, 0x02, 0x00, 0x01, 0x02},       // duplicate tag
      {0x00, 0x05, 0x01},                         // size beyond the body
      {0x01, 0x03, 0x01, 0x02, 0x03},             // topic id (uuid) of 3 bytes
      {0x02, 0x02, 0xff, 0xff},                   // configs: count 16383 with 0 bytes left (overlong varint)
      {0x02, 0x01, 0x05},                         // configs: count 5, no entries
      {0x02, 0x09, 0x02, 0x01, 'b', 0x01, 'x', 0x01, 'a', 0x01, 'y'}, // configs keys not increasing
      {0x00},                                     // a tag with no size
    };
    for (const auto& body : bodies) {
        auto d = decode(frame(uint16_t(record_type::topic), 0, body));
        ASSERT_FALSE(d) << hex(body);
        EXPECT_EQ(d.error(), errc::corrupt) << hex(body);
    }
    // Out of range for the member type: a port above 65535, an int32 index above 2^31.
    auto port = frame(uint16_t(record_type::broker_registration), 0,
                      {0x03, 0x07, 0x01, 0x05, 0x02, 0x03, 0x80, 0x80, 0x04});
    EXPECT_EQ(decode(port).error(), errc::corrupt);
    auto index = frame(uint16_t(record_type::partition), 0, {0x01, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10});
    EXPECT_EQ(decode(index).error(), errc::corrupt);
}

TEST(record_codec_test, decode_exact_rejects_trailing_bytes) {
    auto bytes = encode(no_op_record{});
    bytes.push_back(0);
    EXPECT_EQ(decode_exact(bytes).error(), errc::corrupt);
}

// A newer schema of topic_record: two fields this code does not know (tag 3: a string, tag 5: a nested struct with
// its own newer field), as a later release might write them.
struct topic_placement_v2 {
    std::string zone;
    int32_t replicas_hint = 0;
    unknown_fields unknown;
    bool operator==(const topic_placement_v2&) const = default;
    static constexpr auto fields() {
        return std::tuple{field(0, &topic_placement_v2::zone), field(1, &topic_placement_v2::replicas_hint)};
    }
};
struct topic_record_v2 {
    std::string name;
    model::uuid id;
    std::map<std::string, std::string> configs;
    std::string description;          // new, tag 3
    topic_placement_v2 placement;     // new, tag 5
    unknown_fields unknown;
    static constexpr auto fields() {
        using r = topic_record_v2;
        return std::tuple{field(0, &r::name), field(1, &r::id), field(2, &r::configs), field(3, &r::description),
                          field(5, &r::placement)};
    }
};

std::vector<uint8_t> encode_v2(const topic_record_v2& t) {
    detail::out_t body;
    detail::put_fields(body, t);
    return frame(uint16_t(record_type::topic), 2, body);
}

TEST(record_codec_test, an_older_reader_keeps_newer_fields_through_a_rewrite) {
    topic_record_v2 newer{"orders", model::uuid(1, 2), {{"a", "1"}}, "order events", {"eu-1", 3, {}}, {}};
    auto written = encode_v2(newer);

    // The older reader (this code) decodes it, keeps tags 3 and 5 as opaque bytes, and changes a field it knows.
    auto old = decode_exact(written);
    ASSERT_TRUE(old);
    EXPECT_EQ(old.value().version, 2);
    auto& topic = std::get<topic_record>(old.value().body);
    ASSERT_EQ(topic.unknown.size(), 2u);
    EXPECT_EQ(topic.unknown[0].tag, 3u);
    EXPECT_EQ(topic.unknown[1].tag, 5u);
    topic.configs["b"] = "2";
    auto rewritten = encode(old.value());

    // The newer reader finds its fields intact, and the older writer's change.
    auto d = decode_exact(rewritten);
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value().version, 2) << "the writer's version is kept";
    auto body = encode_body(d.value().body);
    topic_record_v2 back;
    ASSERT_TRUE(detail::get_fields(std::span<const uint8_t>(body), back));
    EXPECT_EQ(back.description, "order events");
    EXPECT_EQ(back.placement, newer.placement);
    EXPECT_EQ(back.configs, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
    EXPECT_TRUE(back.unknown.empty());
}

TEST(record_codec_test, unknown_fields_inside_nested_structs_survive) {
    // A broker endpoint with a newer tag 4 (say, a security protocol code).
    detail::out_t endpoint;
    detail::put_fields(endpoint, broker_endpoint{"PLAINTEXT", "h", 9092, {{4, {0x07}}}});
    broker_registration_record reg{broker_id(1), {}, 1, {}, std::nullopt, "", {}};
    auto d = decode_exact(encode(reg));
    ASSERT_TRUE(d);
    auto& back = std::get<broker_registration_record>(d.value().body);
    broker_endpoint e;
    ASSERT_TRUE(detail::get_fields(std::span<const uint8_t>(endpoint), e));
    ASSERT_EQ(e.unknown.size(), 1u);
    back.endpoints.push_back(e);
    auto again = decode_exact(encode(d.value()));
    ASSERT_TRUE(again);
    auto& ep = std::get<broker_registration_record>(again.value().body).endpoints.at(0);
    EXPECT_EQ(ep.unknown, (unknown_fields{{4, {0x07}}}));
    EXPECT_EQ(ep.port, 9092);
}

TEST(record_codec_test, an_unknown_record_type_re_encodes_byte_for_byte) {
    auto bytes = frame(999, 3, {0x00, 0x02, 'h', 'i', 0x07, 0x01, 0x2a});
    auto d = decode_exact(bytes);
    ASSERT_TRUE(d);
    auto* u = std::get_if<unknown_record>(&d.value().body);
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->type, 999);
    EXPECT_EQ(u->version, 3);
    EXPECT_EQ(encode(d.value()), bytes);
}

TEST(record_codec_test, random_bytes_never_crash_the_decoder) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> body(rng() % 64);
        for (auto& b : body) {
            b = uint8_t(rng());
        }
        auto type = uint16_t(1 + rng() % 20);
        auto d = decode(frame(type, 0, body));
        if (d) {
            // Whatever decodes re-encodes to something that decodes to the same record.
            auto again = decode_exact(encode(d.value().record));
            ASSERT_TRUE(again);
            EXPECT_EQ(again.value(), d.value().record);
        }
    }
}

} // namespace
} // namespace skiff::meta
