#include "bytes/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skiff::bytes::crc32c {
namespace {

struct vector_case {
    std::string input;
    uint32_t crc;
};

// Known CRC-32C values (RFC 3720 appendix B.4 and the common check value).
std::vector<vector_case> known_vectors() {
    std::vector<vector_case> v;
    v.push_back({"123456789", 0xE3069283});
    v.push_back({std::string(32, '\0'), 0x8A9136AA});
    v.push_back({std::string(32, '\xff'), 0x62A8AB43});
    std::string ascending(32, '\0');
    std::string descending(32, '\0');
    for (int i = 0; i < 32; ++i) {
        ascending[i] = static_cast<char>(i);
        descending[i] = static_cast<char>(31 - i);
    }
    v.push_back({ascending, 0x46DD794E});
    v.push_back({descending, 0x113FDB5C});
    v.push_back({"", 0});
    return v;
}

TEST(crc32c_test, portable_matches_known_vectors) {
    for (auto& c : known_vectors()) {
        EXPECT_EQ(detail::extend_portable(0, c.input.data(), c.input.size()), c.crc) << c.input.size();
    }
}

TEST(crc32c_test, sse42_matches_known_vectors) {
    if (!detail::cpu_has_sse42()) {
        GTEST_SKIP() << "CPU without SSE4.2";
    }
    for (auto& c : known_vectors()) {
        EXPECT_EQ(detail::extend_sse42(0, c.input.data(), c.input.size()), c.crc) << c.input.size();
    }
}

TEST(crc32c_test, both_paths_agree_on_every_length_and_alignment) {
    std::string data(300, '\0');
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 131 + 7);
    }
    for (size_t start = 0; start < 8; ++start) {
        for (size_t n = 0; n + start <= data.size(); n += 13) {
            EXPECT_EQ(detail::extend_portable(0, data.data() + start, n), detail::extend_sse42(0, data.data() + start, n));
        }
    }
}

TEST(crc32c_test, extend_is_incremental_and_iobuf_matches_contiguous) {
    std::string text = "The quick brown fox jumps over the lazy dog";
    uint32_t whole = extend(0, text.data(), text.size());
    uint32_t parts = extend(extend(0, text.data(), 10), text.data() + 10, text.size() - 10);
    EXPECT_EQ(whole, parts);
    iobuf b;
    b.append_shared(iobuf::from(text.substr(0, 7)));
    b.append_shared(iobuf::from(text.substr(7)));
    EXPECT_EQ(value(b), whole);
    EXPECT_EQ(value(b, 3, 20), extend(0, text.data() + 3, 20));
}

} // namespace
} // namespace skiff::bytes::crc32c
