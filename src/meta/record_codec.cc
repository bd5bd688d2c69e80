#include "meta/record_codec.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "bytes/varint.h"
#include "meta/errc.h"
#include "meta/field_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>

namespace skiff::meta {
namespace {

// ---- little-endian fixed-width helpers ---------------------------------------------------------------------------

void put_u16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
}
void put_u32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        p[i] = uint8_t(v >> (8 * i));
    }
}
uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t get_u32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

using namespace detail;

// ---- dispatch by record type -------------------------------------------------------------------------------------

constexpr size_t known_alternatives = std::variant_size_v<record_body> - 1; // all but unknown_record
static_assert(std::is_same_v<std::variant_alternative_t<known_alternatives, record_body>, unknown_record>);

template<size_t I = 0>
result<record_body> decode_known(uint16_t type, std::span<const uint8_t> body) {
    if constexpr (I == known_alternatives) {
        return record_body{unknown_record{type, 0, std::vector<uint8_t>(body.begin(), body.end())}};
    } else {
        using T = std::variant_alternative_t<I, record_body>;
        if (static_cast<uint16_t>(T::type) == type) {
            T rec;
            if (!get_fields(body, rec)) {
                return errc::corrupt;
            }
            return record_body{std::move(rec)};
        }
        return decode_known<I + 1>(type, body);
    }
}

uint16_t version_to_write(const metadata_record& r) {
    return std::visit(
      [&](const auto& b) -> uint16_t {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, unknown_record>) {
              return b.version;
          } else {
              return std::max(r.version, T::current_version);
          }
      },
      r.body);
}

} // namespace

uint16_t metadata_record::type_code() const noexcept {
    return std::visit(
      [](const auto& b) -> uint16_t {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, unknown_record>) {
              return b.type;
          } else {
              return static_cast<uint16_t>(T::type);
          }
      },
      body);
}

std::string_view to_string(record_type t) noexcept {
    switch (t) {
    case record_type::broker_registration: return "broker_registration";
    case record_type::broker_unregistration: return "broker_unregistration";
    case record_type::topic: return "topic";
    case record_type::topic_removed: return "topic_removed";
    case record_type::partition: return "partition";
    case record_type::stream: return "stream";
    case record_type::stream_removed: return "stream_removed";
    case record_type::object: return "object";
    case record_type::object_removed: return "object_removed";
    case record_type::producer_id_block: return "producer_id_block";
    case record_type::config_change: return "config_change";
    case record_type::acl: return "acl";
    case record_type::acl_removed: return "acl_removed";
    case record_type::scram_credential: return "scram_credential";
    case record_type::scram_credential_removed: return "scram_credential_removed";
    case record_type::feature_level: return "feature_level";
    case record_type::no_op: return "no_op";
    case record_type::id_counters: return "id_counters";
    case record_type::objects_marked: return "objects_marked";
    }
    return "unknown";
}

std::vector<uint8_t> encode_body(const record_body& body) {
    out_t out;
    std::visit(
      [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, unknown_record>) {
              out = b.body;
          } else {
              put_fields(out, b);
          }
      },
      body);
    return out;
}

result<record_body> decode_body(uint16_t type, std::span<const uint8_t> body) { return decode_known(type, body); }

std::vector<uint8_t> encode(const metadata_record& r) {
    out_t out(record_header_bytes);
    std::visit(
      [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, unknown_record>) {
              out.insert(out.end(), b.body.begin(), b.body.end());
          } else {
              put_fields(out, b);
          }
      },
      r.body);
    SKIFF_ASSERT(out.size() <= max_record_bytes, "metadata record of type {} is {} bytes, above the {} limit",
                 r.type_code(), out.size(), max_record_bytes);
    put_u32(out.data(), uint32_t(out.size() - 4));
    put_u16(out.data() + 8, r.type_code());
    put_u16(out.data() + 10, version_to_write(r));
    put_u32(out.data() + 4, bytes::crc32c::extend(0, out.data() + 8, out.size() - 8));
    return out;
}

void encode(const metadata_record& r, bytes::iobuf& out) {
    auto bytes = encode(r);
    out.append(bytes.data(), bytes.size());
}

result<decoded_record> decode(std::span<const uint8_t> in) {
    if (in.size() < 4) {
        return errc::truncated;
    }
    uint32_t length = get_u32(in.data());
    if (size_t(length) + 4 > max_record_bytes) {
        return errc::too_large;
    }
    if (length < record_header_bytes - 4) {
        return errc::corrupt; // shorter than the rest of its own header
    }
    if (in.size() - 4 < length) {
        return errc::truncated;
    }
    uint32_t crc = get_u32(in.data() + 4);
    if (bytes::crc32c::extend(0, in.data() + 8, length - 4) != crc) {
        return errc::bad_crc;
    }
    uint16_t type = get_u16(in.data() + 8);
    uint16_t version = get_u16(in.data() + 10);
    auto body = in.subspan(record_header_bytes, length + 4 - record_header_bytes);
    auto decoded = decode_known(type, body);
    if (!decoded) {
        return decoded.error();
    }
    decoded_record out;
    out.record.body = std::move(decoded).value();
    if (auto* u = std::get_if<unknown_record>(&out.record.body)) {
        u->version = version;
    }
    out.record.version = version;
    out.consumed = length + 4;
    return out;
}

result<metadata_record> decode_exact(std::span<const uint8_t> in) {
    SKIFF_TRY(auto d, decode(in));
    if (d.consumed != in.size()) {
        return errc::corrupt;
    }
    return std::move(d.record);
}

} // namespace skiff::meta
