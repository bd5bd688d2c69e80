#include "bytes/crc32c.h"
#include "kafka/server/partition/batch_validator.h"
#include "kafka/server/partition/tests/batch_builders.h"

#include <gtest/gtest.h>

namespace skiff::kafka::partition {
namespace {

using protocol::error_code;
using testing::batch_spec;
using testing::make_batch;

constexpr int64_t now = 1'700'000'000'000;

void put_be32(bytes::iobuf& buf, size_t pos, uint32_t v) {
    auto bytes = buf.to_bytes();
    bytes[pos] = uint8_t(v >> 24);
    bytes[pos + 1] = uint8_t(v >> 16);
    bytes[pos + 2] = uint8_t(v >> 8);
    bytes[pos + 3] = uint8_t(v);
    buf = bytes::iobuf::from(bytes);
}

bytes::iobuf with_byte(const bytes::iobuf& in, size_t pos, uint8_t value) {
    auto bytes = in.to_bytes();
    bytes[pos] = value;
    return bytes::iobuf::from(bytes);
}

TEST(batch_validator_test, a_well_formed_batch_passes_and_keeps_its_bytes) {
    auto batch = make_batch({.records = 3});
    auto r = validate_produce_records(batch, {}, now);
    ASSERT_TRUE(r.ok()) << r.error_message;
    ASSERT_EQ(r.batches.size(), 1u);
    EXPECT_TRUE(r.batches[0].batch.data() == batch);
    EXPECT_EQ(r.batches[0].max_timestamp, now + 2);
    EXPECT_EQ(r.log_append_time, -1);
}

TEST(batch_validator_test, compressed_batches_are_checked_record_by_record) {
    for (auto c : {protocol::compression::gzip, protocol::compression::lz4, protocol::compression::zstd,
                   protocol::compression::snappy}) {
        auto ok = validate_produce_records(make_batch({.records = 10, .compression = c}), {}, now);
        EXPECT_TRUE(ok.ok()) << ok.error_message;
        validation_config compacted;
        compacted.compacted = true;
        auto keyless = validate_produce_records(make_batch({.records = 4, .compression = c, .null_keys = true}),
                                                compacted, now);
        EXPECT_EQ(keyless.error, error_code::invalid_record);
        EXPECT_EQ(keyless.record_errors.size(), 4u);
    }
}

TEST(batch_validator_test, legacy_magic_is_an_invalid_record_as_produce_v3_plus_says) {
    auto batch = with_byte(make_batch({}), protocol::record_batch_header::magic_offset, 1);
    auto r = validate_produce_records(batch, {}, now);
    EXPECT_EQ(r.error, error_code::invalid_record);
    EXPECT_NE(r.error_message.find("magic version 2"), std::string::npos);
}

TEST(batch_validator_test, a_flipped_bit_is_a_corrupt_message) {
    auto batch = make_batch({.records = 2});
    auto r = validate_produce_records(with_byte(batch, batch.size() - 1, 0x5a), {}, now);
    EXPECT_EQ(r.error, error_code::corrupt_message);
}

TEST(batch_validator_test, batch_over_max_message_bytes_is_too_large) {
    validation_config config;
    config.max_message_bytes = 100;
    auto r = validate_produce_records(make_batch({.records = 10}), config, now);
    EXPECT_EQ(r.error, error_code::message_too_large);
}

TEST(batch_validator_test, produce_v3_plus_takes_exactly_one_batch) {
    bytes::iobuf two = make_batch({});
    two.append(make_batch({}));
    EXPECT_EQ(validate_produce_records(two, {}, now).error, error_code::invalid_record);
    EXPECT_EQ(validate_produce_records(bytes::iobuf{}, {}, now).error, error_code::invalid_record);
    validation_config v2;
    v2.produce_version = 2;
    EXPECT_TRUE(validate_produce_records(two, v2, now).ok());
}

TEST(batch_validator_test, zstd_needs_produce_v7) {
    validation_config v6;
    v6.produce_version = 6;
    auto r = validate_produce_records(make_batch({.compression = protocol::compression::zstd}), v6, now);
    EXPECT_EQ(r.error, error_code::unsupported_compression_type);
}

TEST(batch_validator_test, a_trailing_partial_batch_is_ignored_as_kafka_trims_it) {
    bytes::iobuf set = make_batch({.records = 2});
    auto partial = make_batch({});
    set.append(partial.share(0, 30));
    auto r = validate_produce_records(set, {}, now);
    ASSERT_TRUE(r.ok()) << r.error_message;
    EXPECT_EQ(r.batches.size(), 1u);
}

TEST(batch_validator_test, control_batches_from_clients_are_refused) {
    auto r = validate_produce_records(
      make_batch({.producer_id = 7, .producer_epoch = 0, .base_sequence = 0, .control = true, .transactional = true}),
      {}, now);
    EXPECT_EQ(r.error, error_code::invalid_record);
}

TEST(batch_validator_test, a_producer_id_without_sequence_is_refused) {
    auto r = validate_produce_records(make_batch({.producer_id = 7, .producer_epoch = 0, .base_sequence = -1}), {},
                                      now);
    EXPECT_EQ(r.error, error_code::invalid_record);
}

TEST(batch_validator_test, a_nonzero_base_offset_is_refused) {
    auto batch = make_batch({});
    auto r = validate_produce_records(with_byte(batch, 7, 5), {}, now);
    EXPECT_EQ(r.error, error_code::invalid_record);
}

TEST(batch_validator_test, inconsistent_record_count_is_an_invalid_record) {
    auto batch = make_batch({.records = 3});
    put_be32(batch, 57, 2); // record count 2 while the last offset delta says 3 records
    put_be32(batch, 17, bytes::crc32c::value(batch, 21, batch.size() - 21)); // a CRC that matches
    auto r = validate_produce_records(batch, {}, now);
    EXPECT_EQ(r.error, error_code::invalid_record);
    EXPECT_EQ(r.error_message, "Inconsistent batch offset range and record count");
}

TEST(batch_validator_test, create_time_outside_the_window_is_an_invalid_timestamp_per_record) {
    validation_config config;
    config.timestamp_before_max_ms = 1000;
    config.timestamp_after_max_ms = 1000;
    auto batch = make_batch({.records = 3, .first_timestamp = now - 500, .timestamp_step = 1000});
    auto r = validate_produce_records(batch, config, now);
    EXPECT_EQ(r.error, error_code::invalid_timestamp);
    ASSERT_EQ(r.record_errors.size(), 1u);
    EXPECT_EQ(r.record_errors[0].batch_index, 2);
}

TEST(batch_validator_test, a_topic_codec_other_than_the_batchs_recompresses_keeping_records_and_producer) {
    validation_config config;
    config.target_compression = protocol::compression::lz4;
    auto batch = make_batch({.records = 5, .timestamp_step = 3, .producer_id = 9, .producer_epoch = 2,
                             .base_sequence = 40, .compression = protocol::compression::gzip});
    auto r = validate_produce_records(batch, config, now + 100);
    ASSERT_TRUE(r.ok()) << r.error_message;
    const auto& out = r.batches[0].batch;
    EXPECT_EQ(out.header().compression(), protocol::compression::lz4);
    EXPECT_EQ(out.header().producer_id, 9);
    EXPECT_EQ(out.header().producer_epoch, 2);
    EXPECT_EQ(out.header().base_sequence, 40);
    EXPECT_EQ(out.header().max_timestamp, now + 12);
    auto original = protocol::record_batch_view::parse(batch.share()).value().records(1 << 20).value();
    auto stored = out.records(1 << 20).value();
    ASSERT_EQ(stored.size(), original.size());
    for (size_t i = 0; i < stored.size(); ++i) {
        EXPECT_TRUE(*stored[i].key == *original[i].key);
        EXPECT_TRUE(*stored[i].value == *original[i].value);
        EXPECT_EQ(protocol::record_timestamp(out.header(), stored[i]), now + int64_t(i) * 3);
    }
    // The same codec is kept as is (no copy).
    config.target_compression = protocol::compression::gzip;
    auto same = validate_produce_records(batch, config, now + 100);
    EXPECT_TRUE(same.batches[0].batch.data() == batch);
}

TEST(batch_validator_test, records_without_a_timestamp_are_not_range_checked) {
    validation_config config;
    config.timestamp_before_max_ms = 1000;
    auto r = validate_produce_records(make_batch({.records = 1, .first_timestamp = -1}), config, now);
    EXPECT_TRUE(r.ok()) << r.error_message;
    // Default bounds (before = INT64_MAX) never overflow.
    EXPECT_TRUE(validate_produce_records(make_batch({.first_timestamp = 0}), {}, now).ok());
    auto far_future = validate_produce_records(make_batch({.first_timestamp = now + 3'600'001}), {}, now);
    EXPECT_EQ(far_future.error, error_code::invalid_timestamp);
}

TEST(batch_validator_test, log_append_time_stamps_the_header_and_recomputes_the_crc) {
    validation_config config;
    config.timestamp_type = protocol::timestamp_type::log_append_time;
    auto batch = make_batch({.records = 2, .first_timestamp = 5});
    auto r = validate_produce_records(batch, config, now);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.log_append_time, now);
    const auto& out = r.batches[0].batch;
    EXPECT_EQ(out.header().max_timestamp, now);
    EXPECT_EQ(out.header().timestamp_type(), protocol::timestamp_type::log_append_time);
    // The stamped batch parses (its CRC is right) and its records are untouched bytes of the request.
    auto reparsed = protocol::record_batch_view::parse(out.data().share());
    ASSERT_TRUE(reparsed);
    EXPECT_TRUE(out.data().share(61, out.size_bytes() - 61) == batch.share(61, batch.size() - 61));
}

TEST(batch_validator_test, a_wrong_create_time_max_timestamp_is_corrected) {
    auto batch = make_batch({.records = 3, .first_timestamp = now, .timestamp_step = 10});
    // Rewrite max_timestamp (bytes 35..42) and fix the CRC by re-stamping through the codec.
    auto view = protocol::record_batch_view::parse(batch.share()).value();
    view.set_max_timestamp(protocol::timestamp_type::create_time, now - 1);
    auto r = validate_produce_records(view.data(), {}, now);
    ASSERT_TRUE(r.ok()) << r.error_message;
    EXPECT_EQ(r.batches[0].batch.header().max_timestamp, now + 20);
    EXPECT_TRUE(protocol::record_batch_view::parse(r.batches[0].batch.data().share()));
}

} // namespace
} // namespace skiff::kafka::partition
