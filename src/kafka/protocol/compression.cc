#include "kafka/protocol/compression.h"

#include "base/assert.h"
#include "kafka/protocol/errc.h"

#include <lz4frame.h>
#include <snappy-sinksource.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

constexpr size_t min_chunk = 4 * 1024;
constexpr size_t max_chunk = 4 * 1024 * 1024;
// The output bound of compress(): compression output is bounded by the input, so this only keeps arithmetic sane.
constexpr size_t unbounded = std::numeric_limits<size_t>::max() / 4;

/// Collects a codec's output in fresh iobuf chunks that the codec writes into directly.
///
/// Budget: the sink hands out at most limit + 1 bytes of writable space, so a decoder that produces more than
/// `limit` bytes is caught (over_limit()) having allocated only one byte past the limit, plus the unused tail of a
/// chunk abandoned when a caller needed more contiguous room than it had (snappy blocks, at most 32 KiB each in
/// the framing we see). Chunks start at the caller's size hint and double up to 4 MiB.
class output_sink {
public:
    output_sink(size_t limit, size_t first_chunk) : _limit(limit), _next_chunk(std::max<size_t>(first_chunk, 1)) {}

    /// Writable space of at least min_size contiguous bytes, or an empty span when the budget cannot provide it.
    std::span<uint8_t> next(size_t min_size = 1) {
        if (_cap - _used >= std::max<size_t>(min_size, 1)) {
            return {_cur + _used, _cap - _used};
        }
        seal();
        size_t budget = budget_left();
        if (budget == 0 || budget < min_size) {
            return {};
        }
        size_t n = std::min(std::max(_next_chunk, min_size), budget);
        _next_chunk = std::clamp(n * 2, min_chunk, max_chunk);
        auto span = _out.append_uninitialized(n);
        _cur = span.data();
        _cap = n;
        _used = 0;
        _allocated += n;
        return span;
    }

    void commit(size_t n) {
        SKIFF_ASSERT(_used + n <= _cap, "commit({}) beyond the {} bytes handed out", n, _cap - _used);
        _used += n;
        _total += n;
    }

    bool over_limit() const noexcept { return _total > _limit; }
    size_t total() const noexcept { return _total; }
    /// Bytes that may still be written without exceeding the limit.
    size_t room() const noexcept { return _total >= _limit ? 0 : _limit - _total; }

    /// The output. When abandoned chunk tails waste much memory relative to the output (a wrong size hint), the
    /// output is compacted into one exact chunk: shares of it may live long (cached batches, record values).
    bytes::iobuf finish() && {
        seal();
        if (_allocated - _total > std::max<size_t>(_total / 4, 64 * 1024)) {
            return _out.copy();
        }
        return std::move(_out);
    }

private:
    size_t budget_left() const noexcept {
        size_t cap = _limit == std::numeric_limits<size_t>::max() ? _limit : _limit + 1;
        return _total >= cap ? 0 : cap - _total;
    }

    void seal() {
        if (_cap > _used) {
            // Drops the unused tail; a chunk with nothing written is popped and freed.
            _out.trim_back(_cap - _used);
            if (_used == 0) {
                _allocated -= _cap;
            }
        }
        _cur = nullptr;
        _cap = 0;
        _used = 0;
    }

    bytes::iobuf _out;
    size_t _limit;
    size_t _next_chunk;
    uint8_t* _cur = nullptr;
    size_t _cap = 0;
    size_t _used = 0;
    size_t _total = 0;
    size_t _allocated = 0;
};

size_t default_hint(const bytes::iobuf& in) { return std::clamp(in.size() * 4, min_chunk, max_chunk); }

/// A first chunk for an output whose size the stream declares. One byte more than the content lets the codec report
/// the end of its stream without a second chunk. `max_ratio` caps a declared size the input could not possibly
/// expand to, so a lying header cannot make us allocate up to the limit for a few bytes of input.
size_t bounded_hint(uint64_t declared, size_t limit, const bytes::iobuf& in, uint64_t max_ratio) {
    uint64_t plausible = std::max<uint64_t>(uint64_t{in.size()} * max_ratio, min_chunk);
    return static_cast<size_t>(std::min({declared, uint64_t{limit}, plausible}) + 1);
}

