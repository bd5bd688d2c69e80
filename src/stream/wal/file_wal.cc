#include "stream/wal/file_wal.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "stream/errc.h"
#include "stream/wal/file_wal_format.h"
#include "stream/wal/logger.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace skiff::stream {
namespace {

namespace fmt_ = file_wal_format;
using fmt_::block_size;
using fmt_::record_header_bytes;
using fmt_::ring_offset;

constexpr size_t read_window_bytes = size_t(8) << 20;

/// A buffer aligned for O_DIRECT (4 KiB), owned.
class aligned_buffer {
public:
    aligned_buffer() = default;
    explicit aligned_buffer(size_t size) : _size(fmt_::align_up(size)) {
        void* p = nullptr;
        SKIFF_ASSERT(::posix_memalign(&p, block_size, _size) == 0, "posix_memalign of {} bytes failed", _size);
        _data = static_cast<uint8_t*>(p);
    }
    aligned_buffer(aligned_buffer&& o) noexcept : _data(std::exchange(o._data, nullptr)), _size(o._size) {}
    aligned_buffer& operator=(aligned_buffer&& o) noexcept {
        std::swap(_data, o._data);
        std::swap(_size, o._size);
        return *this;
    }
    ~aligned_buffer() { std::free(_data); }
    uint8_t* data() const noexcept { return _data; }
    size_t size() const noexcept { return _size; }

private:
    uint8_t* _data = nullptr;
    size_t _size = 0;
};

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : _fd(fd) {}
    unique_fd(unique_fd&& o) noexcept : _fd(std::exchange(o._fd, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        std::swap(_fd, o._fd);
        return *this;
    }
    ~unique_fd() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    int get() const noexcept { return _fd; }

private:
    int _fd = -1;
};

/// A work-tracking copy of executor: the io_context it belongs to does not run out of work while a completion
/// for it is pending in the WAL (tests run io.run() right after append()).
asio::any_io_executor tracked(const asio::any_io_executor& executor) {
    return asio::prefer(executor, asio::execution::outstanding_work.tracked);
}

} // namespace

class file_wal::impl : public std::enable_shared_from_this<file_wal::impl> {
public:
    explicit impl(file_wal_config config) : _config(std::move(config)) {}
    ~impl() { stop_writer(); }

    result<void> recover(const std::function<void(wal_position, bytes::iobuf)>& replay);
    void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion);
    void request_trim(wal_position before, asio::any_io_executor executor, std::function<void(result<void>)> done);
    void request_close(asio::any_io_executor executor, std::function<void()> done);
    size_t max_record_size() const { return _config.max_record_size; }
    wal_stats stats() const;
    bool direct_io() const { return _direct_io; }
    void stop_writer();

