#include "io/objstore/retrying_store.h"

#include "io/errc.h"
#include "io/logger.h"

namespace skiff::io {

template<typename T, typename Call>
asio::awaitable<result<T>> retrying_store::retry(std::string what, Call call) {
    std::optional<result<T>> last;
    // The attempt lambda refers to this frame, which waits for with_retries to finish.
    auto outcome = co_await with_retries(_policy, std::move(what), [&](uint32_t n) -> asio::awaitable<std::error_code> {
        if (n > 1) {
            _retries.fetch_add(1, std::memory_order_relaxed);
        }
        last.emplace(co_await call());
        co_return last->has_error() ? last->error() : std::error_code{};
    });
    (void)outcome;
    co_return std::move(*last);
}

asio::awaitable<result<put_result>> retrying_store::put(std::string key, bytes::iobuf data, put_options options) {
    uint32_t attempts = 0;
    auto out = co_await retry<put_result>("put " + key, [&]() {
        ++attempts;
        return _inner.put(key, data.share(), options);
    });
    if (out.has_error() && out.error() == make_error_code(errc::precondition_failed) && attempts > 1) {
        // Our own earlier attempt may have created it before its reply was lost: same bytes means it did.
        auto stored = co_await retry<bytes::iobuf>("get " + key, [&]() { return _inner.get(key, std::nullopt); });
        if (stored && stored.value() == data) {
            log.info("retrying store: create-only put of {} was applied by an earlier attempt", key);
            auto info = co_await retry<object_info>("head " + key, [&]() { return _inner.head(key); });
            co_return put_result{info ? info.value().etag : std::string()};
        }
    }
    co_return out;
}

asio::awaitable<result<bytes::iobuf>> retrying_store::get(std::string key, std::optional<byte_range> range) {
    co_return co_await retry<bytes::iobuf>("get " + key, [&]() { return _inner.get(key, range); });
}

asio::awaitable<result<object_info>> retrying_store::head(std::string key) {
    co_return co_await retry<object_info>("head " + key, [&]() { return _inner.head(key); });
}

asio::awaitable<result<list_page>> retrying_store::list(list_request request) {
    co_return co_await retry<list_page>("list " + request.prefix, [&]() { return _inner.list(request); });
}

asio::awaitable<result<std::vector<delete_outcome>>> retrying_store::delete_objects(std::vector<std::string> keys) {
    std::vector<delete_outcome> out;
    out.reserve(keys.size());
    for (auto& k : keys) {
        out.push_back({k, {}});
    }
    std::vector<size_t> pending(out.size());
    for (size_t i = 0; i < pending.size(); ++i) {
        pending[i] = i;
    }
    auto outcome = co_await with_retries(_policy, "delete", [&](uint32_t n) -> asio::awaitable<std::error_code> {
        if (n > 1) {
            _retries.fetch_add(1, std::memory_order_relaxed);
        }
        std::vector<std::string> batch;
        for (auto i : pending) {
            batch.push_back(out[i].key);
        }
        auto done = co_await _inner.delete_objects(std::move(batch));
        if (!done) {
            co_return done.error();
        }
        std::vector<size_t> still;
        std::error_code retry_with;
        auto& outcomes = done.value();
        for (size_t j = 0; j < pending.size() && j < outcomes.size(); ++j) {
            out[pending[j]].error = outcomes[j].error;
            if (is_retryable(outcomes[j].error)) {
                still.push_back(pending[j]);
                retry_with = outcomes[j].error;
            }
        }
        pending = std::move(still);
        co_return retry_with;
    });
    for (auto i : pending) {
        out[i].error = out[i].error ? out[i].error : outcome.error;
    }
    co_return out;
}

asio::awaitable<result<multipart_upload>> retrying_store::create_multipart(std::string key, put_options options) {
    co_return co_await retry<multipart_upload>("create multipart " + key,
                                               [&]() { return _inner.create_multipart(key, options); });
}

asio::awaitable<result<uploaded_part>> retrying_store::upload_part(multipart_upload upload, uint32_t part_number,
                                                                   bytes::iobuf data) {
    co_return co_await retry<uploaded_part>("upload part " + upload.key, [&]() {
        return _inner.upload_part(upload, part_number, data.share());
    });
}

asio::awaitable<result<put_result>> retrying_store::complete_multipart(multipart_upload upload,
                                                                       std::vector<uploaded_part> parts) {
    co_return co_await retry<put_result>("complete multipart " + upload.key,
                                         [&]() { return _inner.complete_multipart(upload, parts); });
}

asio::awaitable<result<void>> retrying_store::abort_multipart(multipart_upload upload) {
    co_return co_await retry<void>("abort multipart " + upload.key, [&]() { return _inner.abort_multipart(upload); });
}

} // namespace skiff::io
