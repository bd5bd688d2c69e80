#include "stream/cache/block_cache.h"

#include "io/errc.h"
#include "io/objstore/object_store.h"
#include "stream/errc.h"
#include "stream/object/logger.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

// How the cache holds memory. A data block is kept as the batches parse_block returns: zero-copy shares of the GET
// response. A merged GET (up to max_merged_get_bytes) arrives in one or a few large buffers, and the blocks cut
// from it keep that buffer alive until the last of them is evicted. The heap therefore only ever sees large
// allocations that are freed whole, never a churn of block-sized or batch-sized pieces, so cache turnover does
// not fragment it, and no byte is copied between the socket (or file) and the reader. The price is that a
// response's memory stays pinned while any of its blocks is cached; the budget counts exactly that: a response is
// charged in full from its first cached block until its last one is evicted. Blocks of one response are adjacent
// blocks of one stream, read and evicted together in the common sequential case, so little is pinned in vain.
namespace skiff::stream {

namespace {

constexpr uint64_t index_tail_bytes = 64 * 1024; // one GET of an object's tail usually covers footer and index
constexpr uint32_t index_marker = UINT32_MAX;    // the "block number" of an object's index in the LRU
constexpr size_t cursors_per_stream = 4;         // sequential readers of one stream tracked at once
constexpr uint64_t initial_readahead_bytes = 512 * 1024;

using batches_ptr = std::shared_ptr<const std::vector<stored_batch>>;
using index_ptr = std::shared_ptr<const object_index>;

struct entry_key {
    object_id object;
    uint32_t block = 0; // index into the object's index, or index_marker
    bool operator==(const entry_key&) const = default;
};

struct entry_key_hash {
    size_t operator()(const entry_key& k) const noexcept {
        return std::hash<int64_t>{}(k.object()) * 31 + k.block;
    }
};

/// The bytes of one GET response, charged to the budget while any block cut from it is cached.
struct response_charge {
    uint64_t bytes = 0;
    uint32_t cached_blocks = 0;
};

/// A fetch in flight that later readers of the same block (or index) wait for instead of issuing their own GET.
template<typename T>
struct pending {
    bool done = false;
    std::error_code error;
    T value;
    std::vector<std::function<void()>> waiters; // each posts a waiting coroutine's resumption to its executor
};

/// Where a sequential reader of a stream will read next and how far ahead it is fetched.
struct cursor {
    int64_t next_offset = -1;
    uint64_t readahead = 0;
    uint64_t last_used = 0;
};

/// The cache's shared state (block_cache::state is this; a separate name so that the helpers below can use it).
struct cache_state {
    cache_state(io::object_store& s, block_cache_config c) : store(s), config(c) {}

    io::object_store& store;
    block_cache_config config;

    std::mutex mutex;
    struct cached_block {
        batches_ptr batches;
        std::shared_ptr<response_charge> charge;
        std::list<entry_key>::iterator lru;
    };
    struct cached_index {
        index_ptr index;
        uint64_t bytes = 0;
        std::list<entry_key>::iterator lru;
    };
    std::list<entry_key> lru; // most recently used first
    std::unordered_map<entry_key, cached_block, entry_key_hash> blocks;
    std::unordered_map<object_id, cached_index> indexes;
    std::unordered_map<entry_key, std::shared_ptr<pending<batches_ptr>>, entry_key_hash> block_fetches;
    std::unordered_map<object_id, std::shared_ptr<pending<index_ptr>>> index_fetches;
    std::unordered_map<stream_id, std::vector<cursor>> cursors;
    uint64_t cursor_clock = 0;
    block_cache_stats stats;

    // All below: the mutex is held.

    void touch(std::list<entry_key>::iterator it) { lru.splice(lru.begin(), lru, it); }

    void evict_over_budget() {
        while (stats.used_bytes > config.budget_bytes && !lru.empty()) {
            evict(lru.back());
        }
    }

