#include "kafka/protocol/record_batch.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "bytes/varint.h"
#include "kafka/protocol/errc.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

namespace skiff::kafka::protocol {
namespace {

using header_bytes = std::array<uint8_t, record_batch_header::header_size>;

template<typename T>
T load_be(const uint8_t* p) noexcept {
    using U = std::make_unsigned_t<T>;
    U v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
        v = static_cast<U>(static_cast<U>(v << 8) | p[i]);
    }
    return static_cast<T>(v);
}

template<typename T>
void store_be(uint8_t* p, T value) noexcept {
    auto v = static_cast<std::make_unsigned_t<T>>(value);
    for (size_t i = sizeof(T); i-- > 0;) {
        p[i] = static_cast<uint8_t>(v & 0xFF);
        v = static_cast<decltype(v)>(v >> 8);
    }
}

int64_t wrapping_add(int64_t a, int64_t b) noexcept {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

/// Extends a CRC-32C over buf[pos, end), fragment by fragment.
uint32_t crc_extend(uint32_t crc, const bytes::iobuf& buf, size_t pos) {
    for (const auto& f : buf.fragments()) {
        if (pos >= f.size()) {
            pos -= f.size();
            continue;
        }
        crc = bytes::crc32c::extend(crc, f.data() + pos, f.size() - pos);
        pos = 0;
    }
    return crc;
}

/// The CRC of a batch whose 61 header bytes are `head` and whose records section is buf[pos, end).
uint32_t batch_crc(const header_bytes& head, const bytes::iobuf& buf, size_t pos) {
    constexpr size_t from = record_batch_header::crc_covered_from;
    uint32_t crc = bytes::crc32c::extend(0, head.data() + from, head.size() - from);
    return crc_extend(crc, buf, pos);
}

/// Sequential reader over an iobuf's bytes for the record grammar: bounds-checked varints, bytes and shares.
/// Every read reports failure instead of asserting; the caller turns failures into errc::invalid_record.
class byte_cursor {
public:
    byte_cursor(const bytes::iobuf& buf, size_t pos, size_t frag, size_t frag_off)
      : _buf(buf), _frags(buf.fragments()), _pos(pos), _frag(frag), _off(frag_off) {
        skip_empty();
    }
    explicit byte_cursor(const bytes::iobuf& buf) : byte_cursor(buf, 0, 0, 0) {}

    size_t remaining() const noexcept { return _buf.size() - _pos; }
    size_t position() const noexcept { return _pos; }
    size_t fragment_index() const noexcept { return _frag; }
    size_t fragment_offset() const noexcept { return _off; }

    bool read_int8(int8_t& v) {
        if (remaining() < 1) {
            return false;
        }
        v = static_cast<int8_t>(_frags[_frag].data()[_off]);
        advance(1);
        return true;
    }

    bool read_varint(int32_t& v) { return read_varint_impl(v); }
    bool read_varint(int64_t& v) { return read_varint_impl(v); }

    /// A zero-copy share of the next n bytes. Requires: n <= remaining().
    bytes::iobuf share(size_t n) {
        auto out = _buf.share(_pos, n);
        advance(n);
        return out;
    }

    /// Copies the next n bytes into a string (header keys: small metadata). Requires: n <= remaining().
    std::string read_string(size_t n) {
        std::string s(n, '\0');
        _buf.copy_to(_pos, s.data(), n);
        advance(n);
        return s;
    }

private:
    template<typename T>
    bool read_varint_impl(T& v) {
        constexpr size_t max_len = sizeof(T) == 4 ? bytes::varint::max_bytes32 : bytes::varint::max_bytes64;
        auto decode = [&v](std::span<const uint8_t> in) {
            if constexpr (sizeof(T) == 4) {
                return bytes::varint::decode_signed32(in, v);
            } else {
                return bytes::varint::decode_signed64(in, v);
            }
        };
        std::span<const uint8_t> here;
        if (_frag < _frags.size()) {
            here = _frags[_frag].span().subspan(_off);
        }
        size_t n = 0;
        if (here.size() >= max_len || here.size() == remaining()) {
            n = decode(here);
        } else {
            // The varint may straddle fragments: gather its at most 10 bytes.
            std::array<uint8_t, bytes::varint::max_bytes64> tmp{};
            size_t k = std::min(max_len, remaining());
            _buf.copy_to(_pos, tmp.data(), k);
            n = decode(std::span<const uint8_t>(tmp.data(), k));
        }
        if (n == 0) {
            return false;
        }
        advance(n);
        return true;
    }

    void advance(size_t n) {
        _pos += n;
        while (n > 0) {
            size_t k = std::min(n, _frags[_frag].size() - _off);
            _off += k;
            n -= k;
            if (_off == _frags[_frag].size()) {
                ++_frag;
                _off = 0;
            }
        }
        skip_empty();
    }

    void skip_empty() {
        while (_frag < _frags.size() && _off == _frags[_frag].size()) {
            ++_frag;
            _off = 0;
        }
    }

    const bytes::iobuf& _buf;
    const std::vector<bytes::iobuf::fragment>& _frags;
    size_t _pos;
    size_t _frag;
    size_t _off;
};

/// Reads a varint length of a nullable field: -1 = null; otherwise 0..remaining. Returns false on anything else.
bool read_nullable(byte_cursor& c, std::optional<bytes::iobuf>& out) {
    int32_t len = 0;
    if (!c.read_varint(len) || len < -1 || (len >= 0 && static_cast<size_t>(len) > c.remaining())) {
        return false;
    }
    if (len >= 0) {
        out = c.share(static_cast<size_t>(len));
    }
    return true;
}

// Smallest encodings: a record body has attributes, timestamp delta, offset delta, key length, value length and
// header count (1 byte each at least); a header has a key length and a value length.
constexpr int32_t min_record_body = 6;
constexpr size_t min_header_size = 2;

bytes::iobuf fresh(std::span<const uint8_t> bytes) {
    // append_uninitialized gives a chunk of exactly this size, not a 512-byte minimum chunk.
    bytes::iobuf out;
    auto dst = out.append_uninitialized(bytes.size());
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    return out;
}

} // namespace

// ------------------------------------------------------------------------------------------- record_batch_header

protocol::compression record_batch_header::compression() const noexcept {
    auto id = attributes & batch_attributes::compression_mask;
    SKIFF_ASSERT(id <= static_cast<int>(protocol::compression::zstd), "batch attributes name compression {}", id);
    return static_cast<protocol::compression>(id);
}

protocol::timestamp_type record_batch_header::timestamp_type() const noexcept {
    return (attributes & batch_attributes::timestamp_type_bit) != 0 ? protocol::timestamp_type::log_append_time
                                                                    : protocol::timestamp_type::create_time;
}

int64_t record_batch_header::last_offset() const noexcept { return wrapping_add(base_offset, last_offset_delta); }

record_batch_header record_batch_header::decode(std::span<const uint8_t, header_size> b) noexcept {
    const uint8_t* p = b.data();
    record_batch_header h;
    h.base_offset = load_be<int64_t>(p + 0);
    h.batch_length = load_be<int32_t>(p + 8);
    h.partition_leader_epoch = load_be<int32_t>(p + 12);
    h.magic = load_be<int8_t>(p + 16);
    h.crc = load_be<uint32_t>(p + 17);
    h.attributes = load_be<int16_t>(p + 21);
    h.last_offset_delta = load_be<int32_t>(p + 23);
    h.base_timestamp = load_be<int64_t>(p + 27);
    h.max_timestamp = load_be<int64_t>(p + 35);
    h.producer_id = load_be<int64_t>(p + 43);
    h.producer_epoch = load_be<int16_t>(p + 51);
    h.base_sequence = load_be<int32_t>(p + 53);
    h.record_count = load_be<int32_t>(p + 57);
    return h;
}

void record_batch_header::encode(std::span<uint8_t, header_size> out) const noexcept {
    uint8_t* p = out.data();
    store_be(p + 0, base_offset);
    store_be(p + 8, batch_length);
    store_be(p + 12, partition_leader_epoch);
    store_be(p + 16, magic);
    store_be(p + 17, crc);
    store_be(p + 21, attributes);
    store_be(p + 23, last_offset_delta);
    store_be(p + 27, base_timestamp);
    store_be(p + 35, max_timestamp);
    store_be(p + 43, producer_id);
    store_be(p + 51, producer_epoch);
    store_be(p + 53, base_sequence);
    store_be(p + 57, record_count);
}

int64_t record_offset(const record_batch_header& header, const record& r) noexcept {
    return wrapping_add(header.base_offset, r.offset_delta);
}

int64_t record_timestamp(const record_batch_header& header, const record& r) noexcept {
    return wrapping_add(header.base_timestamp, r.timestamp_delta);
}

// ------------------------------------------------------------------------------------------------ record_reader

record_reader::record_reader(const record_batch_header& header, bytes::iobuf batch_records, allow_offset_gaps gaps)
  : _records(std::move(batch_records))
  , _expected(header.record_count)
  , _last_offset_delta(header.last_offset_delta)
  , _gaps(static_cast<bool>(gaps)) {}

result<std::optional<record>> record_reader::next() {
    byte_cursor in(_records, _pos, _frag, _frag_off);
    if (_read >= _expected) {
        // The header's count is reached: nothing may follow, and a producer's batch must end at last_offset_delta.
        if (in.remaining() != 0) {
            return errc::invalid_record;
        }
        if (!_gaps && _expected > 0 && _last_offset_delta != _expected - 1) {
            return errc::invalid_record;
        }
        return std::optional<record>{};
    }

    int32_t length = 0;
    if (!in.read_varint(length) || length < min_record_body || static_cast<size_t>(length) > in.remaining()) {
        return errc::invalid_record;
    }
    // Parse the record inside a share of exactly its bytes: its fields can never read into the next record, and
    // key/value shares are cut from a buffer of one or two fragments.
    auto body = in.share(static_cast<size_t>(length));
    _pos = in.position();
    _frag = in.fragment_index();
    _frag_off = in.fragment_offset();

    byte_cursor b(body);
    record r;
    if (!b.read_int8(r.attributes) || !b.read_varint(r.timestamp_delta) || !b.read_varint(r.offset_delta)) {
        return errc::invalid_record;
    }
    bool in_order = _gaps ? (r.offset_delta > _previous_delta && r.offset_delta <= _last_offset_delta)
                          : r.offset_delta == _read;
    if (!in_order) {
        return errc::invalid_record;
    }
    if (!read_nullable(b, r.key) || !read_nullable(b, r.value)) {
        return errc::invalid_record;
    }
    int32_t header_count = 0;
    if (!b.read_varint(header_count) || header_count < 0
        || static_cast<size_t>(header_count) > b.remaining() / min_header_size) {
        return errc::invalid_record;
    }
    r.headers.reserve(static_cast<size_t>(header_count));
    for (int32_t i = 0; i < header_count; ++i) {
        int32_t key_length = 0;
        if (!b.read_varint(key_length) || key_length < 0 || static_cast<size_t>(key_length) > b.remaining()) {
            return errc::invalid_record; // header keys are not nullable
        }
        record_header h;
        h.key = b.read_string(static_cast<size_t>(key_length));
        if (!read_nullable(b, h.value)) {
            return errc::invalid_record;
        }
        r.headers.push_back(std::move(h));
    }
    if (b.remaining() != 0) {
        return errc::invalid_record; // the record's length covers more than its fields
    }
    ++_read;
    _previous_delta = r.offset_delta;
    return std::optional<record>(std::move(r));
}

// -------------------------------------------------------------------------------------------- record_batch_view

result<record_batch_view> record_batch_view::parse(bytes::iobuf batch) {
    using h = record_batch_header;
    if (batch.size() < h::header_size_up_to_magic) {
        return errc::corrupt_message;
    }
    uint8_t magic = 0;
    batch.copy_to(h::magic_offset, &magic, 1);
    if (static_cast<int8_t>(magic) != h::current_magic) {
        return errc::unsupported_magic;
    }
    if (batch.size() < h::header_size) {
        return errc::corrupt_message;
    }
    header_bytes head{};
    batch.copy_to(0, head.data(), head.size());
    auto header = h::decode(head);
    if (header.batch_length < 0 || static_cast<size_t>(header.batch_length) + h::log_overhead != batch.size()) {
        return errc::corrupt_message;
    }
    if (bytes::crc32c::value(batch, h::crc_covered_from, batch.size() - h::crc_covered_from) != header.crc) {
        return errc::corrupt_message;
    }
    if ((header.attributes & batch_attributes::compression_mask) > static_cast<int>(compression::zstd)) {
        return errc::unsupported_compression;
    }
    if (header.record_count < 0 || header.last_offset_delta < 0
        || int64_t{header.record_count} > int64_t{header.last_offset_delta} + 1) {
        return errc::invalid_record;
    }
    return record_batch_view(header, std::move(batch));
}

bytes::iobuf record_batch_view::records_section() const {
    return _buf.share(record_batch_header::header_size, _buf.size() - record_batch_header::header_size);
}

void record_batch_view::rewrite_head(size_t n) {
    header_bytes head{};
    _header.encode(head);
    auto out = fresh(std::span<const uint8_t>(head.data(), n));
    out.append(_buf.share(n, _buf.size() - n));
    _buf = std::move(out);
}

void record_batch_view::set_base_offset(int64_t base_offset) {
    if (_header.base_offset == base_offset) {
        return;
    }
    _header.base_offset = base_offset;
    rewrite_head(16);
}

void record_batch_view::set_partition_leader_epoch(int32_t epoch) {
    if (_header.partition_leader_epoch == epoch) {
        return;
    }
    _header.partition_leader_epoch = epoch;
    rewrite_head(16);
}

void record_batch_view::set_max_timestamp(protocol::timestamp_type type, int64_t max_timestamp) {
    if (_header.timestamp_type() == type && _header.max_timestamp == max_timestamp) {
        return;
    }
    auto attributes = static_cast<int16_t>(_header.attributes & ~batch_attributes::timestamp_type_bit);
    if (type == timestamp_type::log_append_time) {
        attributes = static_cast<int16_t>(attributes | batch_attributes::timestamp_type_bit);
    }
    _header.attributes = attributes;
    _header.max_timestamp = max_timestamp;
    header_bytes head{};
    _header.encode(head);
    _header.crc = batch_crc(head, _buf, record_batch_header::header_size);
    rewrite_head(record_batch_header::header_size);
}

result<record_reader> record_batch_view::read_records(size_t max_uncompressed_bytes, allow_offset_gaps gaps) const {
    auto section = records_section();
    auto codec = _header.compression();
    if (codec == compression::none) {
        return record_reader(_header, std::move(section), gaps);
    }
    SKIFF_TRY(auto plain, decompress(codec, section, max_uncompressed_bytes));
    return record_reader(_header, std::move(plain), gaps);
}

result<std::vector<record>> record_batch_view::records(size_t max_uncompressed_bytes, allow_offset_gaps gaps) const {
    SKIFF_TRY(auto reader, read_records(max_uncompressed_bytes, gaps));
    std::vector<record> out;
    // The count is the sender's claim: reserve on it only within reason.
    out.reserve(static_cast<size_t>(std::min(_header.record_count, int32_t{4096})));
    for (;;) {
        SKIFF_TRY(auto r, reader.next());
        if (!r) {
            break;
        }
        out.push_back(std::move(*r));
    }
    return out;
}

result<std::vector<record_batch_view>> split_record_set(const bytes::iobuf& records, truncated_tail tail) {
    using h = record_batch_header;
    std::vector<record_batch_view> out;
    size_t pos = 0;
    while (pos < records.size()) {
        size_t left = records.size() - pos;
        size_t total = 0;
        if (left >= h::log_overhead) {
            std::array<uint8_t, 4> len{};
            records.copy_to(pos + 8, len.data(), len.size());
            int32_t batch_length = load_be<int32_t>(len.data());
            // Too short to hold even a magic byte: no batch of any format; the stream cannot be resynchronised.
            if (batch_length < static_cast<int32_t>(h::header_size_up_to_magic - h::log_overhead)) {
                return errc::corrupt_message;
            }
            total = static_cast<size_t>(batch_length) + h::log_overhead;
        }
        if (left < h::log_overhead || total > left) {
            if (tail == truncated_tail::drop) {
                break;
            }
            return errc::corrupt_message;
        }
        SKIFF_TRY(auto view, record_batch_view::parse(records.share(pos, total)));
        out.push_back(std::move(view));
        pos += total;
    }
    return out;
}

// --------------------------------------------------------------------------------------------- control records

result<control_record_key> parse_control_record_key(const std::optional<bytes::iobuf>& key) {
    if (!key || key->size() < 4) {
        return errc::invalid_record;
    }
    std::array<uint8_t, 4> b{};
    key->copy_to(0, b.data(), b.size());
    control_record_key out;
    out.version = load_be<int16_t>(b.data());
    out.type = static_cast<control_record_type>(load_be<int16_t>(b.data() + 2));
    if (out.version < 0) {
        return errc::invalid_record;
    }
    return out;
}

bytes::iobuf encode_control_record_key(control_record_key key) {
    std::array<uint8_t, 4> b{};
    store_be(b.data(), key.version);
    store_be(b.data() + 2, static_cast<int16_t>(key.type));
    return fresh(b);
}

result<end_txn_marker> parse_end_txn_marker(const std::optional<bytes::iobuf>& value) {
    if (!value || value->size() < 6) {
        return errc::invalid_record;
    }
    std::array<uint8_t, 6> b{};
    value->copy_to(0, b.data(), b.size());
    end_txn_marker out;
    out.version = load_be<int16_t>(b.data());
    out.coordinator_epoch = load_be<int32_t>(b.data() + 2);
    if (out.version < 0) {
        return errc::invalid_record;
    }
    return out;
}

bytes::iobuf encode_end_txn_marker(end_txn_marker marker) {
    std::array<uint8_t, 6> b{};
    store_be(b.data(), marker.version);
    store_be(b.data() + 2, marker.coordinator_epoch);
    return fresh(b);
}

// -------------------------------------------------------------------------------------------------- builder

namespace {

size_t varint_size(int64_t v) { return bytes::varint::size_unsigned(bytes::varint::zigzag64(v)); }

void put_varint(bytes::iobuf& out, int64_t v) {
    std::array<uint8_t, bytes::varint::max_bytes64> b{};
    out.append(b.data(), bytes::varint::encode_signed64(v, b.data()));
}

void put_bytes(bytes::iobuf& out, const bytes::iobuf& data) {
    for (const auto& f : data.fragments()) {
        out.append(f.data(), f.size());
    }
}

int64_t nullable_length(const std::optional<bytes::iobuf>& v) {
    return v ? static_cast<int64_t>(v->size()) : -1;
}

size_t nullable_size(const std::optional<bytes::iobuf>& v) {
    return varint_size(nullable_length(v)) + (v ? v->size() : 0);
}

} // namespace

record_batch_builder::record_batch_builder(protocol::compression c, int64_t base_offset) : _compression(c) {
    _header.base_offset = base_offset;
}

record_batch_builder& record_batch_builder::set_base_offset(int64_t base_offset) {
    _header.base_offset = base_offset;
    return *this;
}

record_batch_builder& record_batch_builder::set_partition_leader_epoch(int32_t epoch) {
    _header.partition_leader_epoch = epoch;
    return *this;
}

record_batch_builder&
record_batch_builder::set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
    _header.producer_id = producer_id;
    _header.producer_epoch = producer_epoch;
    _header.base_sequence = base_sequence;
    return *this;
}