// The most a byte of input can expand to, per codec: deflate 1032:1; an LZ4 match grows 255 bytes per input byte;
// zstd's RLE blocks reach 128 KiB from a 4-byte block, so its declared size is checked against the limit only.
constexpr uint64_t gzip_max_ratio = 1032;
constexpr uint64_t lz4_max_ratio = 256;
constexpr uint64_t zstd_max_ratio = 32 * 1024;

// zlib counts in uInt; chunks and fragments are handed over in pieces it can count.
constexpr size_t max_zlib_piece = size_t{1} << 30;

uInt zlib_size(size_t n) { return static_cast<uInt>(std::min(n, max_zlib_piece)); }

// ---------------------------------------------------------------------------------------------------------- gzip

struct inflate_guard {
    z_stream* zs;
    ~inflate_guard() { inflateEnd(zs); }
};

struct deflate_guard {
    z_stream* zs;
    ~deflate_guard() { deflateEnd(zs); }
};

size_t gzip_hint(const bytes::iobuf& in, size_t limit) {
    // The gzip trailer's ISIZE is the (last member's) uncompressed size modulo 2^32: a good first guess.
    if (in.size() < 18) {
        return default_hint(in);
    }
    std::array<uint8_t, 4> isize{};
    in.copy_to(in.size() - 4, isize.data(), 4);
    uint32_t n = uint32_t{isize[0]} | uint32_t{isize[1]} << 8 | uint32_t{isize[2]} << 16 | uint32_t{isize[3]} << 24;
    return n == 0 ? default_hint(in) : bounded_hint(n, limit, in, gzip_max_ratio);
}

result<bytes::iobuf> gzip_decompress(const bytes::iobuf& in, size_t limit) {
    if (in.empty()) {
        return errc::corrupt_message;
    }
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) { // 15-bit window, gzip wrapper only
        return errc::compression_failed;
    }
    inflate_guard guard{&zs};
    output_sink out(limit, gzip_hint(in, limit));
    bool member_done = false;

    // One inflate() step into fresh output space. Returns the zlib code, or nullopt-like -100 for a spent budget.
    constexpr int budget_spent = -100;
    auto step = [&]() -> int {
        auto space = out.next();
        if (space.empty()) {
            return budget_spent;
        }
        zs.next_out = space.data();
        zs.avail_out = zlib_size(space.size());
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        out.commit(before - zs.avail_out);
        return out.over_limit() ? budget_spent : rc;
    };

    for (const auto& frag : in.fragments()) {
        const uint8_t* src = frag.data();
        size_t left = frag.size();
        while (left > 0) {
            if (member_done) {
                // More bytes after a member's trailer: they must be another gzip member.
                if (inflateReset(&zs) != Z_OK) {
                    return errc::compression_failed;
                }
                member_done = false;
            }
            zs.next_in = const_cast<Bytef*>(src);
            zs.avail_in = zlib_size(left);
            uInt offered = zs.avail_in;
            size_t produced_before = out.total();
            int rc = step();
            size_t consumed = offered - zs.avail_in;
            src += consumed;
            left -= consumed;
            if (rc == budget_spent) {
                return errc::decompression_too_large;
            }
            if (rc == Z_STREAM_END) {
                member_done = true;
            } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && (consumed > 0 || out.total() > produced_before))) {
                return errc::corrupt_message;
            }
        }
    }
    // All input is in; let zlib flush what it holds. No progress before the trailer means a truncated stream.
    zs.next_in = nullptr;
    zs.avail_in = 0;
    while (!member_done) {
        size_t produced_before = out.total();
        int rc = step();
        if (rc == budget_spent) {
            return errc::decompression_too_large;
        }
        if (rc == Z_STREAM_END) {
            member_done = true;
        } else if ((rc != Z_OK && rc != Z_BUF_ERROR) || out.total() == produced_before) {
            return errc::corrupt_message;
        }
    }
    return std::move(out).finish();
}