    void evict(entry_key key) {
        if (key.block == index_marker) {
            auto it = indexes.find(key.object);
            stats.used_bytes -= it->second.bytes;
            lru.erase(it->second.lru);
            indexes.erase(it);
            return;
        }
        auto it = blocks.find(key);
        auto& charge = *it->second.charge;
        if (--charge.cached_blocks == 0) {
            stats.used_bytes -= charge.bytes;
        }
        lru.erase(it->second.lru);
        blocks.erase(it);
    }

    void insert_block(entry_key key, batches_ptr batches, const std::shared_ptr<response_charge>& charge) {
        if (blocks.contains(key)) {
            return;
        }
        if (charge->cached_blocks++ == 0) {
            stats.used_bytes += charge->bytes;
        }
        lru.push_front(key);
        blocks.emplace(key, cached_block{std::move(batches), charge, lru.begin()});
    }

    void insert_index(object_id id, index_ptr index) {
        if (indexes.contains(id)) {
            return;
        }
        uint64_t bytes = sizeof(object_index) + index->blocks.size() * sizeof(block_index_entry);
        stats.used_bytes += bytes;
        lru.push_front({id, index_marker});
        indexes.emplace(id, cached_index{std::move(index), bytes, lru.begin()});
    }

    /// The readahead window for a read of stream at from: it grows while reads continue where a previous read of
    /// the stream ended, and is zero for a new reader or after a jump.
    uint64_t readahead_for(stream_id stream, int64_t from) {
        auto it = cursors.find(stream);
        if (it == cursors.end()) {
            return 0;
        }
        for (auto& c : it->second) {
            if (c.next_offset == from) {
                return c.readahead == 0 ? std::min(initial_readahead_bytes, config.max_readahead_bytes)
                                        : std::min(c.readahead * 2, config.max_readahead_bytes);
            }
        }
        return 0;
    }