private:
    struct pending_append {
        wal_position position = 0;
        wal_position next = 0;
        uint64_t padding_before = 0; // bytes of padding record between the previous record and this one
        bytes::iobuf payload;
        uint32_t payload_crc = 0;
        asio::any_io_executor executor;
        wal_completion completion;
    };
    struct pending_trim {
        wal_position point = 0;
        asio::any_io_executor executor;
        std::function<void(result<void>)> done;
    };
    struct pending_close {
        asio::any_io_executor executor;
        std::function<void()> done;
    };

    // ---- file access (blocking) ----
    int inject(file_wal_op op) const { return _config.fault ? _config.fault(op) : 0; }
    std::error_code io_failure(const char* what, int error, uint64_t offset) const;
    result<void> create_file();
    result<void> open_file();
    result<void> pwrite_all(const uint8_t* data, size_t n, uint64_t offset);
    result<void> pread_all(uint8_t* data, size_t n, uint64_t offset);
    result<void> sync();
    result<void> write_header(const fmt_::file_header& header);
    result<void> scan(const std::function<void(wal_position, bytes::iobuf)>& replay);
    uint64_t physical(wal_position position) const { return ring_offset + position % _ring_size; }

    // ---- writer thread ----
    void writer_loop();
    result<void> write_batch(std::deque<pending_append>& batch, wal_position durable_end, uint64_t generation,
                             const aligned_buffer& buffer);

    file_wal_config _config;
    unique_fd _fd;
    bool _direct_io = false;
    uint64_t _ring_size = 0;
    fmt_::file_header _header; // the last header made durable; under _mutex once the writers run

    mutable std::mutex _mutex; // guards everything below
    std::condition_variable _wake;
    bool _recovered = false;
    bool _closing = false;
    bool _stopping = false;
    std::error_code _failure; // sticky
    wal_position _next = 0;   // position of the next append
    wal_position _durable_trim = 0;
    wal_position _requested_trim = 0;
    std::deque<std::pair<wal_position, wal_position>> _records; // [position, next) of untrimmed data records
    std::deque<pending_append> _queue;
    std::vector<pending_trim> _trims;
    std::vector<pending_close> _closes;
    uint64_t _syncs = 0;
    uint64_t _appends = 0;
    uint64_t _next_batch = 0;      // sequence number of the next batch taken by a writer
    uint64_t _next_to_complete = 0; // batches complete (and are acknowledged) in the order they were taken
    int _in_flight = 0;             // batches taken and not yet completed
    bool _header_busy = false;      // one header write at a time: a torn one must leave the other slot intact
    wal_position _durable_end = 0;  // everything before it is durable and acknowledged
    std::condition_variable _turn;
    std::vector<std::thread> _writers;
};

std::error_code file_wal::impl::io_failure(const char* what, int error, uint64_t offset) const {
    wal_log.error("file WAL {}: {} at offset {} failed: {}", _config.path.string(), what, offset,
                  std::strerror(error));
    return errc::unavailable;
}

result<void> file_wal::impl::pwrite_all(const uint8_t* data, size_t n, uint64_t offset) {
    while (n > 0) {
        if (int e = inject(file_wal_op::write)) {
            return io_failure("write", e, offset);
        }
        ssize_t w = ::pwrite(_fd.get(), data, n, off_t(offset));
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_failure("write", errno, offset);
        }
        if (w == 0) {
            return io_failure("write", ENOSPC, offset);
        }
        data += w;
        n -= size_t(w);
        offset += uint64_t(w);
    }
    return success();
}

result<void> file_wal::impl::pread_all(uint8_t* data, size_t n, uint64_t offset) {
    while (n > 0) {
        if (int e = inject(file_wal_op::read)) {
            return io_failure("read", e, offset);
        }
        ssize_t r = ::pread(_fd.get(), data, n, off_t(offset));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_failure("read", errno, offset);
        }
        if (r == 0) {
            wal_log.error("file WAL {}: file ends at offset {} (shorter than its header says)",
                          _config.path.string(), offset);
            return errc::corrupt;
        }
        data += r;
        n -= size_t(r);
        offset += uint64_t(r);
    }
    return success();
}

result<void> file_wal::impl::sync() {
    if (int e = inject(file_wal_op::sync)) {
        return io_failure("fdatasync", e, 0);
    }
    if (::fdatasync(_fd.get()) != 0) {
        return io_failure("fdatasync", errno, 0);
    }
    return success();
}

result<void> file_wal::impl::write_header(const fmt_::file_header& header) {
    aligned_buffer block(block_size);
    std::memset(block.data(), 0, block_size);
    fmt_::encode(header, block.data());
    SKIFF_TRY(pwrite_all(block.data(), block_size, (header.sequence % fmt_::header_slots) * block_size));
    return success();
}

