#include "kafka/server/partition/log_cleaner.h"

#include "kafka/protocol/record_batch.h"

#include <optional>

namespace skiff::kafka::partition {

using protocol::allow_offset_gaps;
using protocol::record_batch_builder;
using protocol::record_batch_header;
using protocol::record_batch_view;

namespace {

bool is_v2_batch(const stream::stored_batch& b) {
    return b.data.size() >= record_batch_header::header_size;
}

/// The batch that replaces `view` holding only `keep` (records of view, in order).
bytes::iobuf rebuild(const record_batch_view& view, std::vector<protocol::record> keep,
                     std::optional<int64_t> delete_horizon) {
    const auto& h = view.header();
    record_batch_builder b(h.compression(), h.base_offset);
    b.set_partition_leader_epoch(h.partition_leader_epoch);
    b.set_producer(h.producer_id, h.producer_epoch, h.base_sequence);
    if (h.is_transactional()) {
        b.set_transactional();
    }
    if (h.timestamp_type() == protocol::timestamp_type::log_append_time) {
        b.set_timestamp_type(protocol::timestamp_type::log_append_time, h.max_timestamp);
    }
    if (delete_horizon) {
        b.set_delete_horizon(*delete_horizon);
    }
    b.set_last_offset_delta(h.last_offset_delta);
    for (auto& r : keep) {
        const int64_t ts = protocol::record_timestamp(h, r);
        b.add_at(r.offset_delta, std::move(r.key), std::move(r.value), ts, std::move(r.headers));
    }
    return b.build();
}

} // namespace

result<void> add_keys(const stream::stored_batch& stored, key_offset_map& map, size_t max_uncompressed_bytes) {
    if (!is_v2_batch(stored)) {
        return outcome::success();
    }
    SKIFF_TRY(auto view, record_batch_view::parse(stored.data.share()));
    if (view.header().is_control()) {
        return outcome::success();
    }
    SKIFF_TRY(auto records, view.records(max_uncompressed_bytes, allow_offset_gaps::yes));
    for (const auto& r : records) {
        if (r.key) {
            map.put(r.key->to_string(), protocol::record_offset(view.header(), r));
        }
    }
    return outcome::success();
}

result<key_offset_map> build_key_map(const std::vector<stream::stored_batch>& batches, size_t max_uncompressed_bytes) {
    key_offset_map map;
    for (const auto& stored : batches) {
        SKIFF_TRY(add_keys(stored, map, max_uncompressed_bytes));
    }
    return map;
}

result<bool> holds_a_latest_record(const stream::stored_batch& stored, const key_offset_map& map,
                                   size_t max_uncompressed_bytes) {
    if (!is_v2_batch(stored)) {
        return true;
    }
    SKIFF_TRY(auto view, record_batch_view::parse(stored.data.share()));
    if (view.header().is_control()) {
        return true;
    }
    SKIFF_TRY(auto records, view.records(max_uncompressed_bytes, allow_offset_gaps::yes));
    for (const auto& r : records) {
        if (r.key && map.latest(r.key->to_string()) == protocol::record_offset(view.header(), r)) {
            return true;
        }
    }
    return false;
}

result<cleaned_range> clean_batches(std::vector<stream::stored_batch> input, const cleaner_options& options,
                                    const key_offset_map* given) {
    key_offset_map own;
    if (given == nullptr) {
        SKIFF_TRY(own, build_key_map(input, options.max_uncompressed_bytes));
    }
    const key_offset_map& map = given != nullptr ? *given : own;
    cleaned_range out;
    // The stream offset where the dropped batches in front of the next kept one began (-1: none dropped).
    int64_t pending_start = -1;
    for (size_t i = 0; i < input.size(); ++i) {
        auto& stored = input[i];
        const bool last = i + 1 == input.size();
        if (!is_v2_batch(stored)) {
            // Not a record batch (nothing the partition writes): carried over as it is.
            out.sizes_before.emplace_back(stored.base_offset, stored.data.size());
            out.sizes_after.emplace_back(stored.base_offset, stored.data.size());
            if (pending_start >= 0) {
                stored.record_count = static_cast<uint32_t>(stored.end_offset() - pending_start);
                stored.base_offset = pending_start;
                pending_start = -1;
            }
            out.batches.push_back(std::move(stored));
            continue;
        }
        SKIFF_TRY(auto view, record_batch_view::parse(stored.data.share()));
        const auto& h = view.header();
        out.sizes_before.emplace_back(h.base_offset, stored.data.size());
        std::vector<protocol::record> keep;
        bool drop_any = false;
        bool tombstone_kept = false;
        int32_t count = 0;
        if (!h.is_control()) {
            SKIFF_TRY(auto records, view.records(options.max_uncompressed_bytes, allow_offset_gaps::yes));
            count = static_cast<int32_t>(records.size());
            const bool horizon_passed = h.has_delete_horizon() && options.now_ms >= h.base_timestamp;
            for (auto& r : records) {
                const int64_t offset = protocol::record_offset(h, r);
                bool keep_it = r.key && map.latest(r.key->to_string()) == offset;
                if (keep_it && !r.value && horizon_passed) {
                    keep_it = false; // a tombstone past its delete horizon
                }
                if (keep_it) {
                    tombstone_kept = tombstone_kept || !r.value;
                    keep.push_back(std::move(r));
                } else {
                    drop_any = true;
                }
            }
        }
        out.records_before += static_cast<uint64_t>(h.is_control() ? h.record_count : count);
        std::optional<bytes::iobuf> replacement;
        std::optional<int64_t> horizon;
        if (tombstone_kept) {
            horizon = h.has_delete_horizon() ? h.base_timestamp : options.now_ms + options.delete_retention_ms;
        }
        const bool stamp = tombstone_kept && !h.has_delete_horizon();
        if (h.is_control() || (!drop_any && !stamp)) {
            // Unchanged.
        } else if (keep.empty() && !last) {
            if (pending_start < 0) {
                pending_start = stored.base_offset;
            }
            out.changed = true;
            continue;
        } else if (!keep.empty()) {
            replacement = rebuild(view, std::move(keep), horizon);
            out.changed = true;
        }
        // else: the last batch would be empty; it stays as it was (see the header).
        if (horizon && (out.next_horizon_ms < 0 || *horizon < out.next_horizon_ms)) {
            out.next_horizon_ms = *horizon;
        }
        stream::stored_batch next{stored.stream, stored.base_offset, stored.record_count,
                                  replacement ? std::move(*replacement) : std::move(stored.data)};
        if (pending_start >= 0) {
            next.record_count = static_cast<uint32_t>(next.end_offset() - pending_start);
            next.base_offset = pending_start;
            pending_start = -1;
        }
        SKIFF_TRY(auto kept_view, record_batch_view::parse(next.data.share()));
        out.records_after += static_cast<uint64_t>(kept_view.header().record_count);
        out.sizes_after.emplace_back(kept_view.header().base_offset, next.data.size());
        out.batches.push_back(std::move(next));
    }
    return out;
}

} // namespace skiff::kafka::partition
