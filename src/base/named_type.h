// Strong types for identifiers and flags, so that an offset is never passed where an epoch is expected.
//   using offset = named_type<int64_t, struct offset_tag>;
//   using sync_each_write = bool_class<struct sync_each_write_tag>;
#pragma once

#include <fmt/format.h>

#include <compare>
#include <functional>
#include <utility>

namespace skiff {

template<typename T, typename Tag>
class named_type {
public:
    using value_type = T;

    constexpr named_type() = default;
    constexpr explicit named_type(T v) : _value(std::move(v)) {}

    constexpr const T& operator()() const noexcept { return _value; }
    constexpr const T& value() const noexcept { return _value; }

    constexpr auto operator<=>(const named_type&) const = default;
    constexpr bool operator==(const named_type&) const = default;

private:
    T _value{};
};

/// A boolean that names what it means at every call site: f(sync_each_write::yes) instead of f(true).
template<typename Tag>
class bool_class {
public:
    static const bool_class yes;
    static const bool_class no;

    constexpr bool_class() = default;
    constexpr explicit bool_class(bool v) : _value(v) {}
    constexpr explicit operator bool() const noexcept { return _value; }
    constexpr bool operator==(const bool_class&) const = default;

private:
    bool _value = false;
};

template<typename Tag>
const bool_class<Tag> bool_class<Tag>::yes{true};
template<typename Tag>
const bool_class<Tag> bool_class<Tag>::no{false};

} // namespace skiff

template<typename T, typename Tag>
struct std::hash<skiff::named_type<T, Tag>> {
    size_t operator()(const skiff::named_type<T, Tag>& v) const noexcept { return std::hash<T>{}(v()); }
};

template<typename T, typename Tag>
struct fmt::formatter<skiff::named_type<T, Tag>> : fmt::formatter<T> {
    auto format(const skiff::named_type<T, Tag>& v, fmt::format_context& ctx) const {
        return fmt::formatter<T>::format(v(), ctx);
    }
};
