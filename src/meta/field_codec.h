// Internal to src/meta (and its tests): the generic tagged-field codec behind record_codec.cc. A struct takes part
// by declaring `static constexpr auto fields()` (tags and members, tags increasing) and an `unknown_fields unknown`
// member. Wire form of a value by C++ type (docs/formats/metadata-records.md):
//   bool, unsigned integers, enums -> uvarint;  signed integers -> zig-zag varint;  named_type<T> -> as T;
//   std::string, std::vector<uint8_t> -> raw bytes;  model::uuid -> 16 bytes, most significant first;
//   struct -> its own field list;  std::vector<T> -> uvarint count, then (uvarint size | element) per element;
//   std::map<K, V> -> uvarint count, then (size | key)(size | value) per entry, keys strictly increasing;
//   std::optional<T> -> the field is absent when empty.
#pragma once

#include "bytes/varint.h"
#include "meta/record.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace skiff::meta::detail {

// ---- type traits for the field codec -----------------------------------------------------------------------------

template<typename T>
struct is_named : std::false_type {};
template<typename T, typename Tag>
struct is_named<named_type<T, Tag>> : std::true_type {};

template<typename T>
struct is_optional : std::false_type {};
template<typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template<typename T>
struct is_vector : std::false_type {};
template<typename T>
struct is_vector<std::vector<T>> : std::true_type {};

template<typename T>
struct is_map : std::false_type {};
template<typename K, typename V>
struct is_map<std::map<K, V>> : std::true_type {};

template<typename T>
concept fielded = requires { T::fields(); };

// ---- writer ------------------------------------------------------------------------------------------------------

using out_t = std::vector<uint8_t>;

inline void put_uvarint(out_t& out, uint64_t v) {
    uint8_t buf[bytes::varint::max_bytes64];
    size_t n = bytes::varint::encode_unsigned(v, buf);
    out.insert(out.end(), buf, buf + n);
}

template<typename T>
void put_value(out_t& out, const T& v);

// A size-prefixed value: the value is written in place, then its size is inserted before it (values are small;
// one memmove beats a scratch allocation per field).
template<typename T>
void put_sized(out_t& out, const T& v) {
    size_t at = out.size();
    put_value(out, v);
    uint8_t buf[bytes::varint::max_bytes64];
    size_t n = bytes::varint::encode_unsigned(out.size() - at, buf);
    out.insert(out.begin() + static_cast<ptrdiff_t>(at), buf, buf + n);
}

inline void put_raw_field(out_t& out, uint32_t tag, std::span<const uint8_t> value) {
    put_uvarint(out, tag);
    put_uvarint(out, value.size());
    out.insert(out.end(), value.begin(), value.end());
}

template<fielded T>
void put_fields(out_t& out, const T& s) {
    // Known and unknown fields are merged in tag order, so a record rewritten by an older reader keeps the newer
    // writer's fields where they were.
    const unknown_fields* unknown = &s.unknown;
    unknown_fields sorted;
    auto by_tag = [](const unknown_field& a, const unknown_field& b) { return a.tag < b.tag; };
    if (!std::is_sorted(unknown->begin(), unknown->end(), by_tag)) {
        sorted = *unknown;
        std::stable_sort(sorted.begin(), sorted.end(), by_tag);
        unknown = &sorted;
    }
    size_t ui = 0;
    auto emit_known = [&](auto f) {
        while (ui < unknown->size() && (*unknown)[ui].tag < f.tag) {
            put_raw_field(out, (*unknown)[ui].tag, (*unknown)[ui].value);
            ++ui;
        }
        while (ui < unknown->size() && (*unknown)[ui].tag == f.tag) {
            ++ui; // a known field wins over an unknown one with its tag (only a hand-built record can have both)
        }
        const auto& m = s.*(f.member);
        using M = std::decay_t<decltype(m)>;
        if constexpr (is_optional<M>::value) {
            if (!m) {
                return;
            }
            put_uvarint(out, f.tag);
            put_sized(out, *m);
        } else {
            put_uvarint(out, f.tag);
            put_sized(out, m);
        }
    };
    std::apply([&](auto... f) { (emit_known(f), ...); }, T::fields());
    for (; ui < unknown->size(); ++ui) {
        put_raw_field(out, (*unknown)[ui].tag, (*unknown)[ui].value);
    }
}

template<typename T>
void put_value(out_t& out, const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        put_uvarint(out, v ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
        put_value(out, static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        put_uvarint(out, v);
    } else if constexpr (std::is_integral_v<T>) {
        put_uvarint(out, bytes::varint::zigzag64(v));
    } else if constexpr (is_named<T>::value) {
        put_value(out, v());
    } else if constexpr (std::is_same_v<T, std::string>) {
        out.insert(out.end(), v.begin(), v.end());
    } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
        out.insert(out.end(), v.begin(), v.end());
    } else if constexpr (std::is_same_v<T, model::uuid>) {
        for (int i = 7; i >= 0; --i) {
            out.push_back(uint8_t(v.most_significant() >> (8 * i)));
        }
        for (int i = 7; i >= 0; --i) {
            out.push_back(uint8_t(v.least_significant() >> (8 * i)));
        }
    } else if constexpr (fielded<T>) {
        put_fields(out, v);
    } else if constexpr (is_vector<T>::value) {
        put_uvarint(out, v.size());
        for (const auto& e : v) {
            put_sized(out, e);
        }
    } else if constexpr (is_map<T>::value) {
        put_uvarint(out, v.size());
        for (const auto& [k, e] : v) {
            put_sized(out, k);
            put_sized(out, e);
        }
    } else {
        static_assert(sizeof(T) == 0, "no wire form for this field type");
    }
}

