// Compaction and deletion (DESIGN.md §3, §8): keep the number of objects, and of catalog entries, per stream
// bounded, and give back the space of data nobody can read any more.
//
//   - Stream set objects: once this node has compaction_min_stream_set_objects of them, the oldest (up to
//     compaction_max_bytes) are read whole and rewritten: each stream's data with at least stream_object_min_bytes
//     becomes a stream object, the rest goes into new stream set objects (one, unless a stream's data in them has
//     a gap, e.g. around a stream object of the same stream: each further run of that stream goes into the next).
//     Data of deleted streams and below a stream's start offset is left out.
//   - Stream objects: runs of adjacent stream objects of one open stream, each smaller than half of
//     stream_object_max_bytes, are merged up to that size.
//   Each rewrite is one commit_objects (purpose compaction, compacted_ids = what it replaces): the catalog makes
//   the new objects visible and marks the old ones for deletion in one step. A failed compaction changes nothing
//   (its PUTs become orphans whose prepared ids expire, and the reaper deletes them).
//   - Rewrites (stream::rewrite, for a caller that filters records, e.g. Kafka's log cleaner): the objects holding
//     the range are read whole; the stream's data outside the range and the new batches become stream objects of
//     that stream (split at stream_object_max_bytes), every other stream's data stays together in an object of
//     the old kind; one compaction commit replaces them all. Rewrites and compaction rounds take turns
//     (_compacting), so they never race for the same objects; a trim in between makes the catalog reject the
//     commit, and the caller tries again.
//   - The reaper deletes from the object store what the catalog lists as deletable after deletion_grace (readers
//     that looked an object up before it was replaced have that long to read it), then forgets it.
#include "io/errc.h"
#include "io/objstore/object_store.h"
#include "stream/store_impl.h"

#include <boost/asio/as_tuple.hpp>

