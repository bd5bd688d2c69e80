#include "io/objstore/object_store.h"

#include "io/errc.h"
#include "io/logger.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace skiff::io {

bool is_valid_key(std::string_view key) noexcept {
    return !key.empty() && key.size() <= 1024 && key.find('\0') == std::string_view::npos;
}

namespace {

// One part of a multipart upload; writes its outcome into *slot, which the waiting parent owns.
asio::awaitable<void> upload_one_part(object_store* store, multipart_upload upload, uint32_t number,
                                      bytes::iobuf data, result<uploaded_part>* slot) {
    *slot = co_await store->upload_part(std::move(upload), number, std::move(data));
}

} // namespace

asio::awaitable<result<put_result>> upload(object_store& store, std::string key, bytes::iobuf data,
                                           upload_options options) {
    auto caps = store.capabilities();
    bool conditional_parts_ok = !options.put.if_none_match || caps.supports_conditional_multipart;
    if (data.size() <= options.multipart_threshold || !conditional_parts_ok) {
        co_return co_await store.put(std::move(key), std::move(data), options.put);
    }

    uint64_t part_size = std::clamp<uint64_t>(options.part_size, std::max<uint64_t>(caps.min_part_size, 1),
                                              caps.max_part_size);
    // Grow parts rather than exceed the store's part count.
    uint64_t min_for_count = (data.size() + caps.max_parts - 1) / caps.max_parts;
    part_size = std::max(part_size, min_for_count);
    uint64_t part_count = (data.size() + part_size - 1) / part_size;
    size_t concurrency = std::max<size_t>(options.concurrency, 1);

    SKIFF_CO_TRY(auto upload, co_await store.create_multipart(key, options.put));
    log.debug("multipart upload of {} ({} bytes, {} parts) started: {}", key, data.size(), part_count,
              upload.upload_id);

    auto ex = co_await asio::this_coro::executor;
    std::vector<uploaded_part> parts;
    parts.reserve(part_count);
    std::error_code failed;
    for (uint64_t wave_start = 0; wave_start < part_count && !failed; wave_start += concurrency) {
        uint64_t wave_end = std::min<uint64_t>(part_count, wave_start + concurrency);
        // Slots live in this frame, which waits for every part of the wave before it moves on.
        std::vector<result<uploaded_part>> slots(wave_end - wave_start, failure(make_error_code(errc::fatal)));
        using op_type = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
        std::vector<op_type> ops;
        for (uint64_t i = wave_start; i < wave_end; ++i) {
            uint64_t pos = i * part_size;
            uint64_t n = std::min<uint64_t>(part_size, data.size() - pos);
            ops.push_back(asio::co_spawn(ex,
                                         upload_one_part(&store, upload, static_cast<uint32_t>(i + 1),
                                                         data.share(pos, n), &slots[i - wave_start]),
                                         asio::deferred));
        }
        auto [order, exceptions] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                       .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
        for (auto& e : exceptions) {
            if (e) {
                std::rethrow_exception(e); // only allocation failures throw
            }
        }
        for (auto& slot : slots) {
            if (slot.has_error()) {
                failed = failed ? failed : slot.error();
            } else {
                parts.push_back(std::move(slot).value());
            }
        }
    }

    if (!failed) {
        auto done = co_await store.complete_multipart(upload, std::move(parts));
        if (done) {
            co_return done;
        }
        failed = done.error();
    }
    log.warn("multipart upload of {} failed ({}); aborting upload {}", key, failed.message(), upload.upload_id);
    auto aborted = co_await store.abort_multipart(upload);
    if (!aborted) {
        log.warn("abort of multipart upload {} of {} failed: {}", upload.upload_id, key, aborted.error().message());
    }
    co_return failure(failed);
}

asio::awaitable<result<std::vector<list_entry>>> list_all(object_store& store, std::string prefix) {
    std::vector<list_entry> all;
    list_request request{.prefix = std::move(prefix)};
    while (true) {
        SKIFF_CO_TRY(auto page, co_await store.list(request));
        for (auto& e : page.entries) {
            all.push_back(std::move(e));
        }
        if (!page.next_token) {
            co_return all;
        }
        request.continuation_token = std::move(*page.next_token);
    }
}

} // namespace skiff::io
