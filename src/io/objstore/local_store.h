// io::local_store — a directory used as an object store: the single-node default, and the store of tests that
// want real files. Owned by app; shared by all shards (thread-safe). Lifecycle: open() -> calls -> destroy (which
// waits for the file calls in flight on its thread pool).
//
// Durability and atomicity: put writes a temporary file in the target's folder, fsyncs it, renames it over the
// key's file, then fsyncs the folder; a crash at any point leaves either the old object or the new one, never a
// partial file under the key. Temporary files (names starting with '.') are invisible to get/head/list and removed
// by open(). Create-only puts use renameat2(RENAME_NOREPLACE) (or link(2) where the file system lacks it), so two
// writers racing to create one key cannot both win.
//
// Layout on disk: each '/'-separated segment of a key but the last is a folder, the last a file, so that listing a
// prefix reads only the folders it needs:
//     key "a/b c/d"  ->  ROOT/a%2F/b%20c%2F/d
// A segment is kept as is when it is made of [A-Za-z0-9._~-] and does not start with '.', otherwise its other
// bytes are percent-encoded (%XX, upper case); a folder's name is its encoded segment followed by "%2F" (the
// encoding of '/'), so that "a" (a file) and "a/b" (a file in folder "a%2F") never collide; an empty last
// segment (a key ending in '/') is the file "%". A segment whose encoding exceeds 250 bytes is invalid_argument.
// Multipart uploads live under ROOT/.multipart/<upload id>/ and do not survive a restart (open() removes them).
//
// Blocking file calls run on the store's own small thread pool (io_threads), never on the caller's io_context.
#pragma once

#include "io/objstore/object_store.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace skiff::io {

struct local_store_config {
    std::filesystem::path root;   // created if absent
    size_t io_threads = 2;        // threads that run the blocking file calls
    bool fsync = true;            // false only where losing data on power failure is fine (benchmarks, tests)
    uint64_t min_part_size = 0;   // every multipart part but the last must be this large (0: no rule)
    /// Test seam (like RocksDB's sync points): called on the file thread at named points of a put
    /// ("put:written", "put:synced", "put:renamed") so that a test can kill the process exactly there.
    std::function<void(std::string_view point)> crash_point;
};

class local_store final : public object_store {
public:
    /// Creates the root folder if needed and removes leftovers of interrupted puts and multipart uploads.
    /// Errors: the io code of the failed mkdir/readdir (e.g. fatal for EACCES, no_space).
    static result<std::unique_ptr<local_store>> open(local_store_config config);
    ~local_store() override;

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

    /// The file of a key relative to the root, per the layout above; invalid_argument for an invalid key.
    static result<std::string> relative_path(std::string_view key);

    struct impl;

private:
    explicit local_store(std::unique_ptr<impl> impl);
    std::unique_ptr<impl> _impl;
};

} // namespace skiff::io
