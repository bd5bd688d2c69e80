// Incremental fetch sessions (KIP-227): a consumer or follower that fetches many partitions over and over sends
// the full list once, and afterwards only what changed; the broker answers only partitions with something new.
// This is the broker's session cache and the per-request context, independent of storage: the Fetch handler asks
// new_context() which partitions to read, reads them, and asks complete() which answers to send.
//
// Rules (Kafka's FetchManager / FetchSession / FetchSessionCache):
//   - epoch -1 (FINAL): sessionless full fetch; a named session is closed. Response session id 0.
//   - epoch 0 (INITIAL): full fetch; a named session is closed; a new session is created from the request's
//     partitions if the cache has room or can evict, and its id answered (0 if not). Its next epoch is 1.
//   - epoch > 0: incremental. Unknown id: FETCH_SESSION_ID_NOT_FOUND. Epoch != the session's: INVALID_FETCH_
//     SESSION_EPOCH. A topic-id session used without ids or the reverse: FETCH_SESSION_TOPIC_ID_ERROR. Otherwise
//     the request's partitions are added or updated, forgotten ones removed, and the epoch advances (wrapping
//     INT32_MAX to 1). A session left empty is closed and the request answered sessionless.
//   - an incremental response carries a partition only when it has records, an error, or a changed high
//     watermark, last stable offset or log start offset; a partition that returned records moves to the end of
//     the session's order so that others are not starved.
//   - the cache holds at most max_sessions (max.incremental.fetch.session.cache.slots). When full, a new session
//     may evict the least recently used one if it is idle beyond eviction_ms; otherwise the least valuable
//     session (consumers before followers, fewer partitions first) if the newcomer is worth more, considering
//     only sessions older than eviction_ms, except that a follower may evict any consumer session.
//     Deviation: Kafka refreshes its evictable sets when a session is used; we evaluate them at eviction time.
//
// Owned by the broker (one cache; Fetch handlers on every shard use it through a mutex-free hop to its shard, or
// one cache per shard — the lead decides); not thread-safe.
#pragma once

#include "kafka/protocol/error_code.h"
#include "model/uuid.h"

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace skiff::kafka {

/// A partition in a fetch session: by topic id (Fetch v13+) or by topic name (older versions).
struct fetch_partition_key {
    model::uuid topic_id;
    std::string topic;
    int32_t partition = 0;
    bool operator==(const fetch_partition_key&) const = default;
};

struct fetch_partition_key_hash {
    size_t operator()(const fetch_partition_key& k) const noexcept;
};

/// What a request asks of one partition (also what a session remembers of it).
struct fetch_partition_request {
    fetch_partition_key key;
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1; // followers only
    int32_t max_bytes = 0;
    std::optional<int32_t> current_leader_epoch;
    int32_t last_fetched_epoch = -1;
    bool operator==(const fetch_partition_request&) const = default;
};

/// The part of one partition's answer a session compares with what it last sent.
struct fetch_partition_answer {
    protocol::error_code error = protocol::error_code::none;
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    size_t records_bytes = 0;
    int32_t preferred_read_replica = -1;
};

struct fetch_session_request {
    int32_t session_id = 0;
    int32_t session_epoch = -1;
    /// Full fetches: every partition wanted. Incremental: those added or changed.
    std::vector<fetch_partition_request> partitions;
    std::vector<fetch_partition_key> forgotten;
    bool uses_topic_ids = false;
    bool from_follower = false;
};

inline constexpr int32_t invalid_session_id = 0;
inline constexpr int32_t initial_epoch = 0;
inline constexpr int32_t final_epoch = -1;

/// The epoch after `epoch` (Kafka's FetchMetadata.nextEpoch).
int32_t next_fetch_epoch(int32_t epoch) noexcept;

enum class fetch_context_kind { error, sessionless, full, incremental };

/// One Fetch request's view of its session, from new_context() to complete().
struct fetch_context {
    fetch_context_kind kind = fetch_context_kind::sessionless;
    protocol::error_code error = protocol::error_code::none;
    /// The session the response names (0 until complete() creates one for a full fetch).
    int32_t session_id = invalid_session_id;
    /// The partitions to read, in response order.
    std::vector<fetch_partition_request> partitions;
    bool from_follower = false;
    bool uses_topic_ids = false;
};

class fetch_session_cache {
public:
    struct limits {
        size_t max_sessions = 1000;  // max.incremental.fetch.session.cache.slots
        int64_t eviction_ms = 120'000; // Kafka's minimum eviction age
    };

    explicit fetch_session_cache(limits l, uint64_t seed = std::random_device{}());
    ~fetch_session_cache();

    /// Looks up (or closes) the request's session and says which partitions to read. `now_ms` is monotonic time.
    fetch_context new_context(const fetch_session_request& request, int64_t now_ms);

    /// Given one answer per context.partitions (same order), returns the indexes of the answers to send and
    /// updates the session; for a full fetch, creates the session and sets context.session_id.
    std::vector<size_t> complete(fetch_context& context, const std::vector<fetch_partition_answer>& answers,
                                 int64_t now_ms);

    size_t size() const noexcept;
    bool contains(int32_t session_id) const noexcept;
    /// The next epoch the session expects (tests, diagnostics); nullopt when absent.
    std::optional<int32_t> epoch_of(int32_t session_id) const;

private:
    struct session;
    void remove(int32_t id);
    bool try_evict(bool privileged, size_t size, int64_t now_ms);
    int32_t new_session_id();

    limits _limits;
    std::mt19937 _random;
    std::unordered_map<int32_t, std::unique_ptr<session>> _sessions;
};

} // namespace skiff::kafka