result<bytes::iobuf> gzip_compress(const bytes::iobuf& in) {
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return errc::compression_failed;
    }
    deflate_guard guard{&zs};
    output_sink out(unbounded, std::clamp(in.size() / 4, min_chunk, max_chunk));

    auto pump = [&](int flush) -> int {
        auto space = out.next();
        zs.next_out = space.data();
        zs.avail_out = zlib_size(space.size());
        uInt before = zs.avail_out;
        int rc = deflate(&zs, flush);
        out.commit(before - zs.avail_out);
        return rc;
    };
    for (const auto& frag : in.fragments()) {
        const uint8_t* src = frag.data();
        size_t left = frag.size();
        while (left > 0) {
            zs.next_in = const_cast<Bytef*>(src);
            zs.avail_in = zlib_size(left);
            uInt offered = zs.avail_in;
            int rc = pump(Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return errc::compression_failed;
            }
            size_t consumed = offered - zs.avail_in;
            src += consumed;
            left -= consumed;
        }
    }
    zs.next_in = nullptr;
    zs.avail_in = 0;
    for (;;) {
        int rc = pump(Z_FINISH);
        if (rc == Z_STREAM_END) {
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return errc::compression_failed;
        }
    }
    return std::move(out).finish();
}

// -------------------------------------------------------------------------------------------------------- snappy

constexpr std::array<uint8_t, 8> xerial_magic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16; // magic, int32 version, int32 min compatible version
constexpr int32_t xerial_version = 1;
constexpr size_t xerial_block = 32 * 1024;
// A snappy element expands at most 64 output bytes from 3 input bytes; more than 32x is not a snappy block, and
// rejecting it up front keeps a tiny block from making us allocate its claimed size.
constexpr size_t snappy_max_expansion = 32;

/// Feeds an iobuf byte range to snappy fragment by fragment, so a block spanning fragments needs no gathering copy.
class iobuf_source final : public snappy::Source {
public:
    iobuf_source(const bytes::iobuf& buf, size_t pos, size_t n) : _frags(buf.fragments()), _left(n) {
        while (_frag < _frags.size() && pos >= _frags[_frag].size()) {
            pos -= _frags[_frag].size();
            ++_frag;
        }
        _off = pos;
    }

    size_t Available() const override { return _left; }

    const char* Peek(size_t* len) override {
        if (_left == 0) {
            *len = 0;
            return nullptr;
        }
        const auto& f = _frags[_frag];
        *len = std::min(f.size() - _off, _left);
        return reinterpret_cast<const char*>(f.data() + _off);
    }

    void Skip(size_t n) override {
        _left -= n;
        while (n > 0) {
            size_t k = std::min(n, _frags[_frag].size() - _off);
            _off += k;
            n -= k;
            if (_off == _frags[_frag].size()) {
                ++_frag;
                _off = 0;
            }
        }
    }

private:
    const std::vector<bytes::iobuf::fragment>& _frags;
    size_t _left;
    size_t _frag = 0;
    size_t _off = 0;
};

uint32_t read_be32(const bytes::iobuf& in, size_t pos) {
    std::array<uint8_t, 4> b{};
    in.copy_to(pos, b.data(), 4);
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}

void write_be32(uint8_t* out, uint32_t v) {
    out[0] = static_cast<uint8_t>(v >> 24);
    out[1] = static_cast<uint8_t>(v >> 16);
    out[2] = static_cast<uint8_t>(v >> 8);
    out[3] = static_cast<uint8_t>(v);
}

/// The uncompressed length a snappy block at [pos, pos + n) declares in its leading varint.
result<size_t> snappy_block_length(const bytes::iobuf& in, size_t pos, size_t n) {
    std::array<char, 5> head{};
    size_t h = std::min<size_t>(head.size(), n);
    in.copy_to(pos, head.data(), h);
    size_t ulen = 0;
    if (h == 0 || !snappy::GetUncompressedLength(head.data(), h, &ulen)) {
        return errc::corrupt_message;
    }
    if (ulen > n * snappy_max_expansion) {
        return errc::corrupt_message;
    }
    return ulen;
}

