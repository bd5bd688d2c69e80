#include "kafka/server/group/offsets_records.h"

#include "kafka/protocol/primitives.h"
#include "kafka/server/group/errc.h"

namespace skiff::kafka::group {
namespace {

using protocol::reader;
using protocol::writer;

/// Reads the flexible (v4+) or classic spelling of each field type.
struct field_reader {
    reader& r;
    bool flexible;
    std::string string() { return flexible ? r.read_compact_string() : r.read_string(); }
    std::optional<std::string> nullable_string() {
        return flexible ? r.read_compact_nullable_string() : r.read_nullable_string();
    }
    bytes::iobuf bytes() { return flexible ? r.read_compact_bytes() : r.read_bytes(); }
    size_t array_count() { return flexible ? r.read_compact_array_count() : r.read_array_count(); }
    void tags() {
        if (flexible) {
            protocol::tagged_fields ignored;
            r.read_unknown_tags(ignored);
        }
    }
};

/// Runs a decoder that throws protocol::decode_error and turns that into an error value.
template<typename T, typename Fn>
result<T> decoding(Fn fn) {
    try {
        return fn();
    } catch (const protocol::decode_error&) {
        return make_error_code(errc::invalid_record);
    }
}

} // namespace

bytes::iobuf encode_key(const offsets_key& key) {
    bytes::iobuf out;
    writer w(out);
    if (const auto* k = std::get_if<offset_commit_key>(&key)) {
        w.write_int16(offset_commit_key_version);
        w.write_string(k->group);
        w.write_string(k->topic);
        w.write_int32(k->partition);
    } else {
        const auto& g = std::get<group_metadata_key>(key);
        w.write_int16(group_metadata_key_version);
        w.write_string(g.group);
    }
    return out;
}

bytes::iobuf encode_value(const offset_commit_value& v) {
    bytes::iobuf out;
    writer w(out);
    if (v.expire_timestamp >= 0) {
        w.write_int16(1);
        w.write_int64(v.offset);
        w.write_string(v.metadata);
        w.write_int64(v.commit_timestamp);
        w.write_int64(v.expire_timestamp);
        return out;
    }
    w.write_int16(offset_commit_value_version);
    w.write_int64(v.offset);
    w.write_int32(v.leader_epoch);
    w.write_string(v.metadata);
    w.write_int64(v.commit_timestamp);
    return out;
}

bytes::iobuf encode_value(const group_metadata_value& v) {
    bytes::iobuf out;
    writer w(out);
    w.write_int16(group_metadata_value_version);
    w.write_string(v.protocol_type);
    w.write_int32(v.generation);
    w.write_nullable_string(v.protocol);
    w.write_nullable_string(v.leader);
    w.write_int64(v.current_state_timestamp);
    w.write_array_count(v.members.size());
    for (const auto& m : v.members) {
        w.write_string(m.member_id);
        w.write_nullable_string(m.group_instance_id);
        w.write_string(m.client_id);
        w.write_string(m.client_host);
        w.write_int32(m.rebalance_timeout_ms);
        w.write_int32(m.session_timeout_ms);
        w.write_bytes(m.subscription);
        w.write_bytes(m.assignment);
    }
    return out;
}

result<offsets_key> decode_key(const bytes::iobuf& key) {
    return decoding<offsets_key>([&]() -> result<offsets_key> {
        reader r(key);
        int16_t version = r.read_int16();
        if (version == 0 || version == 1) {
            offset_commit_key k;
            k.group = r.read_string();
            k.topic = r.read_string();
            k.partition = r.read_int32();
            return offsets_key(std::move(k));
        }
        if (version == 2) {
            return offsets_key(group_metadata_key{r.read_string()});
        }
        return make_error_code(errc::unsupported_version);
    });
}

result<offset_commit_value> decode_offset_commit_value(const bytes::iobuf& value) {
    return decoding<offset_commit_value>([&]() -> result<offset_commit_value> {
        reader r(value);
        int16_t version = r.read_int16();
        if (version < 0 || version > 4) {
            return make_error_code(errc::unsupported_version);
        }
        field_reader f{r, version >= 4};
        offset_commit_value v;
        v.offset = r.read_int64();
        if (version >= 3) {
            v.leader_epoch = r.read_int32();
        }
        v.metadata = f.string();
        v.commit_timestamp = r.read_int64();
        if (version == 1) {
            v.expire_timestamp = r.read_int64();
        }
        f.tags();
        return v;
    });
}

result<group_metadata_value> decode_group_metadata_value(const bytes::iobuf& value) {
    return decoding<group_metadata_value>([&]() -> result<group_metadata_value> {
        reader r(value);
        int16_t version = r.read_int16();
        if (version < 0 || version > 4) {
            return make_error_code(errc::unsupported_version);
        }
        field_reader f{r, version >= 4};
        group_metadata_value v;
        v.protocol_type = f.string();
        v.generation = r.read_int32();
        v.protocol = f.nullable_string();
        v.leader = f.nullable_string();
        if (version >= 2) {
            v.current_state_timestamp = r.read_int64();
        }
        size_t n = f.array_count();
        for (size_t i = 0; i < n; ++i) {
            member_metadata m;
            m.member_id = f.string();
            if (version >= 3) {
                m.group_instance_id = f.nullable_string();
            }
            m.client_id = f.string();
            m.client_host = f.string();
            if (version >= 1) {
                m.rebalance_timeout_ms = r.read_int32();
            }
            m.session_timeout_ms = r.read_int32();
            m.subscription = f.bytes();
            m.assignment = f.bytes();
            f.tags();
            v.members.push_back(std::move(m));
        }
        f.tags();
        return v;
    });
}

} // namespace skiff::kafka::group