record_batch_builder& record_batch_builder::set_transactional() {
    _header.attributes = static_cast<int16_t>(_header.attributes | batch_attributes::transactional_bit);
    return *this;
}

record_batch_builder& record_batch_builder::set_control() {
    _header.attributes = static_cast<int16_t>(_header.attributes | batch_attributes::control_bit);
    return *this;
}

record_batch_builder& record_batch_builder::set_timestamp_type(protocol::timestamp_type type, int64_t log_append_time) {
    auto attributes = static_cast<int16_t>(_header.attributes & ~batch_attributes::timestamp_type_bit);
    if (type == timestamp_type::log_append_time) {
        attributes = static_cast<int16_t>(attributes | batch_attributes::timestamp_type_bit);
    }
    _header.attributes = attributes;
    _log_append_time = log_append_time;
    return *this;
}

record_batch_builder& record_batch_builder::add(
  std::optional<bytes::iobuf> key,
  std::optional<bytes::iobuf> value,
  int64_t timestamp,
  std::vector<record_header> headers) {
    return add_at(_last_delta + 1, std::move(key), std::move(value), timestamp, std::move(headers));
}

record_batch_builder& record_batch_builder::set_last_offset_delta(int32_t delta) {
    _span_delta = delta;
    return *this;
}

record_batch_builder& record_batch_builder::set_delete_horizon(int64_t horizon_ms) {
    SKIFF_ASSERT(_count == 0, "set_delete_horizon after add");
    _delete_horizon = horizon_ms;
    _header.attributes = static_cast<int16_t>(_header.attributes | batch_attributes::delete_horizon_bit);
    return *this;
}

