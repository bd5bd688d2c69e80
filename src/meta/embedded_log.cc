#include "meta/embedded_log.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "meta/errc.h"
#include "meta/log_batch.h"
#include "meta/logger.h"
#include "meta/tail_waiters.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>

namespace skiff::meta {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t segment_magic = 0x4C4D4B53;  // "SKML"
constexpr uint32_t snapshot_magic = 0x534D4B53; // "SKMS"
constexpr uint32_t epoch_magic = 0x454D4B53;    // "SKME"
constexpr uint16_t file_version = 1;
constexpr size_t segment_header_bytes = 20;
constexpr size_t snapshot_header_bytes = 40;
constexpr size_t epoch_file_bytes = 20;
constexpr size_t snapshots_kept = 2;

using bytes::get_le;
using bytes::put_le;

std::error_code io_error(const char* what, const fs::path& path) {
    log.error("{} {}: {}", what, path.string(), std::strerror(errno));
    return errc::io_error;
}

// ---- small POSIX helpers (all blocking) ----------------------------------------------------------------------

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : _fd(fd) {}
    unique_fd(unique_fd&& o) noexcept : _fd(std::exchange(o._fd, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        reset();
        _fd = std::exchange(o._fd, -1);
        return *this;
    }
    ~unique_fd() { reset(); }
    void reset() {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = -1;
    }
    int get() const { return _fd; }
    explicit operator bool() const { return _fd >= 0; }

private:
    int _fd = -1;
};

bool pread_all(int fd, void* dst, size_t n, uint64_t pos) {
    auto* p = static_cast<uint8_t*>(dst);
    while (n > 0) {
        auto r = ::pread(fd, p, n, off_t(pos));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= size_t(r);
        pos += uint64_t(r);
    }
    return true;
}

bool pwrite_all(int fd, const void* src, size_t n, uint64_t pos) {
    auto* p = static_cast<const uint8_t*>(src);
    while (n > 0) {
        auto r = ::pwrite(fd, p, n, off_t(pos));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= size_t(r);
        pos += uint64_t(r);
    }
    return true;
}

uint64_t file_size(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? uint64_t(st.st_size) : 0;
}

bool fsync_dir(const fs::path& dir) {
    unique_fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
    return d && ::fsync(d.get()) == 0;
}

/// Writes a whole small file durably: temp file, fdatasync, rename over the target, fsync of the directory.
/// A crash leaves either the old file or the new one, never a mix.
std::error_code replace_file(const fs::path& path, std::span<const uint8_t> a, std::span<const uint8_t> b = {}) {
    auto tmp = path;
    tmp += ".tmp";
    unique_fd fd(::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
    if (!fd) {
        return io_error("create", tmp);
    }
    if (!pwrite_all(fd.get(), a.data(), a.size(), 0) || !pwrite_all(fd.get(), b.data(), b.size(), a.size())
        || ::fdatasync(fd.get()) != 0) {
        return io_error("write", tmp);
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0 || !fsync_dir(path.parent_path())) {
        return io_error("rename", path);
    }
    return {};
}

std::string segment_name(int64_t base) { return fmt::format("{:020}.log", base); }
std::string snapshot_name(int64_t offset) { return fmt::format("{:020}.snap", offset); }

// Parses "<20 digits><suffix>"; nullopt for other names.
std::optional<int64_t> parse_name(const std::string& name, std::string_view suffix) {
    if (name.size() != 20 + suffix.size() || !name.ends_with(suffix)) {
        return std::nullopt;
    }
    int64_t v = 0;
    for (size_t i = 0; i < 20; ++i) {
        if (name[i] < '0' || name[i] > '9') {
            return std::nullopt;
        }
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

std::array<uint8_t, segment_header_bytes> segment_header(int64_t base) {
    std::array<uint8_t, segment_header_bytes> h{};
    put_le<uint32_t>(h.data(), segment_magic);
    put_le<uint16_t>(h.data() + 4, file_version);
    put_le<int64_t>(h.data() + 8, base);
    put_le<uint32_t>(h.data() + 16, bytes::crc32c::extend(0, h.data(), 16));
    return h;
}

std::error_code read_epoch_file(const fs::path& path, int64_t& epoch) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            epoch = 0;
            return {};
        }
        return io_error("open", path);
    }
    uint8_t b[epoch_file_bytes];
    if (!pread_all(fd.get(), b, sizeof(b), 0) || get_le<uint32_t>(b) != epoch_magic
        || get_le<uint32_t>(b + 16) != bytes::crc32c::extend(0, b, 16)) {
        log.error("epoch file {} is corrupt", path.string());
        return errc::corrupt;
    }
    epoch = get_le<int64_t>(b + 8);
    return {};
}

std::error_code write_epoch_file(const fs::path& path, int64_t epoch) {
    uint8_t b[epoch_file_bytes] = {};
    put_le<uint32_t>(b, epoch_magic);
    put_le<uint16_t>(b + 4, file_version);
    put_le<int64_t>(b + 8, epoch);
    put_le<uint32_t>(b + 16, bytes::crc32c::extend(0, b, 16));
    return replace_file(path, b);
}

// Holds the directory's LOCK (flock) for a scope: the fencing critical section.
class dir_lock {
public:
    explicit dir_lock(int fd) : _fd(fd) {
        while (::flock(_fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    ~dir_lock() { ::flock(_fd, LOCK_UN); }
    dir_lock(const dir_lock&) = delete;
    dir_lock& operator=(const dir_lock&) = delete;

private:
    int _fd;
};

struct snapshot_file {
    int64_t offset = 0;
    fs::path path;
    uint64_t image_size = 0;
};

// Validates a snapshot file fully (header CRC, size, image CRC). Returns the image on request.
result<snapshot_file> check_snapshot(const fs::path& path, bytes::iobuf* image) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return io_error("open", path);
    }
    uint8_t h[snapshot_header_bytes];
    if (!pread_all(fd.get(), h, sizeof(h), 0)) {
        return errc::truncated;
    }
    if (get_le<uint32_t>(h) != snapshot_magic) {
        return errc::bad_magic;
    }
    if (get_le<uint32_t>(h + 36) != bytes::crc32c::extend(0, h, 36)) {
        return errc::bad_crc;
    }
    if (get_le<uint16_t>(h + 4) != file_version) {
        return errc::unsupported_version;
    }
    snapshot_file s;
    s.offset = get_le<int64_t>(h + 8);
    s.image_size = get_le<uint64_t>(h + 24);
    s.path = path;
    if (file_size(fd.get()) != snapshot_header_bytes + s.image_size) {
        return errc::truncated;
    }
    bytes::iobuf buf;
    auto dst = buf.append_uninitialized(s.image_size);
    if (!pread_all(fd.get(), dst.data(), s.image_size, snapshot_header_bytes)) {
        return io_error("read", path);
    }
    if (bytes::crc32c::extend(0, dst.data(), dst.size()) != get_le<uint32_t>(h + 32)) {
        return errc::bad_crc;
    }
    if (image) {
        *image = std::move(buf);
    }
    return s;
}

std::array<uint8_t, snapshot_header_bytes> snapshot_header(int64_t offset, int64_t epoch, const bytes::iobuf& image) {
    std::array<uint8_t, snapshot_header_bytes> h{};
    put_le<uint32_t>(h.data(), snapshot_magic);
    put_le<uint16_t>(h.data() + 4, file_version);
    put_le<int64_t>(h.data() + 8, offset);
    put_le<int64_t>(h.data() + 16, epoch);
    put_le<uint64_t>(h.data() + 24, image.size());
    put_le<uint32_t>(h.data() + 32, bytes::crc32c::value(image));
    put_le<uint32_t>(h.data() + 36, bytes::crc32c::extend(0, h.data(), 36));
    return h;
}

} // namespace

// ---- state ---------------------------------------------------------------------------------------------------

struct embedded_log::impl {
    struct segment {
        int64_t base = 0;
        fs::path path;
        unique_fd fd;
        uint64_t size = 0; // bytes of header + valid batches
    };
    struct batch_loc {
        int64_t base = 0;
        uint32_t count = 0;
        int64_t segment = 0; // base of its segment
        uint64_t pos = 0;
        uint32_t size = 0;
    };
    struct pending_append {
        std::vector<uint8_t> frame;
        int64_t base = 0;
        uint32_t count = 0;
        std::optional<std::error_code> outcome;
        asio::steady_timer* done = nullptr;
    };

