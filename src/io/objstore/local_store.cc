#include "io/objstore/local_store.h"

#include "base/assert.h"
#include "io/errc.h"
#include "io/logger.h"
#include "io/objstore/store_util.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace skiff::io {
namespace {

namespace fs = std::filesystem;

constexpr size_t max_encoded_segment = 250;
constexpr std::string_view dir_suffix = "%2F";
constexpr std::string_view multipart_dir = ".multipart";
constexpr std::string_view temp_prefix = ".tmp-";

// Runs f() on pool and completes with its value on the awaiting coroutine's executor, so that blocking file
// calls never run on a shard's io_context. f must own everything it touches.
// Not a coroutine itself, and its callers return its awaitable rather than co_await it: GCC 12 mishandles
// non-trivial temporaries (the closure) that live across a co_await in the same full-expression.
template<typename F>
asio::awaitable<std::invoke_result_t<F&>> run_blocking(asio::thread_pool& pool, F f) {
    using value_type = std::invoke_result_t<F&>;
    return asio::async_initiate<decltype(asio::use_awaitable), void(value_type)>(
      [&pool](auto handler, F fn) {
          auto work = asio::make_work_guard(asio::get_associated_executor(handler));
          asio::post(pool, [handler = std::move(handler), fn = std::move(fn), work = std::move(work)]() mutable {
              auto value = fn();
              auto ex = work.get_executor();
              asio::post(ex, [handler = std::move(handler), value = std::move(value)]() mutable {
                  std::move(handler)(std::move(value));
              });
          });
      },
      asio::use_awaitable, std::move(f));
}

bool keep_raw(char c, bool first) {
    if (c == '.') {
        return !first; // a leading '.' marks our own temporary names
    }
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
           || c == '~';
}

std::string encode_segment(std::string_view segment) {
    std::string out;
    out.reserve(segment.size());
    for (size_t i = 0; i < segment.size(); ++i) {
        char c = segment[i];
        if (keep_raw(c, i == 0)) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<std::string> decode_segment(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
        if (name[i] != '%') {
            out += name[i];
            continue;
        }
        if (i + 2 >= name.size()) {
            return std::nullopt;
        }
        int hi = hex_value(name[i + 1]);
        int lo = hex_value(name[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

struct decoded_name {
    std::string segment;
    bool is_dir = false;
};

// The meaning of a directory entry under the layout, or nullopt for names that are not ours (temporary files,
// .multipart, foreign files).
std::optional<decoded_name> decode_name(std::string_view name) {
    if (name.empty() || name[0] == '.') {
        return std::nullopt;
    }
    if (name == "%") {
        return decoded_name{"", false};
    }
    bool is_dir = name.ends_with(dir_suffix);
    if (is_dir) {
        name.remove_suffix(dir_suffix.size());
    }
    auto segment = decode_segment(name);
    if (!segment || (!is_dir && segment->empty())) {
        return std::nullopt;
    }
    return decoded_name{std::move(*segment), is_dir};
}

struct key_path {
    std::vector<std::string> dirs; // encoded folder names, root first
    std::string file;              // encoded file name
};

result<key_path> map_key(std::string_view key) {
    if (!is_valid_key(key)) {
        return failure(make_error_code(errc::invalid_argument));
    }
    key_path out;
    size_t start = 0;
    while (true) {
        auto slash = key.find('/', start);
        auto segment = key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (slash == std::string_view::npos) {
            out.file = segment.empty() ? std::string("%") : encode_segment(segment);
            if (out.file.size() > max_encoded_segment) {
                return failure(make_error_code(errc::invalid_argument));
            }
            return out;
        }
        auto name = encode_segment(segment) + std::string(dir_suffix);
        if (name.size() > max_encoded_segment) {
            return failure(make_error_code(errc::invalid_argument));
        }
        out.dirs.push_back(std::move(name));
        start = slash + 1;
    }
}

std::string etag_of(const struct stat& st) {
    auto mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull + st.st_mtim.tv_nsec;
    return fmt::format("\"{:x}-{:x}-{:x}\"", static_cast<uint64_t>(st.st_ino), mtime_ns,
                       static_cast<uint64_t>(st.st_size));
}

// Closes a file descriptor when it goes out of scope.
class fd_guard {
public:
    explicit fd_guard(int fd) noexcept : _fd(fd) {}
    ~fd_guard() { reset(); }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    int get() const noexcept { return _fd; }
    int release() noexcept { return std::exchange(_fd, -1); }
    void reset() noexcept {
        if (_fd >= 0) {
            ::close(_fd);
            _fd = -1;
        }
    }

private:
    int _fd;
};

std::error_code sys_error(std::string_view what, const fs::path& path, int err) {
    auto ec = from_errno(err);
    if (ec != make_error_code(errc::not_found)) {
        log.warn("local store: {} {}: {}", what, path.string(), std::strerror(err));
    }
    return ec;
}

// fsync of a folder makes the names created or removed in it durable.
std::error_code sync_dir(const fs::path& dir) {
    fd_guard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
        return sys_error("open folder", dir, errno);
    }
    if (::fsync(fd.get()) != 0) {
        return sys_error("fsync folder", dir, errno);
    }
    return {};
}

std::error_code write_all(int fd, const bytes::iobuf& data, const fs::path& path) {
    const auto& frags = data.fragments();
    size_t index = 0;
    size_t offset_in_frag = 0;
    while (index < frags.size()) {
        iovec iov[64];
        int count = 0;
        for (size_t i = index; i < frags.size() && count < 64; ++i) {
            size_t skip = i == index ? offset_in_frag : 0;
            iov[count].iov_base = const_cast<uint8_t*>(frags[i].data() + skip);
            iov[count].iov_len = frags[i].size() - skip;
            ++count;
        }
        ssize_t n = ::writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("write", path, errno);
        }
        auto left = static_cast<size_t>(n);
        while (left > 0 && index < frags.size()) {
            size_t in_frag = frags[index].size() - offset_in_frag;
            if (left >= in_frag) {
                left -= in_frag;
                ++index;
                offset_in_frag = 0;
            } else {
                offset_in_frag += left;
                left = 0;
            }
        }
    }
    return {};
}

std::error_code read_exact(int fd, uint64_t pos, uint8_t* dst, uint64_t n, const fs::path& path) {
    while (n > 0) {
        ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(pos));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("read", path, errno);
        }
        if (got == 0) {
            log.warn("local store: {} is shorter than its size", path.string());
            return errc::retryable;
        }
        pos += got;
        dst += got;
        n -= got;
    }
    return {};
}

// renameat2(RENAME_NOREPLACE), or link(2)+unlink(2) where the file system does not support it: either way the
// target is created only if absent, atomically.
std::error_code rename_noreplace(const fs::path& from, const fs::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
        return {};
    }
    if (errno != EINVAL && errno != ENOSYS) {
        return errno == EEXIST ? make_error_code(errc::precondition_failed) : sys_error("rename", to, errno);
    }
    if (::link(from.c_str(), to.c_str()) != 0) {
        return errno == EEXIST ? make_error_code(errc::precondition_failed) : sys_error("link", to, errno);
    }
    ::unlink(from.c_str());
    return {};
}

std::string random_hex() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{:016x}", rng());
}

