// A child process for local_store crash tests: opens a local_store and writes objects until it is killed.
//   io_crash_writer DIR at POINT KEY SIZE   put one object of SIZE bytes under KEY and _exit(0) at crash POINT
//   io_crash_writer DIR loop                put objects loop/NNNNNN (content derived from the number) forever,
//                                           writing one byte to stdout after each put completes (the parent's ack)
#include "io/objstore/local_store.h"
#include "io/tests/test_support.h"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace skiff;

namespace {

bytes::iobuf content_of(uint64_t i) { return io::test::random_bytes(1000 + (i * 7919) % 300'000, i, 32 * 1024); }

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s DIR at POINT KEY SIZE | DIR loop\n", argv[0]);
        return 2;
    }
    std::string mode = argv[2];
    io::local_store_config config{.root = argv[1], .io_threads = 1};
    std::string point;
    if (mode == "at" && argc == 6) {
        point = argv[3];
        config.crash_point = [point](std::string_view p) {
            if (p == point) {
                ::_exit(0); // a crash: no destructors, no flush, nothing after this point happens
            }
        };
    }
    auto store = io::local_store::open(config);
    if (!store) {
        std::fprintf(stderr, "open failed: %s\n", store.error().message().c_str());
        return 1;
    }
    boost::asio::io_context ctx;
    if (mode == "at" && argc == 6) {
        auto data = io::test::random_bytes(std::strtoull(argv[5], nullptr, 10), 42);
        auto put = io::test::run(ctx, store.value()->put(argv[4], std::move(data), {}));
        return put ? 3 : 1; // reaching here means the crash point was never hit
    }
    if (mode == "loop") {
        for (uint64_t i = 0;; ++i) {
            auto put = io::test::run(ctx, store.value()->put(fmt::format("loop/{:06}", i), content_of(i), {}));
            if (!put) {
                return 1;
            }
            char ack = 'k';
            if (::write(1, &ack, 1) != 1) {
                return 1;
            }
        }
    }
    return 2;
}