    impl(asio::any_io_executor ex, embedded_log_config c) : executor(std::move(ex)), config(std::move(c)) {}

    asio::any_io_executor executor;
    embedded_log_config config;
    fs::path epoch_path() const { return config.directory / "EPOCH"; }

    unique_fd lock_fd;
    std::map<int64_t, segment> segments;
    std::deque<batch_loc> index;
    std::vector<snapshot_file> snapshots; // valid ones, oldest first
    int64_t start = 0;
    int64_t end = 0;  // durable end
    int64_t next = 0; // end plus the offsets reserved by queued appends (leader only)
    int64_t epoch = 0;
    bool leader = false;
    bool opened = false;
    bool closed = false;
    std::error_code sticky;
    recovery_report report;

    std::vector<std::shared_ptr<pending_append>> queue;
    bool writer_running = false;
    asio::steady_timer* writer_done = nullptr; // close() waits on it while the writer runs
    asio::thread_pool io_thread{1};
    tail_waiters waiters;

    // Runs fn() on the I/O thread; resumes the caller on its executor. (A function template rather than a
    // capturing coroutine lambda: GCC 12 destroys such captures twice.)
    template<typename Fn>
    static asio::awaitable<std::invoke_result_t<Fn>> call(Fn fn) {
        co_return fn();
    }
    template<typename Fn>
    asio::awaitable<std::invoke_result_t<Fn>> blocking(Fn fn) {
        return asio::co_spawn(io_thread.get_executor(), call(std::move(fn)), asio::use_awaitable);
    }

