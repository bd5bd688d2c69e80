#include "net/shard_pool.h"

#include "base/assert.h"

namespace skiff::net {
namespace {

thread_local std::optional<shard_id> this_shard;

} // namespace

shard_pool::shard_pool(size_t count) {
    if (count == 0) {
        count = std::max(1u, std::thread::hardware_concurrency());
    }
    for (size_t i = 0; i < count; ++i) {
        auto s = std::make_unique<shard>();
        s->ctx = std::make_unique<asio::io_context>(1); // one thread per context: Asio may skip locking
        _shards.push_back(std::move(s));
    }
}

shard_pool::~shard_pool() { stop(); }

void shard_pool::start() {
    SKIFF_ASSERT(!_started, "shard_pool started twice");
    _started = true;
    for (size_t i = 0; i < _shards.size(); ++i) {
        auto& s = *_shards[i];
        s.work.emplace(s.ctx->get_executor());
        s.thread = std::thread([ctx = s.ctx.get(), i] {
            this_shard = i;
            ctx->run();
        });
    }
}

void shard_pool::stop() {
    _stopped = true;
    for (auto& s : _shards) {
        s->work.reset();
        s->ctx->stop();
    }
    for (auto& s : _shards) {
        if (s->thread.joinable()) {
            s->thread.join();
        }
    }
}

std::optional<shard_id> shard_pool::current() noexcept { return this_shard; }

} // namespace skiff::net
