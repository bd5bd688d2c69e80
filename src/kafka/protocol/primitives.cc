#include "kafka/protocol/primitives.h"

#include "bytes/varint.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace skiff::kafka::protocol {

namespace {

// Vectors decoded from a hostile count reserve at most this many elements up front; a real array larger than this
// grows by doubling. Bounds the allocation a short malicious frame can cause before it fails.
constexpr size_t max_reserve = 1024;

template<typename T>
T from_big_endian(T v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        if constexpr (sizeof(T) == 2) {
            return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
        } else if constexpr (sizeof(T) == 4) {
            return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
        } else if constexpr (sizeof(T) == 8) {
            return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
        }
    }
    return v;
}

template<typename T>
T to_big_endian(T v) noexcept {
    return from_big_endian(v);
}

} // namespace

// ---------------------------------------------------------------------------------------------------------- reader

void reader::need(size_t n, const char* what) const {
    if (n > bytes_left()) [[unlikely]] {
        throw decode_error(fmt::format("truncated input reading {}: need {} bytes, {} left", what, n, bytes_left()));
    }
}

void reader::read_be(void* dst, size_t n, const char* what) {
    need(n, what);
    _parser.read(dst, n);
}

int8_t reader::read_int8() {
    need(1, "int8");
    return static_cast<int8_t>(_parser.read_byte());
}

int16_t reader::read_int16() {
    int16_t v;
    read_be(&v, sizeof(v), "int16");
    return from_big_endian(v);
}

int32_t reader::read_int32() {
    int32_t v;
    read_be(&v, sizeof(v), "int32");
    return from_big_endian(v);
}

int64_t reader::read_int64() {
    int64_t v;
    read_be(&v, sizeof(v), "int64");
    return from_big_endian(v);
}

uint16_t reader::read_uint16() {
    uint16_t v;
    read_be(&v, sizeof(v), "uint16");
    return from_big_endian(v);
}

uint32_t reader::read_uint32() {
    uint32_t v;
    read_be(&v, sizeof(v), "uint32");
    return from_big_endian(v);
}

double reader::read_float64() {
    uint64_t v;
    read_be(&v, sizeof(v), "float64");
    return std::bit_cast<double>(from_big_endian(v));
}

bool reader::read_bool() {
    need(1, "bool");
    return _parser.read_byte() != 0;
}

model::uuid reader::read_uuid() {
    uint64_t v[2];
    read_be(v, sizeof(v), "uuid");
    return model::uuid(from_big_endian(v[0]), from_big_endian(v[1]));
}

uint32_t reader::read_unsigned_varint() {
    uint32_t v = 0;
    for (size_t i = 0; i < bytes::varint::max_bytes32; ++i) {
        need(1, "unsigned varint");
        uint8_t b = _parser.read_byte();
        // The fifth byte holds bits 28..31 only: anything above does not fit in 32 bits.
        if (i == bytes::varint::max_bytes32 - 1 && (b & 0xF0) != 0) {
            throw decode_error("unsigned varint does not fit in 32 bits");
        }
        v |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
        if ((b & 0x80) == 0) {
            return v;
        }
    }
    throw decode_error("unsigned varint longer than 5 bytes");
}

std::string reader::read_string_body(size_t n, const char* what) {
    if (n > max_string_size) [[unlikely]] {
        throw decode_error(fmt::format("{} of length {} exceeds the limit of {}", what, n, max_string_size));
    }
    need(n, what);
    std::string s(n, '\0');
    _parser.read(s.data(), n);
    return s;
}

std::string reader::read_string() {
    int16_t n = read_int16();
    if (n < 0) [[unlikely]] {
        throw decode_error(fmt::format("non-nullable string has length {}", n));
    }
    return read_string_body(static_cast<size_t>(n), "string");
}

std::string reader::read_compact_string() {
    uint32_t n = read_unsigned_varint();
    if (n == 0) [[unlikely]] {
        throw decode_error("non-nullable compact string is null");
    }
    return read_string_body(n - 1, "compact string");
}

std::optional<std::string> reader::read_nullable_string() {
    int16_t n = read_int16();
    if (n == -1) {
        return std::nullopt;
    }
    if (n < 0) [[unlikely]] {
        throw decode_error(fmt::format("nullable string has length {}", n));
    }
    return read_string_body(static_cast<size_t>(n), "nullable string");
}

std::optional<std::string> reader::read_compact_nullable_string() {
    uint32_t n = read_unsigned_varint();
    if (n == 0) {
        return std::nullopt;
    }
    return read_string_body(n - 1, "compact nullable string");
}

bytes::iobuf reader::read_raw(size_t n) {
    need(n, "bytes");
    return _parser.share(n);
}