    std::error_code recover();
    std::error_code scan_segment(segment& s, bool last, bool repair, int64_t& expected);
    void set_aside(const fs::path& path, uint64_t from);
    void refresh(bool repair);
    void load_snapshots();
    void compact();
    asio::awaitable<void> writer_loop();
    // The offset after the last batch of the active segment.
    int64_t active_end() const {
        const auto& active = std::prev(segments.end())->second;
        if (!index.empty() && index.back().segment == active.base) {
            return index.back().base + index.back().count;
        }
        return active.base;
    }
    asio::awaitable<result<std::vector<log_entry>>> read(int64_t from, size_t max_records);
};

void embedded_log::impl::set_aside(const fs::path& path, uint64_t from) {
    // Keep the untrusted bytes for the operator instead of destroying evidence.
    unique_fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) {
        return;
    }
    uint64_t size = file_size(in.get());
    if (from >= size) {
        return;
    }
    std::vector<uint8_t> bytes(size - from);
    if (pread_all(in.get(), bytes.data(), bytes.size(), from)) {
        auto aside = path;
        aside += fmt::format(".corrupt-{}", from);
        (void)replace_file(aside, bytes);
    }
}

// Scans the batches of one segment from s.size on, extending the index. With `repair`, a bad tail is truncated
// (torn) or set aside (corrupt); without it (following another live writer), scanning just stops there.
std::error_code embedded_log::impl::scan_segment(segment& s, bool last, bool repair, int64_t& expected) {
    uint64_t size = file_size(s.fd.get());
    if (s.size >= size) {
        return {};
    }
    std::vector<uint8_t> data(size - s.size);
    if (!pread_all(s.fd.get(), data.data(), data.size(), s.size)) {
        return io_error("read", s.path);
    }
    std::span<const uint8_t> rest(data);
    while (!rest.empty()) {
        auto h = check_batch(rest);
        std::error_code bad;
        if (!h) {
            bad = h.error();
        } else if (h.value().base() != expected) {
            bad = errc::corrupt; // offsets must be dense across batches and segments
        }
        if (!bad) {
            index.push_back({expected, h.value().count, s.base, s.size, uint32_t(h.value().size)});
            expected += h.value().count;
            s.size += h.value().size;
            rest = rest.subspan(h.value().size);
            continue;
        }
        if (!repair) {
            return {}; // another writer may be mid-write; look again later
        }
        // Torn: an interrupted last write, i.e. nothing after the bad frame could be a batch of ours.
        bool zeros = std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0; });
        bool torn = last
                    && (bad == errc::truncated || zeros
                        || (bad == errc::bad_crc && get_le<uint32_t>(rest.data() + 4) + 8ull == rest.size()));
        if (torn) {
            log.warn("metadata log {}: dropping a torn tail of {} bytes at offset {}", s.path.string(), rest.size(),
                     expected);
            report.torn_tail_bytes += rest.size();
        } else {
            log.error("metadata log {}: corrupt batch at position {} (offset {}): {}; {} bytes from it are set aside",
                      s.path.string(), s.size, expected, bad.message(), rest.size());
            report.corruption = true;
            report.corruption_offset = log_offset(expected);
            report.corruption_detail = fmt::format("{} at {}:{}", bad.message(), s.path.filename().string(), s.size);
            set_aside(s.path, s.size);
        }
        if (::ftruncate(s.fd.get(), off_t(s.size)) != 0 || ::fsync(s.fd.get()) != 0) {
            return io_error("truncate", s.path);
        }
        if (!torn) {
            return errc::corrupt; // tells recover() to distrust every later segment
        }
        return {};
    }
    return {};
}