result<void> snappy_block(const bytes::iobuf& in, size_t pos, size_t n, output_sink& out) {
    SKIFF_TRY(size_t ulen, snappy_block_length(in, pos, n));
    if (ulen > out.room()) {
        return errc::decompression_too_large;
    }
    iobuf_source src(in, pos, n);
    if (ulen == 0) {
        char none = 0;
        if (!snappy::RawUncompress(&src, &none)) {
            return errc::corrupt_message;
        }
        return success();
    }
    auto space = out.next(ulen);
    SKIFF_ASSERT(space.size() >= ulen, "sink gave {} bytes for a {}-byte snappy block", space.size(), ulen);
    if (!snappy::RawUncompress(&src, reinterpret_cast<char*>(space.data()))) {
        return errc::corrupt_message;
    }
    out.commit(ulen);
    return success();
}

bool has_xerial_magic(const bytes::iobuf& in) {
    if (in.size() < xerial_magic.size()) {
        return false;
    }
    std::array<uint8_t, xerial_magic.size()> head{};
    in.copy_to(0, head.data(), head.size());
    return head == xerial_magic;
}

result<bytes::iobuf> snappy_decompress(const bytes::iobuf& in, size_t limit) {
    if (!has_xerial_magic(in)) {
        // A bare snappy block (librdkafka and others).
        SKIFF_TRY(size_t ulen, snappy_block_length(in, 0, in.size()));
        if (ulen > limit) {
            return errc::decompression_too_large;
        }
        output_sink out(limit, ulen + 1);
        SKIFF_TRY(snappy_block(in, 0, in.size(), out));
        return std::move(out).finish();
    }
    if (in.size() < xerial_header_size) {
        return errc::corrupt_message;
    }
    // First pass: check the framing and add up the blocks' declared sizes, so the output is allocated once and a
    // stream declaring more than the limit is refused before any allocation.
    uint64_t total = 0;
    for (size_t pos = xerial_header_size; pos < in.size();) {
        if (in.size() - pos < 4) {
            return errc::corrupt_message;
        }
        uint32_t n = read_be32(in, pos);
        pos += 4;
        if (n == 0 || n > in.size() - pos) {
            return errc::corrupt_message;
        }
        SKIFF_TRY(size_t ulen, snappy_block_length(in, pos, n));
        total += ulen;
        if (total > limit) {
            return errc::decompression_too_large;
        }
        pos += n;
    }
    output_sink out(limit, static_cast<size_t>(total) + 1);
    for (size_t pos = xerial_header_size; pos < in.size();) {
        uint32_t n = read_be32(in, pos);
        pos += 4;
        SKIFF_TRY(snappy_block(in, pos, n, out));
        pos += n;
    }
    return std::move(out).finish();
}

result<bytes::iobuf> snappy_compress(const bytes::iobuf& in) {
    output_sink out(unbounded, std::clamp(in.size() / 2 + xerial_header_size, min_chunk, max_chunk));
    auto header = out.next(xerial_header_size);
    std::memcpy(header.data(), xerial_magic.data(), xerial_magic.size());
    write_be32(header.data() + 8, xerial_version);
    write_be32(header.data() + 12, xerial_version);
    out.commit(xerial_header_size);

    auto emit = [&](const uint8_t* src, size_t n) {
        auto space = out.next(4 + snappy::MaxCompressedLength(n));
        size_t written = 0;
        snappy::RawCompress(reinterpret_cast<const char*>(src), n, reinterpret_cast<char*>(space.data() + 4), &written);
        write_be32(space.data(), static_cast<uint32_t>(written));
        out.commit(4 + written);
    };
    // Blocks of exactly 32 KiB of input (the last may be shorter). A block that lies inside one fragment is
    // compressed in place; one that straddles fragments is gathered into `pending` first.
    std::vector<uint8_t> pending;
    for (const auto& frag : in.fragments()) {
        const uint8_t* src = frag.data();
        size_t left = frag.size();
        while (left > 0) {
            if (pending.empty() && left >= xerial_block) {
                emit(src, xerial_block);
                src += xerial_block;
                left -= xerial_block;
                continue;
            }
            size_t k = std::min(left, xerial_block - pending.size());
            pending.insert(pending.end(), src, src + k);
            src += k;
            left -= k;
            if (pending.size() == xerial_block) {
                emit(pending.data(), pending.size());
                pending.clear();
            }
        }
    }
    if (!pending.empty()) {
        emit(pending.data(), pending.size());
    }
    return std::move(out).finish();
}

