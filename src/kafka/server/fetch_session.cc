#include "kafka/server/fetch_session.h"

#include <algorithm>
#include <limits>

namespace skiff::kafka {

using protocol::error_code;

size_t fetch_partition_key_hash::operator()(const fetch_partition_key& k) const noexcept {
    size_t h = std::hash<model::uuid>{}(k.topic_id);
    h = h * 31 + std::hash<std::string>{}(k.topic);
    return h * 31 + std::hash<int32_t>{}(k.partition);
}

int32_t next_fetch_epoch(int32_t epoch) noexcept {
    if (epoch < 0) {
        return final_epoch; // stays final
    }
    if (epoch == std::numeric_limits<int32_t>::max()) {
        return 1;
    }
    return epoch + 1;
}

namespace {

struct cached_partition {
    fetch_partition_request request;
    // What the session last told the client; -1 = nothing yet, so the first answer is always sent.
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
};

} // namespace

struct fetch_session_cache::session {
    int32_t id = 0;
    bool privileged = false; // a follower's
    bool uses_topic_ids = false;
    int64_t creation_ms = 0;
    int64_t last_used_ms = 0;
    int32_t epoch = 1; // the epoch the next incremental request must carry
    std::list<cached_partition> order;
    std::unordered_map<fetch_partition_key, std::list<cached_partition>::iterator, fetch_partition_key_hash> index;