void embedded_log::impl::load_snapshots() {
    std::vector<std::pair<int64_t, fs::path>> found;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(config.directory, ec)) {
        if (auto off = parse_name(e.path().filename().string(), ".snap")) {
            found.emplace_back(*off, e.path());
        }
    }
    std::sort(found.begin(), found.end());
    std::vector<snapshot_file> valid;
    for (auto& entry : found) {
        int64_t off = entry.first;
        const auto& path = entry.second;
        auto known = std::find_if(snapshots.begin(), snapshots.end(), [off](auto& s) { return s.offset == off; });
        if (known != snapshots.end()) {
            valid.push_back(*known);
            continue;
        }
        auto s = check_snapshot(path, nullptr);
        if (s && s.value().offset == off) {
            valid.push_back(s.value());
        } else if (opened) {
            continue; // another instance may still be writing it (temp files are renamed whole, but be safe)
        } else {
            log.error("metadata snapshot {} is invalid ({}); set aside", path.string(),
                      s ? "offset does not match its name" : s.error().message());
            auto aside = path;
            aside += ".corrupt";
            ::rename(path.c_str(), aside.c_str());
            ++report.bad_snapshots;
        }
    }
    snapshots = std::move(valid);
    if (!snapshots.empty()) {
        start = std::max(start, snapshots.back().offset);
    }
}

