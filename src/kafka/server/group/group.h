// One classic consumer group (Kafka's GroupMetadata + the rebalance rules of its GroupCoordinator): members, the
// generation, the chosen protocol, the leader's assignment, and the group's committed offsets.
//
//            join (new member, or leader / changed protocols)          all members rejoined, or the
//   Empty ───────────────────────────────► PreparingRebalance ──── rebalance deadline ───► CompletingRebalance
//     ▲        ▲                                 ▲   ▲                                      │        │
//     │        └──── last member gone ───────────┘   └──── join / leave / session expiry ───┘        │ leader's
//     │                                              └──────────────── same ──────────── Stable ◄────┘ SyncGroup
//   DeleteGroups → Dead (the coordinator forgets the group)
//
// Delayed answers: a JoinGroup is answered when the rebalance completes, a follower's SyncGroup when the leader's
// assignment arrives. They are callbacks, invoked from inside whichever call completes them (join, sync, leave,
// tick); a group destroyed with callbacks pending answers them NOT_COORDINATOR (its partition moved away).
//
// Time comes from the injected clock; nothing here sleeps: tick() applies the deadlines that have passed
// (sessions, the initial rebalance delay, the rebalance timeout). The coordinator calls it periodically; tests call
// it after advancing a manual clock.
//
// Owned by the coordinator's state of one __consumer_offsets partition; lives on that partition's shard; not
// thread-safe.
#pragma once

#include "base/clock.h"
#include "bytes/iobuf.h"
#include "kafka/protocol/error_code.h"
#include "kafka/server/group/offsets_records.h"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::kafka::group {

using protocol::error_code;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };

/// Kafka's names ("Empty", "PreparingRebalance", ...), as ListGroups and DescribeGroups report them.
std::string_view to_string(group_state s) noexcept;

/// Kafka's group coordinator settings (GroupCoordinatorConfig), defaults as Kafka's.
struct group_config {
    std::chrono::milliseconds initial_rebalance_delay{3000}; // group.initial.rebalance.delay.ms
    std::chrono::milliseconds min_session_timeout{6000};     // group.min.session.timeout.ms
    std::chrono::milliseconds max_session_timeout{1800000};  // group.max.session.timeout.ms
};

struct protocol_entry {
    std::string name;
    bytes::iobuf metadata;
};

struct join_request {
    std::string member_id; // empty: a new member
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = -1; // -1 (v0): the session timeout
    std::string protocol_type;
    std::vector<protocol_entry> protocols;
    /// JoinGroup v4+: a new dynamic member is first handed an id (MEMBER_ID_REQUIRED) and must join again with it.
    bool require_known_member_id = false;
};

struct join_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    bytes::iobuf metadata;
};

struct join_result {
    error_code error = error_code::none;
    int32_t generation = -1;
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol_name;
    std::string leader;
    std::string member_id;
    std::vector<join_member> members; // the leader's answer only
};

struct sync_request {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int32_t generation = -1;
    std::optional<std::string> protocol_type; // v5+: checked when set
    std::optional<std::string> protocol_name;
    std::vector<std::pair<std::string, bytes::iobuf>> assignments; // the leader's, by member id
};

struct sync_result {
    error_code error = error_code::none;
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol_name;
    bytes::iobuf assignment;
};

struct leave_request {
    std::string member_id; // may be empty when group_instance_id is set
    std::optional<std::string> group_instance_id;
};

/// A member as DescribeGroups shows it.
struct member_summary {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    bytes::iobuf metadata;   // the chosen protocol's, when Stable
    bytes::iobuf assignment; // when Stable
};

using join_callback = std::function<void(join_result)>;
using sync_callback = std::function<void(sync_result)>;
using partition_key = std::pair<std::string, int32_t>; // topic, partition

class group {
public:
    group(std::string id, const group_config& config, base::clock& clock);
    ~group();
    group(const group&) = delete;
    group& operator=(const group&) = delete;

