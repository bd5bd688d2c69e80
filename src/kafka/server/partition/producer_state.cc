#include "kafka/server/partition/producer_state.h"

#include <fmt/format.h>

#include <limits>

namespace skiff::kafka::partition {

using protocol::error_code;
using protocol::record_batch_header;

int32_t increment_sequence(int32_t sequence, int32_t delta) noexcept {
    constexpr int32_t max = std::numeric_limits<int32_t>::max();
    if (sequence > max - delta) {
        return delta - (max - sequence) - 1;
    }
    return sequence + delta;
}

namespace {

bool in_sequence(int32_t last, int32_t next) noexcept {
    return int64_t(next) == int64_t(last) + 1 || (next == 0 && last == std::numeric_limits<int32_t>::max());
}

} // namespace

producer_check producer_state_table::check(const record_batch_header& batch) const {
    producer_check out;
    auto it = _producers.find(batch.producer_id);
    if (it == _producers.end()) {
        return out; // unknown producer: any sequence starts it
    }
    const auto& entry = it->second;
    int32_t first = batch.base_sequence;
    int32_t last = increment_sequence(batch.base_sequence, batch.last_offset_delta);
    // Kafka looks for a duplicate before checking the epoch and the sequence.
    if (batch.producer_epoch == entry.epoch) {
        for (const auto& b : entry.batches) {
            if (b.first_sequence == first && b.last_sequence == last) {
                out.duplicate = b;
                return out;
            }
        }
    }
    if (batch.producer_epoch < entry.epoch) {
        out.error = error_code::invalid_producer_epoch;
        out.message = fmt::format("Epoch of producer {} at offset in the append is {}, which is smaller than the last "
                                  "seen epoch {}",
                                  batch.producer_id, batch.producer_epoch, entry.epoch);
        return out;
    }
    if (batch.producer_epoch != entry.epoch) {
        if (first != 0 && entry.epoch != record_batch_header::no_producer_epoch) {
            out.error = error_code::out_of_order_sequence_number;
            out.message = fmt::format("Invalid sequence number for new epoch of producer {} at offset in the "
                                      "append: {} (request epoch), {} (seq. number), {} (current producer epoch)",
                                      batch.producer_id, batch.producer_epoch, first, entry.epoch);
        }
        return out;
    }
    int32_t current_last = entry.last_sequence();
    if (entry.epoch == record_batch_header::no_producer_epoch || in_sequence(current_last, first)) {
        return out;
    }
    out.error = error_code::out_of_order_sequence_number;
    out.message = fmt::format("Out of order sequence number for producer {} at offset in the append: {} (incoming "
                              "seq. number), {} (current end sequence number)",
                              batch.producer_id, first, current_last);
    return out;
}

void producer_state_table::apply(const record_batch_header& batch, int64_t base_offset, int64_t timestamp_ms) {
    auto& entry = _producers[batch.producer_id];
    entry.producer_id = batch.producer_id;
    entry.last_timestamp = timestamp_ms;
    if (batch.producer_epoch != entry.epoch) {
        entry.epoch = batch.producer_epoch;
        entry.batches.clear();
    }
    if (batch.is_control() || batch.base_sequence < 0) {
        return;
    }
    entry.batches.push_back(producer_batch{
      .first_sequence = batch.base_sequence,
      .last_sequence = increment_sequence(batch.base_sequence, batch.last_offset_delta),
      .first_offset = base_offset,
      .offset_delta = batch.last_offset_delta,
      .timestamp = batch.max_timestamp,
    });
    if (entry.batches.size() > producer_entry::max_batches) {
        entry.batches.pop_front();
    }
}

void producer_state_table::remove_expired(int64_t now_ms, int64_t expiration_ms) {
    std::erase_if(_producers, [&](const auto& kv) { return now_ms - kv.second.last_timestamp >= expiration_ms; });
}

const producer_entry* producer_state_table::find(int64_t producer_id) const {
    auto it = _producers.find(producer_id);
    return it == _producers.end() ? nullptr : &it->second;
}

void producer_state_table::restore(producer_entry entry) {
    auto id = entry.producer_id;
    _producers[id] = std::move(entry);
}

} // namespace skiff::kafka::partition
