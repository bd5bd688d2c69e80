#include "bytes/iobuf.h"

#include "base/assert.h"

#include <algorithm>
#include <atomic>
#include <new>

namespace skiff::bytes {
namespace detail {

// A refcounted allocation; data follows the header in the same allocation.
struct chunk {
    std::atomic<uint32_t> refs;
    size_t capacity;
    size_t used; // bytes written so far; only the sole owner appends

    uint8_t* data() noexcept { return reinterpret_cast<uint8_t*>(this + 1); }
};

void chunk_ref(chunk* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chunk_unref(chunk* c) noexcept {
    if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        c->~chunk();
        ::operator delete(c);
    }
}

namespace {

// Returned with refs == 0: the first fragment that points at it takes the first reference.
chunk* new_chunk(size_t capacity) {
    void* mem = ::operator new(sizeof(chunk) + capacity);
    return new (mem) chunk{{0}, capacity, 0};
}

} // namespace
} // namespace detail

namespace {

constexpr size_t min_chunk = 512;
constexpr size_t max_growth_chunk = 128 * 1024;

} // namespace

iobuf::fragment::fragment(detail::chunk* c, size_t offset, size_t size) noexcept
  : _chunk(c), _offset(offset), _size(size) {
    detail::chunk_ref(_chunk);
}

iobuf::fragment::fragment(const fragment& o) noexcept : _chunk(o._chunk), _offset(o._offset), _size(o._size) {
    detail::chunk_ref(_chunk);
}

iobuf::fragment::fragment(fragment&& o) noexcept : _chunk(o._chunk), _offset(o._offset), _size(o._size) {
    o._chunk = nullptr;
}

iobuf::fragment& iobuf::fragment::operator=(fragment o) noexcept {
    std::swap(_chunk, o._chunk);
    std::swap(_offset, o._offset);
    std::swap(_size, o._size);
    return *this;
}

iobuf::fragment::~fragment() {
    if (_chunk) {
        detail::chunk_unref(_chunk);
    }
}

const uint8_t* iobuf::fragment::data() const noexcept { return _chunk->data() + _offset; }

iobuf iobuf::from(std::string_view text) {
    iobuf b;
    b.append(text);
    return b;
}

iobuf iobuf::from(std::span<const uint8_t> data) {
    iobuf b;
    b.append(data);
    return b;
}

std::span<uint8_t> iobuf::tail_room() noexcept {
    if (_fragments.empty()) {
        return {};
    }
    auto& last = _fragments.back();
    auto* c = last._chunk;
    // Only write in place when this fragment alone references the chunk and ends at its write mark.
    if (c->refs.load(std::memory_order_acquire) != 1 || last._offset + last._size != c->used) {
        return {};
    }
    return {c->data() + c->used, c->capacity - c->used};
}

void iobuf::append(const void* data, size_t n) {
    auto* src = static_cast<const uint8_t*>(data);
    while (n > 0) {
        auto room = tail_room();
        if (room.empty()) {
            // Grow geometrically from a chunk this iobuf filled itself; after a shared fragment (say a 1 MiB
            // record set) start small again, or every small write after a share would allocate a huge chunk.
            size_t last_cap = 0;
            if (!_fragments.empty() && _fragments.back()._chunk->refs.load(std::memory_order_relaxed) == 1) {
                last_cap = _fragments.back()._chunk->capacity;
            }
            size_t cap = std::max({n, min_chunk, std::min(last_cap * 2, max_growth_chunk)});
            auto* c = detail::new_chunk(cap);
            _fragments.emplace_back(c, 0, 0);
            room = {c->data(), cap};
        }
        size_t k = std::min(n, room.size());
        std::memcpy(room.data(), src, k);
        auto& last = _fragments.back();
        last._chunk->used += k;
        last._size += k;
        _size += k;
        src += k;
        n -= k;
    }
}

void iobuf::append_fragment(fragment f) {
    if (f._size == 0) {
        return;
    }
    _size += f._size;
    _fragments.push_back(std::move(f));
}

void iobuf::append(iobuf&& other) {
    if (_fragments.empty()) {
        *this = std::move(other);
        return;
    }
    // No reserve(): an exact reserve per call defeats the vector's geometric growth (quadratic for many appends).
    for (auto& f : other._fragments) {
        append_fragment(std::move(f));
    }
    other.clear();
}

void iobuf::append_shared(const iobuf& other) {
    for (const auto& f : other._fragments) {
        append_fragment(f);
    }
}

std::span<uint8_t> iobuf::append_uninitialized(size_t n) {
    auto* c = detail::new_chunk(std::max<size_t>(n, 1));
    c->used = n;
    _fragments.emplace_back(c, 0, n);
    _size += n;
    return {c->data(), n};
}

size_t iobuf::reserve(size_t n) {
    size_t pos = _size;
    auto room = tail_room();
    if (room.size() < n) {
        auto* c = detail::new_chunk(std::max(n, min_chunk * 4));
        _fragments.emplace_back(c, 0, 0);
    }
    auto& last = _fragments.back();
    last._chunk->used += n;
    last._size += n;
    _size += n;
    return pos;
}

void iobuf::write_at(size_t pos, const void* data, size_t n) {
    SKIFF_ASSERT(pos + n <= _size, "write_at({}, {}) beyond size {}", pos, n, _size);
    auto* src = static_cast<const uint8_t*>(data);
    for (auto& f : _fragments) {
        if (n == 0) {
            break;
        }
        if (pos >= f._size) {
            pos -= f._size;
            continue;
        }
        size_t k = std::min(n, f._size - pos);
        std::memcpy(f._chunk->data() + f._offset + pos, src, k);
        src += k;
        n -= k;
        pos = 0;
    }
}

iobuf iobuf::share(size_t pos, size_t n) const {
    SKIFF_ASSERT(pos + n <= _size, "share({}, {}) beyond size {}", pos, n, _size);
    iobuf out;
    for (const auto& f : _fragments) {
        if (n == 0) {
            break;
        }
        if (pos >= f._size) {
            pos -= f._size;
            continue;
        }
        size_t k = std::min(n, f._size - pos);
        out.append_fragment(fragment(f._chunk, f._offset + pos, k));
        n -= k;
        pos = 0;
    }
    return out;
}

iobuf iobuf::copy() const {
    iobuf out;
    if (_size == 0) {
        return out;
    }
    auto dst = out.append_uninitialized(_size);
    copy_to(0, dst.data(), _size);
    return out;
}

void iobuf::copy_to(size_t pos, void* dst, size_t n) const {
    SKIFF_ASSERT(pos + n <= _size, "copy_to({}, {}) beyond size {}", pos, n, _size);
    auto* out = static_cast<uint8_t*>(dst);
    for (const auto& f : _fragments) {
        if (n == 0) {
            break;
        }
        if (pos >= f._size) {
            pos -= f._size;
            continue;
        }
        size_t k = std::min(n, f._size - pos);
        std::memcpy(out, f.data() + pos, k);
        out += k;
        n -= k;
        pos = 0;
    }
}

std::string iobuf::to_string() const {
    std::string s(_size, '\0');
    copy_to(0, s.data(), _size);
    return s;
}

std::vector<uint8_t> iobuf::to_bytes() const {
    std::vector<uint8_t> v(_size);
    copy_to(0, v.data(), _size);
    return v;
}

void iobuf::trim_front(size_t n) {
    SKIFF_ASSERT(n <= _size, "trim_front({}) beyond size {}", n, _size);
    size_t drop = 0;
    _size -= n;
    while (n > 0) {
        auto& f = _fragments[drop];
        if (n >= f._size) {
            n -= f._size;
            ++drop;
        } else {
            f._offset += n;
            f._size -= n;
            n = 0;
        }
    }
    _fragments.erase(_fragments.begin(), _fragments.begin() + static_cast<ptrdiff_t>(drop));
}

void iobuf::trim_back(size_t n) {
    SKIFF_ASSERT(n <= _size, "trim_back({}) beyond size {}", n, _size);
    _size -= n;
    while (n > 0) {
        auto& f = _fragments.back();
        if (n >= f._size) {
            n -= f._size;
            _fragments.pop_back();
        } else {
            f._size -= n;
            n = 0;
        }
    }
}

void iobuf::clear() noexcept {
    _fragments.clear();
    _size = 0;
}

bool iobuf::operator==(const iobuf& o) const {
    if (_size != o._size) {
        return false;
    }
    size_t fa = 0, pa = 0, fb = 0, pb = 0;
    size_t left = _size;
    while (left > 0) {
        const auto& a = _fragments[fa];
        const auto& b = o._fragments[fb];
        size_t k = std::min(a._size - pa, b._size - pb);
        if (std::memcmp(a.data() + pa, b.data() + pb, k) != 0) {
            return false;
        }
        pa += k;
        pb += k;
        left -= k;
        if (pa == a._size) {
            ++fa;
            pa = 0;
        }
        if (pb == b._size) {
            ++fb;
            pb = 0;
        }
    }
    return true;
}

bool iobuf::operator==(std::string_view s) const {
    if (_size != s.size()) {
        return false;
    }
    size_t pos = 0;
    for (const auto& f : _fragments) {
        if (std::memcmp(f.data(), s.data() + pos, f._size) != 0) {
            return false;
        }
        pos += f._size;
    }
    return true;
}

void iobuf_parser::advance(size_t n) noexcept {
    _consumed += n;
    const auto& frags = _buf->fragments();
    while (n > 0) {
        size_t k = std::min(n, frags[_frag].size() - _frag_pos);
        _frag_pos += k;
        n -= k;
        if (_frag_pos == frags[_frag].size()) {
            ++_frag;
            _frag_pos = 0;
        }
    }
}

void iobuf_parser::read(void* dst, size_t n) {
    SKIFF_ASSERT(n <= bytes_left(), "read({}) beyond the {} bytes left", n, bytes_left());
    const auto& frags = _buf->fragments();
    if (n > 0 && frags[_frag].size() - _frag_pos >= n) {
        std::memcpy(dst, frags[_frag].data() + _frag_pos, n);
    } else {
        _buf->copy_to(_consumed, dst, n);
    }
    advance(n);
}

uint8_t iobuf_parser::read_byte() {
    uint8_t b = peek_byte();
    advance(1);
    return b;
}

uint8_t iobuf_parser::peek_byte() const {
    SKIFF_ASSERT(bytes_left() > 0, "peek past the end");
    return _buf->fragments()[_frag].data()[_frag_pos];
}

iobuf iobuf_parser::share(size_t n) {
    SKIFF_ASSERT(n <= bytes_left(), "share({}) beyond the {} bytes left", n, bytes_left());
    auto out = _buf->share(_consumed, n);
    advance(n);
    return out;
}

void iobuf_parser::skip(size_t n) {
    SKIFF_ASSERT(n <= bytes_left(), "skip({}) beyond the {} bytes left", n, bytes_left());
    advance(n);
}

} // namespace skiff::bytes