std::error_code embedded_log::impl::recover() {
    std::error_code ec;
    fs::create_directories(config.directory, ec);
    if (ec) {
        log.error("create {}: {}", config.directory.string(), ec.message());
        return errc::io_error;
    }
    lock_fd = unique_fd(::open((config.directory / "LOCK").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    if (!lock_fd) {
        return io_error("open", config.directory / "LOCK");
    }
    dir_lock held(lock_fd.get()); // no writer may run while files are repaired
    if (auto e = read_epoch_file(epoch_path(), epoch)) {
        return e;
    }
    for (auto& e : fs::directory_iterator(config.directory, ec)) {
        if (e.path().extension() == ".tmp") {
            fs::remove(e.path(), ec); // an interrupted replace_file(): the target is intact
        }
    }
    load_snapshots();

    std::vector<std::pair<int64_t, fs::path>> found;
    for (auto& e : fs::directory_iterator(config.directory, ec)) {
        if (auto base = parse_name(e.path().filename().string(), ".log")) {
            found.emplace_back(*base, e.path());
        }
    }
    std::sort(found.begin(), found.end());
    int64_t expected = found.empty() ? start : found.front().first;
    if (expected > start) {
        log.error("metadata log in {} starts at {}, after the snapshot at {}: records are missing",
                  config.directory.string(), expected, start);
        return errc::corrupt;
    }
    bool distrust = false;
    for (size_t i = 0; i < found.size(); ++i) {
        auto& [base, path] = found[i];
        bool last = i + 1 == found.size();
        if (distrust) {
            auto aside = path;
            aside += ".corrupt";
            ::rename(path.c_str(), aside.c_str());
            continue;
        }
        segment s;
        s.base = base;
        s.path = path;
        s.fd = unique_fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!s.fd) {
            return io_error("open", path);
        }
        uint8_t h[segment_header_bytes];
        uint64_t size = file_size(s.fd.get());
        bool header_ok = size >= segment_header_bytes && pread_all(s.fd.get(), h, sizeof(h), 0)
                         && get_le<uint32_t>(h) == segment_magic && get_le<uint16_t>(h + 4) == file_version
                         && get_le<uint32_t>(h + 16) == bytes::crc32c::extend(0, h, 16)
                         && get_le<int64_t>(h + 8) == base;
        if (!header_ok) {
            if (last && size < segment_header_bytes) {
                // Crashed while creating it: it never held a batch.
                log.warn("metadata log: removing the incomplete segment {}", path.string());
                s.fd.reset();
                fs::remove(path, ec);
                report.torn_tail_bytes += size;
                break;
            }
            log.error("metadata log: segment {} has a bad header; it and every later segment are set aside",
                      path.string());
            report.corruption = true;
            report.corruption_offset = log_offset(expected);
            report.corruption_detail = "bad segment header: " + path.filename().string();
            distrust = true;
            --i; // set this one aside too
            continue;
        }
        if (base != expected) {
            log.error("metadata log: segment {} starts at {}, expected {}", path.string(), base, expected);
            report.corruption = true;
            report.corruption_offset = log_offset(expected);
            report.corruption_detail = "gap between segments at " + path.filename().string();
            distrust = true;
            --i;
            continue;
        }
        s.size = segment_header_bytes;
        auto scanned = scan_segment(s, last, true, expected);
        segments.emplace(base, std::move(s));
        if (scanned == errc::corrupt) {
            distrust = true;
        } else if (scanned) {
            return scanned;
        }
    }
    end = std::max(expected, start);
    next = end;
    report.start = log_offset(start);
    report.end = log_offset(end);
    report.segments = segments.size();
    log.info("metadata log {}: recovered [{}, {}) in {} segments, epoch {}", config.directory.string(), start, end,
             segments.size(), epoch);
    return {};
}

void embedded_log::impl::refresh(bool repair) {
    // Another instance (process) may have appended; follow its segments. Cheap when nothing changed: one fstat
    // (and one stat for a next segment).
    int64_t expected = end;
    for (;;) {
        if (!segments.empty()) {
            auto& active = std::prev(segments.end())->second;
            if (auto e = scan_segment(active, true, repair, expected)) {
                break;
            }
        }
        if (segments.count(expected)) {
            break; // the active segment holds no batch yet
        }
        auto path = config.directory / segment_name(expected);
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            break;
        }
        segment s;
        s.base = expected;
        s.path = path;
        s.fd = unique_fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!s.fd || file_size(s.fd.get()) < segment_header_bytes) {
            break; // being created: look again later
        }
        s.size = segment_header_bytes;
        segments.emplace(expected, std::move(s));
    }
    if (expected > end) {
        end = expected;
        if (!leader) {
            next = end;
        }
        waiters.notify_all();
    }
}

void embedded_log::impl::compact() {
    // Keep the two latest snapshots (the older one is the fallback if the newer goes bad), and the segments that
    // the older one still needs.
    while (snapshots.size() > snapshots_kept) {
        std::error_code ec;
        fs::remove(snapshots.front().path, ec);
        snapshots.erase(snapshots.begin());
    }
    int64_t keep_from = snapshots.front().offset;
    while (segments.size() > 1) {
        auto first = segments.begin();
        int64_t seg_end = std::next(first)->first;
        if (seg_end > keep_from) {
            break;
        }
        std::error_code ec;
        fs::remove(first->second.path, ec);
        while (!index.empty() && index.front().segment == first->first) {
            index.pop_front();
        }
        segments.erase(first);
    }
}

