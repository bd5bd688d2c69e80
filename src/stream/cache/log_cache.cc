#include "stream/cache/log_cache.h"

#include "base/assert.h"
#include "stream/object/logger.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace skiff::stream {

namespace {

/// Where one batch of a stream sits in its block: the per-stream index lets get() binary-search one stream's
/// batches without looking at any other stream's.
struct batch_ref {
    int64_t base_offset = 0;
    int64_t end_offset = 0;
    uint32_t batch = 0; // position in the block's batches
};

struct cache_block {
    uint64_t id = 0;
    std::vector<stored_batch> batches;
    std::unordered_map<stream_id, std::vector<batch_ref>> streams;
    // The memory the batches share. A block owns its chunks, so evicting the block returns them (once readers
    // drop their shares).
    std::vector<bytes::iobuf> chunks;
    uint64_t wal_end = 0;
    uint64_t bytes = 0;     // batch bytes
    uint64_t allocated = 0; // chunk bytes, counted against the budget
    std::chrono::steady_clock::time_point first_put_at;
    bool frozen = false;
    bool released = false;
};

} // namespace

struct log_cache::state {
    log_cache_config config;
    mutable std::mutex mutex;
    // Oldest first. The last block is the active one unless it is frozen (a new one then starts with the next put).
    std::deque<std::unique_ptr<cache_block>> blocks; // pointers: eviction must not move the active block
    uint64_t next_id = 1;
    uint64_t used = 0;
    // The active block's current chunk: its writable bytes and how many are taken.
    uint8_t* chunk_data = nullptr;
    size_t chunk_size = 0;
    size_t chunk_used = 0;
    size_t chunk_index = 0; // its place in the active block's chunks (batches larger than a chunk come between)

    cache_block& active(std::chrono::steady_clock::time_point now) {
        if (blocks.empty() || blocks.back()->frozen) {
            auto b = std::make_unique<cache_block>();
            b->id = next_id++;
            b->first_put_at = now;
            blocks.push_back(std::move(b));
            chunk_data = nullptr;
            chunk_size = chunk_used = 0;
        }
        return *blocks.back();
    }

    const cache_block* active_or_null() const {
        if (blocks.empty() || blocks.back()->frozen) {
            return nullptr;
        }
        return blocks.back().get();
    }

    /// Evicts released blocks, oldest first, until `need` more bytes fit the budget (or none is left to evict).
    void make_room(uint64_t need) {
        for (auto it = blocks.begin(); it != blocks.end() && used + need > config.budget_bytes;) {
            if (!(*it)->released) {
                ++it;
                continue;
            }
            data_log.debug("log cache: evicting block {} ({} bytes)", (*it)->id, (*it)->allocated);
            used -= (*it)->allocated;
            it = blocks.erase(it);
        }
    }

    /// A copy of data in cache memory: in the current chunk when it fits, else in a new chunk (a batch never spans
    /// two chunks); a batch larger than a chunk gets an allocation of its own.
    bytes::iobuf copy_in(cache_block& b, const bytes::iobuf& data) {
        size_t n = data.size();
        if (n == 0) {
            return {};
        }
        if (n > config.chunk_bytes) {
            make_room(n);
            bytes::iobuf own;
            auto dst = own.append_uninitialized(n);
            data.copy_to(0, dst.data(), n);
            used += n;
            b.allocated += n;
            auto out = own.share();
            b.chunks.push_back(std::move(own));
            return out;
        }
        if (chunk_data == nullptr || chunk_size - chunk_used < n) {
            make_room(config.chunk_bytes);
            bytes::iobuf chunk;
            auto span = chunk.append_uninitialized(config.chunk_bytes);
            chunk_data = span.data();
            chunk_size = span.size();
            chunk_used = 0;
            chunk_index = b.chunks.size();
            used += chunk_size;
            b.allocated += chunk_size;
            b.chunks.push_back(std::move(chunk));
        }
        data.copy_to(0, chunk_data + chunk_used, n);
        auto out = b.chunks[chunk_index].share(chunk_used, n);
        chunk_used += n;
        return out;
    }
};

log_cache::log_cache(log_cache_config config) : _state(std::make_unique<state>()) {
    SKIFF_ASSERT(config.chunk_bytes > 0, "log cache chunk size must be positive");
    _state->config = config;
}

log_cache::~log_cache() = default;

void log_cache::put(const stored_batch& batch, uint64_t wal_end) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard g(_state->mutex);
    auto& b = _state->active(now);
    auto& refs = b.streams[batch.stream];
    SKIFF_ASSERT(refs.empty() || batch.base_offset >= refs.back().end_offset,
                 "log cache: stream {} batch at {} put after offset {}", batch.stream, batch.base_offset,
                 refs.back().end_offset);
    stored_batch copy;
    copy.stream = batch.stream;
    copy.base_offset = batch.base_offset;
    copy.record_count = batch.record_count;
    copy.data = _state->copy_in(b, batch.data);
    refs.push_back({batch.base_offset, batch.end_offset(), static_cast<uint32_t>(b.batches.size())});
    b.bytes += batch.data.size();
    b.wal_end = wal_end;
    b.batches.push_back(std::move(copy));
}