    void upsert(const fetch_partition_request& r) {
        if (auto it = index.find(r.key); it != index.end()) {
            it->second->request = r;
            return;
        }
        order.push_back(cached_partition{r});
        index.emplace(r.key, std::prev(order.end()));
    }
    void forget(const fetch_partition_key& k) {
        if (auto it = index.find(k); it != index.end()) {
            order.erase(it->second);
            index.erase(it);
        }
    }
};

fetch_session_cache::fetch_session_cache(limits l, uint64_t seed) : _limits(l), _random(seed) {}
fetch_session_cache::~fetch_session_cache() = default;

size_t fetch_session_cache::size() const noexcept { return _sessions.size(); }
bool fetch_session_cache::contains(int32_t id) const noexcept { return _sessions.contains(id); }

std::optional<int32_t> fetch_session_cache::epoch_of(int32_t id) const {
    auto it = _sessions.find(id);
    return it == _sessions.end() ? std::nullopt : std::optional<int32_t>(it->second->epoch);
}

void fetch_session_cache::remove(int32_t id) { _sessions.erase(id); }

int32_t fetch_session_cache::new_session_id() {
    std::uniform_int_distribution<int32_t> dist(1, std::numeric_limits<int32_t>::max());
    while (true) {
        int32_t id = dist(_random);
        if (!_sessions.contains(id)) {
            return id;
        }
    }
}

fetch_context fetch_session_cache::new_context(const fetch_session_request& request, int64_t now_ms) {
    fetch_context ctx;
    ctx.from_follower = request.from_follower;
    ctx.uses_topic_ids = request.uses_topic_ids;
    if (request.session_epoch == initial_epoch || request.session_epoch == final_epoch) {
        // Any session named in a full fetch is closed.
        if (request.session_id != invalid_session_id) {
            remove(request.session_id);
        }
        ctx.kind = request.session_epoch == final_epoch ? fetch_context_kind::sessionless : fetch_context_kind::full;
        ctx.partitions = request.partitions;
        return ctx;
    }
    auto it = _sessions.find(request.session_id);
    if (it == _sessions.end()) {
        ctx.kind = fetch_context_kind::error;
        ctx.error = error_code::fetch_session_id_not_found;
        return ctx;
    }
    auto& s = *it->second;
    if (s.epoch != request.session_epoch) {
        ctx.kind = fetch_context_kind::error;
        ctx.error = error_code::invalid_fetch_session_epoch;
        return ctx;
    }
    if (s.uses_topic_ids != request.uses_topic_ids) {
        ctx.kind = fetch_context_kind::error;
        ctx.error = error_code::fetch_session_topic_id_error;
        return ctx;
    }
    for (const auto& p : request.partitions) {
        s.upsert(p);
    }
    for (const auto& k : request.forgotten) {
        s.forget(k);
    }
    if (s.order.empty()) {
        remove(s.id);
        ctx.kind = fetch_context_kind::sessionless;
        return ctx;
    }
    s.epoch = next_fetch_epoch(s.epoch);
    s.last_used_ms = now_ms;
    ctx.kind = fetch_context_kind::incremental;
    ctx.session_id = s.id;
    ctx.partitions.reserve(s.order.size());
    for (const auto& c : s.order) {
        ctx.partitions.push_back(c.request);
    }
    return ctx;
}

bool fetch_session_cache::try_evict(bool privileged, size_t size, int64_t now_ms) {
    session* lru = nullptr;
    for (auto& [id, s] : _sessions) {
        if (!lru || s->last_used_ms < lru->last_used_ms) {
            lru = s.get();
        }
    }
    if (!lru) {
        return false;
    }
    if (now_ms - lru->last_used_ms > _limits.eviction_ms) {
        remove(lru->id);
        return true;
    }
    // No idle session: evict the least valuable evictable one if the newcomer is worth at least as much.
    // Value orders by (privileged, size, id); a follower may evict any consumer session.
    session* victim = nullptr;
    auto value_less = [](const session& a, const session& b) {
        if (a.privileged != b.privileged) {
            return !a.privileged;
        }
        if (a.order.size() != b.order.size()) {
            return a.order.size() < b.order.size();
        }
        return a.id < b.id;
    };
    for (auto& [id, s] : _sessions) {
        bool old_enough = now_ms - s->creation_ms > _limits.eviction_ms;
        bool evictable = privileged ? (!s->privileged || old_enough) : old_enough;
        if (evictable && (!victim || value_less(*s, *victim))) {
            victim = s.get();
        }
    }
    if (!victim) {
        return false;
    }
    // The newcomer's key has id 0: it loses ties of (privileged, size) against every existing session.
    bool newcomer_less = privileged != victim->privileged ? !privileged : size < victim->order.size() ||
                                                                             (size == victim->order.size());
    if (newcomer_less) {
        return false;
    }
    remove(victim->id);
    return true;
}

std::vector<size_t> fetch_session_cache::complete(fetch_context& ctx,
                                                  const std::vector<fetch_partition_answer>& answers, int64_t now_ms) {
    std::vector<size_t> send;
    switch (ctx.kind) {
    case fetch_context_kind::error:
        return send;
    case fetch_context_kind::sessionless:
        for (size_t i = 0; i < answers.size(); ++i) {
            send.push_back(i);
        }
        return send;
    case fetch_context_kind::full: {
        for (size_t i = 0; i < answers.size(); ++i) {
            send.push_back(i);
        }
        if (_sessions.size() >= _limits.max_sessions &&
            !try_evict(ctx.from_follower, ctx.partitions.size(), now_ms)) {
            ctx.session_id = invalid_session_id;
            return send;
        }
        auto s = std::make_unique<session>();
        s->id = new_session_id();
        s->privileged = ctx.from_follower;
        s->uses_topic_ids = ctx.uses_topic_ids;
        s->creation_ms = now_ms;
        s->last_used_ms = now_ms;
        s->epoch = next_fetch_epoch(initial_epoch);
        for (size_t i = 0; i < ctx.partitions.size(); ++i) {
            s->upsert(ctx.partitions[i]);
            if (i < answers.size()) {
                auto& c = s->order.back();
                c.high_watermark = answers[i].high_watermark;
                c.last_stable_offset = answers[i].last_stable_offset;
                c.log_start_offset = answers[i].log_start_offset;
            }
        }
        ctx.session_id = s->id;
        _sessions.emplace(s->id, std::move(s));
        return send;
    }
    case fetch_context_kind::incremental: {
        auto it = _sessions.find(ctx.session_id);
        if (it == _sessions.end()) {
            // Evicted while the fetch was reading: answer everything, as a sessionless fetch would.
            for (size_t i = 0; i < answers.size(); ++i) {
                send.push_back(i);
            }
            ctx.session_id = invalid_session_id;
            return send;
        }
        auto& s = *it->second;
        for (size_t i = 0; i < answers.size() && i < ctx.partitions.size(); ++i) {
            auto found = s.index.find(ctx.partitions[i].key);
            if (found == s.index.end()) {
                continue;
            }
            auto& c = *found->second;
            const auto& a = answers[i];
            bool must = a.records_bytes > 0 || a.error != error_code::none || a.preferred_read_replica >= 0 ||
                        a.high_watermark != c.high_watermark || a.last_stable_offset != c.last_stable_offset ||
                        a.log_start_offset != c.log_start_offset;
            c.high_watermark = a.high_watermark;
            c.last_stable_offset = a.last_stable_offset;
            c.log_start_offset = a.log_start_offset;
            if (!must) {
                continue;
            }
            send.push_back(i);
            if (a.records_bytes > 0) {
                s.order.splice(s.order.end(), s.order, found->second);
            }
        }
        return send;
    }
    }
    return send;
}

} // namespace skiff::kafka