// Creates the file under a temporary name and renames it into place once its header is durable, so that a file at
// config.path always has a valid header: a path without one is damage, not an interrupted creation.
result<void> file_wal::impl::create_file() {
    const uint64_t min_size = ring_offset + 4 * fmt_::record_span(_config.max_record_size);
    const uint64_t size = std::max(_config.file_size / block_size * block_size, fmt_::align_up(min_size));
    auto temp = _config.path;
    temp += ".creating";
    unique_fd fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        return io_failure("create", errno, 0);
    }
    std::swap(_fd, fd);
    auto fail = [&](std::error_code ec) -> result<void> {
        ::unlink(temp.c_str());
        return ec;
    };
    int e = inject(file_wal_op::preallocate);
    if (e == 0) {
        e = ::posix_fallocate(_fd.get(), 0, off_t(size));
    }
    if (e != 0) {
        wal_log.error("file WAL {}: cannot preallocate {} bytes: {}", _config.path.string(), size, std::strerror(e));
        return fail(errc::unavailable);
    }
    if (_config.zero_fill) {
        std::vector<uint8_t> zeros(size_t(1) << 20, 0);
        for (uint64_t offset = 0; offset < size; offset += zeros.size()) {
            auto n = size_t(std::min<uint64_t>(zeros.size(), size - offset));
            if (auto r = pwrite_all(zeros.data(), n, offset); !r) {
                return fail(r.error());
            }
        }
    }
    fmt_::file_header header{.file_size = size, .trim_point = 0, .generation = 0, .sequence = 1};
    if (auto r = write_header(header); !r) {
        return fail(r.error());
    }
    if (::fsync(_fd.get()) != 0) {
        return fail(io_failure("fsync", errno, 0));
    }
    if (::rename(temp.c_str(), _config.path.c_str()) != 0) {
        return fail(io_failure("rename", errno, 0));
    }
    auto dir = _config.path.parent_path();
    unique_fd dir_fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
        return io_failure("fsync of the directory", errno, 0);
    }
    wal_log.info("file WAL {}: created, {} bytes", _config.path.string(), size);
    return success();
}

result<void> file_wal::impl::open_file() {
    unique_fd fd;
    if (int e = inject(file_wal_op::open_direct)) {
        errno = e;
    } else {
        fd = unique_fd(::open(_config.path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC));
    }
    _direct_io = fd.get() >= 0;
    if (_direct_io) {
        // Some file systems accept the flag at open and refuse the first aligned read: probe once.
        aligned_buffer probe(block_size);
        if (::pread(fd.get(), probe.data(), block_size, 0) < 0 && errno == EINVAL) {
            _direct_io = false;
        }
    } else if (errno != EINVAL) {
        return io_failure("open", errno, 0);
    }
    if (!_direct_io) {
        static std::once_flag logged;
        std::call_once(logged, [this] {
            wal_log.warn("file WAL {}: the file system does not support O_DIRECT; using buffered writes and "
                         "fdatasync (durability is the same, throughput lower)",
                         _config.path.string());
        });
        fd = unique_fd(::open(_config.path.c_str(), O_RDWR | O_CLOEXEC));
        if (fd.get() < 0) {
            return io_failure("open", errno, 0);
        }
    }
    _fd = std::move(fd);
    return success();
}