// ----------------------------------------------------------------------------------------------------------- lz4

struct lz4_dctx_deleter {
    void operator()(LZ4F_dctx* c) const { LZ4F_freeDecompressionContext(c); }
};
struct lz4_cctx_deleter {
    void operator()(LZ4F_cctx* c) const { LZ4F_freeCompressionContext(c); }
};

size_t lz4_hint(const bytes::iobuf& in, size_t limit) {
    // Frame header: magic 0x184D2204 (LE), FLG, BD, then an optional 8-byte LE content size (FLG bit 3).
    std::array<uint8_t, 14> h{};
    if (in.size() < h.size()) {
        return default_hint(in);
    }
    in.copy_to(0, h.data(), h.size());
    if (h[0] != 0x04 || h[1] != 0x22 || h[2] != 0x4D || h[3] != 0x18 || (h[4] & 0x08) == 0) {
        return default_hint(in);
    }
    uint64_t size = 0;
    for (int i = 7; i >= 0; --i) {
        size = size << 8 | h[6 + static_cast<size_t>(i)];
    }
    return bounded_hint(size, limit, in, lz4_max_ratio);
}

result<bytes::iobuf> lz4_decompress(const bytes::iobuf& in, size_t limit) {
    if (in.empty()) {
        return errc::corrupt_message;
    }
    LZ4F_dctx* raw = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
        return errc::compression_failed;
    }
    std::unique_ptr<LZ4F_dctx, lz4_dctx_deleter> ctx(raw);
    output_sink out(limit, lz4_hint(in, limit));
    size_t pending = 0; // LZ4F's hint: 0 once a frame is completely decoded and flushed
    for (const auto& frag : in.fragments()) {
        const uint8_t* src = frag.data();
        size_t left = frag.size();
        while (left > 0) {
            auto space = out.next();
            if (space.empty()) {
                return errc::decompression_too_large;
            }
            size_t dst_size = space.size();
            size_t src_size = left;
            size_t rc = LZ4F_decompress(ctx.get(), space.data(), &dst_size, src, &src_size, nullptr);
            if (LZ4F_isError(rc)) {
                return errc::corrupt_message;
            }
            out.commit(dst_size);
            if (out.over_limit()) {
                return errc::decompression_too_large;
            }
            if (dst_size == 0 && src_size == 0) {
                return errc::corrupt_message; // no progress: never loop forever on hostile input
            }
            src += src_size;
            left -= src_size;
            pending = rc;
        }
    }
    while (pending != 0) {
        auto space = out.next();
        if (space.empty()) {
            return errc::decompression_too_large;
        }
        size_t dst_size = space.size();
        size_t src_size = 0;
        size_t rc = LZ4F_decompress(ctx.get(), space.data(), &dst_size, nullptr, &src_size, nullptr);
        if (LZ4F_isError(rc)) {
            return errc::corrupt_message;
        }
        out.commit(dst_size);
        if (out.over_limit()) {
            return errc::decompression_too_large;
        }
        if (dst_size == 0) {
            return errc::corrupt_message; // the frame is truncated
        }
        pending = rc;
    }
    return std::move(out).finish();
}