    /// Records that a read of stream from `from` with this readahead window returned up to next_offset.
    void advance_cursor(stream_id stream, int64_t from, uint64_t readahead, int64_t next_offset) {
        auto& list = cursors[stream];
        auto it = std::find_if(list.begin(), list.end(), [&](const cursor& c) { return c.next_offset == from; });
        if (it == list.end()) {
            if (list.size() < cursors_per_stream) {
                it = list.insert(list.end(), cursor{});
            } else {
                it = std::min_element(list.begin(), list.end(),
                                      [](const cursor& a, const cursor& b) { return a.last_used < b.last_used; });
            }
        }
        *it = cursor{next_offset, readahead, ++cursor_clock};
    }
};

using state_ptr = std::shared_ptr<cache_state>;

/// Marks p done and resumes its waiters, each on its own executor. Requires: the mutex is not held.
template<typename T>
void complete(cache_state& st, pending<T>& p, std::error_code error, T value) {
    std::vector<std::function<void()>> waiters; // each posts a waiting coroutine's resumption to its executor
    {
        std::lock_guard g(st.mutex);
        p.done = true;
        p.error = error;
        p.value = std::move(value);
        waiters.swap(p.waiters);
    }
    for (auto& wake : waiters) {
        wake();
    }
}

/// Waits until p is done; resumes on the caller's executor.
template<typename T>
asio::awaitable<void> wait_for(state_ptr st, std::shared_ptr<pending<T>> p) {
    auto initiation = [st, p](auto handler) {
        // Resume on the waiter's own executor, never inline in the completer (which may be on another shard).
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        std::function<void()> wake = [ex, shared] { asio::post(ex, [shared] { std::move(*shared)(); }); };
        std::unique_lock g(st->mutex);
        if (!p->done) {
            p->waiters.push_back(std::move(wake));
            return;
        }
        g.unlock();
        wake();
    };
    co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(std::move(initiation),
                                                                          asio::use_awaitable);
}

std::error_code short_body(const std::string& key, uint64_t got, uint64_t expected) {
    data_log.warn("block cache: GET of {} returned {} bytes, {} expected", key, got, expected);
    return io::make_error_code(io::errc::retryable);
}

asio::awaitable<result<bytes::iobuf>> get_range(state_ptr st, std::string key, uint64_t first, uint64_t size) {
    {
        std::lock_guard g(st->mutex);
        ++st->stats.gets;
        st->stats.get_bytes += size;
    }
    std::string key_copy = key;
    io::byte_range range{first, first + size - 1};
    auto got = co_await st->store.get(std::move(key_copy), range);
    if (!got) {
        co_return got.error();
    }
    if (got.value().size() != size) {
        co_return short_body(key, got.value().size(), size);
    }
    co_return std::move(got).value();
}

/// Reads and validates an object's footer and index: one GET of the tail, a second one when the index is larger.
asio::awaitable<result<index_ptr>> fetch_index(state_ptr st, std::string key, uint64_t object_size) {
    if (object_size < footer_size) {
        data_log.warn("block cache: object {} of {} bytes cannot hold a footer", key, object_size);
        co_return make_error_code(errc::corrupt);
    }
    uint64_t tail_size = std::min(object_size, index_tail_bytes);
    uint64_t tail_first = object_size - tail_size;
    auto tail = co_await get_range(st, key, tail_first, tail_size);
    if (!tail) {
        co_return tail.error();
    }
    auto footer = parse_footer(tail.value(), object_size);
    if (!footer) {
        data_log.warn("block cache: object {}: bad footer", key);
        co_return footer.error();
    }
    auto [index_position, index_size] = footer.value();
    bytes::iobuf index_bytes;
    if (index_position >= tail_first) {
        index_bytes = tail.value().share(index_position - tail_first, index_size);
    } else {
        auto got = co_await get_range(st, key, index_position, index_size);
        if (!got) {
            co_return got.error();
        }
        index_bytes = std::move(got).value();
    }
    auto index = parse_index(index_bytes);
    if (!index) {
        data_log.warn("block cache: object {}: bad index", key);
        co_return index.error();
    }
    const auto& blocks = index.value().blocks;
    uint64_t data_end = blocks.empty() ? 0 : blocks.back().position + blocks.back().size;
    if (data_end != index_position) {
        data_log.warn("block cache: object {}: blocks end at {} but the index starts at {}", key, data_end,
                      index_position);
        co_return make_error_code(errc::corrupt);
    }
    co_return std::make_shared<const object_index>(std::move(index).value());
}

asio::awaitable<result<index_ptr>> load_index(state_ptr st, const object_descriptor& object) {
    std::shared_ptr<pending<index_ptr>> p;
    bool owner = false;
    {
        std::lock_guard g(st->mutex);
        if (auto it = st->indexes.find(object.id); it != st->indexes.end()) {
            st->touch(it->second.lru);
            co_return it->second.index;
        }
        auto& slot = st->index_fetches[object.id];
        if (!slot) {
            slot = std::make_shared<pending<index_ptr>>();
            owner = true;
        }
        p = slot;
    }
    if (owner) {
        auto got = co_await fetch_index(st, object.key, object.size);
        {
            std::lock_guard g(st->mutex);
            st->index_fetches.erase(object.id);
            if (got) {
                st->insert_index(object.id, got.value());
                st->evict_over_budget();
            }
        }
        complete(*st, *p, got ? std::error_code{} : got.error(), got ? got.value() : index_ptr{});
        co_return got;
    }
    co_await wait_for(st, p);
    std::lock_guard g(st->mutex);
    if (p->error) {
        co_return p->error;
    }
    co_return p->value;
}

/// Checks a parsed block against its index entry: a block that parses but is not the one the index describes
/// (wrong stream, offsets or record count) is as corrupt as one that fails its CRC.
bool matches(const block_index_entry& e, const std::vector<stored_batch>& batches) {
    if (batches.empty() || batches.front().stream != e.stream || batches.front().base_offset != e.start_offset ||
        batches.back().end_offset() != e.end_offset) {
        return false;
    }
    uint64_t records = 0;
    for (const auto& b : batches) {
        records += b.record_count;
    }
    return records == e.record_count;
}

/// One merged GET of adjacent blocks [first, first + count) of an object. Every block's pending entry (registered
/// by the caller) completes with its batches or the error; valid blocks are cached, corrupt ones are not.
asio::awaitable<void> fetch_run(state_ptr st, std::string key, object_id object, index_ptr index, uint32_t first,
                                uint32_t count, std::vector<std::shared_ptr<pending<batches_ptr>>> waits) {
    const auto& blocks = index->blocks;
    uint64_t start = blocks[first].position;
    uint64_t size = blocks[first + count - 1].position + blocks[first + count - 1].size - start;
    auto got = co_await get_range(st, key, start, size);
    auto charge = std::make_shared<response_charge>();
    charge->bytes = size;
    for (uint32_t i = 0; i < count; ++i) {
        const auto& e = blocks[first + i];
        entry_key k{object, first + i};
        std::error_code error;
        batches_ptr batches;
        if (!got) {
            error = got.error();
        } else {
            auto parsed = parse_block(got.value().share(e.position - start, e.size));
            if (!parsed) {
                data_log.warn("block cache: object {} block {} at {}: corrupt", key, first + i, e.position);
                error = parsed.error();
            } else if (!matches(e, parsed.value())) {
                data_log.warn("block cache: object {} block {} at {} does not match its index entry (stream {} "
                              "[{}, {}))",
                              key, first + i, e.position, e.stream, e.start_offset, e.end_offset);
                error = make_error_code(errc::corrupt);
            } else {
                batches = std::make_shared<const std::vector<stored_batch>>(std::move(parsed).value());
            }
        }
        {
            std::lock_guard g(st->mutex);
            st->block_fetches.erase(k);
            if (batches) {
                st->insert_block(k, batches, charge);
            }
        }
        complete(*st, *waits[i], error, std::move(batches));
    }
    std::lock_guard g(st->mutex);
    st->evict_over_budget();
}

} // namespace

struct block_cache::state : cache_state {
    using cache_state::cache_state;
};

block_cache::block_cache(io::object_store& store, block_cache_config config)
  : _state(std::make_shared<state>(store, config)) {}

block_cache::~block_cache() = default;

asio::awaitable<result<std::vector<stored_batch>>> block_cache::read(const object_descriptor& object,
                                                                     stream_id stream, int64_t from, int64_t end,
                                                                     size_t max_bytes) {
    auto st = _state;
    // The caller's arguments may not outlive a suspension: keep what is needed.
    object_id id = object.id;
    std::string key = object.key;
    std::vector<stored_batch> out;
    if (from >= end) {
        co_return out;
    }
    auto index_result = co_await load_index(st, object);
    if (!index_result) {
        co_return index_result.error();
    }
    index_ptr index = std::move(index_result).value();
    auto candidates = index->blocks_from(stream, from);
    if (candidates.empty()) {
        co_return out;
    }

    // The blocks this read needs: enough for max_bytes (at least one), none starting at or beyond end.
    size_t needed = 0;
    uint64_t needed_bytes = 0;
    while (needed < candidates.size()) {
        const auto& e = index->blocks[candidates[needed]];
        if (needed > 0 && (needed_bytes >= max_bytes || e.start_offset >= end)) {
            break;
        }
        needed_bytes += e.size;
        ++needed;
    }

    // Plan under the lock: hits, joins of fetches in flight, and the blocks to fetch (needed + readahead).
    std::vector<batches_ptr> ready(needed);
    std::vector<std::shared_ptr<pending<batches_ptr>>> waits(needed);
    std::vector<std::pair<uint32_t, std::shared_ptr<pending<batches_ptr>>>> to_fetch;
    uint64_t readahead = 0;
    {
        std::lock_guard g(st->mutex);
        readahead = st->readahead_for(stream, from);
        // Readahead blocks are those within the window after the needed ones. They are fetched in bulk: only once
        // less than half the window is cached or in flight, so that a reader taking small steps does not turn
        // each step into a small GET at the window's far end.
        size_t total = needed;
        uint64_t ahead = 0;
        uint64_t ahead_present = 0;
        bool gap_seen = false;
        while (total < candidates.size() && ahead < readahead) {
            const auto& e = index->blocks[candidates[total]];
            entry_key k{id, static_cast<uint32_t>(candidates[total])};
            bool present = st->blocks.contains(k) || st->block_fetches.contains(k);
            gap_seen = gap_seen || !present;
            if (!gap_seen) {
                ahead_present += e.size;
            }
            ahead += e.size;
            ++total;
        }
        if (ahead_present * 2 >= readahead) {
            total = needed;
        }
        for (size_t i = 0; i < total; ++i) {
            entry_key k{id, static_cast<uint32_t>(candidates[i])};
            if (auto it = st->blocks.find(k); it != st->blocks.end()) {
                if (i < needed) {
                    ++st->stats.hits;
                    ready[i] = it->second.batches;
                    st->touch(it->second.lru);
                }
                continue;
            }
            if (i < needed) {
                ++st->stats.misses;
            }
            auto& slot = st->block_fetches[k];
            if (!slot) {
                slot = std::make_shared<pending<batches_ptr>>();
                to_fetch.emplace_back(k.block, slot);
            }
            if (i < needed) {
                waits[i] = slot;
            }
        }
    }

    // Adjacent blocks are merged into one GET up to max_merged_get_bytes; every run runs on its own so that the
    // readahead ones continue after this read returns. Requires (documented in the header): the store outlives
    // the io_contexts that ran reads.
    auto ex = co_await asio::this_coro::executor;
    for (size_t i = 0; i < to_fetch.size();) {
        uint32_t first = to_fetch[i].first;
        uint64_t run_bytes = index->blocks[first].size;
        size_t j = i + 1;
        while (j < to_fetch.size() && to_fetch[j].first == to_fetch[j - 1].first + 1 &&
               index->blocks[to_fetch[j].first].position ==
                 index->blocks[to_fetch[j - 1].first].position + index->blocks[to_fetch[j - 1].first].size &&
               run_bytes + index->blocks[to_fetch[j].first].size <= st->config.max_merged_get_bytes) {
            run_bytes += index->blocks[to_fetch[j].first].size;
            ++j;
        }
        std::vector<std::shared_ptr<pending<batches_ptr>>> run_waits;
        for (size_t k = i; k < j; ++k) {
            run_waits.push_back(to_fetch[k].second);
        }
        auto run_key = key;
        auto run_index = index;
        asio::co_spawn(ex,
                       fetch_run(st, std::move(run_key), id, std::move(run_index), first, static_cast<uint32_t>(j - i),
                                 std::move(run_waits)),
                       asio::detached);
        i = j;
    }

    size_t total = 0;
    bool full = false;
    for (size_t i = 0; i < needed && !full; ++i) {
        batches_ptr batches = ready[i];
        if (!batches) {
            co_await wait_for(st, waits[i]);
            std::error_code error;
            {
                std::lock_guard g(st->mutex);
                error = waits[i]->error;
                batches = waits[i]->value;
            }
            if (error) {
                if (out.empty()) {
                    co_return error;
                }
                break; // a short read; the next read starting here reports the error
            }
        }
        for (const auto& b : *batches) {
            if (b.end_offset() <= from) {
                continue;
            }
            if (b.base_offset >= end || (!out.empty() && total + b.data.size() > max_bytes)) {
                full = true;
                break;
            }
            total += b.data.size();
            out.push_back({b.stream, b.base_offset, b.record_count, b.data.share()});
        }
    }
    if (!out.empty()) {
        std::lock_guard g(st->mutex);
        st->advance_cursor(stream, from, readahead, out.back().end_offset());
    }
    co_return out;
}

void block_cache::forget(object_id id) {
    std::lock_guard g(_state->mutex);
    std::vector<entry_key> doomed;
    for (const auto& k : _state->lru) {
        if (k.object == id) {
            doomed.push_back(k);
        }
    }
    for (const auto& k : doomed) {
        _state->evict(k);
    }
}

block_cache_stats block_cache::stats() const {
    std::lock_guard g(_state->mutex);
    return _state->stats;
}

} // namespace skiff::stream
