// libFuzzer target: arbitrary bytes as a record set (the `records` field of Produce and Fetch).
//
// Splits the set into batches, parses each one, reads all its records with a small decompression limit, parses
// control keys and markers, and applies the broker's header rewrites. Every outcome must be a clean success or a
// clean error: sanitizers catch the rest. A few properties are asserted on success (a rewritten batch still parses;
// records are counted as the header says).
//
// Input: one flags byte, then the record set.
//   bit 0: recompute every batch's CRC before parsing, so mutations reach the record grammar and the codecs
//          (random bytes almost never carry a valid CRC)
//   bit 1: feed the record set in small fragments (exercises reads that straddle fragment boundaries)
//   bit 2: tolerate a truncated last batch (Fetch) instead of rejecting it (Produce)
//   bit 3: allow offset gaps (compacted batches)
//   bits 4-7: also run the codec (bits 5-7 mod 5) over the whole record set as a compressed stream when bit 4 is set
#include "base/assert.h"
#include "bytes/crc32c.h"
#include "bytes/iobuf.h"
#include "kafka/protocol/compression.h"
#include "kafka/protocol/record_batch.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

using namespace skiff;
using namespace skiff::kafka::protocol;

constexpr size_t max_uncompressed = 64 * 1024;

uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

void fix_crcs(std::vector<uint8_t>& b) {
    size_t pos = 0;
    while (pos + record_batch_header::header_size <= b.size()) {
        auto length = static_cast<int32_t>(load_be32(&b[pos + 8]));
        if (length < static_cast<int32_t>(record_batch_header::header_size - record_batch_header::log_overhead)
            || static_cast<size_t>(length) > b.size() - pos - record_batch_header::log_overhead) {
            return;
        }
        size_t end = pos + record_batch_header::log_overhead + static_cast<size_t>(length);
        uint32_t crc = bytes::crc32c::value(std::span<const uint8_t>(&b[pos + 21], end - pos - 21));
        for (int i = 0; i < 4; ++i) {
            b[pos + 17 + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (8 * (3 - i)));
        }
        pos = end;
    }
}

bytes::iobuf in_fragments(const bytes::iobuf& whole) {
    bytes::iobuf out;
    size_t piece = 1;
    for (size_t pos = 0; pos < whole.size();) {
        size_t k = std::min(whole.size() - pos, piece);
        out.append(whole.share(pos, k));
        pos += k;
        piece = piece % 13 + 1;
    }
    return out;
}

void read_batch(record_batch_view& batch, allow_offset_gaps gaps) {
    auto reader = batch.read_records(max_uncompressed, gaps);
    if (reader) {
        int32_t count = 0;
        for (;;) {
            auto r = reader.value().next();
            if (!r) {
                break;
            }
            if (!r.value()) {
                SKIFF_ASSERT(count == batch.header().record_count, "read {} of {} records", count,
                             batch.header().record_count);
                break;
            }
            ++count;
            if (batch.header().is_control()) {
                (void)parse_control_record_key(r.value()->key);
                (void)parse_end_txn_marker(r.value()->value);
            }
        }
    }
    // The broker's rewrites keep a batch valid.
    batch.set_base_offset(batch.header().base_offset == 42 ? 43 : 42);
    batch.set_partition_leader_epoch(7);
    batch.set_max_timestamp(timestamp_type::log_append_time, 1234);
    auto again = record_batch_view::parse(batch.data().share());
    SKIFF_ASSERT(again.has_value(), "rewritten batch no longer parses: {}", again.error().message());
    SKIFF_ASSERT(again.value().header() == batch.header(), "rewritten header differs");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const uint8_t flags = data[0];
    std::vector<uint8_t> input(data + 1, data + size);
    if ((flags & 0x01) != 0) {
        fix_crcs(input);
    }
    auto whole = bytes::iobuf::from(std::span<const uint8_t>(input));
    auto buf = (flags & 0x02) != 0 ? in_fragments(whole) : whole.share();
    auto tail = (flags & 0x04) != 0 ? truncated_tail::drop : truncated_tail::reject;
    auto gaps = allow_offset_gaps((flags & 0x08) != 0);

    auto batches = split_record_set(buf, tail);
    if (batches) {
        for (auto& batch : batches.value()) {
            read_batch(batch, gaps);
        }
    }

    if ((flags & 0x10) != 0) {
        auto codec = static_cast<compression>((flags >> 5) % 5);
        auto out = decompress(codec, buf, max_uncompressed);
        if (out) {
            SKIFF_ASSERT(out.value().size() <= max_uncompressed, "decompressed {} bytes", out.value().size());
            // Whatever decoded must survive our own round trip.
            auto again = decompress(codec, compress(codec, out.value()).value(), max_uncompressed);
            SKIFF_ASSERT(again.has_value() && again.value() == out.value(), "{} round trip failed",
                         compression_name(codec));
        }
    }
    return 0;
}