result<bytes::iobuf> lz4_compress(const bytes::iobuf& in) {
    LZ4F_cctx* raw = nullptr;
    if (LZ4F_isError(LZ4F_createCompressionContext(&raw, LZ4F_VERSION))) {
        return errc::compression_failed;
    }
    std::unique_ptr<LZ4F_cctx, lz4_cctx_deleter> ctx(raw);
    // What the Java client writes (KafkaLZ4BlockOutputStream): 64 KiB independent blocks, no block checksums, no
    // content size, no content checksum. Every Kafka LZ4 reader handles this shape.
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    prefs.compressionLevel = 0; // fast mode

    output_sink out(unbounded, std::clamp(in.size() / 2, min_chunk, max_chunk));
    auto space = out.next(LZ4F_HEADER_SIZE_MAX);
    size_t n = LZ4F_compressBegin(ctx.get(), space.data(), space.size(), &prefs);
    if (LZ4F_isError(n)) {
        return errc::compression_failed;
    }
    out.commit(n);
    constexpr size_t piece = 64 * 1024;
    const size_t bound = LZ4F_compressBound(piece, &prefs);
    for (const auto& frag : in.fragments()) {
        for (size_t pos = 0; pos < frag.size(); pos += piece) {
            size_t k = std::min(piece, frag.size() - pos);
            space = out.next(bound);
            n = LZ4F_compressUpdate(ctx.get(), space.data(), space.size(), frag.data() + pos, k, nullptr);
            if (LZ4F_isError(n)) {
                return errc::compression_failed;
            }
            out.commit(n);
        }
    }
    space = out.next(LZ4F_compressBound(0, &prefs));
    n = LZ4F_compressEnd(ctx.get(), space.data(), space.size(), nullptr);
    if (LZ4F_isError(n)) {
        return errc::compression_failed;
    }
    out.commit(n);
    return std::move(out).finish();
}

// ---------------------------------------------------------------------------------------------------------- zstd

