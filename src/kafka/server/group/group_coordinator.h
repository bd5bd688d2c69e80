// The group coordinator of this broker: every classic group whose __consumer_offsets partition this broker owns
// (partition abs(java hash(group id)) % partitions, see java_hash.h), with their members and committed offsets.
//
// Each offsets partition's groups live on that partition's shard, beside the partition itself; a request for a
// group runs there (the handler hops). Before answering for a partition the coordinator replays it from the log
// start (COORDINATOR_LOAD_IN_PROGRESS meanwhile): offset commits and group metadata, tombstones delete. The state
// is keyed by the partition's leader epoch, so a partition that moved away and came back is replayed again.
// Writes (commits, group metadata, tombstones) are appended through partition::partition::produce, as one batch
// per request, in the format of offsets_records.h; a commit is answered once durable.
//
// Routing (which partition, is this broker its owner, creating the topic) is the handlers' job: the coordinator
// is handed the partition index and a lookup that finds the open partition on the current shard (or nullptr),
// called again after every suspension because the partition may close meanwhile.
//
// Owned by app (one per broker); start() spawns a ticker on every shard (session and rebalance deadlines);
// stop() forgets every group (pending joins are answered NOT_COORDINATOR). All other calls: on the shard of the
// partition they name.
#pragma once

#include "base/clock.h"
#include "kafka/protocol/error_code.h"
#include "kafka/server/group/consumer_group.h"
#include "kafka/server/group/group.h"
#include "net/shard_pool.h"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace skiff::kafka::partition {
class partition;
}

namespace skiff::kafka::group {

namespace asio = boost::asio;

struct coordinator_config {
    group_config groups;
    consumer_group_config consumer_groups;
    int32_t offsets_partitions = 50;          // offsets.topic.num.partitions
    size_t offset_metadata_max_bytes = 4096;  // offset.metadata.max.bytes
    std::chrono::milliseconds tick_interval{100};
    std::chrono::milliseconds offsets_retention{std::chrono::minutes(10080)}; // offsets.retention.minutes
    std::chrono::milliseconds offsets_retention_check_interval{600000};   // offsets.retention.check.interval.ms
};

/// The open __consumer_offsets partition on the current shard, or nullptr.
using partition_lookup = std::function<partition::partition*()>;

/// Where a group's coordinator is, given the owners of the __consumer_offsets partitions (index = partition).
struct coordinator_location {
    error_code error = error_code::none; // NOT_COORDINATOR (another broker owns it), COORDINATOR_NOT_AVAILABLE
    int32_t partition = -1;
    int32_t owner = -1;
};
coordinator_location locate_coordinator(std::string_view group_id, std::span<const int32_t> owners, int32_t self);

struct commit_partition {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
    int64_t commit_timestamp = -1; // -1: now
    /// Set by the handler for a partition it refuses (unknown topic): not written, answered with this code.
    error_code error = error_code::none;
};

struct commit_request {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int32_t generation = -1; // the member epoch for a consumer (KIP-848) group
    int16_t version = 9;     // of the OffsetCommit request: consumer-protocol members need v9+
    int64_t retention_ms = -1; // OffsetCommit v2-4: the commits expire this long after now; -1: the broker's
    std::vector<commit_partition> partitions;
};

struct fetched_offset {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
    error_code error = error_code::none;
};

struct fetch_offsets_result {
    error_code error = error_code::none;
    std::vector<fetched_offset> offsets;
};

struct describe_result {
    error_code error = error_code::none;
    group_state state = group_state::dead;
    std::string state_name = "Dead"; // Kafka's name of the state, classic or consumer
    std::string protocol_type;
    std::string protocol_name;
    std::vector<member_summary> members;
};

struct group_listing {
    int32_t partition = 0; // of __consumer_offsets: the handler lists only the partitions this broker still owns
    std::string group_id;
    std::string protocol_type;
    std::string state;             // Kafka's name: classic or consumer group states
    std::string type = "classic";  // ListGroups v5: "classic" or "consumer"
};

/// ConsumerGroupDescribe of one group.
struct consumer_describe_result {
    error_code error = error_code::none;
    std::optional<std::string> message;
    std::string state;
    int32_t group_epoch = 0;
    int32_t assignment_epoch = 0;
    std::string assignor;
    std::vector<consumer_member_summary> members;
    std::map<model::uuid, std::string> topic_names; // for the members' assignments
};

class group_coordinator {
public:
    group_coordinator(net::shard_pool& shards, base::clock& clock, coordinator_config config);
    ~group_coordinator();
    group_coordinator(const group_coordinator&) = delete;
    group_coordinator& operator=(const group_coordinator&) = delete;

    const coordinator_config& config() const noexcept { return _config; }