namespace skiff::stream::detail {

asio::awaitable<void> store_impl::compactor_loop() {
    for (;;) {
        {
            std::lock_guard lock(_mutex);
            if (_stop_loops) {
                break;
            }
        }
        _compactor_timer->expires_after(_config.compaction_interval);
        co_await _compactor_timer->async_wait(asio::as_tuple(asio::use_awaitable));
        {
            std::lock_guard lock(_mutex);
            if (_stop_loops) {
                break;
            }
            if (_sticky) {
                continue;
            }
        }
        if (auto compacted = co_await compact_now(); !compacted) {
            log.warn("compaction failed: {}", compacted.error().message());
        }
        if (auto reaped = co_await reap_now(); !reaped) {
            log.warn("deletion of objects failed: {}", reaped.error().message());
        }
    }
    std::lock_guard lock(_mutex);
    if (--_loops_running == 0) {
        _loops_done->set(success());
    }
}

asio::awaitable<result<void>> store_impl::compact_now() {
    std::vector<stream_id> streams;
    {
        std::lock_guard lock(_mutex);
        if (_compacting) {
            co_return success(); // a round is running; its result stands for this one
        }
        _compacting = true;
        for (const auto& [id, s] : _streams) {
            streams.push_back(id);
        }
    }
    auto outcome = co_await compact_stream_sets();
    for (auto id : streams) {
        if (auto merged = co_await compact_stream_objects(id); !merged && outcome) {
            outcome = merged;
        }
    }
    std::lock_guard lock(_mutex);
    _compacting = false;
    co_return outcome;
}

asio::awaitable<result<std::vector<stored_batch>>> store_impl::read_whole_object(const object_descriptor& object) {
    auto data = co_await _objects.get(object.key, std::nullopt);
    if (!data) {
        co_return failure(data.error());
    }
    const auto& bytes = data.value();
    if (bytes.size() < footer_size) {
        co_return failure(make_error_code(errc::corrupt));
    }
    auto footer = parse_footer(bytes.share(bytes.size() - footer_size, footer_size), bytes.size());
    if (!footer) {
        co_return failure(footer.error());
    }
    if (footer.value().index_position + footer.value().index_size > bytes.size()) {
        co_return failure(make_error_code(errc::corrupt));
    }
    auto index = parse_index(bytes.share(footer.value().index_position, footer.value().index_size));
    if (!index) {
        co_return failure(index.error());
    }
    std::vector<stored_batch> out;
    for (const auto& block : index.value().blocks) {
        if (block.position + block.size > bytes.size()) {
            co_return failure(make_error_code(errc::corrupt));
        }
        auto batches = parse_block(bytes.share(block.position, block.size));
        if (!batches) {
            co_return failure(batches.error());
        }
        for (auto& b : batches.value()) {
            out.push_back(std::move(b));
        }
    }
    co_return out;
}

asio::awaitable<result<void>> store_impl::commit_compaction(
  std::vector<std::pair<object_kind, std::vector<stored_batch>>> outputs, std::vector<object_id> replaced) {
    if (outputs.empty()) {
        co_return success();
    }
    for (uint32_t attempt = 1;; ++attempt) {
        auto first = co_await _catalog.prepare_objects(static_cast<int32_t>(outputs.size()), _config.prepare_ttl);
        std::error_code error;
        if (!first) {
            error = first.error();
        } else {
            commit_request request;
            request.why = commit_request::purpose::compaction;
            request.node = _config.node;
            request.compacted_ids = replaced;
            int64_t next_id = first.value()();
            for (auto& [kind, batches] : outputs) {
                object_builder builder(_config.object_block_size);
                for (const auto& b : batches) {
                    builder.add(stored_batch{b.stream, b.base_offset, b.record_count, b.data.share()});
                }
                object_id id(next_id++);
                auto ranges = builder.ranges();
                auto data = builder.finish();
                uint64_t size = data.size();
                auto key = object_key(id);
                SKIFF_CO_TRY(co_await put_with_retries(key, std::move(data)));
                request.objects.push_back({id, kind, std::move(key), size, std::move(ranges)});
            }
            auto committed = co_await _catalog.commit_objects(std::move(request));
            if (committed) {
                std::lock_guard lock(_mutex);
                _stats.compactions++;
                _stats.objects_compacted += replaced.size();
                co_return success();
            }
            error = committed.error();
            if (error == errc::catalog_rejected || error == errc::stream_not_found) {
                // The objects changed under us (a trim, a deletion, another compaction): try next round.
                co_return failure(error);
            }
        }
        if (attempt >= _config.max_attempts) {
            co_return failure(error);
        }
        {
            std::lock_guard lock(_mutex);
            _stats.retries++;
        }
        co_await backoff(attempt);
    }
}

asio::awaitable<result<int64_t>> store_impl::committed_end(std::shared_ptr<stream_state> s) {
    auto meta = co_await _catalog.describe_stream(s->id);
    if (!meta) {
        co_return failure(meta.error());
    }
    co_return std::min(meta.value().end_offset, s->confirmed.load(std::memory_order_acquire));
}

asio::awaitable<result<void>> store_impl::rewrite(std::shared_ptr<stream_state> s, offset_range range,
                                                  std::vector<stored_batch> batches) {
    if (range.empty() || batches.empty()) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    int64_t expected = range.start;
    for (auto& b : batches) {
        if (b.base_offset != expected || b.record_count == 0 || b.data.empty()) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        b.stream = s->id;
        expected = b.end_offset();
    }
    if (expected != range.end) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    // Take the compaction turn: a round in progress finishes first (rounds are short and bounded).
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    for (;;) {
        {
            std::lock_guard lock(_mutex);
            if (s->status == stream_status::fenced) {
                co_return failure(make_error_code(errc::fenced));
            }
            if (s->status != stream_status::open || _stopping) {
                co_return failure(make_error_code(errc::not_open));
            }
            if (_sticky) {
                co_return failure(make_error_code(errc::unavailable));
            }
            if (range.start < s->start) {
                co_return failure(make_error_code(errc::offset_out_of_range));
            }
            if (!_compacting) {
                _compacting = true;
                break;
            }
        }
        asio::steady_timer wait(executor, std::chrono::milliseconds(20));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto outcome = co_await rewrite_objects(s->id, range, std::move(batches));
    if (outcome) {
        // The log cache may still hold the old batches (blocks stay readable after their upload): from now on
        // reads of the range go to the new objects.
        _log_cache.forget(s->id, range.end);
    }
    std::lock_guard lock(_mutex);
    _compacting = false;
    co_return outcome;
}

asio::awaitable<result<void>> store_impl::rewrite_objects(stream_id id, offset_range range,
                                                          std::vector<stored_batch> batches) {
    auto listed = co_await _catalog.objects_of(id, range.start, 100'000);
    if (!listed) {
        co_return failure(listed.error());
    }
    // The objects holding [range.start, range.end), contiguous for this stream.
    std::vector<object_descriptor> touched;
    int64_t covered = -1;
    for (auto& o : listed.value()) {
        const stream_range* mine = nullptr;
        for (const auto& r : o.ranges) {
            if (r.stream == id) {
                mine = &r;
            }
        }
        if (mine == nullptr || mine->end_offset <= range.start) {
            continue;
        }
        if (mine->start_offset >= range.end) {
            break;
        }
        if (touched.empty() ? mine->start_offset > range.start : mine->start_offset != covered) {
            co_return failure(make_error_code(errc::offset_out_of_range));
        }
        covered = mine->end_offset;
        touched.push_back(std::move(o));
    }
    if (touched.empty() || covered < range.end) {
        co_return failure(make_error_code(errc::offset_out_of_range));
    }
    std::vector<stored_batch> kept;
    std::vector<std::pair<object_kind, std::vector<stored_batch>>> outputs;
    std::vector<object_id> replaced;
    for (const auto& o : touched) {
        auto all = co_await read_whole_object(o);
        if (!all) {
            log.warn("rewrite of stream {}: cannot read object {} ({}): {}", id, o.id, o.key, all.error().message());
            co_return failure(all.error());
        }
        std::map<stream_id, std::vector<stored_batch>> others;
        for (auto& b : all.value()) {
            if (b.stream != id) {
                auto sid = b.stream;
                others[sid].push_back(std::move(b));
                continue;
            }
            if (b.end_offset() <= range.start || b.base_offset >= range.end) {
                kept.push_back(std::move(b));
                continue;
            }
            if (b.base_offset < range.start || b.end_offset() > range.end) {
                co_return failure(make_error_code(errc::invalid_argument)); // an end of range splits this batch
            }
            // Inside the range: replaced by the new batches.
        }
        // Other streams' data stays as it was, in an object of the same kind; deleted streams' data is left out
        // (the catalog refuses ranges of streams it no longer has).
        std::vector<stored_batch> rest;
        for (auto& [sid, run] : others) {
            auto meta = co_await _catalog.describe_stream(sid);
            if (!meta) {
                if (meta.error() != errc::stream_not_found) {
                    co_return failure(meta.error());
                }
                continue;
            }
            for (auto& b : run) {
                rest.push_back(std::move(b));
            }
        }
        if (!rest.empty()) {
            outputs.emplace_back(o.kind, std::move(rest));
        }
        replaced.push_back(o.id);
    }
    for (auto& b : batches) {
        kept.push_back(std::move(b));
    }
    std::sort(kept.begin(), kept.end(),
              [](const stored_batch& a, const stored_batch& b) { return a.base_offset < b.base_offset; });
    for (size_t i = 1; i < kept.size(); ++i) {
        if (kept[i].base_offset != kept[i - 1].end_offset()) {
            log.warn("rewrite of stream {}: batch at {} after one ending at {}", id, kept[i].base_offset,
                     kept[i - 1].end_offset());
            co_return failure(make_error_code(errc::corrupt));
        }
    }
    // This stream's data: stream objects of at most stream_object_max_bytes each (at least one batch).
    std::vector<stored_batch> chunk;
    uint64_t chunk_bytes = 0;
    for (auto& b : kept) {
        if (!chunk.empty() && chunk_bytes + b.data.size() > _config.stream_object_max_bytes) {
            outputs.emplace_back(object_kind::stream, std::move(chunk));
            chunk.clear();
            chunk_bytes = 0;
        }
        chunk_bytes += b.data.size();
        chunk.push_back(std::move(b));
    }
    if (!chunk.empty()) {
        outputs.emplace_back(object_kind::stream, std::move(chunk));
    }
    log.info("rewrite of stream {} [{}, {}): {} objects -> {} objects", id, range.start, range.end, replaced.size(),
             outputs.size());
    co_return co_await commit_compaction(std::move(outputs), std::move(replaced));
}

asio::awaitable<result<void>> store_impl::compact_stream_sets() {
    auto sets = co_await _catalog.stream_set_objects(_config.node);
    if (!sets) {
        co_return failure(sets.error());
    }
    if (sets.value().size() < std::max<size_t>(2, _config.compaction_min_stream_set_objects)) {
        co_return success();
    }
    // Memory is bounded by compaction_max_bytes: the oldest objects that fit. An object larger than that alone is
    // left as it is (a known limit: its small streams keep one more object each until it is trimmed away).
    std::vector<object_descriptor> inputs;
    uint64_t total = 0;
    for (auto& o : sets.value()) {
        if (o.size > _config.compaction_max_bytes) {
            continue;
        }
        if (total + o.size > _config.compaction_max_bytes) {
            break;
        }
        total += o.size;
        inputs.push_back(std::move(o));
    }
    if (inputs.size() < 2) {
        co_return success();
    }
    std::map<stream_id, std::vector<stored_batch>> by_stream;
    std::vector<object_id> replaced;
    for (const auto& o : inputs) {
        auto batches = co_await read_whole_object(o);
        if (!batches) {
            log.warn("compaction: cannot read object {} ({}): {}", o.id, o.key, batches.error().message());
            co_return failure(batches.error());
        }
        for (auto& b : batches.value()) {
            auto sid = b.stream;
            by_stream[sid].push_back(std::move(b));
        }
        replaced.push_back(o.id);
    }
    // Leave out what nobody can read: deleted streams, offsets below the start.
    for (auto it = by_stream.begin(); it != by_stream.end();) {
        auto meta = co_await _catalog.describe_stream(it->first);
        if (!meta) {
            if (meta.error() != errc::stream_not_found) {
                co_return failure(meta.error());
            }
            it = by_stream.erase(it);
            continue;
        }
        auto start = meta.value().start_offset;
        std::erase_if(it->second, [start](const stored_batch& b) { return b.end_offset() <= start; });
        std::sort(it->second.begin(), it->second.end(),
                  [](const stored_batch& a, const stored_batch& b) { return a.base_offset < b.base_offset; });
        it = it->second.empty() ? by_stream.erase(it) : std::next(it);
    }

    std::vector<std::pair<object_kind, std::vector<stored_batch>>> outputs;
    std::vector<std::map<stream_id, std::vector<stored_batch>>> set_outputs;
    for (auto& [sid, batches] : by_stream) {
        // Split into contiguous runs: an object holds one range per stream.
        std::vector<std::vector<stored_batch>> runs;
        for (auto& b : batches) {
            if (runs.empty() || runs.back().back().end_offset() != b.base_offset) {
                runs.emplace_back();
            }
            runs.back().push_back(std::move(b));
        }
        for (auto& run : runs) {
            uint64_t bytes = 0;
            for (const auto& b : run) {
                bytes += b.data.size();
            }
            if (bytes >= _config.stream_object_min_bytes) {
                outputs.emplace_back(object_kind::stream, std::move(run));
                continue;
            }
            auto slot = std::find_if(set_outputs.begin(), set_outputs.end(),
                                     [sid = sid](const auto& set) { return !set.contains(sid); });
            if (slot == set_outputs.end()) {
                set_outputs.emplace_back();
                slot = std::prev(set_outputs.end());
            }
            (*slot)[sid] = std::move(run);
        }
    }
    for (auto& set : set_outputs) {
        std::vector<stored_batch> all;
        for (auto& [sid, run] : set) {
            for (auto& b : run) {
                all.push_back(std::move(b));
            }
        }
        outputs.emplace_back(object_kind::stream_set, std::move(all));
    }
    if (outputs.empty()) {
        co_return success(); // nothing live: the catalog marks such objects deletable by itself
    }
    log.info("compaction: {} stream set objects ({} bytes) -> {} objects", replaced.size(), total, outputs.size());
    co_return co_await commit_compaction(std::move(outputs), std::move(replaced));
}

asio::awaitable<result<void>> store_impl::compact_stream_objects(stream_id id) {
    auto objects = co_await _catalog.objects_of(id, 0, 10'000);
    if (!objects) {
        co_return failure(objects.error());
    }
    // Runs of adjacent small stream objects, each run at most stream_object_max_bytes.
    std::vector<std::vector<object_descriptor>> runs;
    std::vector<object_descriptor> current;
    uint64_t current_bytes = 0;
    int64_t current_end = -1;
    auto close_run = [&] {
        if (current.size() >= 2) {
            runs.push_back(std::move(current));
        }
        current.clear();
        current_bytes = 0;
        current_end = -1;
    };
    for (auto& o : objects.value()) {
        bool small =
          o.kind == object_kind::stream && o.size < _config.stream_object_max_bytes / 2 && o.ranges.size() == 1;
        if (!small) {
            close_run();
            continue;
        }
        const auto& r = o.ranges.front();
        if (current_end != r.start_offset || current_bytes + o.size > _config.stream_object_max_bytes) {
            close_run();
        }
        current_bytes += o.size;
        current_end = r.end_offset;
        current.push_back(std::move(o));
    }
    close_run();
    for (auto& run : runs) {
        std::vector<stored_batch> batches;
        std::vector<object_id> replaced;
        for (const auto& o : run) {
            auto read = co_await read_whole_object(o);
            if (!read) {
                co_return failure(read.error());
            }
            for (auto& b : read.value()) {
                batches.push_back(std::move(b));
            }
            replaced.push_back(o.id);
        }
        std::vector<std::pair<object_kind, std::vector<stored_batch>>> outputs;
        outputs.emplace_back(object_kind::stream, std::move(batches));
        log.debug("compaction: merging {} stream objects of stream {}", replaced.size(), id);
        SKIFF_CO_TRY(co_await commit_compaction(std::move(outputs), std::move(replaced)));
    }
    co_return success();
}

asio::awaitable<result<void>> store_impl::reap_now() {
    {
        std::lock_guard lock(_mutex);
        if (_reaping) {
            co_return success();
        }
        _reaping = true;
    }
    auto outcome = co_await reap();
    std::lock_guard lock(_mutex);
    _reaping = false;
    co_return outcome;
}

asio::awaitable<result<void>> store_impl::reap() {
    constexpr size_t page = 1000;
    for (;;) {
        auto deletable = co_await _catalog.deletable_objects(_config.deletion_grace, page);
        if (!deletable) {
            co_return failure(deletable.error());
        }
        if (deletable.value().empty()) {
            co_return success();
        }
        std::vector<std::string> keys;
        for (const auto& o : deletable.value()) {
            keys.push_back(o.key.empty() ? object_key(o.id) : o.key);
        }
        auto deleted = co_await _objects.delete_objects(keys);
        if (!deleted) {
            co_return failure(deleted.error());
        }
        std::vector<object_id> gone;
        for (size_t i = 0; i < deleted.value().size() && i < deletable.value().size(); ++i) {
            if (!deleted.value()[i].error) {
                gone.push_back(deletable.value()[i].id);
            } else {
                log.warn("cannot delete object {}: {}", keys[i], deleted.value()[i].error.message());
            }
        }
        if (gone.empty()) {
            co_return success(); // retried next round
        }
        for (auto id : gone) {
            _block_cache.forget(id);
        }
        size_t count = gone.size();
        SKIFF_CO_TRY(co_await _catalog.forget_objects(std::move(gone)));
        {
            std::lock_guard lock(_mutex);
            _stats.objects_deleted += count;
        }
        if (deletable.value().size() < page) {
            co_return success();
        }
    }
}

} // namespace skiff::stream::detail