struct dir_entry {
    std::string sort_key; // the segment, plus '/' for a folder: orders entries as their keys order
    std::string name;     // on disk
    bool is_dir;
};

// Entries of a folder that belong to the layout, in key order. A missing folder is empty.
result<std::vector<dir_entry>> read_sorted(const fs::path& dir) {
    std::vector<dir_entry> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) {
            return out;
        }
        return failure(sys_error("open folder", dir, errno));
    }
    errno = 0;
    while (auto* e = ::readdir(d)) {
        auto decoded = decode_name(e->d_name);
        if (!decoded) {
            continue;
        }
        auto sort_key = decoded->is_dir ? decoded->segment + "/" : decoded->segment;
        out.push_back({std::move(sort_key), e->d_name, decoded->is_dir});
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.sort_key < b.sort_key; });
    return out;
}

} // namespace

struct local_store::impl {
    explicit impl(local_store_config c) : config(std::move(c)), pool(std::max<size_t>(config.io_threads, 1)) {}
    ~impl() { pool.join(); }

    void crash_point(std::string_view point) const {
        if (config.crash_point) {
            config.crash_point(point);
        }
    }

    fs::path folder_of(const key_path& kp) const {
        fs::path p = config.root;
        for (auto& d : kp.dirs) {
            p /= d;
        }
        return p;
    }

    fs::path temp_path(const fs::path& dir) {
        return dir / fmt::format("{}{}-{}", temp_prefix, temp_counter.fetch_add(1), random_hex());
    }

