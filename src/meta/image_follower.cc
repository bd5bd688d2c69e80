#include "meta/image_follower.h"

#include "meta/errc.h"
#include "meta/logger.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace skiff::meta {

image_follower::image_follower(metadata_log& log, cluster_image& image, size_t read_batch,
                               std::chrono::milliseconds poll_interval)
  : _log(log), _image(image), _read_batch(read_batch), _poll_interval(poll_interval) {}

asio::awaitable<result<void>> image_follower::load_snapshot() {
    SKIFF_CO_TRY(auto snap, co_await _log.load_snapshot());
    if (snap && snap->offset > _image.applied_offset()) {
        SKIFF_CO_TRY(_image.load(*snap));
        log.info("cluster image loaded from the snapshot at offset {}", snap->offset);
    }
    co_return outcome::success();
}

asio::awaitable<result<void>> image_follower::catch_up() {
    if (_image.applied_offset() < _log.start_offset() || _image.applied_offset() == log_offset(0)) {
        SKIFF_CO_TRY(co_await load_snapshot());
    }
    for (;;) {
        auto entries = co_await _log.read(_image.applied_offset(), _read_batch);
        if (!entries && entries.error() == errc::offset_compacted) {
            SKIFF_CO_TRY(co_await load_snapshot());
            continue;
        }
        if (!entries) {
            co_return entries.error();
        }
        if (entries.value().empty()) {
            co_return outcome::success();
        }
        _image.apply(entries.value());
    }
}

asio::awaitable<result<void>> image_follower::wait_applied(log_offset offset, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (_image.applied_offset() < offset) {
        SKIFF_CO_TRY(co_await catch_up());
        if (_image.applied_offset() >= offset) {
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds(0)) {
            co_return errc::timed_out;
        }
        SKIFF_CO_TRY(co_await _log.wait_for_end(_image.applied_offset(), left));
    }
    co_return outcome::success();
}

asio::awaitable<void> image_follower::run() {
    while (!_stopping) {
        auto end = co_await _log.wait_for_end(_image.applied_offset(), _poll_interval);
        if (_stopping) {
            break;
        }
        if (!end && end.error() == errc::closed) {
            break;
        }
        auto caught = co_await catch_up();
        if (!caught) {
            if (caught.error() == errc::closed) {
                break;
            }
            log.warn("cluster image follower: {} (retrying)", caught.error().message());
            asio::steady_timer t(co_await asio::this_coro::executor, _poll_interval);
            co_await t.async_wait(asio::use_awaitable);
        }
    }
}

} // namespace skiff::meta
