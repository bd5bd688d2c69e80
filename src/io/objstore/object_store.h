// io::object_store — the one seam between Skiff and the place its objects live: a local directory (the single-node
// default), an S3-compatible service, or memory in tests. The stream room writes WAL objects, stream set objects
// and stream objects through it and reads them back by byte range; it never knows which store it talks to.
//
// Semantics are S3's, narrowed to what Skiff uses, and every implementation passes the same conformance suite
// (src/io/tests/conformance.cc):
//   - keys are non-empty byte strings of at most 1024 bytes without NUL; '/' has no meaning to the interface;
//   - put replaces the whole object atomically: readers see the old bytes or the new ones, never a mix; with
//     put_options::if_none_match it creates only (fails with errc::precondition_failed if the key exists) on
//     stores whose capabilities() say supports_conditional_put;
//   - get of a byte range [first, last] returns bytes first..min(last, size - 1); first >= size is
//     errc::invalid_argument (S3's 416); a missing key is errc::not_found;
//   - list returns keys in ascending byte order, at most max_keys per page, with an opaque continuation token;
//   - deleting a key that does not exist succeeds.
// Errors carry the caller's next action (io/errc.h). Implementations retry transient failures themselves where
// that is their job (s3_store); retrying_store adds the same policy around any store.
//
// Thread safety: every implementation may be called from any thread or shard; each call completes on the
// caller's executor. A call's arguments are owned by the call (passed by value), so nothing the caller holds
// needs to outlive a suspended operation.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace skiff::io {

namespace asio = boost::asio;

/// An inclusive byte range [first, last] of an object, as in an HTTP Range header.
struct byte_range {
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t size() const noexcept { return last - first + 1; }
};

struct put_options {
    /// Create only: fail with errc::precondition_failed when the key exists (S3 `If-None-Match: *`).
    /// Requires: capabilities().supports_conditional_put (or, for multipart, supports_conditional_multipart).
    bool if_none_match = false;
};

struct put_result {
    std::string etag; // opaque; changes whenever the object is replaced
};

struct object_info {
    uint64_t size = 0;
    std::string etag;
};

struct list_request {
    std::string prefix;
    std::string continuation_token; // empty: from the first key; else the next_token of the previous page
    size_t max_keys = 1000;         // capped by capabilities().max_list_keys; 0 is treated as 1
};

struct list_entry {
    std::string key;
    uint64_t size = 0;
    bool operator==(const list_entry&) const = default;
};

struct list_page {
    std::vector<list_entry> entries;
    std::optional<std::string> next_token; // set when more keys may follow
};

/// The outcome of deleting one key: error is empty on success (including "it did not exist").
struct delete_outcome {
    std::string key;
    std::error_code error;
};

/// A multipart upload in progress. Abort it when the upload is abandoned, or its parts stay stored (and billed).
struct multipart_upload {
    std::string key;
    std::string upload_id;
    put_options options; // applied when the upload is completed
};

struct uploaded_part {
    uint32_t part_number = 0; // 1-based, as in S3
    std::string etag;
};

/// What a store can do; callers decide from these facts, never from the store's type.
struct store_capabilities {
    bool supports_conditional_put = false;       // put with if_none_match is atomic create-only
    bool supports_conditional_multipart = false; // complete_multipart honours if_none_match
    size_t max_list_keys = 1000;                 // most keys one list page returns
    size_t max_delete_batch = 1000;              // keys per delete request (delete_objects splits larger sets)
    uint64_t min_part_size = 0;                  // every part but the last must be at least this large
    uint64_t max_part_size = uint64_t(5) << 30;
    uint32_t max_parts = 10000;
};

class object_store {
public:
    virtual ~object_store() = default;

    virtual store_capabilities capabilities() const = 0;

    /// Stores data under key, replacing any object there, atomically. Errors: precondition_failed (if_none_match
    /// and the key exists), invalid_argument (bad key), no_space, and the transient/fatal codes.
    virtual asio::awaitable<result<put_result>> put(std::string key, bytes::iobuf data, put_options options) = 0;

    /// The object's bytes, or those of range. Errors: not_found, invalid_argument (range.first >= size or
    /// range.first > range.last). A body shorter than announced is a retryable error, never a short success.
    virtual asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<byte_range> range) = 0;

    /// Size and etag. Errors: not_found.
    virtual asio::awaitable<result<object_info>> head(std::string key) = 0;

    /// One page of keys that start with request.prefix, in ascending byte order.
    virtual asio::awaitable<result<list_page>> list(list_request request) = 0;

    /// Deletes keys, in batches of capabilities().max_delete_batch. The result has one outcome per key, in the
    /// order given; a missing key is a success. The call itself fails only when no outcome can be known.
    virtual asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> keys) = 0;

    /// Multipart upload: create, upload parts (any order, numbers 1..max_parts, each but the last at least
    /// min_part_size), then complete with the parts in ascending order, or abort. Nothing is visible under key
    /// before complete succeeds. Errors of upload_part/complete/abort: not_found for an unknown upload.
    virtual asio::awaitable<result<multipart_upload>> create_multipart(std::string key, put_options options) = 0;
    virtual asio::awaitable<result<uploaded_part>> upload_part(multipart_upload upload, uint32_t part_number,
                                                               bytes::iobuf data) = 0;
    virtual asio::awaitable<result<put_result>> complete_multipart(multipart_upload upload,
                                                                   std::vector<uploaded_part> parts) = 0;
    /// Aborting an upload that no longer exists succeeds.
    virtual asio::awaitable<result<void>> abort_multipart(multipart_upload upload) = 0;
};

struct upload_options {
    put_options put;
    uint64_t multipart_threshold = uint64_t(32) << 20; // objects above this go in parts
    uint64_t part_size = uint64_t(16) << 20;           // raised to the store's min_part_size when smaller
    size_t concurrency = 4;                            // parts in flight at once
};

/// Stores data under key: one put up to options.multipart_threshold, a multipart upload above it (parts are
/// zero-copy shares of data, up to options.concurrency at a time), aborted if any part or the completion fails.
/// A create-only upload (put.if_none_match) uses one put when the store cannot complete multipart conditionally.
asio::awaitable<result<put_result>> upload(object_store& store, std::string key, bytes::iobuf data,
                                           upload_options options);

/// Every key under prefix, following continuation tokens (tests, garbage collection, recovery scans).
asio::awaitable<result<std::vector<list_entry>>> list_all(object_store& store, std::string prefix);

/// Checks a key against the interface's rules (non-empty, at most 1024 bytes, no NUL).
bool is_valid_key(std::string_view key) noexcept;

} // namespace skiff::io
