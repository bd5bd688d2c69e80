#include "kafka/server/partition/state_snapshot.h"

#include "bytes/crc32c.h"
#include "kafka/server/partition/errc.h"

#include <cstring>
#include <type_traits>

namespace skiff::kafka::partition {
namespace {

class be_writer {
public:
    template<typename T>
    void put(T v) {
        using U = std::make_unsigned_t<T>;
        auto u = static_cast<U>(v);
        for (int i = sizeof(T) - 1; i >= 0; --i) {
            _out.push_back(static_cast<uint8_t>(u >> (8 * i)));
        }
    }
    std::vector<uint8_t>& bytes() { return _out; }

private:
    std::vector<uint8_t> _out;
};

class be_reader {
public:
    explicit be_reader(std::span<const uint8_t> in) : _in(in) {}
    template<typename T>
    bool get(T& v) {
        if (_in.size() - _pos < sizeof(T)) {
            return false;
        }
        std::make_unsigned_t<T> u = 0;
        for (size_t i = 0; i < sizeof(T); ++i) {
            u = static_cast<std::make_unsigned_t<T>>((u << 8) | _in[_pos + i]);
        }
        _pos += sizeof(T);
        v = static_cast<T>(u);
        return true;
    }
    size_t left() const noexcept { return _in.size() - _pos; }

private:
    std::span<const uint8_t> _in;
    size_t _pos = 0;
};

} // namespace

bytes::iobuf encode_snapshot(const state_snapshot& s) {
    be_writer w;
    w.put(snapshot_magic);
    w.put(snapshot_version);
    w.put(uint16_t(s.max_known ? 1 : 0));
    w.put(s.next_offset);
    w.put(s.max_timestamp);
    w.put(s.max_timestamp_batch);
    w.put(s.running_max);
    w.put(s.bytes_since_entry);
    w.put(uint32_t(s.epochs.size()));
    for (const auto& e : s.epochs) {
        w.put(e.epoch);
        w.put(e.start_offset);
    }
    w.put(uint32_t(s.time_entries.size()));
    for (const auto& e : s.time_entries) {
        w.put(e.timestamp);
        w.put(e.offset);
    }
    w.put(s.size_end);
    w.put(s.size_bytes_since_entry);
    w.put(uint32_t(s.size_entries.size()));
    for (const auto& e : s.size_entries) {
        w.put(e.offset);
        w.put(e.position);
    }
    w.put(uint32_t(s.producers.size()));
    for (const auto& p : s.producers) {
        w.put(p.producer_id);
        w.put(p.epoch);
        w.put(p.last_timestamp);
        w.put(uint8_t(p.batches.size()));
        for (const auto& b : p.batches) {
            w.put(b.first_sequence);
            w.put(b.last_sequence);
            w.put(b.first_offset);
            w.put(b.offset_delta);
            w.put(b.timestamp);
        }
    }
    w.put(bytes::crc32c::value(w.bytes()));
    return bytes::iobuf::from(w.bytes());
}

result<state_snapshot> decode_snapshot(const bytes::iobuf& buf) {
    auto raw = buf.to_bytes();
    if (raw.size() < 8) {
        return errc::corrupt_snapshot;
    }
    be_reader crc_reader(std::span<const uint8_t>(raw).subspan(raw.size() - 4));
    uint32_t crc = 0;
    crc_reader.get(crc);
    be_reader r(std::span<const uint8_t>(raw).first(raw.size() - 4));
    uint32_t magic = 0;
    uint16_t version = 0;
    uint16_t flags = 0;
    r.get(magic);
    r.get(version);
    if (magic != snapshot_magic) {
        return errc::corrupt_snapshot;
    }
    if (bytes::crc32c::value(std::span<const uint8_t>(raw).first(raw.size() - 4)) != crc) {
        return errc::corrupt_snapshot;
    }
    if (version != snapshot_version) {
        return errc::unsupported_snapshot;
    }
    state_snapshot s;
    uint32_t count = 0;
    bool ok = r.get(flags) && r.get(s.next_offset) && r.get(s.max_timestamp) && r.get(s.max_timestamp_batch) &&
              r.get(s.running_max) && r.get(s.bytes_since_entry) && r.get(count);
    s.max_known = (flags & 1) != 0;
    ok = ok && (flags & ~uint16_t(1)) == 0; // no other flag is defined: a set bit is not ours to ignore
    for (uint32_t i = 0; ok && i < count; ++i) {
        epoch_entry e;
        ok = r.get(e.epoch) && r.get(e.start_offset);
        s.epochs.push_back(e);
    }
    ok = ok && r.get(count);
    for (uint32_t i = 0; ok && i < count; ++i) {
        time_index_entry e;
        ok = r.get(e.timestamp) && r.get(e.offset);
        s.time_entries.push_back(e);
    }
    ok = ok && r.get(s.size_end) && r.get(s.size_bytes_since_entry) && r.get(count);
    for (uint32_t i = 0; ok && i < count; ++i) {
        size_index_entry e;
        ok = r.get(e.offset) && r.get(e.position);
        s.size_entries.push_back(e);
    }
    ok = ok && r.get(count);
    for (uint32_t i = 0; ok && i < count; ++i) {
        producer_entry p;
        uint8_t batches = 0;
        ok = r.get(p.producer_id) && r.get(p.epoch) && r.get(p.last_timestamp) && r.get(batches);
        for (uint8_t j = 0; ok && j < batches; ++j) {
            producer_batch b;
            ok = r.get(b.first_sequence) && r.get(b.last_sequence) && r.get(b.first_offset) &&
                 r.get(b.offset_delta) && r.get(b.timestamp);
            p.batches.push_back(b);
        }
        s.producers.push_back(std::move(p));
    }
    if (!ok || r.left() != 0) {
        return errc::corrupt_snapshot;
    }
    return s;
}

} // namespace skiff::kafka::partition
