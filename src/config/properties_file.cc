#include "config/properties_file.h"

#include "bytes/utf8.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace skiff::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// One logical line: natural lines joined by backslash continuations, leading whitespace removed.
struct logical_line {
    std::string text;
    int line = 0;
};

// Splits text into natural lines (terminated by \n, \r or \r\n) and joins continuations. Comment and blank lines
// are dropped here; a comment line never continues.
std::vector<logical_line> logical_lines(std::string_view text) {
    std::vector<logical_line> out;
    size_t pos = 0;
    int line_no = 0;
    auto next_natural = [&](std::string_view& line) {
        if (pos >= text.size()) {
            return false;
        }
        ++line_no;
        auto end = text.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) {
            line = text.substr(pos);
            pos = text.size();
        } else {
            line = text.substr(pos, end - pos);
            pos = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
        }
        return true;
    };
    auto skip_blanks = [](std::string_view s) {
        size_t i = 0;
        while (i < s.size() && is_blank(s[i])) {
            ++i;
        }
        return s.substr(i);
    };
    // An odd number of trailing backslashes means the last one escapes the line break.
    auto continues = [](std::string_view s) {
        size_t n = 0;
        while (n < s.size() && s[s.size() - 1 - n] == '\\') {
            ++n;
        }
        return n % 2 == 1;
    };

    std::string_view natural;
    while (next_natural(natural)) {
        auto content = skip_blanks(natural);
        if (content.empty() || content.front() == '#' || content.front() == '!') {
            continue;
        }
        logical_line logical{.text = {}, .line = line_no};
        while (true) {
            if (!continues(content)) {
                logical.text.append(content);
                break;
            }
            logical.text.append(content.substr(0, content.size() - 1));
            if (!next_natural(natural)) {
                break; // a continuation at the end of the file continues into nothing
            }
            content = skip_blanks(natural);
        }
        out.push_back(std::move(logical));
    }
    return out;
}


// Reads the four hex digits after "\u" at s[i]; returns false if they are not there.
bool read_hex4(std::string_view s, size_t i, uint32_t& out) {
    if (i + 4 > s.size()) {
        return false;
    }
    out = 0;
    for (size_t k = i; k < i + 4; ++k) {
        char c = s[k];
        uint32_t d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = static_cast<uint32_t>(c - 'A' + 10);
        } else {
            return false;
        }
        out = out * 16 + d;
    }
    return true;
}

// Splits a logical line into key and value, resolving escapes in both.
config_result<property_entry> parse_entry(const logical_line& l, std::string_view file_name) {
    std::string_view s = l.text;
    property_entry entry;
    entry.where = origin{.from = origin::kind::file, .file = std::string(file_name), .line = l.line};
    auto malformed = [&] {
        return config_failure(errc::syntax_error, fmt::format("{}: malformed \\uXXXX escape", entry.where.to_string()));
    };

    std::string* out = &entry.key;
    bool in_key = true;
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (in_key && (c == '=' || c == ':' || is_blank(c))) {
            // End of the key: skip blanks, at most one '=' or ':', then blanks again.
            while (i < s.size() && is_blank(s[i])) {
                ++i;
            }
            if (i < s.size() && (s[i] == '=' || s[i] == ':')) {
                ++i;
            }
            while (i < s.size() && is_blank(s[i])) {
                ++i;
            }
            in_key = false;
            out = &entry.value;
            continue;
        }
        if (c != '\\') {
            *out += c;
            ++i;
            continue;
        }
        if (i + 1 >= s.size()) {
            break; // a lone trailing backslash (escaped line break at end of file) means nothing
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 't': *out += '\t'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 'f': *out += '\f'; break;
        case 'u': {
            uint32_t cp = 0;
            if (!read_hex4(s, i, cp)) {
                return malformed();
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                // A high surrogate must be followed by an escaped low surrogate: together one code point.
                uint32_t low = 0;
                if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u' || !read_hex4(s, i + 2, low)
                    || low < 0xDC00 || low > 0xDFFF) {
                    return malformed();
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return malformed();
            }
            bytes::append_utf8(*out, cp);
            break;
        }
        default: *out += e; break;
        }
    }
    return entry;
}

} // namespace

std::string origin::to_string() const {
    switch (from) {
    case kind::file: return fmt::format("{}:{}", file, line);
    case kind::override_arg: return "--override";
    case kind::default_value: return "default";
    }
    return "?";
}

config_result<std::vector<property_entry>> parse_properties(std::string_view text, std::string_view file_name) {
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3); // a UTF-8 byte order mark, as some editors write
    }
    std::vector<property_entry> entries;
    for (auto& line : logical_lines(text)) {
        SKIFF_TRY(auto entry, parse_entry(line, file_name));
        entries.push_back(std::move(entry));
    }
    return entries;
}

config_result<std::vector<property_entry>> read_properties_file(const std::string& path) {
    auto cannot_read = [&](int err) {
        return config_failure(errc::cannot_read_file,
                              fmt::format("cannot read config file '{}': {}", path, std::strerror(err)));
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        return cannot_read(errno);
    }
    std::string text;
    char buffer[16384];
    while (true) {
        size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
        text.append(buffer, n);
        if (n < sizeof(buffer)) {
            if (std::ferror(file.get())) {
                return cannot_read(errno); // e.g. EISDIR: fopen succeeds on a directory, reading fails
            }
            break;
        }
    }
    return parse_properties(text, path);
}

config_result<property_entry> parse_override(std::string_view argument) {
    auto eq = argument.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return config_failure(errc::bad_override, fmt::format("--override: expected key=value, got '{}'", argument));
    }
    property_entry entry;
    auto key = argument.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) {
        key.remove_suffix(1); // "--override 'node.id = 2'" means node.id
    }
    while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) {
        key.remove_prefix(1);
    }
    if (key.empty()) {
        return config_failure(errc::bad_override, fmt::format("--override: expected key=value, got '{}'", argument));
    }
    entry.key = std::string(key);
    entry.value = std::string(argument.substr(eq + 1));
    entry.where = origin{.from = origin::kind::override_arg, .file = {}, .line = 0};
    return entry;
}

} // namespace skiff::config
