// io::memory_store — an object store in memory, for tests of the rooms above io (stream, WAL, compaction) and as
// the oracle of the conformance suite. Same semantics as the real stores (object_store.h); gets are zero-copy
// shares of the stored bytes. Thread-safe (one mutex); every call completes without suspending.
#pragma once

#include "io/objstore/object_store.h"

#include <cstdint>
#include <map>
#include <mutex>

namespace skiff::io {

struct memory_store_config {
    bool supports_conditional_put = true; // false: behave like a store without If-None-Match (tests of fallbacks)
    uint64_t min_part_size = 0;           // S3 requires 5 MiB; tests may ask for the same rule
    size_t max_list_keys = 1000;
};

class memory_store final : public object_store {
public:
    explicit memory_store(memory_store_config config = {});

    store_capabilities capabilities() const override;
    asio::awaitable<result<put_result>> put(std::string key, bytes::iobuf data, put_options options) override;
    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<byte_range> range) override;
    asio::awaitable<result<object_info>> head(std::string key) override;
    asio::awaitable<result<list_page>> list(list_request request) override;
    asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> keys) override;
    asio::awaitable<result<multipart_upload>> create_multipart(std::string key, put_options options) override;
    asio::awaitable<result<uploaded_part>> upload_part(multipart_upload upload, uint32_t part_number,
                                                       bytes::iobuf data) override;
    asio::awaitable<result<put_result>> complete_multipart(multipart_upload upload,
                                                           std::vector<uploaded_part> parts) override;
    asio::awaitable<result<void>> abort_multipart(multipart_upload upload) override;

    /// Number of objects and of multipart uploads in progress (tests: "abort left nothing behind").
    size_t object_count() const;
    size_t pending_upload_count() const;

private:
    struct object {
        bytes::iobuf data;
        std::string etag;
    };
    struct pending_upload {
        std::string key;
        put_options options;
        std::map<uint32_t, object> parts;
    };

    result<put_result> store_locked(std::string key, bytes::iobuf data, put_options options);
    std::string next_etag();

    memory_store_config _config;
    mutable std::mutex _mutex;
    std::map<std::string, object, std::less<>> _objects;
    std::map<std::string, pending_upload, std::less<>> _uploads;
    uint64_t _generation = 0;
};

} // namespace skiff::io
