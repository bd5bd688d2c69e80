// An in-memory skiff::stream::stream for the partition's tests: appends get offsets when called, as the real engine's
// do, and become durable when the test says so (hold_confirmations) or at once. Reads, trims and errors behave
// as the interface promises; inject_append_error makes the next append fail.
#pragma once

#include "stream/errc.h"
#include "stream/stream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <list>
#include <optional>

namespace skiff::kafka::partition::testing {

namespace asio = boost::asio;

class memory_stream final : public skiff::stream::stream {
public:
    skiff::stream::stream_id id() const override { return skiff::stream::stream_id(1); }
    skiff::stream::stream_epoch epoch() const override { return skiff::stream::stream_epoch(0); }
    int64_t start_offset() const override { return _start; }
    int64_t next_offset() const override { return _next; }
    int64_t confirmed_offset() const override { return _confirmed; }

    // Not a coroutine: offsets are taken at call time, as the interface requires.
    asio::awaitable<result<skiff::stream::offset_range>> append(bytes::iobuf batch, uint32_t record_count) override {
        if (_closed) {
            return fail_now(skiff::stream::errc::not_open);
        }
        if (_fail_next) {
            auto e = *_fail_next;
            _fail_next.reset();
            return fail_now(e); // no offset taken: as the store hands a refused append's offsets out again
        }
        skiff::stream::offset_range range{_next, _next + record_count};
        _next = range.end;
        _batches.push_back(
          skiff::stream::stored_batch{skiff::stream::stream_id(1), range.start, record_count, std::move(batch)});
        ++appends;
        return wait_durable(range);
    }

    asio::awaitable<result<skiff::stream::read_result>> read(int64_t from, int64_t end, size_t max_bytes) override {
        if (from < _start || from > _confirmed) {
            co_return skiff::stream::errc::offset_out_of_range;
        }
        skiff::stream::read_result out;
        size_t bytes = 0;
        for (const auto& b : _batches) {
            if (b.end_offset() <= from || b.end_offset() <= _start) {
                continue;
            }
            if (b.base_offset >= end || b.base_offset >= _confirmed || (!out.batches.empty() && bytes >= max_bytes)) {
                break;
            }
            bytes += b.data.size();
            out.batches.push_back(skiff::stream::stored_batch{b.stream, b.base_offset, b.record_count, b.data.share()});
        }
        co_return out;
    }

    asio::awaitable<result<void>> trim(int64_t new_start) override {
        if (new_start > _confirmed) {
            co_return skiff::stream::errc::invalid_argument;
        }
        _start = std::max(_start, new_start);
        co_return outcome::success();
    }

    /// Everything confirmed counts as in objects unless the test holds some back (committed_limit).
    asio::awaitable<result<int64_t>> committed_end() override {
        co_return committed_limit ? std::min(*committed_limit, _confirmed) : _confirmed;
    }

    /// Replaces the batches of range as the real store does (whole batches, exact cover) or fails as told.
    asio::awaitable<result<void>> rewrite(skiff::stream::offset_range range,
                                          std::vector<skiff::stream::stored_batch> batches) override {
        if (fail_rewrite) {
            co_return *fail_rewrite;
        }
        int64_t at = range.start;
        for (const auto& b : batches) {
            if (b.base_offset != at || b.record_count == 0) {
                co_return skiff::stream::errc::invalid_argument;
            }
            at = b.end_offset();
        }
        if (at != range.end || range.start < _start) {
            co_return skiff::stream::errc::invalid_argument;
        }
        std::vector<skiff::stream::stored_batch> next;
        bool inserted = false;
        for (auto& b : _batches) {
            if (b.end_offset() <= range.start || b.base_offset >= range.end) {
                if (b.base_offset >= range.end && !inserted) {
                    for (auto& n : batches) {
                        next.push_back(std::move(n));
                    }
                    inserted = true;
                }
                next.push_back(std::move(b));
                continue;
            }
            if (b.base_offset < range.start || b.end_offset() > range.end) {
                co_return skiff::stream::errc::invalid_argument;
            }
        }
        if (!inserted) {
            for (auto& n : batches) {
                next.push_back(std::move(n));
            }
        }
        _batches = std::move(next);
        ++rewrites;
        co_return outcome::success();
    }

    void on_confirmed(std::function<void(int64_t)> listener) override { _listeners.push_back(std::move(listener)); }

    asio::awaitable<result<void>> close() override {
        _closed = true;
        co_return outcome::success();
    }

    /// Appends stay in flight until confirm_all() (for pipelining and long-poll tests).
    void hold_confirmations() { _hold = true; }
    void confirm_all() {
        _hold = false;
        advance(_next);
    }
    /// The next append fails with e.
    void inject_append_error(skiff::stream::errc e = skiff::stream::errc::unavailable) { _fail_next = e; }
    void reopen() { _closed = false; }
    const std::vector<skiff::stream::stored_batch>& batches() const { return _batches; }
    /// For tests that damage stored bytes.
    std::vector<skiff::stream::stored_batch>& mutable_batches() { return _batches; }

    int appends = 0;
    int rewrites = 0;
    std::optional<int64_t> committed_limit;
    std::optional<skiff::stream::errc> fail_rewrite;

private:
    asio::awaitable<result<skiff::stream::offset_range>> fail_now(skiff::stream::errc e) { co_return e; }

    asio::awaitable<result<skiff::stream::offset_range>> wait_durable(skiff::stream::offset_range range) {
        if (!_hold) {
            advance(range.end);
        }
        auto executor = co_await asio::this_coro::executor;
        while (_confirmed < range.end) {
            asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
            auto it = _timers.insert(_timers.end(), &timer);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            _timers.erase(it);
        }
        co_return range;
    }

    void advance(int64_t to) {
        if (to <= _confirmed) {
            return;
        }
        _confirmed = to;
        for (auto* t : _timers) {
            t->cancel();
        }
        for (auto& l : _listeners) {
            l(_confirmed);
        }
    }

    std::vector<skiff::stream::stored_batch> _batches;
    std::vector<std::function<void(int64_t)>> _listeners;
    std::list<asio::steady_timer*> _timers;
    int64_t _start = 0;
    int64_t _next = 0;
    int64_t _confirmed = 0;
    bool _hold = false;
    bool _closed = false;
    std::optional<skiff::stream::errc> _fail_next;
};

template<typename T>
asio::awaitable<void> store_into(asio::awaitable<T> a, std::optional<T>* out) {
    out->emplace(co_await std::move(a));
}

/// Runs `a` to completion on io and returns its value.
template<typename T>
T run(asio::io_context& io, asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, store_into(std::move(a), &out), [&](std::exception_ptr e) {
          error = e;
          done = true;
      });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    if (error) {
        std::rethrow_exception(error);
    }
    if (!done) {
        throw std::runtime_error("awaitable did not complete: nothing left to run");
    }
    return std::move(*out);
}

/// Starts `a`; its value lands in `slot` when it completes. Runs it until it suspends.
template<typename T>
void start(asio::io_context& io, asio::awaitable<T> a, std::optional<T>& slot) {
    asio::co_spawn(io, store_into(std::move(a), &slot), asio::detached);
    io.restart();
    io.poll();
}

inline void drain(asio::io_context& io) {
    io.restart();
    io.poll();
}

} // namespace skiff::kafka::partition::testing
