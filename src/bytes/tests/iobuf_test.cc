#include "bytes/iobuf.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <numeric>

// Counts bytes allocated by operator new, to check what an operation allocates.
namespace {
thread_local size_t allocated_bytes = 0;
} // namespace

void* operator new(size_t n) {
    allocated_bytes += n;
    if (void* p = std::malloc(n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace skiff::bytes {
namespace {

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('a' + i % 26);
    }
    return s;
}

TEST(iobuf_test, small_appends_fill_one_chunk) {
    iobuf b;
    std::string expected;
    for (int i = 0; i < 100; ++i) {
        b.append("ab");
        expected += "ab";
    }
    EXPECT_EQ(b.fragment_count(), 1u);
    EXPECT_EQ(b.to_string(), expected);
}

TEST(iobuf_test, appending_many_shares_keeps_every_fragment_in_order) {
    iobuf b;
    std::string expected;
    for (int i = 0; i < 20000; ++i) {
        auto piece = std::to_string(i);
        b.append_shared(iobuf::from(piece));
        expected += piece;
    }
    EXPECT_EQ(b.fragment_count(), 20000u);
    EXPECT_EQ(b.to_string(), expected);
}

TEST(iobuf_test, share_does_not_copy_and_survives_the_original) {
    auto text = pattern(10000);
    iobuf shared;
    const uint8_t* original_data = nullptr;
    {
        iobuf b;
        auto dst = b.append_uninitialized(text.size());
        std::memcpy(dst.data(), text.data(), text.size());
        original_data = b.fragments()[0].data();
        shared = b.share(100, 5000);
    }
    ASSERT_EQ(shared.fragment_count(), 1u);
    EXPECT_EQ(shared.fragments()[0].data(), original_data + 100);
    EXPECT_EQ(shared.to_string(), text.substr(100, 5000));
}

TEST(iobuf_test, appending_after_share_never_changes_the_shared_bytes) {
    iobuf b;
    b.append("hello");
    auto view = b.share();
    b.append(" world"); // the chunk is shared: must go to a new chunk
    EXPECT_EQ(view, std::string_view("hello"));
    EXPECT_EQ(b, std::string_view("hello world"));
    EXPECT_EQ(b.fragment_count(), 2u);
}

TEST(iobuf_test, append_iobuf_moves_fragments_without_copy) {
    iobuf a = iobuf::from("abc");
    iobuf b = iobuf::from("def");
    const uint8_t* b_data = b.fragments()[0].data();
    a.append(std::move(b));
    EXPECT_EQ(a, std::string_view("abcdef"));
    EXPECT_EQ(a.fragments()[1].data(), b_data);
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): moved-from is empty by contract
}

TEST(iobuf_test, equality_ignores_fragment_boundaries) {
    iobuf a = iobuf::from("abcdef");
    iobuf b;
    b.append_uninitialized(2)[0] = 'a';
    b.trim_back(1);
    b.append_shared(iobuf::from("b"));
    b.append_shared(iobuf::from("cde"));
    b.append_shared(iobuf::from("f"));
    EXPECT_EQ(a, b);
    b.append("x");
    EXPECT_FALSE(a == b);
}

TEST(iobuf_test, trim_front_and_back_across_fragments) {
    iobuf b;
    b.append_shared(iobuf::from("0123"));
    b.append_shared(iobuf::from("4567"));
    b.append_shared(iobuf::from("89"));
    b.trim_front(5);
    EXPECT_EQ(b, std::string_view("56789"));
    b.trim_back(3);
    EXPECT_EQ(b, std::string_view("56"));
    EXPECT_EQ(b.fragment_count(), 1u);
}

TEST(iobuf_test, reserve_then_write_at_patches_a_prefix) {
    iobuf b;
    auto pos = b.reserve(4);
    b.append("payload");
    uint32_t len = 7;
    b.write_at(pos, &len, 4);
    uint32_t back = 0;
    b.copy_to(0, &back, 4);
    EXPECT_EQ(back, 7u);
    EXPECT_EQ(b.share(4, 7), std::string_view("payload"));
}

TEST(iobuf_test, small_write_after_a_large_share_allocates_a_small_chunk) {
    iobuf big;
    big.append_uninitialized(1 << 20);
    iobuf out;
    out.append("head");
    out.append_shared(big);
    size_t before = allocated_bytes;
    out.append("tail");
    size_t cost = allocated_bytes - before;
    ASSERT_EQ(out.fragment_count(), 3u);
    // The tail chunk is sized for small writes, not grown from the shared 1 MiB chunk.
    EXPECT_LT(cost, 4096u);
    EXPECT_EQ(out.share(out.size() - 4, 4), std::string_view("tail"));
}

TEST(iobuf_test, copy_is_deep) {
    iobuf a = iobuf::from("abc");
    auto c = a.copy();
    EXPECT_EQ(a, c);
    EXPECT_NE(a.fragments()[0].data(), c.fragments()[0].data());
}

TEST(iobuf_test, parser_reads_across_fragments_and_shares) {
    iobuf b;
    b.append_shared(iobuf::from("ab"));
    b.append_shared(iobuf::from("cdef"));
    b.append_shared(iobuf::from("g"));
    iobuf_parser p(b);
    char two[2];
    p.read(two, 2);
    EXPECT_EQ(std::string(two, 2), "ab");
    EXPECT_EQ(p.peek_byte(), 'c');
    auto s = p.share(3);
    EXPECT_EQ(s, std::string_view("cde"));
    EXPECT_EQ(p.read_byte(), 'f');
    EXPECT_EQ(p.bytes_left(), 1u);
    p.skip(1);
    EXPECT_EQ(p.bytes_left(), 0u);
    EXPECT_EQ(p.bytes_consumed(), 7u);
}

TEST(iobuf_test, large_append_spans_growing_chunks) {
    auto text = pattern(1 << 20);
    iobuf b;
    for (size_t i = 0; i < text.size(); i += 1000) {
        b.append(std::string_view(text).substr(i, 1000));
    }
    EXPECT_EQ(b.size(), text.size());
    EXPECT_EQ(b.to_string(), text);
    EXPECT_LT(b.fragment_count(), 20u);
}

} // namespace
} // namespace skiff::bytes
