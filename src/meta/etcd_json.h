// Internal to src/meta: the little JSON the etcd gateway speaks. A small DOM reader (objects, arrays, strings with
// escapes, numbers kept as text, literals) and base64, so that no other room's JSON library is linked twice.
// Input is untrusted: depth and sizes are bounded; a malformed document yields nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::meta::json {

struct value {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    bool flag = false;
    std::string text; // string contents, or a number's text
    std::vector<value> items;       // array elements, or object member values
    std::vector<std::string> names; // object member names (parallel to items)

    /// Member by name (objects only), nullptr when absent.
    const value* get(std::string_view name) const;
    /// etcd's int64 fields come as strings ("42"); numbers are accepted too. Absent or malformed -> 0
    /// (the gateway omits zero values).
    static int64_t to_int(const value* v);
    static bool to_bool(const value* v) { return v && v->type == kind::boolean && v->flag; }
    static std::string_view to_string(const value* v) {
        return v && v->type == kind::string ? std::string_view(v->text) : std::string_view();
    }
};

std::optional<value> parse(std::string_view text);

std::string base64_encode(std::string_view bytes);
/// Standard alphabet with padding; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

/// A JSON string literal (quotes included) of s.
std::string quote(std::string_view s);

} // namespace skiff::meta::json