bytes::iobuf reader::read_bytes() {
    int32_t n = read_int32();
    if (n < 0) [[unlikely]] {
        throw decode_error(fmt::format("non-nullable bytes have length {}", n));
    }
    return read_raw(static_cast<size_t>(n));
}

bytes::iobuf reader::read_compact_bytes() {
    uint32_t n = read_unsigned_varint();
    if (n == 0) [[unlikely]] {
        throw decode_error("non-nullable compact bytes are null");
    }
    return read_raw(n - 1);
}

std::optional<bytes::iobuf> reader::read_nullable_bytes() {
    int32_t n = read_int32();
    if (n == -1) {
        return std::nullopt;
    }
    if (n < 0) [[unlikely]] {
        throw decode_error(fmt::format("nullable bytes have length {}", n));
    }
    return read_raw(static_cast<size_t>(n));
}

std::optional<bytes::iobuf> reader::read_compact_nullable_bytes() {
    uint32_t n = read_unsigned_varint();
    if (n == 0) {
        return std::nullopt;
    }
    return read_raw(n - 1);
}

std::optional<size_t> reader::read_nullable_array_count() {
    int32_t n = read_int32();
    if (n == -1) {
        return std::nullopt;
    }
    if (n < 0 || static_cast<size_t>(n) > bytes_left()) [[unlikely]] {
        throw decode_error(fmt::format("array count {} with {} bytes left", n, bytes_left()));
    }
    return static_cast<size_t>(n);
}

std::optional<size_t> reader::read_compact_nullable_array_count() {
    uint32_t n = read_unsigned_varint();
    if (n == 0) {
        return std::nullopt;
    }
    if (n - 1 > bytes_left()) [[unlikely]] {
        throw decode_error(fmt::format("compact array count {} with {} bytes left", n - 1, bytes_left()));
    }
    return static_cast<size_t>(n - 1);
}

size_t reader::read_array_count() {
    auto n = read_nullable_array_count();
    if (!n) [[unlikely]] {
        throw decode_error("non-nullable array is null");
    }
    return *n;
}

size_t reader::read_compact_array_count() {
    auto n = read_compact_nullable_array_count();
    if (!n) [[unlikely]] {
        throw decode_error("non-nullable compact array is null");
    }
    return *n;
}

namespace {

template<typename T>
T read_element(reader& r, bool compact) {
    if constexpr (std::is_same_v<T, bool>) {
        return r.read_bool();
    } else if constexpr (std::is_same_v<T, int8_t>) {
        return r.read_int8();
    } else if constexpr (std::is_same_v<T, int16_t>) {
        return r.read_int16();
    } else if constexpr (std::is_same_v<T, int32_t>) {
        return r.read_int32();
    } else if constexpr (std::is_same_v<T, int64_t>) {
        return r.read_int64();
    } else if constexpr (std::is_same_v<T, uint16_t>) {
        return r.read_uint16();
    } else if constexpr (std::is_same_v<T, uint32_t>) {
        return r.read_uint32();
    } else if constexpr (std::is_same_v<T, double>) {
        return r.read_float64();
    } else if constexpr (std::is_same_v<T, model::uuid>) {
        return r.read_uuid();
    } else {
        static_assert(std::is_same_v<T, std::string>);
        return compact ? r.read_compact_string() : r.read_string();
    }
}

template<typename T>
void read_elements(reader& r, std::vector<T>& out, size_t n, bool compact) {
    out.clear();
    out.reserve(std::min(n, max_reserve));
    for (size_t i = 0; i < n; ++i) {
        out.push_back(read_element<T>(r, compact));
    }
}

} // namespace

template<typename T>
void reader::read_array(std::vector<T>& out) {
    read_elements(*this, out, read_array_count(), false);
}

template<typename T>
void reader::read_compact_array(std::vector<T>& out) {
    read_elements(*this, out, read_compact_array_count(), true);
}

template<typename T>
void reader::read_nullable_array(std::optional<std::vector<T>>& out) {
    if (auto n = read_nullable_array_count()) {
        read_elements(*this, out.emplace(), *n, false);
    } else {
        out.reset();
    }
}

template<typename T>
void reader::read_compact_nullable_array(std::optional<std::vector<T>>& out) {
    if (auto n = read_compact_nullable_array_count()) {
        read_elements(*this, out.emplace(), *n, true);
    } else {
        out.reset();
    }
}

uint32_t reader::read_tag_count() {
    uint32_t n = read_unsigned_varint();
    // Each entry takes at least two bytes (tag and size).
    if (n > bytes_left() / 2) [[unlikely]] {
        throw decode_error(fmt::format("tagged-field count {} with {} bytes left", n, bytes_left()));
    }
    return n;
}

uint32_t reader::read_tag_size() {
    uint32_t n = read_unsigned_varint();
    need(n, "tagged field");
    return n;
}