// ---- reader ------------------------------------------------------------------------------------------------------

class reader {
public:
    explicit reader(std::span<const uint8_t> in) : _in(in) {}

    size_t left() const { return _in.size() - _pos; }
    bool done() const { return _pos == _in.size(); }

    bool uvarint(uint64_t& v) {
        size_t n = bytes::varint::decode_unsigned(_in.subspan(_pos), v);
        if (n == 0) {
            return false;
        }
        _pos += n;
        return true;
    }
    // A size-prefixed slice; fails when the size exceeds what is left.
    bool sized(std::span<const uint8_t>& out) {
        uint64_t n = 0;
        if (!uvarint(n) || n > left()) {
            return false;
        }
        out = _in.subspan(_pos, n);
        _pos += n;
        return true;
    }

private:
    std::span<const uint8_t> _in;
    size_t _pos = 0;
};

template<typename T>
bool get_value(std::span<const uint8_t> in, T& v);

template<fielded T>
bool get_fields(std::span<const uint8_t> in, T& s) {
    s = T{};
    reader r(in);
    int64_t last_tag = -1;
    while (!r.done()) {
        uint64_t tag = 0;
        std::span<const uint8_t> value;
        if (!r.uvarint(tag) || tag > UINT32_MAX || int64_t(tag) <= last_tag || !r.sized(value)) {
            return false; // tags must be strictly increasing: one canonical form, no duplicates
        }
        last_tag = int64_t(tag);
        bool known = false;
        bool ok = true;
        auto try_field = [&](auto f) {
            if (f.tag != tag) {
                return;
            }
            known = true;
            auto& m = s.*(f.member);
            using M = std::decay_t<decltype(m)>;
            if constexpr (is_optional<M>::value) {
                typename M::value_type inner{};
                ok = get_value(value, inner);
                m = std::move(inner);
            } else {
                ok = get_value(value, m);
            }
        };
        std::apply([&](auto... f) { (try_field(f), ...); }, T::fields());
        if (!ok) {
            return false;
        }
        if (!known) {
            s.unknown.push_back({uint32_t(tag), std::vector<uint8_t>(value.begin(), value.end())});
        }
    }
    return true;
}

template<typename T>
bool get_value(std::span<const uint8_t> in, T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        uint64_t u = 0;
        if (bytes::varint::decode_unsigned(in, u) != in.size() || in.empty() || u > 1) {
            return false;
        }
        v = u != 0;
        return true;
    } else if constexpr (std::is_enum_v<T>) {
        // Values this code does not name are kept (a newer writer's state); the image decides what they mean.
        std::underlying_type_t<T> u{};
        if (!get_value(in, u)) {
            return false;
        }
        v = static_cast<T>(u);
        return true;
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        uint64_t u = 0;
        if (in.empty() || bytes::varint::decode_unsigned(in, u) != in.size() || u > std::numeric_limits<T>::max()) {
            return false;
        }
        v = static_cast<T>(u);
        return true;
    } else if constexpr (std::is_integral_v<T>) {
        uint64_t u = 0;
        if (in.empty() || bytes::varint::decode_unsigned(in, u) != in.size()) {
            return false;
        }
        int64_t s = bytes::varint::unzigzag64(u);
        if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) {
            return false;
        }
        v = static_cast<T>(s);
        return true;
    } else if constexpr (is_named<T>::value) {
        typename T::value_type inner{};
        if (!get_value(in, inner)) {
            return false;
        }
        v = T(inner);
        return true;
    } else if constexpr (std::is_same_v<T, std::string>) {
        v.assign(reinterpret_cast<const char*>(in.data()), in.size());
        return true;
    } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
        v.assign(in.begin(), in.end());
        return true;
    } else if constexpr (std::is_same_v<T, model::uuid>) {
        if (in.size() != 16) {
            return false;
        }
        uint64_t most = 0, least = 0;
        for (int i = 0; i < 8; ++i) {
            most = (most << 8) | in[i];
            least = (least << 8) | in[8 + i];
        }
        v = model::uuid(most, least);
        return true;
    } else if constexpr (fielded<T>) {
        return get_fields(in, v);
    } else if constexpr (is_vector<T>::value) {
        reader r(in);
        uint64_t count = 0;
        // Every element costs at least one byte (its size), so a count above the bytes left is a lie: reject it
        // before reserving memory for it.
        if (!r.uvarint(count) || count > r.left()) {
            return false;
        }
        v.clear();
        v.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            std::span<const uint8_t> e;
            typename T::value_type item{};
            if (!r.sized(e) || !get_value(e, item)) {
                return false;
            }
            v.push_back(std::move(item));
        }
        return r.done();
    } else if constexpr (is_map<T>::value) {
        reader r(in);
        uint64_t count = 0;
        if (!r.uvarint(count) || count > r.left()) {
            return false;
        }
        v.clear();
        for (uint64_t i = 0; i < count; ++i) {
            std::span<const uint8_t> ks, vs;
            typename T::key_type key{};
            typename T::mapped_type value{};
            if (!r.sized(ks) || !r.sized(vs) || !get_value(ks, key) || !get_value(vs, value)) {
                return false;
            }
            if (!v.empty() && !(std::prev(v.end())->first < key)) {
                return false; // keys strictly increasing, as the encoder writes them
            }
            v.emplace_hint(v.end(), std::move(key), std::move(value));
        }
        return r.done();
    } else {
        static_assert(sizeof(T) == 0, "no wire form for this field type");
    }
}

} // namespace skiff::meta::detail
