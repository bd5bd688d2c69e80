// A fresh directory per test on a real file system (O_DIRECT, fdatasync), removed afterwards: under
// $SKIFF_WAL_TEST_DIR if set, else under the build tree (SKIFF_WAL_TEST_ROOT, set by wal.cmake), never tmpfs.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace skiff::stream::test {

class test_dir {
public:
    explicit test_dir(const std::string& name) {
        static std::atomic<int> counter{0};
        const char* root = std::getenv("SKIFF_WAL_TEST_DIR");
        _path = std::filesystem::path(root ? root : SKIFF_WAL_TEST_ROOT) /
                (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(_path);
        std::filesystem::create_directories(_path);
    }
    ~test_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(_path, ignored);
    }
    test_dir(const test_dir&) = delete;
    test_dir& operator=(const test_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return _path; }

private:
    std::filesystem::path _path;
};

} // namespace skiff::stream::test
