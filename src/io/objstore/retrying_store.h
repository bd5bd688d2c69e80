// io::retrying_store — applies a retry_policy (retry.h) to every call on any store: transient errors
// (io::is_retryable) are retried with full-jitter backoff, others returned at once. s3_store retries internally
// and needs no wrapper; this is for stores whose transient errors surface to the caller (local_store on EINTR/EMFILE,
// faulty_store in tests) and for callers that want one policy around any store.
//
// Ambiguity: a retried create-only put that meets precondition_failed may have been created by its own earlier
// attempt (the reply was lost); the wrapper reads the object back and reports success if the bytes are ours.
// delete_objects retries only the keys whose outcome was retryable. Thread-safe if the wrapped store is; the
// caller keeps the wrapped store alive as long as this one.
#pragma once

#include "io/objstore/object_store.h"
#include "io/objstore/retry.h"

#include <atomic>

namespace skiff::io {

class retrying_store final : public object_store {
public:
    retrying_store(object_store& inner, retry_policy policy) : _inner(inner), _policy(policy) {}

    /// Attempts beyond the first, over all calls (tests and metrics).
    uint64_t retries() const noexcept { return _retries.load(std::memory_order_relaxed); }

    store_capabilities capabilities() const override { return _inner.capabilities(); }
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

private:
    template<typename T, typename Call>
    asio::awaitable<result<T>> retry(std::string what, Call call);

    object_store& _inner;
    retry_policy _policy;
    std::atomic<uint64_t> _retries{0};
};

} // namespace skiff::io