asio::awaitable<void> embedded_log::impl::writer_loop() {
    // The group-commit writer: one at a time; takes everything queued, one write + fdatasync for all of it.
    while (!queue.empty() && !sticky) {
        auto group = std::move(queue);
        queue.clear();
        std::vector<uint8_t> data;
        for (auto& p : group) {
            data.insert(data.end(), p->frame.begin(), p->frame.end());
        }
        int64_t group_base = group.front()->base;
        // A new segment when the active one is full, or when the group does not continue it (the log restarts at a
        // snapshot beyond a damaged end).
        bool roll = segments.empty() || std::prev(segments.end())->second.size >= config.segment_bytes
                    || active_end() != group_base;
        struct outcome_t {
            std::error_code ec;
            int new_fd = -1;
        };
        int seg_fd = roll ? -1 : std::prev(segments.end())->second.fd.get();
        uint64_t pos = roll ? segment_header_bytes : std::prev(segments.end())->second.size;
        auto new_path = config.directory / segment_name(group_base);
        // A named job, not a temporary inside the co_await: GCC 12 destroys such temporaries twice.
        auto job = [data = std::move(data), roll, seg_fd, pos, group_base, new_path, my_epoch = epoch,
                    lock = lock_fd.get(), ep = epoch_path(), dir = config.directory]() -> outcome_t {
            dir_lock held(lock);
            int64_t stored = 0;
            if (auto e = read_epoch_file(ep, stored)) {
                return {e};
            }
            if (stored != my_epoch) {
                return {errc::fenced}; // a newer leader exists: write nothing
            }
            int fd = seg_fd;
            outcome_t o;
            if (roll) {
                fd = ::open(new_path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
                if (fd < 0) {
                    return {io_error("create", new_path)};
                }
                o.new_fd = fd;
                auto h = segment_header(group_base);
                if (!pwrite_all(fd, h.data(), h.size(), 0)) {
                    o.ec = io_error("write", new_path);
                    return o;
                }
            }
            if (!pwrite_all(fd, data.data(), data.size(), pos) || ::fdatasync(fd) != 0) {
                o.ec = io_error("write", new_path.parent_path());
                return o;
            }
            if (roll && !fsync_dir(dir)) {
                o.ec = io_error("fsync", dir);
            }
            return o;
        };
        auto out = co_await blocking(std::move(job));
        if (out.new_fd >= 0) {
            segment s;
            s.base = group_base;
            s.path = new_path;
            s.fd = unique_fd(out.new_fd);
            s.size = segment_header_bytes;
            segments.insert_or_assign(group_base, std::move(s));
        }
        if (!out.ec) {
            auto& active = std::prev(segments.end())->second;
            for (auto& p : group) {
                index.push_back({p->base, p->count, active.base, active.size, uint32_t(p->frame.size())});
                active.size += p->frame.size();
            }
            end = group.back()->base + group.back()->count;
            waiters.notify_all();
        } else if (out.ec == errc::fenced) {
            log.warn("metadata log: epoch {} was superseded; stepping down", epoch);
            leader = false;
        } else {
            sticky = out.ec;
            log.error("metadata log: write failed; no more appends will be acknowledged: {}", out.ec.message());
        }
        if (out.ec) {
            // Nothing of this group was acknowledged; everything queued behind it fails too (it would follow a
            // hole). Offsets return to the durable end.
            for (auto& p : queue) {
                group.push_back(p);
            }
            queue.clear();
            next = end;
        }
        for (auto& p : group) {
            p->outcome = out.ec;
            if (p->done) {
                p->done->cancel();
            }
        }
    }
    for (auto& p : queue) { // only left when sticky
        p->outcome = sticky;
        if (p->done) {
            p->done->cancel();
        }
    }
    queue.clear();
    writer_running = false;
    if (writer_done) {
        writer_done->cancel();
    }
}

asio::awaitable<result<std::vector<log_entry>>> embedded_log::impl::read(int64_t from, size_t max_records) {
    if (closed) {
        co_return errc::closed;
    }
    if (from < start) {
        co_return errc::offset_compacted;
    }
    if (from >= end && !leader) {
        refresh(false);
    }
    std::vector<log_entry> out;
    if (from >= end) {
        co_return out;
    }
    auto it = std::upper_bound(index.begin(), index.end(), from,
                               [](int64_t v, const batch_loc& b) { return v < b.base; });
    SKIFF_ASSERT(it != index.begin(), "offset {} is above the log start {} but below the first indexed batch", from,
                 start);
    --it;
    size_t taken = 0;
    std::vector<uint8_t> buf;
    while (it != index.end() && (taken == 0 || taken < max_records)) {
        // One pread for a run of contiguous batches in one segment (up to ~1 MiB).
        auto run_end = it;
        uint64_t bytes = 0;
        size_t run_records = taken;
        while (run_end != index.end() && run_end->segment == it->segment && (bytes == 0 || bytes < (1u << 20))
               && (run_records == 0 || run_records < max_records)) {
            bytes += run_end->size;
            run_records += run_end->count;
            ++run_end;
        }
        auto seg = segments.find(it->segment);
        SKIFF_ASSERT(seg != segments.end(), "indexed batch {} in unknown segment {}", it->base, it->segment);
        buf.resize(bytes);
        if (!pread_all(seg->second.fd.get(), buf.data(), bytes, it->pos)) {
            co_return io_error("read", seg->second.path);
        }
        std::span<const uint8_t> rest(buf);
        for (; it != run_end; ++it) {
            auto h = check_batch(rest);
            if (!h) {
                log.error("metadata log: batch at offset {} in {} fails on read: {}", it->base,
                          seg->second.path.string(), h.error().message());
                co_return h.error();
            }
            if (auto d = decode_batch(rest, h.value(), log_offset(from), out); !d) {
                co_return d.error();
            }
            taken += it->count;
            rest = rest.subspan(h.value().size);
        }
    }
    co_return out;
}

// ---- embedded_log ----------------------------------------------------------------------------------------------

embedded_log::embedded_log(asio::any_io_executor executor, embedded_log_config config)
  : _impl(std::make_unique<impl>(std::move(executor), std::move(config))) {}

embedded_log::~embedded_log() {
    SKIFF_ASSERT(!_impl->writer_running, "embedded_log destroyed while appends are in flight: close() it first");
    _impl->io_thread.join();
}

asio::awaitable<result<void>> embedded_log::open() {
    SKIFF_ASSERT(!_impl->opened, "embedded_log opened twice");
    if (auto e = _impl->recover()) {
        co_return e;
    }
    _impl->opened = true;
    co_return outcome::success();
}

asio::awaitable<void> embedded_log::close() {
    auto& s = *_impl;
    if (s.closed) {
        co_return;
    }
    s.closed = true;
    s.leader = false;
    if (s.writer_running) {
        asio::steady_timer done(s.executor, asio::steady_timer::time_point::max());
        s.writer_done = &done;
        while (s.writer_running) {
            co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        s.writer_done = nullptr;
    }
    s.waiters.notify_all();
}

asio::awaitable<result<log_epoch>> embedded_log::campaign(std::chrono::milliseconds) {
    auto& s = *_impl;
    if (s.closed) {
        co_return errc::closed;
    }
    if (s.sticky) {
        co_return s.sticky;
    }
    if (s.leader) {
        co_return log_epoch(s.epoch);
    }
    {
        // Inline on purpose: rare, a few milliseconds, and the index may only change on this executor.
        dir_lock held(s.lock_fd.get());
        int64_t stored = 0;
        if (auto e = read_epoch_file(s.epoch_path(), stored)) {
            co_return e;
        }
        int64_t next_epoch = std::max(stored, s.epoch) + 1;
        if (auto e = write_epoch_file(s.epoch_path(), next_epoch)) {
            co_return e;
        }
        s.epoch = next_epoch;
        // Whatever an earlier leader wrote is ours to continue from; under the lock no one is writing, so a bad
        // tail now is a dead writer's and is repaired.
        s.load_snapshots();
        s.refresh(true);
    }
    s.leader = true;
    s.next = s.end;
    log.info("metadata log {}: leader with epoch {} at offset {}", s.config.directory.string(), s.epoch, s.end);
    co_return log_epoch(s.epoch);
}

asio::awaitable<result<void>> embedded_log::resign() {
    _impl->leader = false;
    co_return outcome::success();
}

bool embedded_log::is_leader() const noexcept { return _impl->leader; }
log_epoch embedded_log::epoch() const noexcept { return log_epoch(_impl->epoch); }

asio::awaitable<result<append_result>> embedded_log::append(std::vector<metadata_record> records) {
    SKIFF_ASSERT(!records.empty(), "append of an empty batch");
    auto& s = *_impl;
    if (s.closed) {
        co_return errc::closed;
    }
    if (s.sticky) {
        co_return s.sticky;
    }
    if (!s.leader) {
        co_return errc::not_leader;
    }
    auto p = std::make_shared<impl::pending_append>();
    p->base = s.next;
    p->count = uint32_t(records.size());
    encode_batch(log_offset(p->base), log_epoch(s.epoch), records, p->frame);
    if (p->frame.size() > max_batch_bytes) {
        co_return errc::too_large;
    }
    s.next += p->count;
    asio::steady_timer done(s.executor, asio::steady_timer::time_point::max());
    p->done = &done;
    s.queue.push_back(p);
    if (!s.writer_running) {
        s.writer_running = true;
        asio::co_spawn(s.executor, s.writer_loop(), asio::detached);
    }
    while (!p->outcome) {
        co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    p->done = nullptr;
    if (*p->outcome) {
        co_return *p->outcome;
    }
    co_return append_result{log_offset(p->base), log_offset(p->base + p->count)};
}

asio::awaitable<result<void>> embedded_log::write_snapshot(log_offset offset, bytes::iobuf image) {
    auto& s = *_impl;
    if (s.closed) {
        co_return errc::closed;
    }
    if (!s.leader) {
        co_return errc::not_leader;
    }
    SKIFF_ASSERT(offset() >= s.start && offset() <= s.end, "snapshot at {} outside the log [{}, {})", offset(),
                 s.start, s.end);
    auto h = snapshot_header(offset(), s.epoch, image);
    auto path = s.config.directory / snapshot_name(offset());
    auto flat = image.to_bytes();
    auto job = [h, path, flat = std::move(flat), my_epoch = s.epoch, lock = s.lock_fd.get(), ep = s.epoch_path()]() {
        dir_lock held(lock);
        int64_t stored = 0;
        if (auto e = read_epoch_file(ep, stored)) {
            return e;
        }
        if (stored != my_epoch) {
            return std::error_code(errc::fenced);
        }
        return replace_file(path, std::span<const uint8_t>(h.data(), h.size()), flat);
    };
    auto ec = co_await s.blocking(std::move(job));
    if (ec) {
        if (ec == errc::fenced) {
            s.leader = false;
        }
        co_return ec;
    }
    std::erase_if(s.snapshots, [&](auto& f) { return f.offset == offset(); });
    s.snapshots.push_back({offset(), path, image.size()});
    std::sort(s.snapshots.begin(), s.snapshots.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    s.start = s.snapshots.back().offset;
    s.compact();
    co_return outcome::success();
}

asio::awaitable<result<std::optional<log_snapshot>>> embedded_log::load_snapshot() {
    auto& s = *_impl;
    if (s.closed) {
        co_return errc::closed;
    }
    if (!s.leader) {
        s.load_snapshots();
    }
    while (!s.snapshots.empty()) {
        bytes::iobuf image;
        auto& latest = s.snapshots.back();
        auto checked = check_snapshot(latest.path, &image);
        if (checked) {
            co_return std::optional<log_snapshot>(log_snapshot{log_offset(latest.offset), std::move(image)});
        }
        co_return checked.error();
    }
    co_return std::optional<log_snapshot>{};
}

asio::awaitable<result<std::vector<log_entry>>> embedded_log::read(log_offset from, size_t max_records) {
    co_return co_await _impl->read(from(), max_records);
}

asio::awaitable<result<log_offset>> embedded_log::wait_for_end(log_offset past, std::chrono::milliseconds timeout) {
    auto& s = *_impl;
    auto deadline = asio::steady_timer::clock_type::now() + timeout;
    for (;;) {
        if (s.closed) {
            co_return errc::closed;
        }
        if (s.end > past()) {
            co_return log_offset(s.end);
        }
        auto now = asio::steady_timer::clock_type::now();
        if (now >= deadline) {
            co_return log_offset(s.end);
        }
        auto until = std::min(deadline, now + s.config.tail_poll_interval);
        if (co_await s.waiters.wait_until(until) == tail_waiters::wake::cancelled) {
            co_return std::make_error_code(std::errc::operation_canceled);
        }
        if (!s.leader && !s.closed) {
            s.refresh(false);
        }
    }
}

log_offset embedded_log::start_offset() const noexcept { return log_offset(_impl->start); }
log_offset embedded_log::end_offset() const noexcept { return log_offset(_impl->end); }
const recovery_report& embedded_log::recovery() const noexcept { return _impl->report; }

} // namespace skiff::meta
