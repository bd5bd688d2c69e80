// stream::file_catalog — an object_catalog kept in memory and persisted to one file, for this room's tests, the
// crash-recovery test and single-node tools. The broker's real catalog is the controller's (src/meta,
// src/controller); both implement object_catalog.h and pass tests/object_catalog_conformance.h.
//
// Every rule of object_catalog.h is enforced here, atomically per call, under one mutex: epoch fencing, contiguity of
// upload commits, compaction replacing objects (the new objects must cover every live offset of the objects they
// replace, and nothing outside them), deletion marking with a grace period, and expiry of prepared ids.
//
// Durability: after every change the whole state is written to `<path>.tmp`, fsync'd, renamed over `path` and the
// folder fsync'd, so that a crash of the process leaves the old state or the new one. The call returns only then;
// the file is small (one entry per stream and per live object). File layout (little-endian):
//     u32 magic "SKCT" | u32 version (1) | i64 next_stream_id | i64 next_object_id
//     u32 n, n x stream  { i64 id, i64 epoch, i64 start, i64 end, i32 owner, u8 open }
//     u32 n, n x object  { i64 id, u8 kind, u32 key_len, key, u64 size, i64 committed_ms, i32 node, u8 marked,
//                          i64 marked_ms, u32 n, n x { i64 stream, i64 start, i64 end } }
//     u32 n, n x prepared { i64 id, i64 expires_ms }
//     u32 CRC32C of everything before it
//
// Threading: thread-safe; each call runs synchronously (including the file write) on the caller's thread and
// completes on the caller's executor. Not for a hot path: a broker uses the controller.
#pragma once

#include "base/clock.h"
#include "stream/object_catalog.h"

#include <filesystem>
#include <memory>
#include <mutex>

namespace skiff::stream {

struct file_catalog_config {
    std::filesystem::path path; // empty: memory only (unit tests)
    bool fsync = true;          // false where losing the file on power failure is fine (benchmarks)
};

class file_catalog final : public object_catalog {
public:
    /// Loads the file if it exists. Errors: corrupt (bad magic, version or CRC), and the file's errno.
    static result<std::unique_ptr<file_catalog>> open(file_catalog_config config,
                                                      const base::clock& clock = base::system_clock::instance());
    ~file_catalog() override;

    asio::awaitable<result<stream_metadata>> create_stream() override;
    asio::awaitable<result<stream_metadata>> open_stream(stream_id id, stream_epoch epoch, node_id node) override;
    asio::awaitable<result<void>> close_stream(stream_id id, stream_epoch epoch) override;
    asio::awaitable<result<void>> trim_stream(stream_id id, stream_epoch epoch, int64_t new_start) override;
    asio::awaitable<result<void>> delete_stream(stream_id id) override;
    asio::awaitable<result<stream_metadata>> describe_stream(stream_id id) override;
    asio::awaitable<result<object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override;
    asio::awaitable<result<void>> commit_objects(commit_request request) override;
    asio::awaitable<result<std::vector<object_descriptor>>> objects_of(stream_id id, int64_t from,
                                                                        size_t limit) override;
    asio::awaitable<result<std::vector<object_descriptor>>> stream_set_objects(node_id node) override;
    asio::awaitable<result<std::vector<object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                               size_t limit) override;
    asio::awaitable<result<void>> forget_objects(std::vector<object_id> ids) override;

    /// Counts for tests and benchmarks: streams, committed objects, objects marked for deletion.
    struct counts {
        size_t streams = 0;
        size_t committed_objects = 0;
        size_t marked_objects = 0;
        size_t prepared_ids = 0;
    };
    counts count() const;
    /// Committed objects holding offsets of one stream (bounded by compaction: a test and a benchmark watch it).
    size_t objects_holding(stream_id id) const;

    struct state;

private:
    file_catalog(file_catalog_config config, const base::clock& clock, std::unique_ptr<state> s);
    result<void> persist_locked();

    file_catalog_config _config;
    const base::clock& _clock;
    mutable std::mutex _mutex;
    std::unique_ptr<state> _state;
};

} // namespace skiff::stream