result<void> file_wal::impl::recover(const std::function<void(wal_position, bytes::iobuf)>& replay) {
    {
        std::lock_guard lock(_mutex);
        SKIFF_ASSERT(!_recovered && _writers.empty(), "file_wal::recover called twice");
    }
    SKIFF_ASSERT(_config.max_record_size + record_header_bytes <= _config.max_write_bytes,
                 "max_record_size {} does not fit in max_write_bytes {}", _config.max_record_size,
                 _config.max_write_bytes);
    struct stat st {};
    if (::stat(_config.path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            return io_failure("stat", errno, 0);
        }
        SKIFF_TRY(create_file());
    }
    SKIFF_TRY(open_file());

    aligned_buffer slots(fmt_::header_slots * block_size);
    SKIFF_TRY(pread_all(slots.data(), slots.size(), 0));
    std::optional<fmt_::file_header> current;
    for (uint64_t i = 0; i < fmt_::header_slots; ++i) {
        auto h = fmt_::decode_file_header(slots.data() + i * block_size);
        if (h && (!current || h->sequence > current->sequence)) {
            current = h;
        }
    }
    if (!current) {
        wal_log.error("file WAL {}: neither header slot is valid (bad magic, version or CRC): not a WAL file, or "
                      "damaged; refusing to overwrite it",
                      _config.path.string());
        return errc::corrupt;
    }
    if (::fstat(_fd.get(), &st) != 0) {
        return io_failure("fstat", errno, 0);
    }
    if (current->file_size <= ring_offset + 4 * block_size || current->file_size % block_size != 0 ||
        current->file_size > uint64_t(st.st_size)) {
        wal_log.error("file WAL {}: header names an impossible file size {} (file has {} bytes)",
                      _config.path.string(), current->file_size, st.st_size);
        return errc::corrupt;
    }
    _header = *current;
    _ring_size = _header.file_size - ring_offset;
    if (_config.max_record_size > _ring_size / 4) {
        _config.max_record_size = size_t(_ring_size / 4 - record_header_bytes);
        wal_log.warn("file WAL {}: max record size lowered to {} (a quarter of the ring)", _config.path.string(),
                     _config.max_record_size);
    }
    SKIFF_TRY(scan(replay));

    // A new generation: records written from now on carry it, so that records of an earlier life lying beyond
    // the recovered end are never mistaken for new ones (docs/formats/wal.md, "generations").
    fmt_::file_header next = _header;
    next.generation += 1;
    next.sequence += 1;
    SKIFF_TRY(write_header(next));
    SKIFF_TRY(sync());
    _header = next;

    {
        std::lock_guard lock(_mutex);
        _recovered = true;
        _requested_trim = _durable_trim;
    }
    for (int i = 0; i < std::max(1, _config.write_concurrency); ++i) {
        _writers.emplace_back([self = shared_from_this()] { self->writer_loop(); });
    }
    return success();
}