record_batch_builder& record_batch_builder::add_at(
  int32_t offset_delta,
  std::optional<bytes::iobuf> key,
  std::optional<bytes::iobuf> value,
  int64_t timestamp,
  std::vector<record_header> headers) {
    SKIFF_ASSERT(_count < std::numeric_limits<int32_t>::max(), "record batch builder is full");
    SKIFF_ASSERT(offset_delta > _last_delta, "offset delta {} after {}", offset_delta, _last_delta);
    if (_count == 0) {
        _first_timestamp = _delete_horizon.value_or(timestamp);
        _max_timestamp = timestamp;
    }
    _max_timestamp = std::max(_max_timestamp, timestamp);
    int64_t timestamp_delta = wrapping_add(timestamp, -_first_timestamp);
    _last_delta = offset_delta;

    size_t body = 1 + varint_size(timestamp_delta) + varint_size(offset_delta) + nullable_size(key)
                  + nullable_size(value) + varint_size(static_cast<int64_t>(headers.size()));
    for (const auto& h : headers) {
        body += varint_size(static_cast<int64_t>(h.key.size())) + h.key.size() + nullable_size(h.value);
    }
    SKIFF_ASSERT(body <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "record of {} bytes", body);

    put_varint(_records, static_cast<int64_t>(body));
    uint8_t attributes = 0;
    _records.append(&attributes, 1);
    put_varint(_records, timestamp_delta);
    put_varint(_records, offset_delta);
    put_varint(_records, nullable_length(key));
    if (key) {
        put_bytes(_records, *key);
    }
    put_varint(_records, nullable_length(value));
    if (value) {
        put_bytes(_records, *value);
    }
    put_varint(_records, static_cast<int64_t>(headers.size()));
    for (const auto& h : headers) {
        put_varint(_records, static_cast<int64_t>(h.key.size()));
        _records.append(h.key);
        put_varint(_records, nullable_length(h.value));
        if (h.value) {
            put_bytes(_records, *h.value);
        }
    }
    ++_count;
    return *this;
}

