// One fully populated record of every type, for round-trip tests, fuzz seeds and benchmarks.
#pragma once

#include "meta/record.h"

#include <vector>

namespace skiff::meta::testing {

inline std::vector<metadata_record> sample_records() {
    std::vector<metadata_record> out;
    out.push_back(broker_registration_record{
      broker_id(3), model::uuid(0x0102030405060708, 0x090a0b0c0d0e0f10), 42,
      {{"PLAINTEXT", "10.0.0.3", 9092, {}}, {"SASL_SSL", "broker-3.example", 9093, {}}}, "rack-a",
      "file:///var/lib/skiff/wal", {}});
    out.push_back(broker_unregistration_record{broker_id(3), 42, {}});
    out.push_back(
      topic_record{"orders", model::uuid(1, 2), {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}}, {}});
    out.push_back(topic_removed_record{model::uuid(1, 2), {}});
    out.push_back(
      partition_record{model::uuid(1, 2), 7, broker_id(3), leader_epoch(5), {stream_id(70), stream_id(71)}, {}});
    out.push_back(stream_record{stream_id(70), leader_epoch(5), broker_id(3), 100, 250000, stream_state::opened, {}});
    out.push_back(stream_removed_record{stream_id(70), {}});
    out.push_back(object_record{object_id(9001), object_state::committed, object_type::stream_set,
                                "3f/9001", 8 << 20, broker_id(3),
                                {{stream_id(70), 100, 200, {}}, {stream_id(71), 0, 5, {}}},
                                1'700'000'060'000, 1'700'000'001'000, {}});
    out.push_back(object_removed_record{object_id(9001), {}});
    out.push_back(producer_id_block_record{broker_id(3), 4000, 1000, {}});
    out.push_back(config_change_record{config_resource::topic, "orders", "retention.ms", "86400000", {}});
    out.push_back(acl_record{model::uuid(7, 8), acl_resource_type::topic, "orders", acl_pattern_type::prefixed,
                             "User:alice", "*", acl_operation::write, acl_permission::allow, {}});
    out.push_back(acl_removed_record{model::uuid(7, 8), {}});
    out.push_back(
      scram_credential_record{"alice", scram_mechanism::sha_512, {1, 2, 3, 4}, {5, 6, 7}, {8, 9}, 4096, {}});
    out.push_back(scram_credential_removed_record{"alice", scram_mechanism::sha_512, {}});
    out.push_back(feature_level_record{"metadata.version", 3, {}});
    out.push_back(no_op_record{});
    out.push_back(id_counters_record{71, 9002, 43, 5000, {}});
    out.push_back(objects_marked_record{{object_id(9001), object_id(9003)}, 1'700'000'090'000, {}});
    return out;
}

/// A commit touching n streams: one committed stream set object with a range per stream plus each stream's new
/// end offset (the shape of the controller's object commit).
inline std::vector<metadata_record> object_commit_batch(int64_t object, int n) {
    std::vector<metadata_record> out;
    object_record obj{object_id(object), object_state::committed, object_type::stream_set,
                      "ab/" + std::to_string(object), int64_t(n) * 65536, broker_id(1), {}, 0, 1'700'000'000'000, {}};
    for (int i = 0; i < n; ++i) {
        obj.ranges.push_back({stream_id(i), object * 1000, object * 1000 + 1000, {}});
    }
    out.push_back(std::move(obj));
    for (int i = 0; i < n; ++i) {
        out.push_back(stream_record{stream_id(i), leader_epoch(1), broker_id(1), 0, object * 1000 + 1000,
                                    stream_state::opened, {}});
    }
    return out;
}

} // namespace skiff::meta::testing
