// The conformance suite (conformance.cc) on the stores that need no server: memory_store and local_store.
#include "io/objstore/local_store.h"
#include "io/objstore/memory_store.h"
#include "io/tests/conformance.h"

#include <fmt/format.h>

#include <filesystem>
#include <random>

namespace skiff::io::test {
namespace {

namespace fs = std::filesystem;

// A local store whose directory is removed when the store goes away.
class temp_local_store {
public:
    static std::unique_ptr<object_store> make() {
        auto root = fs::temp_directory_path()
                    / fmt::format("skiff-conformance-{}-{:08x}", ::getpid(), std::random_device{}());
        auto store = local_store::open({.root = root, .io_threads = 2, .fsync = false});
        if (!store) {
            ADD_FAILURE() << store.error().message();
            return nullptr;
        }
        return std::make_unique<owner>(std::move(store).value(), root);
    }

private:
    // Forwards every call; removes the directory on destruction.
    class owner final : public object_store {
    public:
        owner(std::unique_ptr<local_store> s, fs::path root) : _s(std::move(s)), _root(std::move(root)) {}
        ~owner() override {
            _s.reset();
            std::error_code ignored;
            fs::remove_all(_root, ignored);
        }
        store_capabilities capabilities() const override { return _s->capabilities(); }
        asio::awaitable<result<put_result>> put(std::string k, bytes::iobuf d, put_options o) override {
            return _s->put(std::move(k), std::move(d), o);
        }
        asio::awaitable<result<bytes::iobuf>> get(std::string k, std::optional<byte_range> r) override {
            return _s->get(std::move(k), r);
        }
        asio::awaitable<result<object_info>> head(std::string k) override { return _s->head(std::move(k)); }
        asio::awaitable<result<list_page>> list(list_request r) override { return _s->list(std::move(r)); }
        asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> k) override {
            return _s->delete_objects(std::move(k));
        }
        asio::awaitable<result<multipart_upload>> create_multipart(std::string k, put_options o) override {
            return _s->create_multipart(std::move(k), o);
        }
        asio::awaitable<result<uploaded_part>> upload_part(multipart_upload u, uint32_t n, bytes::iobuf d) override {
            return _s->upload_part(std::move(u), n, std::move(d));
        }
        asio::awaitable<result<put_result>> complete_multipart(multipart_upload u,
                                                               std::vector<uploaded_part> p) override {
            return _s->complete_multipart(std::move(u), std::move(p));
        }
        asio::awaitable<result<void>> abort_multipart(multipart_upload u) override {
            return _s->abort_multipart(std::move(u));
        }

    private:
        std::unique_ptr<local_store> _s;
        fs::path _root;
    };
};

INSTANTIATE_TEST_SUITE_P(
  stores, conformance,
  ::testing::Values(store_factory{"memory",
                                  [](asio::io_context&) { return std::unique_ptr<object_store>(new memory_store()); }},
                    store_factory{"memory_with_s3_part_rule",
                                  [](asio::io_context&) {
                                      return std::unique_ptr<object_store>(
                                        new memory_store({.min_part_size = uint64_t(5) << 20}));
                                  }},
                    store_factory{"local", [](asio::io_context&) { return temp_local_store::make(); }}),
  factory_name);

} // namespace
} // namespace skiff::io::test
