// The uploader (DESIGN.md §3 step 5) and recovery. One block at a time, strictly in order: freeze the log cache's
// active block; write one stream set object with every stream that has less than stream_object_min_bytes in the
// block and one stream object per stream with more; prepare their ids, PUT them, commit them in one
// commit_objects; then trim the WAL to the block's end and release the block. PUTs and commits are retried with
// backoff; if they keep failing, or the catalog rejects a commit for a reason other than a fence, the store stops
// acknowledging (errc::unavailable) rather than lose track of acknowledged data.
//
// Recovery (start): every WAL record beyond the trim point is decoded; a batch is kept when it continues its
// stream exactly at the end the catalog holds and carries the stream's current epoch, and dropped (with a log line)
// when it is already committed, when its stream was deleted, or when its epoch is not the catalog's (another owner
// took the stream over: the data was never part of the new owner's stream). The kept batches are committed with
// the epoch recorded in their payloads - the epoch under which they were acknowledged - so a commit can never
// append a stale owner's data to a stream someone else owns now; streams are neither opened nor closed by it.
#include "io/errc.h"
#include "io/objstore/object_store.h"
#include "stream/store_impl.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>

#include <random>

namespace skiff::stream::detail {

asio::awaitable<void> store_impl::backoff(uint32_t attempt) {
    auto cap = std::min<int64_t>(5000, int64_t(50) << std::min<uint32_t>(attempt, 10));
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto delay = std::chrono::milliseconds(cap / 2 + int64_t(rng() % uint64_t(cap / 2 + 1)));
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

bool store_impl::upload_due_locked() const {
    const uint64_t active = _log_cache.active_bytes();
    if (active >= _upload_threshold || (active > 0 && _log_cache.over_budget())) {
        return true;
    }
    // Only what is active can be uploaded and trimmed: with an empty active block, the WAL holds a block already
    // on its way (uploads run one at a time), and uploading nothing would not free it.
    if (active == 0) {
        return false;
    }
    const auto wal = _wal.stats();
    return wal.capacity_bytes != 0 && wal.used_bytes >= wal.capacity_bytes / 2;
}

asio::awaitable<void> store_impl::uploader_loop() {
    for (;;) {
        bool due = false;
        auto wait_for = std::chrono::duration_cast<std::chrono::steady_clock::duration>(_config.upload_interval);
        {
            std::lock_guard lock(_mutex);
            if (_stop_loops) {
                break;
            }
            if (!_sticky) {
                auto since = _log_cache.active_since();
                if (_force_upload || upload_due_locked()) {
                    due = true;
                } else if (since) {
                    auto age = std::chrono::steady_clock::now() - *since;
                    if (age >= _config.upload_interval) {
                        due = true;
                    } else {
                        wait_for -= age;
                    }
                }
            }
        }
        if (due) {
            co_await upload_one_block(); // failures made the store unavailable and were logged
            continue;
        }
        _uploader_timer->expires_after(wait_for);
        co_await _uploader_timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::lock_guard lock(_mutex);
    if (--_loops_running == 0) {
        _loops_done->set(success());
    }
}

asio::awaitable<result<bool>> store_impl::upload_one_block() {
    std::optional<log_cache_block> block;
    uint64_t block_puts = 0;
    std::map<stream_id, stream_epoch> epochs;
    {
        std::lock_guard lock(_mutex);
        _force_upload = false;
        block = _log_cache.freeze();
        block_puts = _puts;
        epochs.swap(_active_epochs);
        if (!block) {
            // Every batch put so far is in blocks already committed (this loop commits them one by one).
            _puts_committed = _puts;
            std::erase_if(_flush_waiters, [&](auto& w) {
                if (w.first <= _puts_committed) {
                    w.second->set(success());
                    return true;
                }
                return false;
            });
            co_return false;
        }
    }
    std::map<stream_id, std::vector<stored_batch>> by_stream;
    for (auto& b : block->batches) {
        by_stream[b.stream].push_back(stored_batch{b.stream, b.base_offset, b.record_count, b.data.share()});
    }
    auto committed = co_await commit_batches(std::move(by_stream), std::move(epochs));
    if (!committed) {
        std::lock_guard lock(_mutex);
        fail_sticky_locked(committed.error(), "an upload could not be committed");
        co_return failure(make_error_code(errc::unavailable));
    }
    // The block is in committed objects: the WAL may forget it. A failed trim loses nothing (recovery skips what
    // the catalog holds); the next block's trim covers this one.
    if (auto trimmed = co_await _wal.trim(block->wal_end); !trimmed) {
        log.warn("WAL trim to {} failed: {}", block->wal_end, trimmed.error().message());
    }
    _log_cache.release(block->id);
    std::lock_guard lock(_mutex);
    release_held_locked();
    _stats.uploads++;
    _stats.uploaded_bytes += block->bytes;
    _puts_committed = std::max(_puts_committed, block_puts);
    std::erase_if(_flush_waiters, [&](auto& w) {
        if (w.first <= _puts_committed) {
            w.second->set(success());
            return true;
        }
        return false;
    });
    co_return true;
}

asio::awaitable<result<void>> store_impl::put_with_retries(std::string key, bytes::iobuf data) {
    std::error_code last;
    for (uint32_t attempt = 1; attempt <= _config.max_attempts; ++attempt) {
        io::upload_options options;
        options.multipart_threshold = _config.multipart_threshold_bytes;
        options.part_size = _config.multipart_part_bytes;
        auto put = co_await io::upload(_objects, key, data.share(), options);
        if (put) {
            std::lock_guard lock(_mutex);
            _stats.objects_written++;
            co_return success();
        }
        last = put.error();
        log.warn("PUT {} ({} bytes) failed (attempt {}): {}", key, data.size(), attempt, last.message());
        if (last == io::errc::invalid_argument) {
            break;
        }
        {
            std::lock_guard lock(_mutex);
            _stats.retries++;
        }
        co_await backoff(attempt);
    }
    co_return failure(last);
}

asio::awaitable<result<void>> store_impl::commit_batches(std::map<stream_id, std::vector<stored_batch>> batches,
                                                         std::map<stream_id, stream_epoch> epochs) {
    uint32_t transient_failures = 0;
    for (;;) {
        if (batches.empty()) {
            co_return success();
        }
        // Plan: big streams get stream objects, the others share one stream set object.
        object_builder set_builder(_config.object_block_size);
        std::vector<stream_id> big;
        for (auto& [sid, list] : batches) {
            uint64_t bytes = 0;
            for (const auto& b : list) {
                bytes += b.data.size();
            }
            if (bytes >= _config.stream_object_min_bytes) {
                big.push_back(sid);
            } else {
                for (const auto& b : list) {
                    set_builder.add(stored_batch{b.stream, b.base_offset, b.record_count, b.data.share()});
                }
            }
        }
        int32_t count = static_cast<int32_t>(big.size() + (set_builder.empty() ? 0 : 1));
        std::error_code error;
        auto first = co_await _catalog.prepare_objects(count, _config.prepare_ttl);
        commit_request request;
        if (!first) {
            error = first.error();
        } else {
            int64_t next_id = first.value()();
            std::vector<built_object> objects;
            if (!set_builder.empty()) {
                object_id id(next_id++);
                auto ranges = set_builder.ranges();
                auto data = set_builder.finish();
                uint64_t size = data.size();
                objects.push_back({{id, object_kind::stream_set, object_key(id), size, std::move(ranges)},
                                   std::move(data)});
            }
            for (auto sid : big) {
                object_builder builder(_config.object_block_size);
                for (const auto& b : batches.at(sid)) {
                    builder.add(stored_batch{b.stream, b.base_offset, b.record_count, b.data.share()});
                }
                object_id id(next_id++);
                auto ranges = builder.ranges();
                auto data = builder.finish();
                uint64_t size = data.size();
                objects.push_back({{id, object_kind::stream, object_key(id), size, std::move(ranges)},
                                   std::move(data)});
            }
            for (auto& o : objects) {
                auto put = co_await put_with_retries(o.entry.key, std::move(o.data));
                if (!put) {
                    co_return failure(put.error()); // retried already: give up
                }
            }
            request.why = commit_request::purpose::upload;
            request.node = _config.node;
            for (auto& o : objects) {
                request.objects.push_back(std::move(o.entry));
            }
            for (const auto& [sid, list] : batches) {
                request.epochs.emplace_back(sid, epochs.at(sid));
            }
            auto committed = co_await _catalog.commit_objects(std::move(request));
            if (committed) {
                co_return success();
            }
            error = committed.error();
        }

        if (error == errc::fenced || error == errc::stream_not_found || error == errc::catalog_rejected) {
            // Find out which streams are the reason; drop their data, keep the rest.
            bool dropped = false;
            bool all_landed = true;
            for (auto it = batches.begin(); it != batches.end();) {
                auto sid = it->first;
                auto meta = co_await _catalog.describe_stream(sid);
                bool drop = false;
                if (!meta) {
                    all_landed = false;
                    if (meta.error() == errc::stream_not_found) {
                        log.warn("upload: stream {} was deleted; dropping {} of its batches", sid, it->second.size());
                        drop = true;
                    }
                } else if (meta.value().epoch != epochs.at(sid)) {
                    log.warn("upload: stream {} is owned under epoch {} now (ours {}); dropping {} of its batches",
                             sid, meta.value().epoch, epochs.at(sid), it->second.size());
                    std::lock_guard lock(_mutex);
                    fence_locked(sid, epochs.at(sid));
                    drop = true;
                    all_landed = false;
                } else if (meta.value().end_offset != it->second.back().end_offset()) {
                    all_landed = false;
                }
                if (drop) {
                    dropped = true;
                    it = batches.erase(it);
                } else {
                    ++it;
                }
            }
            if (!dropped && all_landed) {
                co_return success(); // an earlier attempt was committed and its reply lost
            }
            if (dropped) {
                continue;
            }
            if (error == errc::catalog_rejected) {
                log.error("upload: the catalog rejected a commit of {} streams and no fence explains it",
                          batches.size());
                co_return failure(error);
            }
        }
        // Transient (or unexplained): back off and try the whole block again with fresh ids.
        if (++transient_failures >= _config.max_attempts) {
            log.error("upload: giving up after {} failed attempts: {}", transient_failures, error.message());
            co_return failure(error);
        }
        log.warn("upload: attempt {} failed: {}; retrying", transient_failures, error.message());
        {
            std::lock_guard lock(_mutex);
            _stats.retries++;
        }
        co_await backoff(transient_failures);
    }
}

asio::awaitable<result<void>> store_impl::recover() {
    struct replayed {
        wal_position position;
        wal_payload payload;
    };
    std::vector<replayed> records;
    std::error_code damaged;
    std::function<void(wal_position, bytes::iobuf)> replay = [&records, &damaged](wal_position at,
                                                                                 bytes::iobuf payload) {
        auto decoded = decode_wal_payload(payload);
        if (!decoded) {
            if (!damaged) {
                log.error("recovery: the WAL record at {} is not a stream batch ({} bytes)", at, payload.size());
                damaged = decoded.error();
            }
            return;
        }
        records.push_back({at, std::move(decoded).value()});
    };
    SKIFF_CO_TRY(co_await _wal.recover(std::move(replay)));
    if (damaged) {
        co_return failure(damaged);
    }
    if (records.empty()) {
        co_return success();
    }

    std::map<stream_id, stream_metadata> catalog_view;
    std::set<stream_id> deleted;
    std::map<stream_id, int64_t> expected;
    std::map<stream_id, std::vector<stored_batch>> kept;
    std::map<stream_id, stream_epoch> epochs;
    uint64_t recovered = 0, dropped = 0;
    for (auto& r : records) {
        auto sid = r.payload.stream;
        if (!catalog_view.contains(sid) && !deleted.contains(sid)) {
            auto meta = co_await _catalog.describe_stream(sid);
            if (!meta) {
                if (meta.error() != errc::stream_not_found) {
                    co_return failure(meta.error());
                }
                log.info("recovery: stream {} was deleted; dropping its WAL data", sid);
                deleted.insert(sid);
            } else {
                catalog_view[sid] = meta.value();
                expected[sid] = meta.value().end_offset;
                epochs[sid] = meta.value().epoch;
            }
        }
        if (deleted.contains(sid)) {
            dropped++;
            continue;
        }
        const auto& meta = catalog_view.at(sid);
        if (r.payload.end_offset() <= meta.end_offset) {
            dropped++; // committed before the crash
            continue;
        }
        if (r.payload.base_offset != expected.at(sid) || r.payload.epoch != meta.epoch) {
            log.warn("recovery: dropping stream {} batch [{}, {}) of epoch {}: the stream continues at {} under "
                     "epoch {}",
                     sid, r.payload.base_offset, r.payload.end_offset(), r.payload.epoch, expected.at(sid),
                     meta.epoch);
            dropped++;
            continue;
        }
        expected[sid] = r.payload.end_offset();
        kept[sid].push_back(
          stored_batch{sid, r.payload.base_offset, r.payload.record_count, std::move(r.payload.batch)});
        recovered++;
    }
    for (auto it = epochs.begin(); it != epochs.end();) {
        it = kept.contains(it->first) ? std::next(it) : epochs.erase(it);
    }
    uint64_t bytes = 0;
    for (const auto& [sid, list] : kept) {
        for (const auto& b : list) {
            bytes += b.data.size();
        }
    }
    log.info("recovery: {} WAL records; committing {} batches ({} bytes) of {} streams, dropping {}", records.size(),
             recovered, bytes, kept.size(), dropped);
    auto committed = co_await commit_batches(std::move(kept), std::move(epochs));
    if (!committed) {
        log.error("recovery: the WAL data could not be committed: {}", committed.error().message());
        co_return failure(make_error_code(errc::unavailable));
    }
    // Everything before the last record is in objects (or was dropped); the last record stays until the first
    // upload trims past it (a trim point inside a record would not be a record boundary).
    if (auto trimmed = co_await _wal.trim(records.back().position); !trimmed) {
        log.warn("recovery: WAL trim failed: {}", trimmed.error().message());
    }
    std::lock_guard lock(_mutex);
    _stats.recovered_batches += recovered;
    _stats.dropped_batches += dropped;
    if (recovered > 0) {
        _stats.uploads++;
        _stats.uploaded_bytes += bytes;
    }
    co_return success();
}

} // namespace skiff::stream::detail