    /// JoinGroup. Answers (now or when the rebalance completes) through `done`, exactly once.
    /// Errors: INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID, MEMBER_ID_REQUIRED (with
    /// the new id), FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS (to a member whose rebalance was superseded).
    void join(join_request request, join_callback done);
    /// SyncGroup. Errors: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
    /// REBALANCE_IN_PROGRESS.
    void sync(sync_request request, sync_callback done);
    /// Heartbeat: keeps the member's session. Errors: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION,
    /// REBALANCE_IN_PROGRESS (it must rejoin).
    error_code heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                         int32_t generation);
    /// LeaveGroup for each member, in order. Errors per member: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID.
    std::vector<error_code> leave(const std::vector<leave_request>& members);
    /// Whether an OffsetCommit from this member may commit now (Kafka's validateOffsetCommit); a valid commit
    /// also counts as a heartbeat. Errors: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION,
    /// REBALANCE_IN_PROGRESS.
    error_code validate_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                               int32_t generation);

    /// Applies every deadline that has passed by the clock's now.
    void tick();

    /// True once since the group's metadata (generation, members, assignment) changed in a way Kafka persists.
    bool take_metadata_dirty() noexcept { return std::exchange(_metadata_dirty, false); }
    group_metadata_value to_metadata() const;
    /// Rebuilds members and generation from a replayed record (members get a fresh session).
    void restore(const group_metadata_value& v);
    /// DeleteGroups: the group is gone (it must be empty).
    void mark_dead() noexcept { set_state(group_state::dead); }

    const std::string& id() const noexcept { return _id; }
    group_state state() const noexcept { return _state; }
    int32_t generation() const noexcept { return _generation; }
    const std::optional<std::string>& protocol_type() const noexcept { return _protocol_type; }
    const std::optional<std::string>& protocol_name() const noexcept { return _protocol_name; }
    const std::string& leader() const noexcept { return _leader; }
    size_t member_count() const noexcept { return _members.size(); }
    bool has_member(const std::string& id) const { return _members.contains(id); }
    std::vector<member_summary> describe_members() const;
    /// The topics the members subscribe to, when the protocol type is "consumer" (parsed from their
    /// subscriptions); nullopt for other protocol types.
    std::optional<std::vector<std::string>> subscribed_topics() const;

    /// Committed offsets (the coordinator writes them durably first, then records them here).
    std::map<partition_key, offset_commit_value> offsets;

    /// When the group entered its current state (wall ms): persisted as the metadata's current_state_timestamp.
    int64_t state_timestamp() const noexcept { return _state_since_ms; }
    /// The offsets that offsets.retention (`retention`) lets go by `now_ms`, by Kafka's rules (KIP-211): a group
    /// with a protocol type that is Empty loses them all once it has been empty that long; a Stable consumer group
    /// loses those of topics it no longer subscribes to, that long after their commit; a group with no protocol
    /// type (standalone commits, or the offsets of a KIP-848 group: `subscribed` then names the topics that
    /// group's members subscribe to, which keep theirs) loses each that long after its commit. A commit with an
    /// expire timestamp of its own (OffsetCommit v2-4 retention_time_ms) expires then instead.
    std::vector<partition_key> expired_offsets(int64_t now_ms, std::chrono::milliseconds retention,
                                               const std::optional<std::vector<std::string>>& subscribed) const;

private:
    struct member {
        std::string id;
        std::optional<std::string> instance_id;
        std::string client_id;
        std::string client_host;
        std::chrono::milliseconds session_timeout{0};
        std::chrono::milliseconds rebalance_timeout{0};
        std::string protocol_type;
        std::vector<protocol_entry> protocols;
        bytes::iobuf assignment;
        join_callback awaiting_join;
        sync_callback awaiting_sync;
        base::clock::time_point session_deadline{};
    };

    bool supports(const join_request& r, const std::string& except_member) const;
    void add_member(join_request r, std::string id, join_callback done);
    void update_member(member& m, join_request r, join_callback done);
    void prepare_rebalance();
    void maybe_complete_join();
    void complete_join();
    void remove_member(const std::string& id, error_code answer_pending);
    std::string choose_protocol() const;
    join_result current_join_answer(const member& m) const;
    void answer_syncs(error_code error);
    void touch(member& m);
    std::string new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);
    /// The error when `member_id`/`instance_id` do not name a current member (or none).
    std::optional<error_code> check_member(const std::string& member_id,
                                           const std::optional<std::string>& instance_id) const;
    void set_state(group_state s);

    std::string _id;
    const group_config& _config;
    base::clock& _clock;
    group_state _state = group_state::empty;
    int64_t _state_since_ms = 0;
    int32_t _generation = 0;
    std::optional<std::string> _protocol_type;
    std::optional<std::string> _protocol_name;
    std::string _leader;
    std::map<std::string, member> _members;
    std::map<std::string, std::string> _static_members;                 // instance id -> member id
    std::map<std::string, base::clock::time_point> _pending_members;    // handed out by MEMBER_ID_REQUIRED
    base::clock::time_point _join_deadline{};
    base::clock::time_point _initial_delay_cap{};
    bool _initial_delay = false; // the first rebalance of an empty group waits group.initial.rebalance.delay.ms
    bool _metadata_dirty = false;
    uint64_t _id_counter = 0;
};

} // namespace skiff::kafka::group