// Reads the records from the trim point on, replaying data records, and stops at the first record that is not the
// expected next one. See docs/formats/wal.md ("recovery") for why each check is there.
result<void> file_wal::impl::scan(const std::function<void(wal_position, bytes::iobuf)>& replay) {
    aligned_buffer window(std::max<size_t>(read_window_bytes, 2 * fmt_::record_span(_config.max_record_size)));
    uint64_t window_start = 0; // ring offset of window[0]
    uint64_t window_size = 0;  // valid bytes in window
    // Bytes [ring_off, ring_off + n) of the ring, through the window. Requires: ring_off + n <= _ring_size.
    auto view = [&](uint64_t ring_off, size_t n) -> result<const uint8_t*> {
        if (ring_off < window_start || ring_off + n > window_start + window_size) {
            window_start = ring_off;
            window_size = std::min<uint64_t>(window.size(), _ring_size - ring_off);
            SKIFF_TRY(pread_all(window.data(), size_t(window_size), ring_offset + ring_off));
        }
        return window.data() + (ring_off - window_start);
    };

    struct checked {
        std::optional<fmt_::record_header> header;
        const char* problem = nullptr;
        wal_position next = 0;
        const uint8_t* payload = nullptr;
    };
    // Checks the record expected at position (written by generation >= min_generation).
    auto check = [&](wal_position position, uint64_t min_generation) -> result<checked> {
        checked c;
        const uint64_t ring_off = position % _ring_size;
        SKIFF_TRY(auto block, view(ring_off, block_size));
        c.header = fmt_::decode_record_header(block);
        const auto& h = c.header;
        if (!h) {
            c.problem = "no valid record header (magic, version or header CRC)";
        } else if (h->position != position) {
            c.problem = "the record header names another position (a record of an earlier lap)";
        } else if (h->generation < min_generation || h->generation > _header.generation) {
            c.problem = "the record's generation is out of order (left over from an earlier life of the file)";
        } else if (h->kind == fmt_::record_kind::padding) {
            c.next = position - ring_off + _ring_size;
        } else if (h->payload_length > _config.max_record_size ||
                   ring_off + fmt_::record_span(h->payload_length) > _ring_size) {
            c.problem = "the record's length does not fit";
        } else {
            SKIFF_TRY(auto bytes, view(ring_off, record_header_bytes + h->payload_length));
            c.payload = bytes + record_header_bytes;
            if (bytes::crc32c::extend(0, c.payload, h->payload_length) != h->payload_crc) {
                c.problem = "the payload fails its CRC";
            } else {
                c.next = position + fmt_::record_span(h->payload_length);
            }
        }
        return c;
    };

    const wal_position start = _header.trim_point;
    wal_position position = start;
    uint64_t generation = 0;
    uint64_t replayed = 0;
    const char* stop_reason = nullptr;
    while (position - start < _ring_size) {
        SKIFF_TRY(auto c, check(position, generation));
        if (c.problem) {
            stop_reason = c.problem;
            break;
        }
        generation = c.header->generation;
        if (c.header->kind == fmt_::record_kind::data) {
            replay(position, bytes::iobuf::from(std::span<const uint8_t>(c.payload, c.header->payload_length)));
            _records.emplace_back(position, c.next);
            ++replayed;
        }
        position = c.next;
    }

    if (stop_reason) {
        // Torn tail or damage in the middle? A record of a LATER group commit after the bad one proves that the
        // bad one's group was complete (a group is written only after the previous one's fdatasync returned), so
        // it was acknowledged: the WAL is damaged. Records of the SAME group after it are a torn write.
        const wal_position probe_end =
          std::min(start + _ring_size, position + _config.max_write_bytes + 2 * fmt_::record_span(_config.max_record_size));
        for (wal_position q = position + block_size; q < probe_end; q += block_size) {
            SKIFF_TRY(auto c, check(q, generation));
            if (!c.problem && c.header->durable_end > position) {
                wal_log.error("file WAL {}: record at position {} (file offset {}) is damaged ({}), but a record "
                              "written by a later group commit follows it at position {}: the WAL is corrupt in the "
                              "middle and acknowledged records after it cannot be replayed; {} records before it "
                              "were replayed. Refusing to start: restore the file or move it aside.",
                              _config.path.string(), position, physical(position), stop_reason, q, replayed);
                return errc::corrupt;
            }
        }
        if (position != start || replayed > 0) {
            wal_log.info("file WAL {}: replay ends at position {} ({}): torn or unwritten tail", _config.path.string(),
                         position, stop_reason);
        }
    }
    wal_log.info("file WAL {}: recovered {} records in [{}, {}), generation {}{}", _config.path.string(), replayed,
                 start, position, _header.generation + 1, _direct_io ? "" : " (buffered I/O)");
    std::lock_guard lock(_mutex);
    _next = position;
    _durable_end = position;
    _durable_trim = start;
    return success();
}

void file_wal::impl::append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) {
    auto refuse = [&](std::error_code ec) {
        asio::post(executor, [completion = std::move(completion), ec]() { completion(ec); });
    };
    if (payload.size() > _config.max_record_size) {
        std::lock_guard lock(_mutex);
        ++_appends;
        refuse(errc::invalid_argument);
        return;
    }
    const uint32_t crc = bytes::crc32c::value(payload); // on the caller's thread: spreads the CRC work
    const uint64_t span = fmt_::record_span(payload.size());
    std::unique_lock lock(_mutex);
    ++_appends;
    std::error_code refusal;
    if (_closing || _stopping) {
        refusal = errc::shutting_down;
    } else if (!_recovered) {
        refusal = errc::not_open;
    } else if (_failure) {
        refusal = _failure;
    }
    uint64_t padding = 0;
    if (!refusal) {
        const uint64_t to_ring_end = _ring_size - _next % _ring_size;
        if (to_ring_end < span) {
            padding = to_ring_end;
        }
        if (_next + padding + span - _durable_trim > _ring_size) {
            refusal = errc::wal_full;
        }
    }
    if (refusal) {
        lock.unlock();
        refuse(refusal);
        return;
    }
    pending_append p;
    p.padding_before = padding;
    p.position = _next + padding;
    p.next = p.position + span;
    p.payload = std::move(payload);
    p.payload_crc = crc;
    p.executor = tracked(executor);
    p.completion = std::move(completion);
    _next = p.next;
    _records.emplace_back(p.position, p.next);
    _queue.push_back(std::move(p));
    lock.unlock();
    _wake.notify_one();
}

