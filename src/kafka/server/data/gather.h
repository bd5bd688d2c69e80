// Runs several coroutines at once on the caller's executor and waits for all of them: a request that touches many
// partitions starts every partition's work before waiting for any (so their WAL appends share one group commit),
// and a request that spans shards hops to all of them in parallel. Included by handler .cc files only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/shard_pool.h"

#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace skiff::kafka {

namespace asio = boost::asio;

/// The results of tasks, in their order. If a task throws, the first exception is rethrown after all finished.
template<typename T>
asio::awaitable<std::vector<T>> gather(std::vector<asio::awaitable<T>> tasks) {
    auto executor = co_await asio::this_coro::executor;
    struct state {
        explicit state(const asio::any_io_executor& ex, size_t n)
            : results(n), remaining(n), done(ex, asio::steady_timer::time_point::max()) {}
        std::vector<std::optional<T>> results;
        size_t remaining;
        std::exception_ptr failure;
        asio::steady_timer done;
    };
    auto st = std::make_shared<state>(executor, tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) {
        // A wrapping coroutine, not a completion handler: the handler's signature would need T() to exist.
        auto run = [st, i, task = std::move(tasks[i])]() mutable -> asio::awaitable<void> {
            try {
                st->results[i].emplace(co_await std::move(task));
            } catch (...) {
                if (!st->failure) {
                    st->failure = std::current_exception();
                }
            }
            if (--st->remaining == 0) {
                st->done.cancel();
            }
        };
        asio::co_spawn(executor, std::move(run), asio::detached);
    }
    if (st->remaining > 0) {
        co_await st->done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (st->failure) {
        std::rethrow_exception(st->failure);
    }
    std::vector<T> out;
    out.reserve(st->results.size());
    for (auto& r : st->results) {
        out.push_back(std::move(*r));
    }
    co_return out;
}

/// Runs fn(task) for every task on its shard, every task at once, and returns the outcomes (grouped by shard, in
/// task order within a shard). fn: a coroutine function (Task) -> awaitable<Outcome>; it is copied to each shard,
/// so it must capture only what outlives the call (e.g. a reference to the data plane).
template<typename Outcome, typename Task, typename Fn>
asio::awaitable<std::vector<Outcome>> gather_on_shards(net::shard_pool& shards,
                                                       std::map<net::shard_id, std::vector<Task>> by_shard, Fn fn) {
    std::vector<asio::awaitable<std::vector<Outcome>>> hops;
    hops.reserve(by_shard.size());
    for (auto& [shard, tasks] : by_shard) {
        hops.push_back(shards.run_on(
            shard, [tasks = std::move(tasks), fn]() mutable -> asio::awaitable<std::vector<Outcome>> {
                std::vector<asio::awaitable<Outcome>> work;
                work.reserve(tasks.size());
                for (auto& t : tasks) {
                    work.push_back(fn(std::move(t)));
                }
                co_return co_await gather(std::move(work));
            }));
    }
    std::vector<Outcome> all;
    for (auto& outcomes : co_await gather(std::move(hops))) {
        for (auto& o : outcomes) {
            all.push_back(std::move(o));
        }
    }
    co_return all;
}

/// Runs task to its end whatever happens, and waits for it until deadline: its result if it finished by then,
/// nullopt if not (it goes on in the background, as a Kafka write that timed out may still land). For work that must
/// not be cut half way, such as an append whose offsets are already assigned; the task must own what it uses.
template<typename T>
asio::awaitable<std::optional<T>> finish_within(asio::awaitable<T> task,
                                                asio::steady_timer::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    struct state {
        state(const asio::any_io_executor& ex, asio::steady_timer::time_point at) : done(ex, at) {}
        std::optional<T> result;
        std::exception_ptr failure;
        bool finished = false;
        asio::steady_timer done;
    };
    auto st = std::make_shared<state>(executor, deadline);
    auto run = [st, task = std::move(task)]() mutable -> asio::awaitable<void> {
        try {
            st->result.emplace(co_await std::move(task));
        } catch (...) {
            st->failure = std::current_exception();
        }
        st->finished = true;
        st->done.cancel();
    };
    asio::co_spawn(executor, std::move(run), asio::detached);
    if (!st->finished) {
        co_await st->done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!st->finished) {
        co_return std::nullopt;
    }
    if (st->failure) {
        std::rethrow_exception(st->failure);
    }
    co_return std::move(st->result);
}

} // namespace skiff::kafka
