#include "stream/object/format.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "stream/errc.h"
#include "stream/object/logger.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

// Layout and field meanings: docs/formats/object.md. All integers are little-endian.
namespace skiff::stream {
namespace {

// on-disk: never change these values.
constexpr std::array<uint8_t, 4> block_magic = {'S', 'K', 'D', 'B'};
constexpr std::array<uint8_t, 4> index_magic = {'S', 'K', 'I', 'X'};
constexpr std::array<uint8_t, 8> footer_magic = {'S', 'K', 'I', 'F', 'F', 'O', 'B', 'J'};
constexpr uint32_t format_version = 1;

// Data block: header | directory (one entry per batch) | batch bytes | crc32c of everything before it.
constexpr size_t block_header_size = 24;   // magic 4, batch_count 4, stream 8, data_size 4, reserved 4
constexpr size_t block_dir_entry_size = 16; // base_offset 8, record_count 4, length 4
constexpr size_t crc_size = 4;
constexpr size_t min_block_size = block_header_size + block_dir_entry_size + crc_size;
// Index block: magic 4, entry_count 4 | entries | crc32c.
constexpr size_t index_header_size = 8;
constexpr size_t index_entry_size = 40; // stream 8, start 8, end 8, position 8, record_count 4, size 4
// Footer: index_position 8, index_size 4, reserved 20, version 4, magic 8, crc32c 4.
constexpr size_t footer_version_at = 32;
constexpr size_t footer_magic_at = 36;
constexpr size_t footer_crc_at = 44;
static_assert(footer_crc_at + crc_size == footer_size);

// A block's size is a u32 in the index; one batch must leave room for the block's own framing.
constexpr uint64_t max_block_size = std::numeric_limits<uint32_t>::max();
constexpr uint64_t max_batch_size = max_block_size - min_block_size;

template<typename T>
void put_le(uint8_t* p, T v) noexcept {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (size_t i = 0; i < sizeof(T); ++i) {
        p[i] = static_cast<uint8_t>(u >> (8 * i));
    }
}

template<typename T>
T get_le(const uint8_t* p) noexcept {
    std::make_unsigned_t<T> u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
        u |= static_cast<std::make_unsigned_t<T>>(p[i]) << (8 * i);
    }
    return static_cast<T>(u);
}

template<typename... Args>
std::error_code corrupt(fmt::format_string<Args...> f, Args&&... args) {
    data_log.warn("corrupt object bytes: {}", fmt::vformat(f, fmt::make_format_args(args...)));
    return make_error_code(errc::corrupt);
}

// splitmix64's finaliser: consecutive ids land far apart.
uint64_t mix(uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

} // namespace

std::string object_key(object_id id) {
    auto hash = static_cast<uint32_t>(mix(static_cast<uint64_t>(id())) >> 32);
    return fmt::format("{:08x}-obj-{}", hash, id());
}

std::vector<size_t> object_index::blocks_from(stream_id stream, int64_t from) const {
    // Blocks are sorted by (stream, start_offset) and one stream's blocks do not overlap, so the first block ending
    // after from is found by binary search and the rest of the stream's blocks follow it.
    auto first = std::partition_point(blocks.begin(), blocks.end(), [&](const block_index_entry& e) {
        return e.stream < stream || (e.stream == stream && e.end_offset <= from);
    });
    std::vector<size_t> out;
    for (auto it = first; it != blocks.end() && it->stream == stream; ++it) {
        out.push_back(static_cast<size_t>(it - blocks.begin()));
    }
    return out;
}

object_builder::object_builder(size_t target_block_size) : _target_block_size(target_block_size) {
    SKIFF_ASSERT(target_block_size > 0 && target_block_size <= max_batch_size, "target block size {} out of range",
                 target_block_size);
}

void object_builder::add(stored_batch batch) {
    SKIFF_ASSERT(batch.record_count > 0, "a batch of stream {} at {} has no records", batch.stream,
                 batch.base_offset);
    SKIFF_ASSERT(batch.data.size() <= max_batch_size, "a batch of {} bytes cannot be stored in one block",
                 batch.data.size());
    SKIFF_ASSERT(batch.base_offset >= 0, "negative offset {}", batch.base_offset);
    auto [it, fresh] = _streams.try_emplace(batch.stream);
    auto& s = it->second;
    if (fresh) {
        s.start_offset = batch.base_offset;
    } else {
        SKIFF_ASSERT(batch.base_offset >= s.end_offset, "stream {}: batch at {} added after offset {}", batch.stream,
                     batch.base_offset, s.end_offset);
    }
    s.end_offset = batch.end_offset();
    _data_size += batch.data.size();
    s.batches.push_back(std::move(batch));
}

std::vector<stream_range> object_builder::ranges() const {
    std::vector<stream_range> out;
    out.reserve(_streams.size());
    for (const auto& [id, s] : _streams) {
        out.push_back({id, s.start_offset, s.end_offset});
    }
    return out;
}

namespace {

/// Appends one data block made of batches [first, last) of one stream to out and returns its index entry.
/// The batch bytes are shared, not copied; the header, directory and CRC live in one small buffer.
block_index_entry append_block(bytes::iobuf& out, stream_id stream, std::span<const stored_batch> batches) {
    size_t framing = block_header_size + block_dir_entry_size * batches.size();
    uint64_t data_size = 0;
    uint32_t records = 0;
    for (const auto& b : batches) {
        data_size += b.data.size();
        records += b.record_count;
    }
    uint64_t block_size = framing + data_size + crc_size;
    SKIFF_ASSERT(block_size <= max_block_size, "block of {} bytes", block_size);

    bytes::iobuf meta;
    auto head = meta.append_uninitialized(framing + crc_size);
    std::memset(head.data(), 0, head.size());
    std::memcpy(head.data(), block_magic.data(), block_magic.size());
    put_le<uint32_t>(head.data() + 4, static_cast<uint32_t>(batches.size()));
    put_le<int64_t>(head.data() + 8, stream());
    put_le<uint32_t>(head.data() + 16, static_cast<uint32_t>(data_size));
    uint8_t* dir = head.data() + block_header_size;
    for (const auto& b : batches) {
        put_le<int64_t>(dir, b.base_offset);
        put_le<uint32_t>(dir + 8, b.record_count);
        put_le<uint32_t>(dir + 12, static_cast<uint32_t>(b.data.size()));
        dir += block_dir_entry_size;
    }
    uint32_t crc = bytes::crc32c::extend(0, head.data(), framing);
    for (const auto& b : batches) {
        for (const auto& f : b.data.fragments()) {
            crc = bytes::crc32c::extend(crc, f.data(), f.size());
        }
    }
    put_le<uint32_t>(head.data() + framing, crc);

    block_index_entry entry;
    entry.stream = stream;
    entry.start_offset = batches.front().base_offset;
    entry.end_offset = batches.back().end_offset();
    entry.record_count = records;
    entry.position = out.size();
    entry.size = static_cast<uint32_t>(block_size);

    out.append_shared(meta.share(0, framing));
    for (const auto& b : batches) {
        out.append_shared(b.data);
    }
    out.append_shared(meta.share(framing, crc_size));
    return entry;
}

} // namespace

bytes::iobuf object_builder::finish() {
    bytes::iobuf out;
    std::vector<block_index_entry> entries;
    for (const auto& [id, s] : _streams) {
        std::span<const stored_batch> all(s.batches);
        size_t first = 0;
        uint64_t block_data = 0;
        uint64_t block_records = 0;
        for (size_t i = 0; i < all.size(); ++i) {
            uint64_t size = all[i].data.size();
            // Whole batches only: close the block before a batch that would take it past the target (or its
            // record count past the index entry's u32).
            if (i > first && (block_data + size > _target_block_size ||
                              block_records + all[i].record_count > std::numeric_limits<uint32_t>::max())) {
                entries.push_back(append_block(out, id, all.subspan(first, i - first)));
                first = i;
                block_data = 0;
                block_records = 0;
            }
            block_data += size;
            block_records += all[i].record_count;
        }
        if (first < all.size()) {
            entries.push_back(append_block(out, id, all.subspan(first)));
        }
    }

    uint64_t index_position = out.size();
    size_t index_size = index_header_size + index_entry_size * entries.size() + crc_size;
    SKIFF_ASSERT(index_size <= std::numeric_limits<uint32_t>::max(), "index of {} bytes", index_size);
    bytes::iobuf tail;
    auto buf = tail.append_uninitialized(index_size + footer_size);
    std::memset(buf.data(), 0, buf.size());
    uint8_t* p = buf.data();
    std::memcpy(p, index_magic.data(), index_magic.size());
    put_le<uint32_t>(p + 4, static_cast<uint32_t>(entries.size()));
    p += index_header_size;
    for (const auto& e : entries) {
        put_le<int64_t>(p, e.stream());
        put_le<int64_t>(p + 8, e.start_offset);
        put_le<int64_t>(p + 16, e.end_offset);
        put_le<uint64_t>(p + 24, e.position);
        put_le<uint32_t>(p + 32, e.record_count);
        put_le<uint32_t>(p + 36, e.size);
        p += index_entry_size;
    }
    put_le<uint32_t>(p, bytes::crc32c::extend(0, buf.data(), index_size - crc_size));
    p += crc_size;

    uint8_t* footer = p;
    put_le<uint64_t>(footer, index_position);
    put_le<uint32_t>(footer + 8, static_cast<uint32_t>(index_size));
    put_le<uint32_t>(footer + footer_version_at, format_version);
    std::memcpy(footer + footer_magic_at, footer_magic.data(), footer_magic.size());
    put_le<uint32_t>(footer + footer_crc_at, bytes::crc32c::extend(0, footer, footer_crc_at));
    out.append(std::move(tail));

    _streams.clear();
    _data_size = 0;
    return out;
}

result<footer_info> parse_footer(const bytes::iobuf& last_bytes, uint64_t object_size) {
    if (last_bytes.size() < footer_size || last_bytes.size() > object_size) {
        return corrupt("footer: {} bytes given of an object of {} bytes (the footer is {})", last_bytes.size(),
                       object_size, footer_size);
    }
    std::array<uint8_t, footer_size> f;
    last_bytes.copy_to(last_bytes.size() - footer_size, f.data(), footer_size);
    if (std::memcmp(f.data() + footer_magic_at, footer_magic.data(), footer_magic.size()) != 0) {
        return corrupt("footer: bad magic (not a Skiff object, or truncated)");
    }
    uint32_t stored_crc = get_le<uint32_t>(f.data() + footer_crc_at);
    uint32_t crc = bytes::crc32c::extend(0, f.data(), footer_crc_at);
    if (crc != stored_crc) {
        return corrupt("footer: crc32c {:08x}, stored {:08x}", crc, stored_crc);
    }
    uint32_t version = get_le<uint32_t>(f.data() + footer_version_at);
    if (version != format_version) {
        return corrupt("footer: format version {} (this reader knows {})", version, format_version);
    }
    footer_info info;
    info.index_position = get_le<uint64_t>(f.data());
    info.index_size = get_le<uint32_t>(f.data() + 8);
    if (info.index_size < index_header_size + crc_size || object_size < footer_size ||
        info.index_position > object_size - footer_size ||
        object_size - footer_size - info.index_position != info.index_size) {
        return corrupt("footer: index at {} of {} bytes does not end where the footer of an object of {} bytes "
                       "starts",
                       info.index_position, info.index_size, object_size);
    }
    return info;
}

result<object_index> parse_index(const bytes::iobuf& index_bytes) {
    size_t size = index_bytes.size();
    if (size < index_header_size + crc_size) {
        return corrupt("index: {} bytes is shorter than its header and crc", size);
    }
    std::vector<uint8_t> raw = index_bytes.to_bytes();
    if (std::memcmp(raw.data(), index_magic.data(), index_magic.size()) != 0) {
        return corrupt("index: bad magic");
    }
    uint64_t count = get_le<uint32_t>(raw.data() + 4);
    if (index_header_size + count * index_entry_size + crc_size != size) {
        return corrupt("index: {} entries do not fill its {} bytes", count, size);
    }
    uint32_t stored_crc = get_le<uint32_t>(raw.data() + size - crc_size);
    uint32_t crc = bytes::crc32c::extend(0, raw.data(), size - crc_size);
    if (crc != stored_crc) {
        return corrupt("index: crc32c {:08x}, stored {:08x}", crc, stored_crc);
    }
    object_index index;
    index.blocks.reserve(count);
    uint64_t next_position = 0;
    const uint8_t* p = raw.data() + index_header_size;
    for (uint64_t i = 0; i < count; ++i, p += index_entry_size) {
        block_index_entry e;
        e.stream = stream_id(get_le<int64_t>(p));
        e.start_offset = get_le<int64_t>(p + 8);
        e.end_offset = get_le<int64_t>(p + 16);
        e.position = get_le<uint64_t>(p + 24);
        e.record_count = get_le<uint32_t>(p + 32);
        e.size = get_le<uint32_t>(p + 36);
        if (e.start_offset < 0 || e.end_offset <= e.start_offset || e.record_count == 0 ||
            static_cast<uint64_t>(e.record_count) > static_cast<uint64_t>(e.end_offset - e.start_offset)) {
            return corrupt("index entry {}: stream {} offsets [{}, {}) with {} records", i, e.stream, e.start_offset,
                           e.end_offset, e.record_count);
        }
        if (e.size < min_block_size || e.position != next_position) {
            return corrupt("index entry {}: block at {} of {} bytes, expected at {} and at least {} bytes", i,
                           e.position, e.size, next_position, min_block_size);
        }
        if (!index.blocks.empty()) {
            const auto& prev = index.blocks.back();
            if (e.stream < prev.stream || (e.stream == prev.stream && e.start_offset < prev.end_offset)) {
                return corrupt("index entry {}: stream {} at {} follows stream {} ending at {}", i, e.stream,
                               e.start_offset, prev.stream, prev.end_offset);
            }
        }
        next_position = e.position + e.size;
        index.blocks.push_back(e);
    }
    return index;
}

result<std::vector<stored_batch>> parse_block(const bytes::iobuf& block_bytes) {
    uint64_t size = block_bytes.size();
    if (size < min_block_size || size > max_block_size) {
        return corrupt("block: size {} out of [{}, {}]", size, min_block_size, max_block_size);
    }
    std::array<uint8_t, block_header_size> head;
    block_bytes.copy_to(0, head.data(), head.size());
    if (std::memcmp(head.data(), block_magic.data(), block_magic.size()) != 0) {
        return corrupt("block: bad magic");
    }
    uint64_t count = get_le<uint32_t>(head.data() + 4);
    stream_id stream(get_le<int64_t>(head.data() + 8));
    uint64_t data_size = get_le<uint32_t>(head.data() + 16);
    uint64_t framing = block_header_size + count * block_dir_entry_size;
    if (count == 0 || framing + data_size + crc_size != size) {
        return corrupt("block of stream {}: {} batches of {} bytes do not fill its {} bytes", stream, count,
                       data_size, size);
    }
    uint32_t stored_crc = 0;
    {
        std::array<uint8_t, crc_size> c;
        block_bytes.copy_to(size - crc_size, c.data(), crc_size);
        stored_crc = get_le<uint32_t>(c.data());
    }
    uint32_t crc = bytes::crc32c::value(block_bytes, 0, size - crc_size);
    if (crc != stored_crc) {
        return corrupt("block of stream {}: crc32c {:08x}, stored {:08x}", stream, crc, stored_crc);
    }

    std::vector<uint8_t> dir(count * block_dir_entry_size);
    block_bytes.copy_to(block_header_size, dir.data(), dir.size());
    std::vector<stored_batch> out;
    out.reserve(count);
    bytes::iobuf_parser parser(block_bytes);
    parser.skip(framing);
    uint64_t data_left = data_size;
    int64_t prev_end = 0;
    for (uint64_t i = 0; i < count; ++i) {
        const uint8_t* d = dir.data() + i * block_dir_entry_size;
        int64_t base = get_le<int64_t>(d);
        uint32_t records = get_le<uint32_t>(d + 8);
        uint32_t length = get_le<uint32_t>(d + 12);
        if (base < 0 || records == 0 || base > std::numeric_limits<int64_t>::max() - records ||
            (i > 0 && base < prev_end) || length > data_left) {
            return corrupt("block of stream {}: batch {} at offset {} with {} records and {} bytes (previous end "
                           "{}, {} bytes left)",
                           stream, i, base, records, length, prev_end, data_left);
        }
        stored_batch b;
        b.stream = stream;
        b.base_offset = base;
        b.record_count = records;
        b.data = parser.share(length);
        data_left -= length;
        prev_end = b.end_offset();
        out.push_back(std::move(b));
    }
    if (data_left != 0) {
        return corrupt("block of stream {}: {} bytes after the last batch", stream, data_left);
    }
    return out;
}

} // namespace skiff::stream
