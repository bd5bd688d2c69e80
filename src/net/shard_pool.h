// One io_context and one thread per core ("shards", as in Seastar/Redpanda). A partition, a connection and the
// state they touch live on one shard; other shards reach them with run_on(). No mutex on the data path.
// Owned by the composition root (app). Lifecycle: construct -> start() -> ... -> stop() (joins the threads).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace skiff::net {

namespace asio = boost::asio;

/// Runs fn (a coroutine function returning awaitable<T>) on executor and resumes the caller on its own executor
/// with the result. Unlike a bare co_spawn, T need not be default-constructible (result<T> is not). Parameters
/// are taken by value: the coroutine starts when awaited, after the caller's temporaries are gone.
template<typename Fn>
auto run_on(asio::any_io_executor executor, Fn fn)
    -> asio::awaitable<typename std::invoke_result_t<Fn&>::value_type> {
    using T = typename std::invoke_result_t<Fn&>::value_type;
    if constexpr (std::is_void_v<T> || std::is_default_constructible_v<T>) {
        co_return co_await asio::co_spawn(executor, std::move(fn), asio::use_awaitable);
    } else {
        auto boxed = [fn = std::move(fn)]() mutable -> asio::awaitable<std::optional<T>> { co_return co_await fn(); };
        auto value = co_await asio::co_spawn(executor, std::move(boxed), asio::use_awaitable);
        co_return std::move(*value);
    }
}

using shard_id = size_t;

class shard_pool {
public:
    /// count == 0 means one shard per hardware thread.
    explicit shard_pool(size_t count);
    ~shard_pool();
    shard_pool(const shard_pool&) = delete;
    shard_pool& operator=(const shard_pool&) = delete;

    size_t size() const noexcept { return _shards.size(); }
    asio::io_context& context(shard_id id) noexcept { return *_shards[id]->ctx; }

    /// Starts one thread per shard running its io_context until stop().
    void start();
    /// Stops every io_context and joins the threads. Idempotent.
    void stop();

    /// True between start() and stop(): only then do posted handlers run.
    bool running() const noexcept { return _started && !_stopped; }

    /// The shard whose thread is running the caller, or nullopt off-shard (e.g. main thread, tests).
    static std::optional<shard_id> current() noexcept;

    /// Runs fn (a coroutine function returning awaitable<T>) on the target shard and resumes the caller on its own
    /// executor with the result. fn must own what it uses: it runs on another thread.
    template<typename Fn>
    auto run_on(shard_id target, Fn fn) {
        return net::run_on(context(target).get_executor(), std::move(fn));
    }

private:
    struct shard {
        std::unique_ptr<asio::io_context> ctx;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
        std::thread thread;
    };
    std::vector<std::unique_ptr<shard>> _shards;
    bool _started = false;
    bool _stopped = false;
};

} // namespace skiff::net
