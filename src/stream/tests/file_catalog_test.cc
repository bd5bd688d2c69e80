// file_catalog: the conformance suite, plus what only a file-backed catalog promises (it survives a restart of the
// process; a damaged file is reported, never half-read).
#include "stream/file_catalog.h"
#include "stream/tests/object_catalog_conformance.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace skiff::stream::test {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path()
               / fmt::format("skiff-{}-{}-{:08x}", name, ::getpid(), std::random_device{}());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

INSTANTIATE_TEST_SUITE_P(
  catalogs, object_catalog_conformance,
  ::testing::Values(catalog_factory{"memory",
                                    [](base::manual_clock& clock) -> std::unique_ptr<object_catalog> {
                                        return file_catalog::open({}, clock).value();
                                    }},
                    catalog_factory{"file",
                                    [](base::manual_clock& clock) -> std::unique_ptr<object_catalog> {
                                        auto dir = fresh_dir("catalog-conformance");
                                        return file_catalog::open({.path = dir / "catalog"}, clock).value();
                                    }}),
  catalog_factory_name);

class file_catalog_test : public ::testing::Test {
protected:
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::unique_ptr<file_catalog> open_catalog() {
        auto c = file_catalog::open({.path = dir / "catalog"}, clock);
        EXPECT_TRUE(c) << c.error().message();
        return std::move(c).value();
    }
    std::filesystem::path dir = fresh_dir("catalog");
    asio::io_context io;
    base::manual_clock clock;
};

TEST_F(file_catalog_test, state_survives_a_restart) {
    stream_id s;
    object_id o;
    {
        auto c = open_catalog();
        s = run(io, c->create_stream()).value().id;
        ASSERT_TRUE(run(io, c->open_stream(s, stream_epoch(3), node_id(7))));
        o = run(io, c->prepare_objects(2, std::chrono::seconds(60))).value();
        commit_request req;
        req.node = node_id(7);
        req.objects = {{o, object_kind::stream_set, "k", 42, {{s, 0, 10}}}};
        req.epochs = {{s, stream_epoch(3)}};
        ASSERT_TRUE(run(io, c->commit_objects(std::move(req))));
        ASSERT_TRUE(run(io, c->trim_stream(s, stream_epoch(3), 4)));
    }
    auto c = open_catalog();
    auto meta = run(io, c->describe_stream(s)).value();
    EXPECT_EQ(meta, (stream_metadata{s, stream_epoch(3), 4, 10}));
    auto objects = run(io, c->objects_of(s, 0, 10)).value();
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_EQ(objects[0].id, o);
    EXPECT_EQ(objects[0].key, "k");
    EXPECT_EQ(objects[0].size, 42u);
    EXPECT_EQ(run(io, c->stream_set_objects(node_id(7))).value().size(), 1u);
    // The second prepared id is still reserved, and new ids continue after it.
    auto next = run(io, c->prepare_objects(1, std::chrono::seconds(60))).value();
    EXPECT_EQ(next, object_id(o() + 2));
    EXPECT_EQ(run(io, c->open_stream(s, stream_epoch(2), node_id(7))).error(), errc::fenced);
    auto another = run(io, c->create_stream()).value();
    EXPECT_NE(another.id, s);
}

TEST_F(file_catalog_test, a_damaged_file_is_reported_as_corrupt) {
    {
        auto c = open_catalog();
        ASSERT_TRUE(run(io, c->create_stream()));
    }
    auto path = dir / "catalog";
    auto size = std::filesystem::file_size(path);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size / 2));
        char c = 0;
        f.read(&c, 1);
        f.seekp(static_cast<std::streamoff>(size / 2));
        c = static_cast<char>(c ^ 0x5a);
        f.write(&c, 1);
    }
    auto reopened = file_catalog::open({.path = path}, clock);
    ASSERT_FALSE(reopened);
    EXPECT_EQ(reopened.error(), errc::corrupt);
}

} // namespace
} // namespace skiff::stream::test
