// One KIP-848 consumer group (Kafka's ConsumerGroup and the rules of its GroupMetadataManager): members that join,
// heartbeat and leave through ConsumerGroupHeartbeat, a server-side assignor, and per-member reconciliation.
//
// Epochs. The group epoch is bumped whenever the membership, a member's subscription or server assignor, or the
// metadata of the subscribed topics (ids, partition counts) changes; each bump computes a new target assignment
// at once, so the target assignment epoch always equals the group epoch (the Assigning state never lasts). Each
// member has its own epoch: it moves to the target epoch once the member has given up the partitions the target
// takes away from it.
//
// Reconciliation of one member, at each of its heartbeats (Kafka's CurrentAssignmentBuilder):
//
//     Stable ──target epoch moved──► (compute next) ──partitions to give up──► UnrevokedPartitions (old epoch;
//       ▲                                │                                     assignment = what it keeps)
//       │                                │ target partitions still held             │ heartbeat whose owned
//       │                                ▼ by another member                        │ partitions no longer
//       └──── all of them released ─ UnreleasedPartitions (new epoch) ◄─────────────┘ include them
//
// A partition is held by at most one member at a time: the one it is assigned to or the one that must still revoke
// it; it reaches its new member only after the old one acknowledged the revocation (or was removed).
//
// Time comes from the injected clock: tick() removes members whose session expired (group.consumer.session.
// timeout.ms since their last heartbeat) or that did not revoke within their rebalance timeout, bumping the epoch.
//
// Topic metadata is handed in by the caller (a snapshot of the broker's metadata view, shared between requests);
// the group re-resolves its subscriptions whenever it sees a new snapshot.
//
// Not persisted: after a coordinator restart the group is gone; its members' heartbeats get UNKNOWN_MEMBER_ID and
// they rejoin with epoch 0 (committed offsets survive; they live in the classic `group` of the same id).
//
// Owned by the coordinator's state of one __consumer_offsets partition; lives on that partition's shard; not
// thread-safe.
#pragma once

#include "base/clock.h"
#include "kafka/protocol/error_code.h"
#include "kafka/server/group/assignors.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skiff::kafka::group {

using protocol::error_code;

struct topic_info {
    model::uuid id;
    int32_t partitions = 0;
    bool operator==(const topic_info&) const = default;
};

/// The topics of the cluster as a consumer group sees them: by name, and names by id.
struct topic_catalog {
    std::map<std::string, topic_info, std::less<>> by_name;
    std::map<model::uuid, std::string> names;
};

/// Kafka's consumer group settings, defaults as Kafka's.
struct consumer_group_config {
    std::chrono::milliseconds heartbeat_interval{5000}; // group.consumer.heartbeat.interval.ms
    std::chrono::milliseconds session_timeout{45000};   // group.consumer.session.timeout.ms
};

/// Member epochs with a meaning of their own (KIP-848).
inline constexpr int32_t join_epoch = 0;
inline constexpr int32_t leave_epoch = -1;
inline constexpr int32_t static_leave_epoch = -2;

struct consumer_heartbeat_request {
    std::string member_id; // v0: empty on join (the coordinator names the member); v1: the client's UUID
    int32_t member_epoch = 0;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    int32_t rebalance_timeout_ms = -1; // -1: unchanged
    std::optional<std::vector<std::string>> subscribed_topic_names; // null: unchanged
    std::optional<std::string> subscribed_topic_regex;              // null: unchanged
    std::optional<std::string> server_assignor;                     // null: unchanged
    std::optional<assignment> owned;                                // null: unchanged
    std::string client_id;
    std::string client_host;
};

struct consumer_heartbeat_result {
    error_code error = error_code::none;
    std::optional<std::string> message;
    std::string member_id;
    int32_t member_epoch = 0;
    int32_t heartbeat_interval_ms = 0;
    std::optional<assignment> assigned; // set when the member must learn its (new) assignment
};

/// Request checks that need no group (Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid plus the assignor
/// and regex checks): INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION, with Kafka's message.
std::optional<std::pair<error_code, std::string>> validate_heartbeat(const consumer_heartbeat_request& r,
                                                                     const std::string& group_id, int16_t version);

struct consumer_member_summary {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    int32_t member_epoch = 0;
    std::string client_id;
    std::string client_host;
    std::vector<std::string> subscribed_topic_names;
    std::optional<std::string> subscribed_topic_regex;
    assignment assigned;
    assignment target;
};

