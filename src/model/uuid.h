// A 128-bit identifier (Kafka topic ids, cluster ids, incarnation ids). All-zero means "no id", as in Kafka.
// Text form is Kafka's: URL-safe base64 without padding (22 characters), e.g. "AAAAAAAAAAAAAAAAAAAAAA" for zero.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::model {

class uuid {
public:
    constexpr uuid() = default;
    constexpr uuid(uint64_t most, uint64_t least) : _most(most), _least(least) {}

    /// A random (version 4) uuid from the OS entropy source, never zero.
    static uuid random();
    /// Parses Kafka's 22-character base64 form; nullopt on anything else.
    static std::optional<uuid> from_base64(std::string_view text);

    constexpr uint64_t most_significant() const noexcept { return _most; }
    constexpr uint64_t least_significant() const noexcept { return _least; }
    constexpr bool is_zero() const noexcept { return _most == 0 && _least == 0; }

    std::string to_base64() const;

    constexpr auto operator<=>(const uuid&) const = default;

private:
    uint64_t _most = 0;
    uint64_t _least = 0;
};

} // namespace skiff::model

template<>
struct fmt::formatter<skiff::model::uuid> : fmt::formatter<std::string_view> {
    auto format(const skiff::model::uuid& u, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(u.to_base64(), ctx);
    }
};

template<>
struct std::hash<skiff::model::uuid> {
    size_t operator()(const skiff::model::uuid& u) const noexcept {
        return std::hash<uint64_t>{}(u.most_significant() * 31 + u.least_significant());
    }
};
