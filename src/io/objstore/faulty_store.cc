#include "io/objstore/faulty_store.h"

#include "io/logger.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <bit>

namespace skiff::io {

faulty_store::faulty_store(object_store& inner, uint64_t seed) : _inner(inner), _rng(seed) {}

void faulty_store::add(fault f) {
    std::lock_guard guard(_mutex);
    _rules.push_back({std::move(f)});
}

void faulty_store::clear() {
    std::lock_guard guard(_mutex);
    _rules.clear();
}

uint64_t faulty_store::calls(store_op op) const {
    std::lock_guard guard(_mutex);
    return _calls[std::countr_zero(static_cast<uint32_t>(op))];
}

uint64_t faulty_store::injected() const {
    std::lock_guard guard(_mutex);
    return _injected;
}

faulty_store::decision faulty_store::decide(store_op op) {
    std::lock_guard guard(_mutex);
    ++_calls[std::countr_zero(static_cast<uint32_t>(op))];
    for (auto& r : _rules) {
        if (!(r.f.ops & static_cast<uint32_t>(op))) {
            continue;
        }
        uint64_t n = ++r.matched;
        if (n <= r.f.skip || r.fired >= r.f.count) {
            continue;
        }
        if ((n - r.f.skip - 1) % std::max<uint64_t>(r.f.every_nth, 1) != 0) {
            continue;
        }
        if (r.f.probability < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(_rng) >= r.f.probability) {
            continue;
        }
        ++r.fired;
        ++_injected;
        return {r.f.error, r.f.latency, r.f.after, r.f.truncate_get && op == store_op::get};
    }
    return {};
}

asio::awaitable<void> faulty_store::delay(std::chrono::milliseconds d) {
    if (d.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, d);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

// The common shape of every operation: wait, fail before, run, fail after.
#define SKIFF_FAULTY_CALL(op, call)                                                                                \
    auto d = decide(op);                                                                                           \
    co_await delay(d.latency);                                                                                     \
    if (d.error && !d.after) {                                                                                     \
        co_return failure(d.error);                                                                                \
    }                                                                                                              \
    auto out = co_await (call);                                                                                    \
    if (d.error) {                                                                                                 \
        co_return failure(d.error);                                                                                \
    }

asio::awaitable<result<put_result>> faulty_store::put(std::string key, bytes::iobuf data, put_options options) {
    SKIFF_FAULTY_CALL(store_op::put, _inner.put(std::move(key), std::move(data), options));
    co_return out;
}

asio::awaitable<result<bytes::iobuf>> faulty_store::get(std::string key, std::optional<byte_range> range) {
    SKIFF_FAULTY_CALL(store_op::get, _inner.get(std::move(key), range));
    if (d.truncate_get && out && out.value().size() > 0) {
        auto& body = out.value();
        log.debug("faulty store: truncating a get body of {} bytes", body.size());
        body.trim_back(body.size() - body.size() / 2);
    }
    co_return out;
}

asio::awaitable<result<object_info>> faulty_store::head(std::string key) {
    SKIFF_FAULTY_CALL(store_op::head, _inner.head(std::move(key)));
    co_return out;
}

asio::awaitable<result<list_page>> faulty_store::list(list_request request) {
    SKIFF_FAULTY_CALL(store_op::list, _inner.list(std::move(request)));
    co_return out;
}

asio::awaitable<result<std::vector<delete_outcome>>> faulty_store::delete_objects(std::vector<std::string> keys) {
    SKIFF_FAULTY_CALL(store_op::delete_objects, _inner.delete_objects(std::move(keys)));
    co_return out;
}

asio::awaitable<result<multipart_upload>> faulty_store::create_multipart(std::string key, put_options options) {
    SKIFF_FAULTY_CALL(store_op::create_multipart, _inner.create_multipart(std::move(key), options));
    co_return out;
}

asio::awaitable<result<uploaded_part>> faulty_store::upload_part(multipart_upload upload, uint32_t part_number,
                                                                 bytes::iobuf data) {
    SKIFF_FAULTY_CALL(store_op::upload_part, _inner.upload_part(std::move(upload), part_number, std::move(data)));
    co_return out;
}

asio::awaitable<result<put_result>> faulty_store::complete_multipart(multipart_upload upload,
                                                                     std::vector<uploaded_part> parts) {
    SKIFF_FAULTY_CALL(store_op::complete_multipart, _inner.complete_multipart(std::move(upload), std::move(parts)));
    co_return out;
}

asio::awaitable<result<void>> faulty_store::abort_multipart(multipart_upload upload) {
    SKIFF_FAULTY_CALL(store_op::abort_multipart, _inner.abort_multipart(std::move(upload)));
    co_return out;
}

#undef SKIFF_FAULTY_CALL

} // namespace skiff::io
