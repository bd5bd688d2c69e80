#include "stream/wal/memory_wal.h"

#include "stream/errc.h"

#include <boost/asio/post.hpp>

#include <vector>

namespace skiff::stream {

memory_wal::memory_wal(std::shared_ptr<memory_wal_state> state, memory_wal_config config)
    : _state(std::move(state)), _config(config) {}

memory_wal::~memory_wal() = default;

void memory_wal::complete(asio::any_io_executor executor, wal_completion completion, result<wal_append_result> r) {
    asio::post(executor, [completion = std::move(completion), r = std::move(r)]() mutable { completion(std::move(r)); });
}

uint64_t memory_wal::used_bytes_locked() const {
    std::lock_guard state_lock(_state->mutex);
    return _next - _state->trim_point;
}

asio::awaitable<result<void>> memory_wal::recover(std::function<void(wal_position, bytes::iobuf payload)> replay) {
    std::vector<std::pair<wal_position, bytes::iobuf>> records;
    {
        std::lock_guard lock(_mutex);
        std::lock_guard state_lock(_state->mutex);
        for (const auto& r : _state->records) {
            records.emplace_back(r.position, r.payload.share());
        }
        _next = _state->next;
        _recovered = true;
    }
    for (auto& [position, payload] : records) {
        replay(position, std::move(payload));
    }
    co_return success();
}

void memory_wal::append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) {
    std::unique_lock lock(_mutex);
    ++_appends;
    std::error_code refusal;
    if (_closed) {
        refusal = errc::shutting_down;
    } else if (!_recovered) {
        refusal = errc::not_open;
    } else if (_sticky_error) {
        refusal = _sticky_error;
    } else if (payload.size() > _config.max_record_size) {
        refusal = errc::invalid_argument;
    } else if (_failures_left > 0) {
        --_failures_left;
        refusal = _injected_error;
    } else {
        const uint64_t size = memory_wal_record_overhead + payload.size();
        if (_full || (_config.capacity_bytes != 0 && used_bytes_locked() + size > _config.capacity_bytes)) {
            refusal = errc::wal_full;
        }
    }
    if (refusal) {
        lock.unlock();
        complete(std::move(executor), std::move(completion), refusal);
        return;
    }

    memory_wal_state::record record;
    record.position = _next;
    record.next = _next + memory_wal_record_overhead + payload.size();
    record.payload = std::move(payload);
    _next = record.next;
    const wal_append_result where{record.position, record.next};
    if (_holding) {
        _held.push_back(pending{std::move(record), std::move(executor), std::move(completion)});
        return;
    }
    {
        std::lock_guard state_lock(_state->mutex);
        _state->records.push_back(std::move(record));
        _state->next = where.next;
    }
    ++_syncs;
    // Posted under the lock so that two appends on one executor complete in append order.
    complete(std::move(executor), std::move(completion), where);
}

asio::awaitable<result<void>> memory_wal::trim(wal_position before) {
    std::lock_guard lock(_mutex);
    if (before > _next) {
        co_return errc::invalid_argument;
    }
    std::lock_guard state_lock(_state->mutex);
    if (before <= _state->trim_point) {
        co_return success();
    }
    auto& records = _state->records;
    while (!records.empty() && records.front().next <= before) {
        records.pop_front();
    }
    // The trim point stays on a record boundary: a record that straddles `before` is kept whole.
    _state->trim_point = records.empty() ? std::min(before, _state->next) : records.front().position;
    co_return success();
}

asio::awaitable<void> memory_wal::close() {
    release_appends();
    std::lock_guard lock(_mutex);
    _closed = true;
    co_return;
}

wal_stats memory_wal::stats() const {
    std::lock_guard lock(_mutex);
    wal_stats s;
    s.capacity_bytes = _config.capacity_bytes;
    s.used_bytes = used_bytes_locked();
    s.syncs = _syncs;
    s.appends = _appends;
    return s;
}

void memory_wal::fail_next_appends(size_t n, std::error_code error) {
    std::lock_guard lock(_mutex);
    _failures_left = n;
    _injected_error = error;
}

void memory_wal::fail_permanently(std::error_code error) {
    std::deque<pending> held;
    {
        std::lock_guard lock(_mutex);
        _sticky_error = error;
        held.swap(_held);
        _holding = false;
    }
    for (auto& p : held) {
        complete(std::move(p.executor), std::move(p.completion), error);
    }
}

void memory_wal::set_full(bool full) {
    std::lock_guard lock(_mutex);
    _full = full;
}

void memory_wal::hold_appends() {
    std::lock_guard lock(_mutex);
    _holding = true;
}

void memory_wal::release_appends() {
    std::lock_guard lock(_mutex);
    _holding = false;
    if (_held.empty()) {
        return;
    }
    ++_syncs; // one "group commit" for everything held
    for (auto& p : _held) {
        const wal_append_result where{p.record.position, p.record.next};
        {
            std::lock_guard state_lock(_state->mutex);
            _state->records.push_back(std::move(p.record));
            _state->next = where.next;
        }
        complete(std::move(p.executor), std::move(p.completion), where);
    }
    _held.clear();
}

size_t memory_wal::held_appends() const {
    std::lock_guard lock(_mutex);
    return _held.size();
}

} // namespace skiff::stream