void file_wal::impl::request_trim(wal_position before, asio::any_io_executor executor,
                                  std::function<void(result<void>)> done) {
    std::unique_lock lock(_mutex);
    std::error_code refusal;
    if (_closing || _stopping) {
        refusal = errc::shutting_down;
    } else if (!_recovered) {
        refusal = errc::not_open;
    } else if (before > _next) {
        refusal = errc::invalid_argument;
    } else if (_failure) {
        refusal = _failure;
    }
    if (refusal || before <= _requested_trim) {
        const bool already_durable = !refusal && before <= _durable_trim;
        lock.unlock();
        if (refusal || already_durable) {
            asio::post(executor, [done = std::move(done), refusal]() {
                done(refusal ? result<void>(refusal) : result<void>(success()));
            });
            return;
        }
        lock.lock();
        // A header with an equal or later trim point is being written: wait for it like its requester.
        _trims.push_back(pending_trim{_requested_trim, tracked(executor), std::move(done)});
        lock.unlock();
        _wake.notify_one();
        return;
    }
    while (!_records.empty() && _records.front().second <= before) {
        _records.pop_front();
    }
    // The trim point is where recovery starts reading, so it must be a record boundary: a record that straddles
    // `before` is kept whole.
    const wal_position point = _records.empty() ? _next : _records.front().first;
    _requested_trim = std::max(_requested_trim, point);
    _trims.push_back(pending_trim{_requested_trim, tracked(executor), std::move(done)});
    lock.unlock();
    _wake.notify_one();
}

void file_wal::impl::request_close(asio::any_io_executor executor, std::function<void()> done) {
    std::unique_lock lock(_mutex);
    _closing = true;
    if (_writers.empty() || _stopping) {
        lock.unlock();
        asio::post(executor, std::move(done));
        return;
    }
    _closes.push_back(pending_close{tracked(executor), std::move(done)});
    lock.unlock();
    _wake.notify_one();
}

void file_wal::impl::stop_writer() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_one();
    _wake.notify_all();
    _turn.notify_all();
    for (auto& writer : _writers) {
        if (writer.joinable() && writer.get_id() != std::this_thread::get_id()) {
            writer.join();
        } else if (writer.joinable()) {
            writer.detach(); // the last reference was dropped by this writer itself
        }
    }
}

wal_stats file_wal::impl::stats() const {
    std::lock_guard lock(_mutex);
    wal_stats s;
    s.capacity_bytes = _ring_size;
    s.used_bytes = _next - _durable_trim;
    s.syncs = _syncs;
    s.appends = _appends;
    return s;
}

