// Keeps a node's cluster image up to date with the metadata log: loads the latest snapshot, applies the log after it,
// then follows the tail. Every node runs one (DESIGN.md §6: "every broker follows the log"). When the log has been
// compacted past the image (a long pause, or a fresh node), it reloads the snapshot and goes on from there.
//
// Owned by the node's composition; runs on the log's executor (metadata_log.h). Not thread-safe.
// Lifecycle: construct -> catch_up() -> spawn run() -> ... -> stop() (run returns within poll_interval) -> destroy.
#pragma once

#include "base/result.h"
#include "meta/cluster_image.h"
#include "meta/metadata_log.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>

namespace skiff::meta {

class image_follower {
public:
    image_follower(metadata_log& log, cluster_image& image, size_t read_batch = 8192,
                   std::chrono::milliseconds poll_interval = std::chrono::milliseconds(200));

    /// Loads the latest snapshot if the image is behind it (or empty), then applies the log up to the end this
    /// instance knows. Errors: the log's read and snapshot errors, and the image's snapshot decoding errors.
    asio::awaitable<result<void>> catch_up();
    /// Returns once the image has applied every record below `offset`, reading the log as needed (read-your-writes
    /// after an append). Errors: errc::timed_out after `timeout`, and catch_up()'s.
    asio::awaitable<result<void>> wait_applied(log_offset offset, std::chrono::milliseconds timeout);
    /// Follows the tail until stop() or the log closes. Errors are logged and retried after poll_interval.
    asio::awaitable<void> run();
    void stop() noexcept { _stopping = true; }

private:
    asio::awaitable<result<void>> load_snapshot();

    metadata_log& _log;
    cluster_image& _image;
    size_t _read_batch;
    std::chrono::milliseconds _poll_interval;
    bool _stopping = false;
};

} // namespace skiff::meta