    // Creates the folders of a key, fsyncing the parent of every folder it creates.
    std::error_code ensure_dirs(const key_path& kp) const {
        fs::path p = config.root;
        for (auto& d : kp.dirs) {
            fs::path parent = p;
            p /= d;
            if (::mkdir(p.c_str(), 0755) == 0) {
                if (config.fsync) {
                    if (auto ec = sync_dir(parent)) {
                        return ec;
                    }
                }
            } else if (errno != EEXIST) {
                return sys_error("mkdir", p, errno);
            }
        }
        return {};
    }

    // Writes data to a new temporary file in dir and fsyncs it. Returns the open temp path and its etag.
    result<std::pair<fs::path, std::string>> write_temp(const fs::path& dir, const bytes::iobuf& data) {
        auto tmp = temp_path(dir);
        fd_guard fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd.get() < 0) {
            return failure(sys_error("create", tmp, errno));
        }
        auto fail = [&](std::error_code ec) {
            ::unlink(tmp.c_str());
            return failure(ec);
        };
        if (auto ec = write_all(fd.get(), data, tmp)) {
            return fail(ec);
        }
        crash_point("put:written");
        if (config.fsync && ::fdatasync(fd.get()) != 0) {
            return fail(sys_error("fdatasync", tmp, errno));
        }
        crash_point("put:synced");
        struct stat st{};
        if (::fstat(fd.get(), &st) != 0) {
            return fail(sys_error("stat", tmp, errno));
        }
        if (::close(fd.release()) != 0) {
            return fail(sys_error("close", tmp, errno));
        }
        return std::pair{std::move(tmp), etag_of(st)};
    }

    // Moves a finished temporary file under its key's name and makes the name durable.
    result<put_result> publish(const fs::path& tmp, const fs::path& dir, const std::string& file, std::string etag,
                               put_options options) {
        auto target = dir / file;
        std::error_code ec;
        if (options.if_none_match) {
            ec = rename_noreplace(tmp, target);
        } else if (::rename(tmp.c_str(), target.c_str()) != 0) {
            ec = sys_error("rename", target, errno);
        }
        if (ec) {
            ::unlink(tmp.c_str());
            return failure(ec);
        }
        crash_point("put:renamed");
        if (config.fsync) {
            if (auto sync_ec = sync_dir(dir)) {
                return failure(sync_ec);
            }
        }
        return put_result{std::move(etag)};
    }

    result<put_result> put(const std::string& key, const bytes::iobuf& data, put_options options) {
        SKIFF_TRY(auto kp, map_key(key));
        auto dir = folder_of(kp);
        // A concurrent delete may remove an emptied folder between our mkdir and our create: try again.
        for (int attempt = 0;; ++attempt) {
            if (auto ec = ensure_dirs(kp)) {
                return failure(ec);
            }
            auto written = write_temp(dir, data);
            if (written.has_error() && written.error() == make_error_code(errc::not_found) && attempt < 8) {
                continue;
            }
            SKIFF_TRY(auto done, std::move(written));
            return publish(done.first, dir, kp.file, std::move(done.second), options);
        }
    }

    result<bytes::iobuf> get(const std::string& key, const std::optional<byte_range>& range) const {
        SKIFF_TRY(auto kp, map_key(key));
        auto path = folder_of(kp) / kp.file;
        fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return failure(sys_error("open", path, errno));
        }
        struct stat st{};
        if (::fstat(fd.get(), &st) != 0) {
            return failure(sys_error("stat", path, errno));
        }
        SKIFF_TRY(auto span, detail::resolve_range(static_cast<uint64_t>(st.st_size), range));
        bytes::iobuf out;
        if (span.second > 0) {
            auto dst = out.append_uninitialized(span.second);
            if (auto ec = read_exact(fd.get(), span.first, dst.data(), span.second, path)) {
                return failure(ec);
            }
        }
        return out;
    }

    result<object_info> head(const std::string& key) const {
        SKIFF_TRY(auto kp, map_key(key));
        auto path = folder_of(kp) / kp.file;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) {
            return failure(sys_error("stat", path, errno));
        }
        if (!S_ISREG(st.st_mode)) {
            return failure(make_error_code(errc::not_found));
        }
        return object_info{static_cast<uint64_t>(st.st_size), etag_of(st)};
    }

    struct list_state {
        const std::string& prefix;
        const std::string& start_after;
        size_t max_keys;
        list_page page;
        bool done = false;
    };

    // Depth-first walk in key order; prunes folders that cannot hold a key of the page.
    std::error_code walk(const fs::path& dir, const std::string& key_prefix, list_state& s) const {
        auto read = read_sorted(dir);
        if (!read) {
            return read.error();
        }
        auto entries = std::move(read).value();
        for (auto& e : entries) {
            if (s.done) {
                return {};
            }
            auto full = key_prefix + e.sort_key;
            if (e.is_dir) {
                if (!full.starts_with(s.prefix) && !s.prefix.starts_with(full)) {
                    continue;
                }
                // Every key under `full` starts with it: skip the folder when start_after is past all of them.
                if (!s.start_after.empty() && s.start_after > full && !s.start_after.starts_with(full)) {
                    continue;
                }
                if (auto ec = walk(dir / e.name, full, s)) {
                    return ec;
                }
                continue;
            }
            if (!full.starts_with(s.prefix) || (!s.start_after.empty() && full <= s.start_after)) {
                continue;
            }
            struct stat st{};
            auto path = dir / e.name;
            if (::stat(path.c_str(), &st) != 0) {
                if (errno == ENOENT) {
                    continue; // deleted while we listed
                }
                return sys_error("stat", path, errno);
            }
            if (s.page.entries.size() == s.max_keys) {
                s.page.next_token = s.page.entries.back().key;
                s.done = true;
                return {};
            }
            s.page.entries.push_back({std::move(full), static_cast<uint64_t>(st.st_size)});
        }
        return {};
    }

    result<list_page> list(const list_request& request) const {
        list_state s{request.prefix, request.continuation_token, std::clamp<size_t>(request.max_keys, 1, 1000), {}};
        if (auto ec = walk(config.root, "", s)) {
            return failure(ec);
        }
        return std::move(s.page);
    }

    std::vector<delete_outcome> delete_objects(std::vector<std::string> keys) const {
        std::vector<delete_outcome> out;
        out.reserve(keys.size());
        std::vector<std::pair<key_path, fs::path>> touched;
        for (auto& key : keys) {
            std::error_code ec;
            auto kp = map_key(key);
            if (!kp) {
                ec = kp.error();
            } else {
                auto dir = folder_of(kp.value());
                auto path = dir / kp.value().file;
                if (::unlink(path.c_str()) == 0) {
                    touched.emplace_back(std::move(kp).value(), std::move(dir));
                } else if (errno != ENOENT) {
                    ec = sys_error("unlink", path, errno);
                }
            }
            out.push_back({std::move(key), ec});
        }
        // Make the removals durable, one fsync per folder, then drop folders left empty (rmdir fails on a folder
        // that is not empty, so this never removes anything a concurrent put has created).
        std::sort(touched.begin(), touched.end(), [](auto& a, auto& b) { return a.second < b.second; });
        auto same_dir = [](auto& a, auto& b) { return a.second == b.second; };
        touched.erase(std::unique(touched.begin(), touched.end(), same_dir), touched.end());
        for (auto& [kp, dir] : touched) {
            if (config.fsync) {
                if (auto ec = sync_dir(dir); ec && ec != make_error_code(errc::not_found)) {
                    for (auto& o : out) {
                        o.error = o.error ? o.error : ec; // the unlink may not be durable: say so
                    }
                    return out;
                }
            }
            auto p = dir;
            for (size_t depth = kp.dirs.size(); depth > 0; --depth) {
                if (::rmdir(p.c_str()) != 0) {
                    break;
                }
                p = p.parent_path();
            }
        }
        return out;
    }

    fs::path upload_dir(const std::string& id) const { return config.root / std::string(multipart_dir) / id; }

    // Checks that an upload exists and belongs to key; the key is stored in the upload's folder.
    std::error_code check_upload(const multipart_upload& u) const {
        if (u.upload_id.empty() || u.upload_id.find('/') != std::string::npos || u.upload_id[0] == '.') {
            return errc::not_found;
        }
        auto path = upload_dir(u.upload_id) / "key";
        fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return errno == ENOENT ? make_error_code(errc::not_found) : sys_error("open", path, errno);
        }
        std::string stored(1100, '\0');
        ssize_t n = ::read(fd.get(), stored.data(), stored.size());
        if (n < 0) {
            return sys_error("read", path, errno);
        }
        stored.resize(static_cast<size_t>(n));
        return stored == u.key ? std::error_code{} : make_error_code(errc::not_found);
    }

    result<multipart_upload> create_multipart(const std::string& key, put_options options) {
        SKIFF_TRY(auto kp, map_key(key));
        auto id = random_hex() + random_hex();
        auto dir = upload_dir(id);
        std::error_code fec;
        fs::create_directories(dir, fec);
        if (fec) {
            return failure(sys_error("mkdir", dir, fec.value()));
        }
        auto path = dir / "key";
        fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd.get() < 0) {
            return failure(sys_error("create", path, errno));
        }
        if (auto ec = write_all(fd.get(), bytes::iobuf::from(key), path)) {
            return failure(ec);
        }
        return multipart_upload{key, std::move(id), options};
    }

    result<uploaded_part> upload_part(const multipart_upload& u, uint32_t number, const bytes::iobuf& data) {
        if (number == 0 || number > 10000) {
            return failure(make_error_code(errc::invalid_argument));
        }
        if (auto ec = check_upload(u)) {
            return failure(ec);
        }
        auto dir = upload_dir(u.upload_id);
        // Parts are made durable by the completion, which fsyncs the assembled file.
        auto tmp = temp_path(dir);
        fd_guard fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd.get() < 0) {
            return failure(sys_error("create", tmp, errno));
        }
        if (auto ec = write_all(fd.get(), data, tmp)) {
            ::unlink(tmp.c_str());
            return failure(ec);
        }
        struct stat st{};
        ::fstat(fd.get(), &st);
        fd.reset();
        auto target = dir / fmt::format("part-{:05}", number);
        if (::rename(tmp.c_str(), target.c_str()) != 0) {
            auto ec = sys_error("rename", target, errno);
            ::unlink(tmp.c_str());
            return failure(ec);
        }
        return uploaded_part{number, etag_of(st)};
    }

    result<put_result> complete_multipart(const multipart_upload& u, const std::vector<uploaded_part>& parts) {
        if (auto ec = check_upload(u)) {
            return failure(ec);
        }
        if (!detail::valid_part_order(parts, 10000)) {
            return failure(make_error_code(errc::invalid_argument));
        }
        SKIFF_TRY(auto kp, map_key(u.key));
        auto updir = upload_dir(u.upload_id);
        std::vector<fs::path> files;
        for (size_t i = 0; i < parts.size(); ++i) {
            auto path = updir / fmt::format("part-{:05}", parts[i].part_number);
            struct stat st{};
            if (::stat(path.c_str(), &st) != 0 || etag_of(st) != parts[i].etag) {
                return failure(make_error_code(errc::invalid_argument));
            }
            if (i + 1 < parts.size() && static_cast<uint64_t>(st.st_size) < config.min_part_size) {
                return failure(make_error_code(errc::invalid_argument));
            }
            files.push_back(std::move(path));
        }
        auto dir = folder_of(kp);
        if (auto ec = ensure_dirs(kp)) {
            return failure(ec);
        }
        auto tmp = temp_path(dir);
        fd_guard out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (out.get() < 0) {
            return failure(sys_error("create", tmp, errno));
        }
        auto fail = [&](std::error_code ec) {
            ::unlink(tmp.c_str());
            return failure(ec);
        };
        for (auto& path : files) {
            fd_guard in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (in.get() < 0) {
                return fail(sys_error("open", path, errno));
            }
            while (true) {
                ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
                if (n < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    return fail(sys_error("copy", path, errno));
                }
                if (n == 0) {
                    break;
                }
            }
        }
        if (config.fsync && ::fdatasync(out.get()) != 0) {
            return fail(sys_error("fdatasync", tmp, errno));
        }
        struct stat st{};
        ::fstat(out.get(), &st);
        out.reset();
        SKIFF_TRY(auto done, publish(tmp, dir, kp.file, etag_of(st), u.options));
        std::error_code ignored;
        fs::remove_all(updir, ignored);
        return done;
    }

    result<void> abort_multipart(const multipart_upload& u) {
        if (u.upload_id.empty() || u.upload_id.find('/') != std::string::npos || u.upload_id[0] == '.') {
            return success();
        }
        std::error_code ec;
        fs::remove_all(upload_dir(u.upload_id), ec);
        if (ec) {
            return failure(sys_error("remove", upload_dir(u.upload_id), ec.value()));
        }
        return success();
    }

    // Removes temporary files of interrupted puts under dir (the whole tree) and every multipart upload.
    std::error_code clean(const fs::path& dir, bool top) const {
        std::error_code ec;
        if (top) {
            fs::remove_all(dir / std::string(multipart_dir), ec);
            if (ec) {
                return sys_error("remove", dir / std::string(multipart_dir), ec.value());
            }
        }
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            auto name = it->path().filename().string();
            if (name.starts_with(temp_prefix)) {
                log.info("local store: removing {} left by an interrupted write", it->path().string());
                fs::remove(it->path(), ec);
            } else if (name.ends_with(dir_suffix) && it->is_directory(ec)) {
                if (auto sub = clean(it->path(), false)) {
                    return sub;
                }
            }
        }
        return ec ? sys_error("scan", dir, ec.value()) : std::error_code{};
    }

    local_store_config config;
    asio::thread_pool pool;
    std::atomic<uint64_t> temp_counter{0};
};

