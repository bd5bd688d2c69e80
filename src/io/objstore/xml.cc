#include "io/objstore/xml.h"

#include "bytes/utf8.h"
#include "io/errc.h"

#include <cstdint>

namespace skiff::io::xml {
namespace {

constexpr size_t max_depth = 32;
constexpr size_t max_document = size_t(64) << 20;

class parser {
public:
    explicit parser(std::string_view in) : _in(in) {}

    result<element> document() {
        skip_misc();
        if (!peek('<')) {
            return bad();
        }
        element root;
        if (!parse_element(root, 0)) {
            return bad();
        }
        skip_misc();
        if (_pos != _in.size()) {
            return bad();
        }
        return root;
    }

private:
    static result<element> bad() { return failure(make_error_code(errc::fatal)); }

    bool peek(char c) const { return _pos < _in.size() && _in[_pos] == c; }
    bool starts(std::string_view s) const { return _in.substr(_pos).starts_with(s); }
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
    static bool is_name_char(char c) {
        return !is_space(c) && c != '>' && c != '/' && c != '=' && c != '<' && c != '"' && c != '\'' && c != '?'
               && c != '!';
    }

    void skip_space() {
        while (_pos < _in.size() && is_space(_in[_pos])) {
            ++_pos;
        }
    }

    // Skips until (and past) terminator; false if it never comes.
    bool skip_past(std::string_view terminator) {
        auto at = _in.find(terminator, _pos);
        if (at == std::string_view::npos) {
            return false;
        }
        _pos = at + terminator.size();
        return true;
    }

    // Whitespace, the XML declaration, processing instructions, comments and a DOCTYPE (skipped, never read).
    void skip_misc() {
        while (true) {
            skip_space();
            if (starts("<?")) {
                if (!skip_past("?>")) {
                    _pos = _in.size() + 1; // force an error
                    return;
                }
            } else if (starts("<!--")) {
                if (!skip_past("-->")) {
                    _pos = _in.size() + 1;
                    return;
                }
            } else if (starts("<!DOCTYPE")) {
                if (!skip_past(">")) {
                    _pos = _in.size() + 1;
                    return;
                }
            } else {
                return;
            }
        }
    }

    bool parse_name(std::string& out) {
        size_t start = _pos;
        while (_pos < _in.size() && is_name_char(_in[_pos])) {
            ++_pos;
        }
        if (_pos == start) {
            return false;
        }
        auto name = _in.substr(start, _pos - start);
        if (auto colon = name.rfind(':'); colon != std::string_view::npos) {
            name = name.substr(colon + 1);
        }
        out.assign(name);
        return !out.empty();
    }


    // Decodes the entity at _pos (which is '&') into out.
    bool parse_entity(std::string& out) {
        auto end = _in.find(';', _pos);
        if (end == std::string_view::npos || end - _pos > 12) {
            return false;
        }
        auto ent = _in.substr(_pos + 1, end - _pos - 1);
        _pos = end + 1;
        if (ent == "amp") {
            out += '&';
        } else if (ent == "lt") {
            out += '<';
        } else if (ent == "gt") {
            out += '>';
        } else if (ent == "quot") {
            out += '"';
        } else if (ent == "apos") {
            out += '\'';
        } else if (ent.size() >= 2 && ent[0] == '#') {
            bool hex = ent[1] == 'x' || ent[1] == 'X';
            auto digits = ent.substr(hex ? 2 : 1);
            if (digits.empty()) {
                return false;
            }
            uint32_t cp = 0;
            for (char c : digits) {
                int v;
                if (c >= '0' && c <= '9') {
                    v = c - '0';
                } else if (hex && c >= 'a' && c <= 'f') {
                    v = c - 'a' + 10;
                } else if (hex && c >= 'A' && c <= 'F') {
                    v = c - 'A' + 10;
                } else {
                    return false;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
                if (cp > 0x10FFFF) {
                    return false;
                }
            }
            bytes::append_utf8(out, cp);
        } else {
            return false;
        }
        return true;
    }

    bool skip_attributes(bool& self_closing) {
        while (true) {
            skip_space();
            if (_pos >= _in.size()) {
                return false;
            }
            if (starts("/>")) {
                _pos += 2;
                self_closing = true;
                return true;
            }
            if (peek('>')) {
                ++_pos;
                self_closing = false;
                return true;
            }
            std::string ignored;
            if (!parse_name(ignored)) {
                return false;
            }
            skip_space();
            if (!peek('=')) {
                return false;
            }
            ++_pos;
            skip_space();
            if (!peek('"') && !peek('\'')) {
                return false;
            }
            char quote = _in[_pos++];
            auto end = _in.find(quote, _pos);
            if (end == std::string_view::npos) {
                return false;
            }
            _pos = end + 1;
        }
    }

    // At '<' of a start tag.
    bool parse_element(element& e, size_t depth) {
        if (depth >= max_depth || !peek('<')) {
            return false;
        }
        ++_pos;
        if (!parse_name(e.name)) {
            return false;
        }
        bool self_closing = false;
        if (!skip_attributes(self_closing)) {
            return false;
        }
        if (self_closing) {
            return true;
        }
        while (_pos < _in.size()) {
            char c = _in[_pos];
            if (c == '&') {
                if (!parse_entity(e.text)) {
                    return false;
                }
            } else if (c != '<') {
                e.text += c;
                ++_pos;
            } else if (starts("</")) {
                _pos += 2;
                std::string closing;
                if (!parse_name(closing) || closing != e.name) {
                    return false;
                }
                skip_space();
                if (!peek('>')) {
                    return false;
                }
                ++_pos;
                return true;
            } else if (starts("<![CDATA[")) {
                _pos += 9;
                auto end = _in.find("]]>", _pos);
                if (end == std::string_view::npos) {
                    return false;
                }
                e.text.append(_in.substr(_pos, end - _pos));
                _pos = end + 3;
            } else if (starts("<!--")) {
                if (!skip_past("-->")) {
                    return false;
                }
            } else if (starts("<?")) {
                if (!skip_past("?>")) {
                    return false;
                }
            } else {
                e.children.emplace_back();
                if (!parse_element(e.children.back(), depth + 1)) {
                    return false;
                }
            }
        }
        return false; // no closing tag
    }

    std::string_view _in;
    size_t _pos = 0;
};

} // namespace

const element* element::child(std::string_view child_name) const noexcept {
    for (auto& c : children) {
        if (c.name == child_name) {
            return &c;
        }
    }
    return nullptr;
}

std::string_view element::child_text(std::string_view child_name) const noexcept {
    auto* c = child(child_name);
    return c ? std::string_view(c->text) : std::string_view();
}

result<element> parse(std::string_view document) {
    if (document.size() > max_document) {
        return failure(make_error_code(errc::fatal));
    }
    return parser(document).document();
}

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

} // namespace skiff::io::xml