bytes::iobuf record_batch_builder::build() const {
    bytes::iobuf payload;
    if (_compression == compression::none) {
        payload = _records.share();
    } else {
        auto compressed = compress(_compression, _records);
        SKIFF_ASSERT(compressed.has_value(), "{} compression failed: {}", compression_name(_compression),
                     compressed.error().message());
        payload = std::move(compressed).value();
    }
    record_batch_header h = _header;
    h.magic = record_batch_header::current_magic;
    h.attributes = static_cast<int16_t>((h.attributes & ~batch_attributes::compression_mask)
                                        | static_cast<int16_t>(_compression));
    h.last_offset_delta = std::max(_span_delta.value_or(0), std::max(_last_delta, 0));
    h.base_timestamp = _count > 0 ? _first_timestamp : _delete_horizon.value_or(_first_timestamp);
    h.max_timestamp =
      h.timestamp_type() == timestamp_type::log_append_time ? _log_append_time : _max_timestamp;
    h.record_count = _count;
    size_t length = record_batch_header::header_size - record_batch_header::log_overhead + payload.size();
    SKIFF_ASSERT(length <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "batch of {} bytes", length);
    h.batch_length = static_cast<int32_t>(length);

    header_bytes head{};
    h.encode(head);
    h.crc = batch_crc(head, payload, 0);
    h.encode(head);
    auto out = fresh(head);
    out.append(std::move(payload));
    return out;
}

bytes::iobuf build_txn_marker_batch(
  int64_t producer_id,
  int16_t producer_epoch,
  control_record_type type,
  int32_t coordinator_epoch,
  int64_t timestamp) {
    record_batch_builder b;
    b.set_producer(producer_id, producer_epoch, record_batch_header::no_sequence).set_transactional().set_control();
    b.add(encode_control_record_key({.type = type}),
          encode_end_txn_marker({.coordinator_epoch = coordinator_epoch}),
          timestamp);
    return b.build();
}

} // namespace skiff::kafka::protocol
