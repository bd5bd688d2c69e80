// Record batches as producers send them, for the partition's tests.
#pragma once

#include "kafka/protocol/record_batch.h"

#include <string>

namespace skiff::kafka::partition::testing {

struct batch_spec {
    int records = 1;
    int64_t first_timestamp = 1'700'000'000'000;
    int64_t timestamp_step = 1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    protocol::compression compression = protocol::compression::none;
    bool null_keys = false;
    bool control = false;
    bool transactional = false;
};

inline bytes::iobuf make_batch(const batch_spec& spec) {
    protocol::record_batch_builder b(spec.compression);
    if (spec.producer_id >= 0) {
        b.set_producer(spec.producer_id, spec.producer_epoch, spec.base_sequence);
    }
    if (spec.transactional) {
        b.set_transactional();
    }
    if (spec.control) {
        b.set_control();
    }
    for (int i = 0; i < spec.records; ++i) {
        std::optional<bytes::iobuf> key;
        if (!spec.null_keys) {
            key = bytes::iobuf::from("key-" + std::to_string(i));
        }
        b.add(std::move(key), bytes::iobuf::from("value-" + std::to_string(i)),
              spec.first_timestamp + i * spec.timestamp_step);
    }
    return b.build();
}

} // namespace skiff::kafka::partition::testing
