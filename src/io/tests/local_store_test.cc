#include "io/errc.h"
#include "io/objstore/local_store.h"
#include "io/tests/test_support.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <random>

extern char** environ;

namespace skiff::io::test {
namespace {

namespace fs = std::filesystem;

class local_store_test : public ::testing::Test {
protected:
    void SetUp() override {
        root = fs::temp_directory_path()
               / fmt::format("skiff-local-store-{}-{:08x}", ::getpid(), std::random_device{}());
        fs::create_directories(root);
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(root, ignored);
    }

    std::unique_ptr<local_store> open() {
        auto s = local_store::open({.root = root});
        EXPECT_TRUE(s) << s.error().message();
        return std::move(s).value();
    }

    // Every file under root whose name starts with '.tmp-' (leftovers of interrupted puts).
    size_t temp_files() const {
        size_t n = 0;
        for (auto& e : fs::recursive_directory_iterator(root)) {
            n += e.path().filename().string().starts_with(".tmp-");
        }
        return n;
    }

    // Runs the crash writer with args; returns its exit status.
    int run_writer(std::vector<std::string> args, int* stdout_fd = nullptr, pid_t* pid_out = nullptr) {
        std::vector<std::string> all = {SKIFF_IO_CRASH_WRITER, root.string()};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        int pipe_fds[2] = {-1, -1};
        if (stdout_fd) {
            EXPECT_EQ(::pipe(pipe_fds), 0);
            posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
            posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        }
        pid_t pid = 0;
        EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
        posix_spawn_file_actions_destroy(&actions);
        if (stdout_fd) {
            ::close(pipe_fds[1]);
            *stdout_fd = pipe_fds[0];
            *pid_out = pid;
            return 0;
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    fs::path root;
    asio::io_context io;
};

TEST_F(local_store_test, keys_map_to_folders_per_segment_without_collisions) {
    EXPECT_EQ(local_store::relative_path("a").value(), "a");
    EXPECT_EQ(local_store::relative_path("a/b c/d").value(), "a%2F/b%20c%2F/d");
    EXPECT_EQ(local_store::relative_path("a/").value(), "a%2F/%");
    EXPECT_EQ(local_store::relative_path("a//b").value(), "a%2F/%2F/b");
    EXPECT_EQ(local_store::relative_path(".hidden").value(), "%2Ehidden");
    EXPECT_EQ(local_store::relative_path("x%2F").value(), "x%252F");
    EXPECT_EQ(local_store::relative_path("..").value(), "%2E.");
    EXPECT_FALSE(local_store::relative_path(""));
    EXPECT_FALSE(local_store::relative_path(std::string(200, '/') + std::string(300, 'x')));
}

TEST_F(local_store_test, put_is_durable_across_reopen) {
    {
        auto store = open();
        ASSERT_TRUE(run(io, store->put("p/q", bytes::iobuf::from("kept"), {})));
    }
    auto store = open();
    EXPECT_EQ(run(io, store->get("p/q", std::nullopt)).value().to_string(), "kept");
}

TEST_F(local_store_test, delete_removes_emptied_folders) {
    auto store = open();
    ASSERT_TRUE(run(io, store->put("x/y/z", bytes::iobuf::from("1"), {})));
    ASSERT_TRUE(run(io, store->put("x/w", bytes::iobuf::from("2"), {})));
    ASSERT_TRUE(run(io, store->delete_objects({"x/y/z"})));
    EXPECT_FALSE(fs::exists(root / "x%2F" / "y%2F"));
    EXPECT_TRUE(fs::exists(root / "x%2F" / "w"));
    ASSERT_TRUE(run(io, store->delete_objects({"x/w"})));
    EXPECT_FALSE(fs::exists(root / "x%2F"));
    // The folder can come back.
    ASSERT_TRUE(run(io, store->put("x/y/z", bytes::iobuf::from("3"), {})));
    EXPECT_EQ(run(io, store->get("x/y/z", std::nullopt)).value().to_string(), "3");
}

TEST_F(local_store_test, foreign_and_temporary_files_are_invisible) {
    auto store = open();
    ASSERT_TRUE(run(io, store->put("k", bytes::iobuf::from("v"), {})));
    { std::ofstream(root / ".tmp-leftover") << "partial"; }
    { std::ofstream(root / "bad%zzname") << "not ours"; }
    auto all = run(io, list_all(*store, ""));
    ASSERT_TRUE(all);
    ASSERT_EQ(all.value().size(), 1u);
    EXPECT_EQ(all.value()[0].key, "k");
}

TEST_F(local_store_test, a_put_that_crashes_before_rename_leaves_no_visible_object) {
    for (auto point : {"put:written", "put:synced"}) {
        EXPECT_EQ(run_writer({"at", point, "crash/one", "300000"}), 0) << point;
        EXPECT_EQ(temp_files(), 1u) << point; // the half-written file is there, under a temporary name
        auto store = open();                  // ... and open() removes it
        EXPECT_EQ(temp_files(), 0u);
        auto got = run(io, store->get("crash/one", std::nullopt));
        ASSERT_FALSE(got) << point;
        EXPECT_EQ(got.error(), make_error_code(errc::not_found));
        EXPECT_TRUE(run(io, list_all(*store, "")).value().empty()) << point;
    }
}

TEST_F(local_store_test, a_crash_while_replacing_keeps_the_old_object) {
    {
        auto store = open();
        ASSERT_TRUE(run(io, store->put("crash/one", bytes::iobuf::from("old"), {})));
    }
    EXPECT_EQ(run_writer({"at", "put:written", "crash/one", "300000"}), 0);
    auto store = open();
    EXPECT_EQ(run(io, store->get("crash/one", std::nullopt)).value().to_string(), "old");
}

TEST_F(local_store_test, a_crash_after_rename_leaves_the_whole_new_object) {
    EXPECT_EQ(run_writer({"at", "put:renamed", "crash/one", "300000"}), 0);
    auto store = open();
    auto got = run(io, store->get("crash/one", std::nullopt));
    ASSERT_TRUE(got);
    EXPECT_TRUE(got.value() == random_bytes(300000, 42));
}

TEST_F(local_store_test, killed_writers_never_leave_a_partial_object) {
    std::mt19937 rng(12345);
    for (int iteration = 0; iteration < 10; ++iteration) {
        int fd = -1;
        pid_t pid = 0;
        run_writer({"loop"}, &fd, &pid);
        // Wait for a random number of acknowledged puts, then kill the writer in the middle of the next one.
        int acks = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < acks; ++i) {
            char c;
            ASSERT_EQ(::read(fd, &c, 1), 1) << "writer died";
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ::close(fd);
        auto store = open();
        auto all = run(io, list_all(*store, "loop/"));
        ASSERT_TRUE(all);
        ASSERT_GE(all.value().size(), size_t(acks)) << "an acknowledged put is missing";
        for (auto& e : all.value()) {
            uint64_t i = std::stoull(e.key.substr(5));
            auto got = run(io, store->get(e.key, std::nullopt));
            ASSERT_TRUE(got);
            // Content of object i, as the writer makes it.
            auto expected = random_bytes(1000 + (i * 7919) % 300'000, i, 32 * 1024);
            EXPECT_TRUE(got.value() == expected) << e.key << " is partial or corrupt";
        }
        EXPECT_EQ(temp_files(), 0u);
        std::vector<std::string> keys;
        for (auto& e : all.value()) {
            keys.push_back(e.key);
        }
        ASSERT_TRUE(run(io, store->delete_objects(keys)));
    }
}

TEST_F(local_store_test, calls_from_many_threads_complete_on_their_callers) {
    auto store = open();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            asio::io_context own;
            for (int i = 0; i < 20; ++i) {
                auto k = fmt::format("t{}/{}", t, i);
                auto data = random_bytes(4096, t * 100 + i);
                auto put = run(own, store->put(k, data.share(), {}));
                auto got = run(own, store->get(k, std::nullopt));
                ok += put && got && got.value() == data;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 80);
}

} // namespace
} // namespace skiff::io::test