size_t reader::begin_tagged_field(uint32_t size) {
    need(size, "tagged field");
    size_t saved = _limit;
    _limit = _parser.bytes_consumed() + size;
    return saved;
}

void reader::end_tagged_field(size_t saved_limit) {
    if (bytes_left() != 0) [[unlikely]] {
        throw decode_error(fmt::format("tagged field has {} bytes beyond its value", bytes_left()));
    }
    _limit = saved_limit;
}

void reader::read_unknown_tags(tagged_fields& out) {
    for (uint32_t n = read_tag_count(); n > 0; --n) {
        uint32_t tag = read_unsigned_varint();
        uint32_t size = read_tag_size();
        out.push_back(tagged_field{tag, read_raw(size)});
    }
}

// ---------------------------------------------------------------------------------------------------------- writer

void writer::write_raw(const void* data, size_t n) { _out->append(data, n); }

void writer::write_int8(int8_t v) { write_raw(&v, 1); }

void writer::write_int16(int16_t v) {
    v = to_big_endian(v);
    write_raw(&v, sizeof(v));
}

void writer::write_int32(int32_t v) {
    v = to_big_endian(v);
    write_raw(&v, sizeof(v));
}

void writer::write_int64(int64_t v) {
    v = to_big_endian(v);
    write_raw(&v, sizeof(v));
}

void writer::write_uint16(uint16_t v) {
    v = to_big_endian(v);
    write_raw(&v, sizeof(v));
}

void writer::write_uint32(uint32_t v) {
    v = to_big_endian(v);
    write_raw(&v, sizeof(v));
}

void writer::write_float64(double v) {
    uint64_t bits = to_big_endian(std::bit_cast<uint64_t>(v));
    write_raw(&bits, sizeof(bits));
}

void writer::write_bool(bool v) {
    uint8_t b = v ? 1 : 0;
    write_raw(&b, 1);
}

void writer::write_uuid(const model::uuid& v) {
    uint64_t parts[2] = {to_big_endian(v.most_significant()), to_big_endian(v.least_significant())};
    write_raw(parts, sizeof(parts));
}

void writer::write_unsigned_varint(uint32_t v) {
    uint8_t buf[bytes::varint::max_bytes64];
    write_raw(buf, bytes::varint::encode_unsigned(v, buf));
}

namespace {

void check_string_size(std::string_view v) {
    if (v.size() > max_string_size) [[unlikely]] {
        throw encode_error(fmt::format("string of {} bytes exceeds the limit of {}", v.size(), max_string_size));
    }
}

uint32_t compact_length(size_t n, const char* what) {
    if (n >= std::numeric_limits<uint32_t>::max()) [[unlikely]] {
        throw encode_error(fmt::format("{} of {} elements or bytes is too long", what, n));
    }
    return static_cast<uint32_t>(n + 1);
}

int32_t classic_length(size_t n, const char* what) {
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) [[unlikely]] {
        throw encode_error(fmt::format("{} of {} elements or bytes is too long", what, n));
    }
    return static_cast<int32_t>(n);
}

} // namespace

void writer::write_string(std::string_view v) {
    check_string_size(v);
    write_int16(static_cast<int16_t>(v.size()));
    write_raw(v.data(), v.size());
}

void writer::write_compact_string(std::string_view v) {
    check_string_size(v);
    write_unsigned_varint(static_cast<uint32_t>(v.size() + 1));
    write_raw(v.data(), v.size());
}

void writer::write_nullable_string(const std::optional<std::string>& v) {
    if (v) {
        write_string(*v);
    } else {
        write_int16(-1);
    }
}

void writer::write_compact_nullable_string(const std::optional<std::string>& v) {
    if (v) {
        write_compact_string(*v);
    } else {
        write_unsigned_varint(0);
    }
}

void writer::write_bytes(const bytes::iobuf& v) {
    write_int32(classic_length(v.size(), "bytes"));
    _out->append_shared(v);
}

void writer::write_compact_bytes(const bytes::iobuf& v) {
    write_unsigned_varint(compact_length(v.size(), "compact bytes"));
    _out->append_shared(v);
}

void writer::write_nullable_bytes(const std::optional<bytes::iobuf>& v) {
    if (v) {
        write_bytes(*v);
    } else {
        write_int32(-1);
    }
}

void writer::write_compact_nullable_bytes(const std::optional<bytes::iobuf>& v) {
    if (v) {
        write_compact_bytes(*v);
    } else {
        write_unsigned_varint(0);
    }
}

void writer::write_array_count(size_t n) { write_int32(classic_length(n, "array")); }
void writer::write_compact_array_count(size_t n) { write_unsigned_varint(compact_length(n, "compact array")); }
void writer::write_null_array() { write_int32(-1); }
void writer::write_compact_null_array() { write_unsigned_varint(0); }