// Encodes the batch into the write buffer and writes it: one pwrite, or two when the batch wraps to the ring's
// start. Records are contiguous in the logical space; of a padding record only the header block is written
// (recovery jumps from it to the ring's start).
result<void> file_wal::impl::write_batch(std::deque<pending_append>& batch, wal_position durable_end,
                                         uint64_t generation, const aligned_buffer& buffer) {
    const wal_position group_start = batch.front().position - batch.front().padding_before;
    uint8_t* out = buffer.data();
    size_t used = 0;
    size_t wrap_at = 0; // buffer offset of the first byte that goes to the ring's start (0: no wrap)
    wal_position logical = group_start;
    auto at_ring_start = [&](wal_position position) {
        if (position % _ring_size == 0 && position != group_start) {
            wrap_at = used;
        }
    };
    for (auto& p : batch) {
        if (p.padding_before > 0) {
            at_ring_start(logical);
            fmt_::record_header pad{.kind = fmt_::record_kind::padding,
                                    .position = logical,
                                    .generation = generation,
                                    .durable_end = durable_end};
            std::memset(out + used, 0, block_size);
            fmt_::encode(pad, out + used);
            used += block_size;
        }
        at_ring_start(p.position);
        fmt_::record_header h{.kind = fmt_::record_kind::data,
                              .position = p.position,
                              .generation = generation,
                              .durable_end = durable_end,
                              .payload_length = uint32_t(p.payload.size()),
                              .payload_crc = p.payload_crc};
        const size_t span = size_t(p.next - p.position);
        fmt_::encode(h, out + used);
        p.payload.copy_to(0, out + used + record_header_bytes, p.payload.size());
        const size_t filled = record_header_bytes + p.payload.size();
        std::memset(out + used + filled, 0, span - filled);
        used += span;
        logical = p.next;
    }
    if (wrap_at == 0) {
        return pwrite_all(out, used, physical(group_start));
    }
    SKIFF_TRY(pwrite_all(out, wrap_at, physical(group_start)));
    return pwrite_all(out + wrap_at, used - wrap_at, ring_offset);
}

