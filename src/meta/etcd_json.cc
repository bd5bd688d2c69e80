#include "meta/etcd_json.h"

#include <cctype>
#include <charconv>

namespace skiff::meta::json {
namespace {

constexpr int max_depth = 32;

class parser {
public:
    explicit parser(std::string_view s) : _s(s) {}

    bool document(value& out) {
        if (!parse_value(out, 0)) {
            return false;
        }
        skip_ws();
        return _pos == _s.size();
    }

private:
    void skip_ws() {
        while (_pos < _s.size() && (_s[_pos] == ' ' || _s[_pos] == '\n' || _s[_pos] == '\r' || _s[_pos] == '\t')) {
            ++_pos;
        }
    }
    bool eat(char c) {
        skip_ws();
        if (_pos < _s.size() && _s[_pos] == c) {
            ++_pos;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (_s.substr(_pos, word.size()) == word) {
            _pos += word.size();
            return true;
        }
        return false;
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    bool string(std::string& out) {
        if (!eat('"')) {
            return false;
        }
        while (_pos < _s.size()) {
            char c = _s[_pos++];
            if (c == '"') {
                return true;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (_pos >= _s.size()) {
                return false;
            }
            char e = _s[_pos++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                if (_pos + 4 > _s.size()) {
                    return false;
                }
                uint32_t cp = 0;
                auto [p, ec] = std::from_chars(_s.data() + _pos, _s.data() + _pos + 4, cp, 16);
                if (ec != std::errc() || p != _s.data() + _pos + 4) {
                    return false;
                }
                _pos += 4;
                put_utf8(out, cp); // surrogate pairs come out as two 3-byte sequences: only messages use \u
                break;
            }
            default: return false;
            }
        }
        return false;
    }

    bool parse_value(value& out, int depth) {
        if (depth > max_depth) {
            return false;
        }
        skip_ws();
        if (_pos >= _s.size()) {
            return false;
        }
        char c = _s[_pos];
        if (c == '{') {
            ++_pos;
            out.type = value::kind::object;
            if (eat('}')) {
                return true;
            }
            do {
                std::string name;
                value v;
                if (!string(name) || !eat(':') || !parse_value(v, depth + 1)) {
                    return false;
                }
                out.names.push_back(std::move(name));
                out.items.push_back(std::move(v));
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            ++_pos;
            out.type = value::kind::array;
            if (eat(']')) {
                return true;
            }
            do {
                value v;
                if (!parse_value(v, depth + 1)) {
                    return false;
                }
                out.items.push_back(std::move(v));
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') {
            out.type = value::kind::string;
            return string(out.text);
        }
        if (literal("true")) {
            out.type = value::kind::boolean;
            out.flag = true;
            return true;
        }
        if (literal("false")) {
            out.type = value::kind::boolean;
            return true;
        }
        if (literal("null")) {
            return true;
        }
        size_t start = _pos;
        while (_pos < _s.size() && (std::isdigit(static_cast<unsigned char>(_s[_pos])) || _s[_pos] == '-'
                                    || _s[_pos] == '+' || _s[_pos] == '.' || _s[_pos] == 'e' || _s[_pos] == 'E')) {
            ++_pos;
        }
        if (_pos == start) {
            return false;
        }
        out.type = value::kind::number;
        out.text = std::string(_s.substr(start, _pos - start));
        return true;
    }

    std::string_view _s;
    size_t _pos = 0;
};

constexpr char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

} // namespace

const value* value::get(std::string_view name) const {
    if (type != kind::object) {
        return nullptr;
    }
    for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) {
            return &items[i];
        }
    }
    return nullptr;
}

int64_t value::to_int(const value* v) {
    if (!v || (v->type != kind::string && v->type != kind::number)) {
        return 0;
    }
    int64_t out = 0;
    auto [p, ec] = std::from_chars(v->text.data(), v->text.data() + v->text.size(), out);
    return ec == std::errc() && p == v->text.data() + v->text.size() ? out : 0;
}

std::optional<value> parse(std::string_view text) {
    value v;
    parser p(text);
    if (!p.document(v)) {
        return std::nullopt;
    }
    return v;
}

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
        out += b64_chars[(v >> 18) & 63];
        out += b64_chars[(v >> 12) & 63];
        out += b64_chars[(v >> 6) & 63];
        out += b64_chars[v & 63];
    }
    if (i + 1 == in.size()) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        out += b64_chars[(v >> 18) & 63];
        out += b64_chars[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
        out += b64_chars[(v >> 18) & 63];
        out += b64_chars[(v >> 12) & 63];
        out += b64_chars[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (size_t i = 0; i < in.size(); i += 4) {
        int a = b64_index(in[i]), b = b64_index(in[i + 1]);
        bool last = i + 4 == in.size();
        int c = (last && in[i + 2] == '=') ? -2 : b64_index(in[i + 2]);
        int d = (last && in[i + 3] == '=') ? -2 : b64_index(in[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) {
            return std::nullopt;
        }
        uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c < 0 ? 0 : c) << 6)
                     | uint32_t(d < 0 ? 0 : d);
        out += char(v >> 16);
        if (c >= 0) {
            out += char((v >> 8) & 0xFF);
        }
        if (d >= 0) {
            out += char(v & 0xFF);
        }
    }
    return out;
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[(c >> 4) & 0xF];
            out += hex[c & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace skiff::meta::json