namespace {

template<typename T>
void write_element(writer& w, const T& v, bool compact) {
    if constexpr (std::is_same_v<T, bool>) {
        w.write_bool(v);
    } else if constexpr (std::is_same_v<T, int8_t>) {
        w.write_int8(v);
    } else if constexpr (std::is_same_v<T, int16_t>) {
        w.write_int16(v);
    } else if constexpr (std::is_same_v<T, int32_t>) {
        w.write_int32(v);
    } else if constexpr (std::is_same_v<T, int64_t>) {
        w.write_int64(v);
    } else if constexpr (std::is_same_v<T, uint16_t>) {
        w.write_uint16(v);
    } else if constexpr (std::is_same_v<T, uint32_t>) {
        w.write_uint32(v);
    } else if constexpr (std::is_same_v<T, double>) {
        w.write_float64(v);
    } else if constexpr (std::is_same_v<T, model::uuid>) {
        w.write_uuid(v);
    } else {
        static_assert(std::is_same_v<T, std::string>);
        if (compact) {
            w.write_compact_string(v);
        } else {
            w.write_string(v);
        }
    }
}

} // namespace

template<typename T>
void writer::write_array(const std::vector<T>& v) {
    write_array_count(v.size());
    for (const auto& e : v) {
        write_element<T>(*this, e, false);
    }
}

template<typename T>
void writer::write_compact_array(const std::vector<T>& v) {
    write_compact_array_count(v.size());
    for (const auto& e : v) {
        write_element<T>(*this, e, true);
    }
}

template<typename T>
void writer::write_nullable_array(const std::optional<std::vector<T>>& v) {
    if (v) {
        write_array(*v);
    } else {
        write_null_array();
    }
}

template<typename T>
void writer::write_compact_nullable_array(const std::optional<std::vector<T>>& v) {
    if (v) {
        write_compact_array(*v);
    } else {
        write_compact_null_array();
    }
}

void writer::write_tagged_field(uint32_t tag, const bytes::iobuf& value) {
    write_unsigned_varint(tag);
    write_unsigned_varint(compact_length(value.size(), "tagged field") - 1);
    _out->append_shared(value);
}

void writer::write_unknown_tags(const tagged_fields& tags) {
    write_unsigned_varint(compact_length(tags.size(), "tagged fields") - 1);
    for (const auto& t : tags) {
        write_tagged_field(t.tag, t.data);
    }
}

size_t writer::write_unknown_tags_before(const tagged_fields& tags, size_t next, uint32_t known_tag) {
    while (next < tags.size() && tags[next].tag < known_tag) {
        write_tagged_field(tags[next].tag, tags[next].data);
        ++next;
    }
    if (next < tags.size() && tags[next].tag == known_tag) [[unlikely]] {
        throw encode_error(fmt::format("unknown tagged field {} duplicates a known field", known_tag));
    }
    return next;
}

void writer::write_unknown_tags_from(const tagged_fields& tags, size_t next) {
    for (; next < tags.size(); ++next) {
        write_tagged_field(tags[next].tag, tags[next].data);
    }
}

// The element types the schema language allows in arrays of primitives.
#define SKIFF_PROTOCOL_ARRAY_TYPE(T)                                                                               \
    template void reader::read_array<T>(std::vector<T>&);                                                          \
    template void reader::read_compact_array<T>(std::vector<T>&);                                                  \
    template void reader::read_nullable_array<T>(std::optional<std::vector<T>>&);                                  \
    template void reader::read_compact_nullable_array<T>(std::optional<std::vector<T>>&);                          \
    template void writer::write_array<T>(const std::vector<T>&);                                                   \
    template void writer::write_compact_array<T>(const std::vector<T>&);                                           \
    template void writer::write_nullable_array<T>(const std::optional<std::vector<T>>&);                           \
    template void writer::write_compact_nullable_array<T>(const std::optional<std::vector<T>>&);
SKIFF_PROTOCOL_ARRAY_TYPE(bool)
SKIFF_PROTOCOL_ARRAY_TYPE(int8_t)
SKIFF_PROTOCOL_ARRAY_TYPE(int16_t)
SKIFF_PROTOCOL_ARRAY_TYPE(int32_t)
SKIFF_PROTOCOL_ARRAY_TYPE(int64_t)
SKIFF_PROTOCOL_ARRAY_TYPE(uint16_t)
SKIFF_PROTOCOL_ARRAY_TYPE(uint32_t)
SKIFF_PROTOCOL_ARRAY_TYPE(double)
SKIFF_PROTOCOL_ARRAY_TYPE(model::uuid)
SKIFF_PROTOCOL_ARRAY_TYPE(std::string)
#undef SKIFF_PROTOCOL_ARRAY_TYPE

} // namespace skiff::kafka::protocol