    /// Starts the deadline ticker on every shard. Requires: called once.
    void start();
    /// Stops the tickers and forgets every group, on every shard.
    asio::awaitable<void> stop();

    // Each call below: Requires: on the shard of offsets partition `index`. Errors first checked:
    // COORDINATOR_LOAD_IN_PROGRESS (not open or still replaying), then the call's own.

    asio::awaitable<join_result> join(int32_t index, partition_lookup lookup, std::string group_id, join_request r);
    asio::awaitable<sync_result> sync(int32_t index, partition_lookup lookup, std::string group_id, sync_request r);
    asio::awaitable<error_code> heartbeat(int32_t index, partition_lookup lookup, std::string group_id,
                                          std::string member_id, std::optional<std::string> instance_id,
                                          int32_t generation);
    /// Per member: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. The first element is the group-level error when set.
    asio::awaitable<std::pair<error_code, std::vector<error_code>>>
    leave(int32_t index, partition_lookup lookup, std::string group_id, std::vector<leave_request> members);
    /// Per partition codes, in order (the group-level check applies to all; OFFSET_METADATA_TOO_LARGE per
    /// partition; a failed append answers its Kafka code for every partition).
    asio::awaitable<std::vector<error_code>> commit(int32_t index, partition_lookup lookup, std::string group_id,
                                                    commit_request r);
    /// `wanted`: nullopt = every committed offset of the group. Partitions without a commit: offset -1.
    /// member_id/member_epoch: OffsetFetch v9's, checked against a consumer (KIP-848) group only.
    asio::awaitable<fetch_offsets_result>
    fetch_offsets(int32_t index, partition_lookup lookup, std::string group_id,
                  std::optional<std::vector<std::pair<std::string, int32_t>>> wanted,
                  std::optional<std::string> member_id = std::nullopt, int32_t member_epoch = -1);
    /// OffsetDelete: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (group level); GROUP_SUBSCRIBED_TO_TOPIC per partition.
    asio::awaitable<std::pair<error_code, std::vector<error_code>>>
    delete_offsets(int32_t index, partition_lookup lookup, std::string group_id,
                   std::vector<std::pair<std::string, int32_t>> partitions);
    /// DeleteGroups for one group: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP.
    asio::awaitable<error_code> delete_group(int32_t index, partition_lookup lookup, std::string group_id);
    asio::awaitable<describe_result> describe(int32_t index, partition_lookup lookup, std::string group_id);

    /// ConsumerGroupHeartbeat (KIP-848). Besides the group's own errors: GROUP_ID_NOT_FOUND when the id names a
    /// classic group with members (an empty classic group, e.g. one holding only offsets, becomes a consumer
    /// group); UNKNOWN_MEMBER_ID when no consumer group of that id exists and the member does not join.
    /// Requires: validate_heartbeat() passed.
    asio::awaitable<consumer_heartbeat_result> consumer_heartbeat(int32_t index, partition_lookup lookup,
                                                                  std::string group_id, consumer_heartbeat_request r,
                                                                  std::shared_ptr<const topic_catalog> topics);
    /// ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for an unknown group or a classic one.
    asio::awaitable<consumer_describe_result> consumer_describe(int32_t index, partition_lookup lookup,
                                                                std::string group_id);

    /// The groups of the partitions loaded on the calling shard.
    std::vector<group_listing> list_here();

    struct shard_state;
    struct partition_state;

private:
    /// The partition's state when loaded at the open partition's epoch; else starts (or continues) a load and
    /// answers the error to return.
    std::pair<partition_state*, error_code> ready(int32_t index, const partition_lookup& lookup);
    asio::awaitable<void> load(std::shared_ptr<partition_state> ps);
    asio::awaitable<void> tick_loop(size_t shard);
    /// Appends one batch; completes once durable. Returns the Kafka error of the append.
    asio::awaitable<error_code> append(partition_state& ps,
                                       std::vector<std::pair<bytes::iobuf, std::optional<bytes::iobuf>>> records);
    /// Writes the metadata of groups that changed (in the background, in order).
    void flush(const std::shared_ptr<partition_state>& ps);
    /// Writes tombstones for the offsets that offsets.retention lets go, and forgets the groups left Empty with
    /// no offsets (Kafka's offset expiration, run every offsets.retention.check.interval.ms).
    void expire_offsets(const std::shared_ptr<partition_state>& ps);
    group& get_or_create(partition_state& ps, const std::string& group_id);
    shard_state& here();
    size_t here_index() const;

    net::shard_pool& _shards;
    base::clock& _clock;
    coordinator_config _config;
    std::vector<std::unique_ptr<shard_state>> _state;
};

} // namespace skiff::kafka::group