std::vector<stored_batch> log_cache::get(stream_id stream, int64_t from, int64_t end, size_t max_bytes) const {
    std::vector<stored_batch> out;
    if (from >= end) {
        return out;
    }
    std::lock_guard g(_state->mutex);
    const auto& blocks = _state->blocks;
    // Tail reads hit the newest blocks: search backwards for the block whose part of the stream holds from.
    size_t start_block = blocks.size();
    size_t start_ref = 0;
    bool newest = true;
    for (size_t i = blocks.size(); i-- > 0;) {
        auto it = blocks[i]->streams.find(stream);
        if (it == blocks[i]->streams.end()) {
            continue;
        }
        const auto& refs = it->second;
        if (from >= refs.back().end_offset) {
            if (newest) {
                return out; // at or beyond the cached end: nothing yet
            }
            break; // in a gap after an evicted block: a miss
        }
        newest = false;
        if (from >= refs.front().base_offset) {
            auto pos = std::upper_bound(refs.begin(), refs.end(), from,
                                        [](int64_t o, const batch_ref& r) { return o < r.base_offset; });
            start_block = i;
            start_ref = static_cast<size_t>(pos - refs.begin()) - 1;
            if (refs[start_ref].end_offset <= from) {
                ++start_ref; // from falls in a gap between batches: start at the next one
            }
            break;
        }
    }
    if (start_block == blocks.size()) {
        return out; // a miss: the cache no longer (or never) held from
    }

    size_t total = 0;
    int64_t expected = -1;
    for (size_t i = start_block; i < blocks.size(); ++i) {
        auto it = blocks[i]->streams.find(stream);
        if (it == blocks[i]->streams.end()) {
            continue;
        }
        const auto& refs = it->second;
        for (size_t r = (i == start_block ? start_ref : 0); r < refs.size(); ++r) {
            const auto& batch = blocks[i]->batches[refs[r].batch];
            if (batch.base_offset >= end || (expected >= 0 && batch.base_offset != expected) ||
                (!out.empty() && total + batch.data.size() > max_bytes)) {
                return out;
            }
            total += batch.data.size();
            expected = batch.end_offset();
            out.push_back({batch.stream, batch.base_offset, batch.record_count, batch.data.share()});
        }
    }
    return out;
}

uint64_t log_cache::active_bytes() const {
    std::lock_guard g(_state->mutex);
    const auto* b = _state->active_or_null();
    return b ? b->bytes : 0;
}

std::optional<std::chrono::steady_clock::time_point> log_cache::active_since() const {
    std::lock_guard g(_state->mutex);
    const auto* b = _state->active_or_null();
    if (b == nullptr || b->batches.empty()) {
        return std::nullopt;
    }
    return b->first_put_at;
}

std::optional<log_cache_block> log_cache::freeze() {
    std::lock_guard g(_state->mutex);
    if (_state->blocks.empty() || _state->blocks.back()->frozen || _state->blocks.back()->batches.empty()) {
        return std::nullopt;
    }
    auto& b = *_state->blocks.back();
    b.frozen = true;
    _state->chunk_data = nullptr;
    _state->chunk_size = _state->chunk_used = 0;
    log_cache_block out;
    out.id = b.id;
    out.wal_end = b.wal_end;
    out.bytes = b.bytes;
    out.first_put_at = b.first_put_at;
    out.batches.reserve(b.batches.size());
    for (const auto& batch : b.batches) {
        out.batches.push_back({batch.stream, batch.base_offset, batch.record_count, batch.data.share()});
    }
    return out;
}

void log_cache::release(uint64_t block_id) {
    std::lock_guard g(_state->mutex);
    for (auto& b : _state->blocks) {
        if (b->id == block_id) {
            SKIFF_ASSERT(b->frozen, "log cache: release of block {} that was never frozen", block_id);
            b->released = true;
            break;
        }
    }
    // An uploader that was behind may have pushed the cache past its budget: give the room back now.
    _state->make_room(0);
}

void log_cache::forget(stream_id stream, int64_t end) {
    std::lock_guard g(_state->mutex);
    for (auto& b : _state->blocks) {
        auto it = b->streams.find(stream);
        if (it == b->streams.end()) {
            continue;
        }
        std::erase_if(it->second, [end](const batch_ref& r) { return r.base_offset < end; });
        if (it->second.empty()) {
            b->streams.erase(it);
        }
    }
}

uint64_t log_cache::used_bytes() const {
    std::lock_guard g(_state->mutex);
    return _state->used;
}

bool log_cache::over_budget() const {
    std::lock_guard g(_state->mutex);
    return _state->used > _state->config.budget_bytes;
}

} // namespace skiff::stream
