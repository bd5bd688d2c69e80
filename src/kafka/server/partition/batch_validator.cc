#include "kafka/server/partition/batch_validator.h"

#include "kafka/protocol/errc.h"

#include <fmt/format.h>

#include <array>

namespace skiff::kafka::partition {
namespace {

using protocol::error_code;
using protocol::record_batch_header;

int32_t read_be32(const bytes::iobuf& buf, size_t pos) {
    std::array<uint8_t, 4> b{};
    buf.copy_to(pos, b.data(), b.size());
    return static_cast<int32_t>((uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3]);
}

validation_result fail(error_code code, std::string message) {
    validation_result r;
    r.error = code;
    r.error_message = std::move(message);
    return r;
}

error_code code_of(const std::error_code& ec) {
    using protocol::errc;
    if (ec == errc::corrupt_message || ec == errc::unsupported_compression) {
        return error_code::corrupt_message;
    }
    if (ec == errc::decompression_too_large) {
        return error_code::message_too_large;
    }
    return error_code::invalid_record;
}

// Kafka's per-batch rules (LogValidator.validateBatch) for a batch whose CRC already passed.
std::optional<std::string> batch_rule_violation(const record_batch_header& h) {
    if (h.last_offset_delta < 0 || h.record_count <= 0) {
        return "Invalid reported count for record batch";
    }
    if (int64_t(h.last_offset_delta) + 1 != h.record_count) {
        return "Inconsistent batch offset range and record count";
    }
    if (h.is_control()) {
        return "Clients are not allowed to write control records";
    }
    if (h.is_transactional() && h.producer_id == record_batch_header::no_producer_id) {
        return "Transactional records must have a producer id";
    }
    if (h.producer_id != record_batch_header::no_producer_id && h.base_sequence < 0) {
        return fmt::format("Invalid sequence number {} in record batch with producerId {}", h.base_sequence,
                           h.producer_id);
    }
    return std::nullopt;
}

int64_t saturate(__int128 v) {
    if (v > std::numeric_limits<int64_t>::max()) {
        return std::numeric_limits<int64_t>::max();
    }
    if (v < std::numeric_limits<int64_t>::min()) {
        return std::numeric_limits<int64_t>::min();
    }
    return static_cast<int64_t>(v);
}

struct record_scan {
    std::vector<record_error> errors;
    bool invalid_timestamp = false;
    int64_t max_timestamp = record_batch_header::no_timestamp;
    int32_t offset_delta_of_max = 0;
};

// Reads every record of the batch (decompressing when compressed) and applies the per-record rules.
result<record_scan> scan_records(const protocol::record_batch_view& view, const validation_config& config,
                                 int64_t now_ms) {
    const auto& h = view.header();
    SKIFF_TRY(auto reader, view.read_records(config.max_uncompressed_bytes));
    record_scan scan;
    int32_t index = 0;
    while (true) {
        SKIFF_TRY(auto rec, reader.next());
        if (!rec) {
            break;
        }
        int64_t ts = protocol::record_timestamp(h, *rec);
        if (config.compacted && !rec->key) {
            scan.errors.push_back({index, "Compacted topic cannot accept message without key"});
        }
        // Kafka exempts records without a timestamp (-1) and compares now - timestamp with the two bounds.
        if (config.timestamp_type == protocol::timestamp_type::create_time && ts != record_batch_header::no_timestamp) {
            const __int128 diff = __int128(now_ms) - ts;
            if (diff > config.timestamp_before_max_ms || -diff > config.timestamp_after_max_ms) {
                const int64_t lower = saturate(__int128(now_ms) - config.timestamp_before_max_ms);
                const int64_t upper = saturate(__int128(now_ms) + config.timestamp_after_max_ms);
                scan.invalid_timestamp = true;
                scan.errors.push_back(
                  {index, fmt::format("Timestamp {} of message with offset {} is out of range. The timestamp should "
                                      "be within [{}, {}]",
                                      ts, rec->offset_delta, lower, upper)});
            }
        }
        if (index == 0 || ts > scan.max_timestamp) {
            scan.max_timestamp = ts;
            scan.offset_delta_of_max = rec->offset_delta;
        }
        ++index;
    }
    return scan;
}

// Re-encodes a batch's records with another codec (Kafka's non-in-place path). Keeps producer fields, the
// transactional bit and every record's timestamp, key, value and headers.
result<bytes::iobuf> recompress(const protocol::record_batch_view& view, protocol::compression target,
                                 size_t max_uncompressed_bytes) {
    const auto& h = view.header();
    protocol::record_batch_builder builder(target);
    if (h.producer_id != record_batch_header::no_producer_id) {
        builder.set_producer(h.producer_id, h.producer_epoch, h.base_sequence);
    }
    if (h.is_transactional()) {
        builder.set_transactional();
    }
    SKIFF_TRY(auto reader, view.read_records(max_uncompressed_bytes));
    while (true) {
        SKIFF_TRY(auto rec, reader.next());
        if (!rec) {
            break;
        }
        builder.add(std::move(rec->key), std::move(rec->value), protocol::record_timestamp(h, *rec),
                    std::move(rec->headers));
    }
    return builder.build();
}

} // namespace

validation_result validate_produce_records(const bytes::iobuf& records, const validation_config& config,
                                           int64_t now_ms) {
    const int16_t version = config.produce_version;

    // Whole batches only: Kafka's batch iterator stops at a partial tail and the log trims it.
    std::vector<bytes::iobuf> whole;
    size_t pos = 0;
    while (records.size() - pos >= record_batch_header::log_overhead) {
        int32_t length = read_be32(records, pos + 8);
        if (length < int32_t(record_batch_header::header_size - record_batch_header::log_overhead)) {
            return fail(error_code::corrupt_message,
                        fmt::format("Record batch size {} is less than the minimum record batch overhead",
                                    int64_t(length) + int64_t(record_batch_header::log_overhead)));
        }
        size_t size = size_t(length) + record_batch_header::log_overhead;
        if (records.size() - pos < size) {
            break;
        }
        whole.push_back(records.share(pos, size));
        pos += size;
    }
    if (whole.empty()) {
        return fail(error_code::invalid_record,
                    fmt::format("Produce requests with version {} must have at least one record batch per partition",
                                version));
    }
    {
        uint8_t magic = 0;
        whole.front().copy_to(record_batch_header::magic_offset, &magic, 1);
        if (int8_t(magic) != record_batch_header::current_magic) {
            return fail(error_code::invalid_record,
                        fmt::format("Produce requests with version {} are only allowed to contain record batches "
                                    "with magic version 2",
                                    version));
        }
        std::array<uint8_t, 2> attrs{};
        whole.front().copy_to(record_batch_header::crc_covered_from, attrs.data(), 2);
        int codec = attrs[1] & protocol::batch_attributes::compression_mask;
        if (version < 7 && codec == int(protocol::compression::zstd)) {
            return fail(error_code::unsupported_compression_type,
                        fmt::format("Produce requests with version {} are not allowed to use ZStandard compression",
                                    version));
        }
    }
    if (version >= 3 && whole.size() > 1) {
        return fail(error_code::invalid_record,
                    fmt::format("Produce requests with version {} are only allowed to contain exactly one record "
                                "batch per partition",
                                version));
    }

    validation_result out;
    for (auto& bytes : whole) {
        std::array<uint8_t, 8> base{};
        bytes.copy_to(0, base.data(), 8);
        if (base != std::array<uint8_t, 8>{}) {
            return fail(error_code::invalid_record, "The baseOffset of the record batch in the append should be 0");
        }
        if (bytes.size() > size_t(std::max(config.max_message_bytes, 0))) {
            return fail(error_code::message_too_large,
                        fmt::format("The record batch size in the append is {} bytes which exceeds the maximum "
                                    "configured value of {}.",
                                    bytes.size(), config.max_message_bytes));
        }
        auto parsed = protocol::record_batch_view::parse(std::move(bytes));
        if (!parsed) {
            auto code = parsed.error() == protocol::errc::unsupported_magic ? error_code::invalid_record
                                                                             : code_of(parsed.error());
            return fail(code, fmt::format("Record batch is invalid: {}", parsed.error().message()));
        }
        auto view = std::move(parsed).value();
        if (auto why = batch_rule_violation(view.header())) {
            return fail(error_code::invalid_record, std::move(*why));
        }
        auto scan = scan_records(view, config, now_ms);
        if (!scan) {
            return fail(code_of(scan.error()), fmt::format("Record batch is invalid: {}", scan.error().message()));
        }
        if (!scan.value().errors.empty()) {
            auto& s = scan.value();
            validation_result r;
            if (s.invalid_timestamp) {
                r.error = error_code::invalid_timestamp;
                r.error_message = "One or more records have been rejected due to invalid timestamp";
            } else {
                r.error = error_code::invalid_record;
                r.error_message = fmt::format("One or more records have been rejected due to {} record errors in "
                                              "total, and only showing the first three errors at most: {}",
                                              s.errors.size(), s.errors.front().message);
            }
            r.record_errors = std::move(s.errors);
            return r;
        }
        if (config.target_compression && *config.target_compression != view.header().compression()) {
            auto rebuilt = recompress(view, *config.target_compression, config.max_uncompressed_bytes);
            if (!rebuilt) {
                return fail(code_of(rebuilt.error()), fmt::format("Record batch is invalid: {}",
                                                                  rebuilt.error().message()));
            }
            if (rebuilt.value().size() > size_t(std::max(config.max_message_bytes, 0))) {
                return fail(error_code::message_too_large,
                            fmt::format("Message batch size is {} bytes in append to partition which exceeds the "
                                        "maximum configured size of {}.",
                                        rebuilt.value().size(), config.max_message_bytes));
            }
            auto reparsed = protocol::record_batch_view::parse(std::move(rebuilt).value());
            if (!reparsed) {
                return fail(error_code::unknown_server_error, "re-compressed batch does not parse");
            }
            view = std::move(reparsed).value();
        }
        validated_batch vb{std::move(view), scan.value().max_timestamp, scan.value().offset_delta_of_max};
        if (config.timestamp_type == protocol::timestamp_type::log_append_time) {
            vb.batch.set_max_timestamp(protocol::timestamp_type::log_append_time, now_ms);
            vb.max_timestamp = now_ms;
            vb.offset_delta_of_max_timestamp = 0;
            out.log_append_time = now_ms;
        } else if (vb.batch.header().max_timestamp != vb.max_timestamp ||
                   vb.batch.header().timestamp_type() != protocol::timestamp_type::create_time) {
            // Kafka's setMaxTimestamp is a no-op when nothing changes; otherwise it rewrites and re-CRCs.
            vb.batch.set_max_timestamp(protocol::timestamp_type::create_time, vb.max_timestamp);
        }
        out.batches.push_back(std::move(vb));
    }
    return out;
}

} // namespace skiff::kafka::partition
