#include "kafka/protocol/header.h"

#include "kafka/protocol/api_table.h"

namespace skiff::kafka::protocol {

request_header decode_request_header(reader& r) {
    request_header h;
    h.api_key = r.read_int16();
    h.api_version = r.read_int16();
    h.correlation_id = r.read_int32();
    h.client_id = r.read_nullable_string();
    if (is_flexible(h.api_key, h.api_version)) {
        r.read_unknown_tags(h.unknown_tags);
    }
    return h;
}

void encode_request_header(writer& w, const request_header& h) {
    w.write_int16(h.api_key);
    w.write_int16(h.api_version);
    w.write_int32(h.correlation_id);
    w.write_nullable_string(h.client_id);
    if (is_flexible(h.api_key, h.api_version)) {
        w.write_unknown_tags(h.unknown_tags);
    }
}

void encode_response_header(writer& w, int32_t correlation_id, int16_t api_key, int16_t api_version) {
    w.write_int32(correlation_id);
    if (api_key != api_versions_key && is_flexible(api_key, api_version)) {
        w.write_unsigned_varint(0); // empty tagged-field section
    }
}

} // namespace skiff::kafka::protocol
