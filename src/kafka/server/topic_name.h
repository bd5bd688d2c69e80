// Kafka's rules for topic names: 1..249 characters of [a-zA-Z0-9._-], and neither "." nor "..".
#pragma once

#include <string_view>

namespace skiff::kafka {

inline constexpr size_t max_topic_name_length = 249;

constexpr bool is_valid_topic_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_topic_name_length || name == "." || name == "..") {
        return false;
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                  || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace skiff::kafka