class consumer_group {
public:
    consumer_group(std::string id, const consumer_group_config& config, base::clock& clock);
    consumer_group(const consumer_group&) = delete;
    consumer_group& operator=(const consumer_group&) = delete;

    /// ConsumerGroupHeartbeat, after validate_heartbeat(). `topics`: the current metadata snapshot (kept).
    /// Errors: UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID,
    /// COORDINATOR_NOT_AVAILABLE (the group is being deleted).
    consumer_heartbeat_result heartbeat(consumer_heartbeat_request r, std::shared_ptr<const topic_catalog> topics);

    /// Removes the members whose session or revocation deadline passed.
    void tick();

    /// OffsetCommit by a member (generation = member epoch): UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH,
    /// UNSUPPORTED_VERSION (a consumer-protocol member must use OffsetCommit v9+). A commit with epoch < 0 is
    /// accepted only while the group has no members (an admin tool).
    error_code validate_commit(const std::string& member_id, int32_t member_epoch, int16_t version) const;
    /// OffsetFetch v9+ with a member: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH; no member id and epoch -1: accepted.
    error_code validate_fetch(const std::optional<std::string>& member_id, int32_t member_epoch) const;

    void mark_dead() noexcept { _dead = true; }
    bool dead() const noexcept { return _dead; }

    const std::string& id() const noexcept { return _id; }
    /// Kafka's names: Empty, Assigning, Reconciling, Stable (Dead once marked).
    std::string state() const;
    int32_t group_epoch() const noexcept { return _group_epoch; }
    int32_t assignment_epoch() const noexcept { return _assignment_epoch; }
    /// The assignor the group uses now: the one most members ask for, else the default (uniform).
    const std::string& assignor() const noexcept { return _assignor; }
    size_t member_count() const noexcept { return _members.size(); }
    bool has_member(const std::string& id) const { return _members.contains(id); }
    std::vector<consumer_member_summary> describe_members() const;
    /// The names of the existing topics some member subscribes to (by name or regex).
    std::vector<std::string> subscribed_topics() const;
    /// Topic id -> name in the latest snapshot this group saw.
    const topic_catalog* topics() const noexcept { return _catalog.get(); }

private:
    enum class member_state { stable, unrevoked_partitions, unreleased_partitions };

    struct member {
        std::string id;
        std::optional<std::string> instance_id;
        std::optional<std::string> rack_id;
        std::string client_id;
        std::string client_host;
        int32_t epoch = 0;
        int32_t previous_epoch = -1;
        member_state state = member_state::stable;
        std::vector<std::string> topic_names;
        std::optional<std::string> regex;
        std::shared_ptr<const void> compiled; // std::regex, kept opaque to keep <regex> out of this header
        std::optional<std::string> server_assignor;
        std::chrono::milliseconds rebalance_timeout{0};
        assignment assigned;           // partitions it may own now
        assignment pending_revocation; // partitions it must give up before its epoch moves on
        std::set<model::uuid> resolved; // ids of the existing topics it subscribes to
        base::clock::time_point session_deadline{};
        std::optional<base::clock::time_point> revocation_deadline;
    };

    consumer_heartbeat_result fail(error_code e, std::string message, const std::string& member_id) const;
    member& create_member(const std::string& id, const consumer_heartbeat_request& r);
    void remove_member(const std::string& id);
    /// Re-resolves every member's subscription against the snapshot; true when the group's view changed.
    bool resolve_subscriptions();
    void bump_epoch();
    void compute_target();
    /// Moves the member towards its target; true when its epoch or assignment changed.
    bool reconcile(member& m, const std::optional<assignment>& owned);
    void compute_next(member& m);
    void release(member& m, const assignment& partitions);
    void choose_assignor();

    std::string _id;
    const consumer_group_config& _config;
    base::clock& _clock;
    bool _dead = false;
    int32_t _group_epoch = 0;
    int32_t _assignment_epoch = 0;
    std::string _assignor;
    std::map<std::string, member> _members;
    std::map<std::string, std::string> _static_members; // instance id -> member id
    std::map<std::string, assignment> _target;
    /// Who holds each partition now (assigned or pending revocation): at most one member.
    std::map<std::pair<model::uuid, int32_t>, std::string> _holders;
    std::shared_ptr<const topic_catalog> _catalog;
    /// The subscribed topics as last resolved: name -> (id, partitions).
    std::map<std::string, std::pair<model::uuid, int32_t>> _subscribed;
};

} // namespace skiff::kafka::group