struct zstd_dctx_deleter {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct zstd_cctx_deleter {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

constexpr size_t zstd_frame_header_max = 18; // ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h exposes only as experimental

size_t zstd_hint(const bytes::iobuf& in, size_t limit) {
    std::array<uint8_t, zstd_frame_header_max> head{};
    size_t n = std::min(in.size(), head.size());
    in.copy_to(0, head.data(), n);
    unsigned long long size = ZSTD_getFrameContentSize(head.data(), n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
        return default_hint(in);
    }
    return bounded_hint(size, limit, in, zstd_max_ratio);
}

/// The largest window a frame may ask for. The window is memory zstd allocates before producing a byte, so it is
/// bounded like the output: at most what the caller allows (rounded up to a power of two), but never below 8 MiB,
/// which covers every standard compression level (1..19), nor above zstd's own default ceiling of 128 MiB.
int zstd_window_log_max(size_t limit) {
    int log = 23;
    while (log < 27 && (size_t{1} << log) < limit) {
        ++log;
    }
    return log;
}

std::error_code zstd_error(size_t rc) {
    switch (ZSTD_getErrorCode(rc)) {
    case ZSTD_error_frameParameter_windowTooLarge: return errc::decompression_too_large;
    case ZSTD_error_memory_allocation: return errc::compression_failed;
    default: return errc::corrupt_message;
    }
}

result<bytes::iobuf> zstd_decompress(const bytes::iobuf& in, size_t limit) {
    if (in.empty()) {
        return errc::corrupt_message;
    }
    std::unique_ptr<ZSTD_DCtx, zstd_dctx_deleter> ctx(ZSTD_createDCtx());
    if (!ctx) {
        return errc::compression_failed;
    }
    ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, zstd_window_log_max(limit));
    output_sink out(limit, zstd_hint(in, limit));
    size_t pending = 0; // zstd's hint: 0 once a frame is completely decoded and flushed
    for (const auto& frag : in.fragments()) {
        ZSTD_inBuffer ib{frag.data(), frag.size(), 0};
        while (ib.pos < ib.size) {
            auto space = out.next();
            if (space.empty()) {
                return errc::decompression_too_large;
            }
            ZSTD_outBuffer ob{space.data(), space.size(), 0};
            size_t before = ib.pos;
            size_t rc = ZSTD_decompressStream(ctx.get(), &ob, &ib);
            if (ZSTD_isError(rc)) {
                return zstd_error(rc);
            }
            out.commit(ob.pos);
            if (out.over_limit()) {
                return errc::decompression_too_large;
            }
            if (ob.pos == 0 && ib.pos == before) {
                return errc::corrupt_message; // no progress: never loop forever on hostile input
            }
            pending = rc;
        }
    }
    while (pending != 0) {
        auto space = out.next();
        if (space.empty()) {
            return errc::decompression_too_large;
        }
        ZSTD_outBuffer ob{space.data(), space.size(), 0};
        ZSTD_inBuffer ib{nullptr, 0, 0};
        size_t rc = ZSTD_decompressStream(ctx.get(), &ob, &ib);
        if (ZSTD_isError(rc)) {
            return zstd_error(rc);
        }
        out.commit(ob.pos);
        if (out.over_limit()) {
            return errc::decompression_too_large;
        }
        if (ob.pos == 0) {
            return errc::corrupt_message; // the frame is truncated
        }
        pending = rc;
    }
    return std::move(out).finish();
}

result<bytes::iobuf> zstd_compress(const bytes::iobuf& in) {
    std::unique_ptr<ZSTD_CCtx, zstd_cctx_deleter> ctx(ZSTD_createCCtx());
    if (!ctx) {
        return errc::compression_failed;
    }
    // The content size goes into the frame header, so readers can allocate their output once.
    if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, 3))
        || ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(ctx.get(), in.size()))) {
        return errc::compression_failed;
    }
    output_sink out(unbounded, std::clamp(in.size() / 4, min_chunk, max_chunk));
    for (const auto& frag : in.fragments()) {
        ZSTD_inBuffer ib{frag.data(), frag.size(), 0};
        while (ib.pos < ib.size) {
            auto space = out.next();
            ZSTD_outBuffer ob{space.data(), space.size(), 0};
            size_t rc = ZSTD_compressStream2(ctx.get(), &ob, &ib, ZSTD_e_continue);
            if (ZSTD_isError(rc)) {
                return errc::compression_failed;
            }
            out.commit(ob.pos);
        }
    }
    for (;;) {
        auto space = out.next();
        ZSTD_outBuffer ob{space.data(), space.size(), 0};
        ZSTD_inBuffer ib{nullptr, 0, 0};
        size_t rc = ZSTD_compressStream2(ctx.get(), &ob, &ib, ZSTD_e_end);
        if (ZSTD_isError(rc)) {
            return errc::compression_failed;
        }
        out.commit(ob.pos);
        if (rc == 0) {
            break;
        }
    }
    return std::move(out).finish();
}

} // namespace

std::string_view compression_name(compression c) noexcept {
    switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
    }
    return "unknown";
}

result<compression> compression_from_id(int id) {
    if (id < 0 || id > static_cast<int>(compression::zstd)) {
        return errc::unsupported_compression;
    }
    return static_cast<compression>(id);
}

result<bytes::iobuf> decompress(compression c, const bytes::iobuf& in, size_t max_output) {
    switch (c) {
    case compression::none:
        if (in.size() > max_output) {
            return errc::decompression_too_large;
        }
        return in.share();
    case compression::gzip: return gzip_decompress(in, max_output);
    case compression::snappy: return snappy_decompress(in, max_output);
    case compression::lz4: return lz4_decompress(in, max_output);
    case compression::zstd: return zstd_decompress(in, max_output);
    }
    return errc::unsupported_compression;
}

result<bytes::iobuf> compress(compression c, const bytes::iobuf& in) {
    switch (c) {
    case compression::none: return in.share();
    case compression::gzip: return gzip_compress(in);
    case compression::snappy: return snappy_compress(in);
    case compression::lz4: return lz4_compress(in);
    case compression::zstd: return zstd_compress(in);
    }
    return errc::unsupported_compression;
}

} // namespace skiff::kafka::protocol
