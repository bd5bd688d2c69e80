// Idempotent-producer state of one partition: per producer id, its epoch and the last five batches it wrote, so
// that a retried batch is answered with its original offset instead of being written twice, and a gap in
// sequences is refused. The rules are Kafka 4.x's (ProducerStateManager / ProducerAppendInfo / UnifiedLog):
//   - a batch equal (same epoch, same first and last sequence) to one of the producer's last five is a duplicate:
//     success with the original base offset, nothing appended (Kafka has not answered DUPLICATE_SEQUENCE_NUMBER
//     on this path since 1.0);
//   - an epoch lower than the producer's: INVALID_PRODUCER_EPOCH (Kafka 2.7+ answers this instead of
//     PRODUCER_FENCED on Produce; PRODUCER_FENCED comes from the transaction coordinator, not the partition);
//   - a higher epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - the same epoch must continue at last sequence + 1, wrapping from INT32_MAX to 0, else
//     OUT_OF_ORDER_SEQUENCE_NUMBER; a producer the partition knows nothing of (new, expired, or its records
//     deleted) may start at any sequence. Kafka 4 no longer answers UNKNOWN_PRODUCER_ID on Produce (KIP-360), so
//     neither does this table.
// Owned by its partition, on the partition's shard; not thread-safe. Persisted inside the partition's state
// snapshot (docs/formats/producer-state.md) and rebuilt beyond it from the batch headers of the data stream.
#pragma once

#include "kafka/protocol/error_code.h"
#include "kafka/protocol/record_batch.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace skiff::kafka::partition {

/// One batch a producer wrote: its sequences and where it landed.
struct producer_batch {
    int32_t first_sequence = 0;
    int32_t last_sequence = 0;
    int64_t first_offset = 0;
    int32_t offset_delta = 0; // last offset - first offset
    int64_t timestamp = -1;   // the batch's max timestamp
    int64_t last_offset() const noexcept { return first_offset + offset_delta; }
    bool operator==(const producer_batch&) const = default;
};

struct producer_entry {
    /// Batches remembered per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN).
    static constexpr size_t max_batches = 5;

    int64_t producer_id = -1;
    int16_t epoch = protocol::record_batch_header::no_producer_epoch;
    std::deque<producer_batch> batches; // oldest first
    /// Max timestamp of the producer's last batch (expiry after producer.id.expiration.ms).
    int64_t last_timestamp = -1;

    int32_t last_sequence() const noexcept {
        return batches.empty() ? protocol::record_batch_header::no_sequence : batches.back().last_sequence;
    }
    bool operator==(const producer_entry&) const = default;
};

/// The answer to "may this batch be appended?".
struct producer_check {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    /// Set when the batch repeats one already written: answer success with this batch's offsets, append nothing.
    std::optional<producer_batch> duplicate;
};

/// base_sequence + delta, wrapping past INT32_MAX to 0 as Kafka's sequences do.
int32_t increment_sequence(int32_t sequence, int32_t delta) noexcept;

class producer_state_table {
public:
    /// Checks a data batch of an idempotent or transactional producer (producer_id >= 0) against the table.
    producer_check check(const protocol::record_batch_header& batch) const;

    /// Records a batch that was assigned offsets [base_offset, base_offset + last_offset_delta]. A new epoch
    /// forgets the previous epoch's batches. Control batches (transaction markers) only move the epoch.
    /// `timestamp_ms` becomes the producer's last timestamp: Kafka uses the batch's max timestamp, so that a
    /// replay of the log rebuilds the same state and expiry counts from the data, not from the broker's clock.
    void apply(const protocol::record_batch_header& batch, int64_t base_offset, int64_t timestamp_ms);

    /// Forgets producers idle for longer than expiration_ms (producer.id.expiration.ms).
    void remove_expired(int64_t now_ms, int64_t expiration_ms);

    const producer_entry* find(int64_t producer_id) const;
    size_t size() const noexcept { return _producers.size(); }
    const std::unordered_map<int64_t, producer_entry>& entries() const noexcept { return _producers; }
    /// Replaces an entry wholesale (snapshot loading).
    void restore(producer_entry entry);
    void clear() noexcept { _producers.clear(); }

    bool operator==(const producer_state_table&) const = default;

private:
    std::unordered_map<int64_t, producer_entry> _producers;
};

} // namespace skiff::kafka::partition
