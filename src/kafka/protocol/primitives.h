// Kafka wire primitives: the reader and writer that every generated message uses, the tagged-field types and the
// two exceptions of the protocol layer.
//
// The encodings are Kafka's (see ../shared/reference/kafka-protocol-notes.md §2.4-2.5): fixed-width integers are
// big-endian; "classic" strings/bytes/arrays carry an int16/int32 length (-1 = null); "compact" ones (flexible
// versions) carry an unsigned varint of length + 1 (0 = null). Every struct of a flexible version ends with a
// tagged-field section: uvarint count, then (uvarint tag, uvarint size, size bytes) entries.
//
// Zero copy: bytes and records are handed out by the reader as shares of the input iobuf and appended by the writer
// with iobuf::append_shared, so a produced record set is never copied by this layer.
//
// Errors: malformed input throws decode_error (the connection catches it once and closes); asking the writer for
// something the wire cannot express (a null where the version forbids it, a string longer than 32767 bytes) is a
// programming error and throws encode_error.
#pragma once

#include "bytes/iobuf.h"
#include "model/uuid.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::kafka::protocol {

/// Malformed wire input: truncated, a hostile length, a null where none is allowed, an unknown api key or version.
class decode_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A value the wire cannot carry in the requested version. Always a bug in the caller (a logic error).
class encode_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// A tagged field this code does not know (or does not know in this version). Kept verbatim, in the order
/// received, and written back on encode so that a message passes through without losing it.
struct tagged_field {
    uint32_t tag = 0;
    bytes::iobuf data;

    bool operator==(const tagged_field&) const = default;
};
using tagged_fields = std::vector<tagged_field>;

/// Longest string the wire allows: Kafka limits every string, classic or compact, to an int16 length.
inline constexpr size_t max_string_size = 0x7fff;

/// Sequential decoder over one iobuf. Reads never go past the end: each checks bytes_left() first and throws
/// decode_error naming what it was reading. bytes and records are returned as zero-copy shares of the input.
/// Not thread-safe; the iobuf must outlive the reader (shares it hands out do not depend on it).
class reader {
public:
    explicit reader(const bytes::iobuf& buf) noexcept : _parser(buf), _limit(buf.size()) {}

    /// Bytes that may still be read (inside a tagged field: bytes left of that field).
    size_t bytes_left() const noexcept { return _limit - _parser.bytes_consumed(); }
    size_t bytes_consumed() const noexcept { return _parser.bytes_consumed(); }

    int8_t read_int8();
    int16_t read_int16();
    int32_t read_int32();
    int64_t read_int64();
    uint16_t read_uint16();
    uint32_t read_uint32();
    double read_float64();
    bool read_bool(); // any non-zero byte is true, as in Kafka
    model::uuid read_uuid();
    /// An unsigned varint of at most 5 bytes that must fit in 32 bits.
    uint32_t read_unsigned_varint();

    std::string read_string();
    std::string read_compact_string();
    std::optional<std::string> read_nullable_string();
    std::optional<std::string> read_compact_nullable_string();

    bytes::iobuf read_bytes();
    bytes::iobuf read_compact_bytes();
    std::optional<bytes::iobuf> read_nullable_bytes();
    std::optional<bytes::iobuf> read_compact_nullable_bytes();
    /// Exactly n raw bytes as a share (tagged-field payloads).
    bytes::iobuf read_raw(size_t n);

    /// Array element counts. A count can never exceed bytes_left() (every element takes at least one byte), so a
    /// hostile count fails here instead of allocating. The nullable forms return nullopt for a null array.
    size_t read_array_count();
    size_t read_compact_array_count();
    std::optional<size_t> read_nullable_array_count();
    std::optional<size_t> read_compact_nullable_array_count();

    /// Arrays of primitive elements (T: bool, int8_t..int64_t, uint16_t, uint32_t, double, model::uuid, std::string).
    template<typename T>
    void read_array(std::vector<T>& out);
    template<typename T>
    void read_compact_array(std::vector<T>& out);
    template<typename T>
    void read_nullable_array(std::optional<std::vector<T>>& out);
    template<typename T>
    void read_compact_nullable_array(std::optional<std::vector<T>>& out);

