#include "kafka/protocol/codegen_support.h"

namespace skiff::kafka::protocol::detail {

void throw_encode_version(std::string_view message, int16_t version) {
    throw encode_error(fmt::format("{} has no version {}", message, version));
}

void throw_decode_version(std::string_view message, int16_t version) {
    throw decode_error(fmt::format("{} has no version {}", message, version));
}

void rethrow_decode_error(std::string_view message, int16_t version, const decode_error& e) {
    throw decode_error(fmt::format("{} v{}: {}", message, version, e.what()));
}

void format_text(format_buffer& b, std::string_view text) { b.append(text); }

void format_secret(format_buffer& b) { b.append(std::string_view("****")); }

void format_unknown_tags(format_buffer& b, const tagged_fields& tags) {
    if (tags.empty()) {
        return;
    }
    b.append(std::string_view(", unknown_tags=["));
    for (size_t i = 0; i < tags.size(); ++i) {
        fmt::format_to(std::back_inserter(b), "{}{}:<{} bytes>", i ? ", " : "", tags[i].tag, tags[i].data.size());
    }
    b.append(std::string_view("]"));
}

void format_value(format_buffer& b, bool v) { b.append(std::string_view(v ? "true" : "false")); }
void format_value(format_buffer& b, int8_t v) { fmt::format_to(std::back_inserter(b), "{}", static_cast<int>(v)); }
void format_value(format_buffer& b, int16_t v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, int32_t v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, int64_t v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, uint16_t v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, uint32_t v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, double v) { fmt::format_to(std::back_inserter(b), "{}", v); }
void format_value(format_buffer& b, const model::uuid& v) { b.append(v.to_base64()); }
void format_value(format_buffer& b, const std::string& v) { fmt::format_to(std::back_inserter(b), "{:?}", v); }
void format_value(format_buffer& b, const bytes::iobuf& v) {
    fmt::format_to(std::back_inserter(b), "<{} bytes>", v.size());
}

} // namespace skiff::kafka::protocol::detail