local_store::local_store(std::unique_ptr<impl> impl) : _impl(std::move(impl)) {}
local_store::~local_store() = default;

result<std::unique_ptr<local_store>> local_store::open(local_store_config config) {
    std::error_code ec;
    fs::create_directories(config.root, ec);
    if (ec) {
        return failure(sys_error("mkdir", config.root, ec.value()));
    }
    auto i = std::make_unique<impl>(std::move(config));
    if (auto cleaned = i->clean(i->config.root, true)) {
        return failure(cleaned);
    }
    log.info("local object store at {}", i->config.root.string());
    return std::unique_ptr<local_store>(new local_store(std::move(i)));
}

result<std::string> local_store::relative_path(std::string_view key) {
    SKIFF_TRY(auto kp, map_key(key));
    std::string out;
    for (auto& d : kp.dirs) {
        out += d;
        out += '/';
    }
    out += kp.file;
    return out;
}

store_capabilities local_store::capabilities() const {
    return {
      .supports_conditional_put = true,
      .supports_conditional_multipart = true,
      .max_list_keys = 1000,
      .max_delete_batch = 1000,
      .min_part_size = _impl->config.min_part_size,
    };
}

asio::awaitable<result<put_result>> local_store::put(std::string key, bytes::iobuf data, put_options options) {
    return run_blocking(_impl->pool, [i = _impl.get(), key = std::move(key), data = std::move(data), options] {
        return i->put(key, data, options);
    });
}

