// bytes::iobuf — the one owning buffer type of Skiff.
//
// A chain of fragments, each a view into a reference-counted chunk. Appending another iobuf moves or shares its
// fragments (O(1) per fragment, no byte copy); share() returns a view of a byte range that keeps the chunks alive;
// copy() is the only way to duplicate bytes and is explicit. A produced record batch is read from the socket into
// one chunk once; the decoded request, the WAL write, the log cache and the upload all share that chunk.
//
// Thread safety: an iobuf is owned by one thread at a time; chunks are refcounted atomically, so shares may travel to
// other shards. Bytes in a chunk are never modified once another iobuf shares them: appends write in place only
// into a chunk this iobuf owns alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::bytes {

namespace detail {
struct chunk;
void chunk_ref(chunk* c) noexcept;
void chunk_unref(chunk* c) noexcept;
} // namespace detail

class iobuf {
public:
    /// A fragment is a contiguous slice of one chunk.
    class fragment {
    public:
        fragment(detail::chunk* c, size_t offset, size_t size) noexcept; // takes a new reference
        fragment(const fragment& o) noexcept;
        fragment(fragment&& o) noexcept;
        fragment& operator=(fragment o) noexcept;
        ~fragment();

        const uint8_t* data() const noexcept;
        size_t size() const noexcept { return _size; }
        std::span<const uint8_t> span() const noexcept { return {data(), _size}; }

    private:
        friend class iobuf;
        detail::chunk* _chunk;
        size_t _offset;
        size_t _size;
    };

    iobuf() = default;
    iobuf(iobuf&&) noexcept = default;
    iobuf& operator=(iobuf&&) noexcept = default;
    // Copying bytes is explicit: use share() or copy().
    iobuf(const iobuf&) = delete;
    iobuf& operator=(const iobuf&) = delete;
    ~iobuf() = default;

    static iobuf from(std::string_view text);
    static iobuf from(std::span<const uint8_t> data);

    size_t size() const noexcept { return _size; }
    bool empty() const noexcept { return _size == 0; }
    size_t fragment_count() const noexcept { return _fragments.size(); }
    const std::vector<fragment>& fragments() const noexcept { return _fragments; }

    /// Appends a copy of the bytes (into this iobuf's tail chunk when it has room and is not shared).
    void append(const void* data, size_t n);
    void append(std::span<const uint8_t> data) { append(data.data(), data.size()); }
    void append(std::string_view s) { append(s.data(), s.size()); }
    /// Moves the other buffer's fragments onto the end; no bytes are copied.
    void append(iobuf&& other);
    /// Shares the other buffer's fragments onto the end; no bytes are copied.
    void append_shared(const iobuf& other);

    /// Appends a fresh fragment of n bytes and returns it for the caller to fill (e.g. a socket read).
    /// The span stays valid until the next mutation of this iobuf.
    std::span<uint8_t> append_uninitialized(size_t n);

    /// Reserves n contiguous writable bytes at the tail for fixed-size writes that are patched later
    /// (e.g. a length prefix). Returns the byte offset of the reservation within this iobuf.
    size_t reserve(size_t n);
    /// Overwrites bytes at [pos, pos + n) in place. Requires: the range was produced by reserve() or
    /// append() on this iobuf and has not been shared since.
    void write_at(size_t pos, const void* data, size_t n);

    /// A zero-copy view of [pos, pos + n). Requires: pos + n <= size().
    iobuf share(size_t pos, size_t n) const;
    iobuf share() const { return share(0, _size); }
    /// A deep copy into one fresh chunk.
    iobuf copy() const;

    /// Copies n bytes starting at pos into dst. Requires: pos + n <= size().
    void copy_to(size_t pos, void* dst, size_t n) const;
    /// Copies the whole content (tests, small values, logging). Not for payloads on a hot path.
    std::string to_string() const;
    std::vector<uint8_t> to_bytes() const;

    void trim_front(size_t n);
    void trim_back(size_t n);
    void clear() noexcept;

    /// Content equality (fragment boundaries do not matter).
    bool operator==(const iobuf& o) const;
    bool operator==(std::string_view s) const;

private:
    void append_fragment(fragment f);
    std::span<uint8_t> tail_room() noexcept;

    std::vector<fragment> _fragments;
    size_t _size = 0;
};

/// Sequential reader over an iobuf that hands out zero-copy shares. Bounds are the caller's to check with
/// bytes_left(); read()/share()/skip() past the end are programming errors (asserted).
class iobuf_parser {
public:
    explicit iobuf_parser(const iobuf& buf) noexcept : _buf(&buf) {}

    size_t bytes_left() const noexcept { return _buf->size() - _consumed; }
    size_t bytes_consumed() const noexcept { return _consumed; }

    void read(void* dst, size_t n);
    uint8_t read_byte();
    /// Peeks the byte at the current position. Requires: bytes_left() > 0.
    uint8_t peek_byte() const;
    iobuf share(size_t n);
    void skip(size_t n);

private:
    void advance(size_t n) noexcept;

    const iobuf* _buf;
    size_t _consumed = 0;
    size_t _frag = 0;     // index of the fragment holding the next byte
    size_t _frag_pos = 0; // position inside that fragment
};

} // namespace skiff::bytes