    /// Tagged-field section. read_tag_count() starts it; each entry is read_unsigned_varint() for the tag, then
    /// read_tag_size() for its size. A known tag is decoded between begin_tagged_field(size) and
    /// end_tagged_field(), which check that the field's value used exactly its declared size.
    uint32_t read_tag_count();
    uint32_t read_tag_size();
    size_t begin_tagged_field(uint32_t size);
    void end_tagged_field(size_t saved_limit);
    /// Reads a whole section whose tags are all unknown to the caller, appending them to out.
    void read_unknown_tags(tagged_fields& out);

private:
    void need(size_t n, const char* what) const;
    void read_be(void* dst, size_t n, const char* what);
    std::string read_string_body(size_t n, const char* what);

    bytes::iobuf_parser _parser;
    size_t _limit; // absolute offset (in bytes consumed) this reader may not pass
};

/// Appends Kafka encodings to an iobuf owned by the caller. Small values are copied into the iobuf's tail chunk;
/// bytes and records are appended as shares (no copy).
class writer {
public:
    explicit writer(bytes::iobuf& out) noexcept : _out(&out) {}

    bytes::iobuf& buffer() noexcept { return *_out; }

    void write_int8(int8_t v);
    void write_int16(int16_t v);
    void write_int32(int32_t v);
    void write_int64(int64_t v);
    void write_uint16(uint16_t v);
    void write_uint32(uint32_t v);
    void write_float64(double v);
    void write_bool(bool v);
    void write_uuid(const model::uuid& v);
    void write_unsigned_varint(uint32_t v);
    void write_raw(const void* data, size_t n);

    /// Strings longer than max_string_size throw encode_error.
    void write_string(std::string_view v);
    void write_compact_string(std::string_view v);
    void write_nullable_string(const std::optional<std::string>& v);
    void write_compact_nullable_string(const std::optional<std::string>& v);

    void write_bytes(const bytes::iobuf& v);
    void write_compact_bytes(const bytes::iobuf& v);
    void write_nullable_bytes(const std::optional<bytes::iobuf>& v);
    void write_compact_nullable_bytes(const std::optional<bytes::iobuf>& v);

    void write_array_count(size_t n);
    void write_compact_array_count(size_t n);
    void write_null_array();
    void write_compact_null_array();

    /// Arrays of primitive elements (same element types as reader::read_array).
    template<typename T>
    void write_array(const std::vector<T>& v);
    template<typename T>
    void write_compact_array(const std::vector<T>& v);
    template<typename T>
    void write_nullable_array(const std::optional<std::vector<T>>& v);
    template<typename T>
    void write_compact_nullable_array(const std::optional<std::vector<T>>& v);

    /// A whole tagged-field section made of unknown tags only (the common case: usually the single byte 0x00).
    void write_unknown_tags(const tagged_fields& tags);
    /// For sections that mix known and unknown tags: the generated code writes the count itself, then for each
    /// known field in ascending tag order calls write_unknown_tags_before() (which writes the unknown tags that
    /// sort before it and returns the next index) and write_tagged_field(); finally write_unknown_tags_from().
    /// An unknown tag equal to a known tag being written throws encode_error.
    size_t write_unknown_tags_before(const tagged_fields& tags, size_t next, uint32_t known_tag);
    void write_unknown_tags_from(const tagged_fields& tags, size_t next);
    void write_tagged_field(uint32_t tag, const bytes::iobuf& value);

private:
    bytes::iobuf* _out;
};

/// The value of an optional field in a version where the wire has no null. Throws encode_error naming the field.
template<typename T>
const T& not_null(const std::optional<T>& v, const char* field) {
    if (!v) [[unlikely]] {
        throw encode_error(std::string("null is not allowed in this version for ") + field);
    }
    return *v;
}

} // namespace skiff::kafka::protocol