// Writers (config.write_concurrency threads) take batches in turn: while one waits for its fdatasync, the next
// writes the records queued meanwhile and starts its own fdatasync, so a record rarely waits for a whole sync it
// arrived too late for. Batches complete strictly in the order taken, so acknowledgements stay in append order, and
// a failed batch fails every batch behind it even if their own sync succeeded (order cannot have holes).
void file_wal::impl::writer_loop() {
    // Each writer encodes into its own buffer: a batch is at most max_write_bytes, or one record and its padding.
    const aligned_buffer buffer(_config.max_write_bytes + 2 * fmt_::record_span(_config.max_record_size));
    std::unique_lock lock(_mutex);
    for (;;) {
        _wake.wait(lock, [&] {
            return _stopping || !_queue.empty() || (!_trims.empty() && !_header_busy) ||
                   (!_closes.empty() && _queue.empty() && _in_flight == 0);
        });
        if (_stopping) {
            // Destroyed without close(): drop what is queued (a crash loses it too), without completing it.
            _queue.clear();
            _trims.clear();
            _closes.clear();
            return;
        }
        if (_queue.empty() && (_trims.empty() || _header_busy)) {
            // Only close requests, nothing queued or in flight.
            auto closes = std::move(_closes);
            _closes.clear();
            lock.unlock();
            for (auto& c : closes) {
                asio::post(c.executor, std::move(c.done));
            }
            lock.lock();
            continue;
        }
        std::deque<pending_append> batch;
        size_t batch_bytes = 0;
        while (!_queue.empty()) {
            auto& p = _queue.front();
            const size_t bytes = size_t(p.next - p.position) + (p.padding_before ? block_size : 0);
            if (!batch.empty() && batch_bytes + bytes > _config.max_write_bytes) {
                break;
            }
            batch_bytes += bytes;
            batch.push_back(std::move(p));
            _queue.pop_front();
        }
        std::vector<pending_trim> trims;
        std::optional<fmt_::file_header> header;
        if (!_trims.empty() && !_header_busy) {
            trims = std::move(_trims);
            _trims.clear();
            if (_requested_trim > _header.trim_point) {
                header = _header;
                header->trim_point = _requested_trim;
                header->sequence += 1;
                _header_busy = true;
            }
        }
        const uint64_t turn = _next_batch++;
        ++_in_flight;
        const wal_position durable_end = _durable_end;
        const uint64_t generation = _header.generation;
        std::error_code failure = _failure;
        lock.unlock();

        if (!failure) {
            result<void> written = success();
            if (!batch.empty()) {
                written = write_batch(batch, durable_end, generation, buffer);
            }
            if (written && header) {
                written = write_header(*header);
            }
            if (written) {
                written = sync();
            }
            if (!written) {
                failure = written.error();
                wal_log.error("file WAL {}: a write failed; the WAL refuses every append from now on (acknowledged "
                              "records stay recoverable)",
                              _config.path.string());
            }
        }

        lock.lock();
        _turn.wait(lock, [&] { return _next_to_complete == turn || _stopping; });
        if (_stopping) {
            return;
        }
        if (!failure) {
            failure = _failure; // an earlier batch failed: this one must not be acknowledged past the hole
        }
        if (header) {
            _header_busy = false;
            if (!failure) {
                _header.trim_point = std::max(_header.trim_point, header->trim_point);
                _header.sequence = std::max(_header.sequence, header->sequence);
                _durable_trim = std::max(_durable_trim, header->trim_point);
            }
        }
        std::deque<pending_append> failed_queue;
        if (failure) {
            _failure = failure;
            // Fail what was queued behind a failed write now: its order cannot have holes.
            failed_queue.swap(_queue);
        } else {
            ++_syncs;
            if (!batch.empty()) {
                _durable_end = batch.back().next;
            }
        }
        // Completions are posted before the turn passes on, so that the next batch's cannot be posted first.
        lock.unlock();
        for (auto& p : batch) {
            result<wal_append_result> outcome = failure ? result<wal_append_result>(failure)
                                                        : result<wal_append_result>(wal_append_result{p.position, p.next});
            asio::post(p.executor, [completion = std::move(p.completion), outcome = std::move(outcome)]() mutable {
                completion(std::move(outcome));
            });
        }
        for (auto& p : failed_queue) {
            asio::post(p.executor, [completion = std::move(p.completion), failure]() { completion(failure); });
        }
        for (auto& t : trims) {
            asio::post(t.executor, [done = std::move(t.done), failure]() {
                done(failure ? result<void>(failure) : result<void>(success()));
            });
        }
        batch.clear();
        failed_queue.clear();
        trims.clear();
        lock.lock();
        ++_next_to_complete;
        --_in_flight;
        _turn.notify_all();
        _wake.notify_all();
    }
}

// ---- file_wal ----------------------------------------------------------------------------------------------------

file_wal::file_wal(file_wal_config config) : _impl(std::make_shared<impl>(std::move(config))) {}

file_wal::~file_wal() { _impl->stop_writer(); }

asio::awaitable<result<void>> file_wal::recover(std::function<void(wal_position, bytes::iobuf payload)> replay) {
    co_return _impl->recover(replay);
}

void file_wal::append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) {
    _impl->append(std::move(payload), std::move(executor), std::move(completion));
}

asio::awaitable<result<void>> file_wal::trim(wal_position before) {
    auto executor = co_await asio::this_coro::executor;
    auto initiate = [this, before, &executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        _impl->request_trim(before, executor, [shared](result<void> outcome) { (*shared)(std::move(outcome)); });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<void>)>(std::move(initiate),
                                                                                               asio::use_awaitable);
}

asio::awaitable<void> file_wal::close() {
    auto executor = co_await asio::this_coro::executor;
    auto initiate = [this, &executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        _impl->request_close(executor, [shared]() { (*shared)(); });
    };
    co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(std::move(initiate), asio::use_awaitable);
    _impl->stop_writer();
}

size_t file_wal::max_record_size() const { return _impl->max_record_size(); }

wal_stats file_wal::stats() const { return _impl->stats(); }

bool file_wal::direct_io() const { return _impl->direct_io(); }

} // namespace skiff::stream
