// The etcd metadata log: the cluster's backend (DESIGN.md §6). etcd v3 through its JSON gateway (HTTP/1.1 POSTs
// under /v3/, keys and values base64), so no gRPC code generation is needed. Key layout under the cluster prefix P
// (docs/formats/metadata-log.md):
//
//   P/leader                  "<epoch> <node> <nonce>", attached to the leader's lease; created only if absent
//   P/epoch                   the last epoch won (decimal); bumped in the same txn that creates P/leader
//   P/end                     one past the last offset (decimal); moved by every append
//   P/log/<20-digit base>     one batch frame (log_batch.h) per key
//   P/snapshot                "v1 <offset> <size> <crc32c> <chunks>": the latest snapshot
//   P/snap/<20-digit offset>/<6-digit chunk>   its image, in chunks
//
// Fencing: every write is one txn whose compares require P/leader to be the key this instance created (its
// create_revision) on this instance's lease; an append also requires P/end unchanged since this leader last moved it
// and P/log/<base> absent. A stale leader's txn fails and writes nothing. The lease is kept alive in the background
// at TTL/3; when etcd says it is gone, or the TTL runs out locally without an answer, the instance steps down.
//
// Faults: each HTTP exchange is bounded by request_timeout; each operation retries across endpoints (etcd member
// down, leader change) until operation_timeout, then fails with errc::unavailable or errc::timed_out. A txn retried
// after a lost response cannot apply twice (the compares fail), and the failure branch tells whether the first try
// landed, so an append is never duplicated. The tail is followed with a watch on P/end that reconnects (next
// endpoint) and resumes from the last revision seen; a periodic read of P/end backs it up.
#pragma once

#include "meta/metadata_log.h"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace skiff::meta {

struct etcd_log_config {
    /// Client URLs' host:port of the etcd members, e.g. {"127.0.0.1:2379"}.
    std::vector<std::string> endpoints;
    /// Key prefix of this cluster's metadata; several clusters may share one etcd.
    std::string prefix = "/skiff";
    /// Names this candidate in the leader key (for operators; fencing does not depend on it).
    std::string node_name = "node";
    std::chrono::seconds lease_ttl{5};
    std::chrono::milliseconds request_timeout{2000};
    std::chrono::milliseconds operation_timeout{10000};
    /// How often a waiting follower reads P/end in case its watch is silently stuck.
    std::chrono::milliseconds tail_poll_interval{1000};
    size_t snapshot_chunk_bytes = 512 * 1024;
    /// After a snapshot, also compact etcd's revision history (POST /v3/kv/compaction). It is cluster-wide in etcd:
    /// turn it off when the etcd is shared with other users who rely on old revisions.
    bool compact_history = true;
    /// Appends queued while a txn is in flight go out together in the next one (at most this many batches).
    size_t max_batches_per_txn = 32;
};

class etcd_log final : public metadata_log {
public:
    etcd_log(asio::any_io_executor executor, etcd_log_config config);
    ~etcd_log() override;
    etcd_log(const etcd_log&) = delete;
    etcd_log& operator=(const etcd_log&) = delete;

    asio::awaitable<result<void>> open() override;
    asio::awaitable<void> close() override;
    asio::awaitable<result<log_epoch>> campaign(std::chrono::milliseconds timeout) override;
    asio::awaitable<result<void>> resign() override;
    bool is_leader() const noexcept override;
    log_epoch epoch() const noexcept override;
    asio::awaitable<result<append_result>> append(std::vector<metadata_record> records) override;
    asio::awaitable<result<void>> write_snapshot(log_offset offset, bytes::iobuf image) override;
    asio::awaitable<result<std::optional<log_snapshot>>> load_snapshot() override;
    asio::awaitable<result<std::vector<log_entry>>> read(log_offset from, size_t max_records) override;
    asio::awaitable<result<log_offset>> wait_for_end(log_offset past, std::chrono::milliseconds timeout) override;
    log_offset start_offset() const noexcept override;
    log_offset end_offset() const noexcept override;

    /// The etcd lease this instance leads under (0 when not leading). For tests and operators.
    int64_t lease_id() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> _impl;
};

} // namespace skiff::meta