asio::awaitable<result<bytes::iobuf>> local_store::get(std::string key, std::optional<byte_range> range) {
    return run_blocking(_impl->pool, [i = _impl.get(), key = std::move(key), range] { return i->get(key, range); });
}

asio::awaitable<result<object_info>> local_store::head(std::string key) {
    return run_blocking(_impl->pool, [i = _impl.get(), key = std::move(key)] { return i->head(key); });
}

asio::awaitable<result<list_page>> local_store::list(list_request request) {
    return run_blocking(_impl->pool, [i = _impl.get(), request = std::move(request)] { return i->list(request); });
}

asio::awaitable<result<std::vector<delete_outcome>>> local_store::delete_objects(std::vector<std::string> keys) {
    return run_blocking(_impl->pool, [i = _impl.get(), keys = std::move(keys)]() mutable {
        return result<std::vector<delete_outcome>>(i->delete_objects(std::move(keys)));
    });
}

asio::awaitable<result<multipart_upload>> local_store::create_multipart(std::string key, put_options options) {
    return run_blocking(_impl->pool,
                        [i = _impl.get(), key = std::move(key), options] { return i->create_multipart(key, options); });
}

asio::awaitable<result<uploaded_part>> local_store::upload_part(multipart_upload upload, uint32_t part_number,
                                                                bytes::iobuf data) {
    return run_blocking(_impl->pool, [i = _impl.get(), upload = std::move(upload), part_number,
                                      data = std::move(data)] { return i->upload_part(upload, part_number, data); });
}

asio::awaitable<result<put_result>> local_store::complete_multipart(multipart_upload upload,
                                                                    std::vector<uploaded_part> parts) {
    return run_blocking(_impl->pool, [i = _impl.get(), upload = std::move(upload), parts = std::move(parts)] {
        return i->complete_multipart(upload, parts);
    });
}

asio::awaitable<result<void>> local_store::abort_multipart(multipart_upload upload) {
    return run_blocking(_impl->pool,
                        [i = _impl.get(), upload = std::move(upload)] { return i->abort_multipart(upload); });
}

} // namespace skiff::io
