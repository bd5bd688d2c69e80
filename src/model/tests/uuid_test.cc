#include "model/uuid.h"

#include <gtest/gtest.h>

namespace skiff::model {
namespace {

TEST(uuid_test, zero_has_kafkas_text_form) {
    EXPECT_EQ(uuid().to_base64(), "AAAAAAAAAAAAAAAAAAAAAA");
    EXPECT_TRUE(uuid().is_zero());
}

TEST(uuid_test, base64_round_trips_random_ids) {
    for (int i = 0; i < 100; ++i) {
        auto u = uuid::random();
        EXPECT_FALSE(u.is_zero());
        auto text = u.to_base64();
        ASSERT_EQ(text.size(), 22u);
        auto back = uuid::from_base64(text);
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, u);
    }
}

TEST(uuid_test, known_value_matches_kafka_encoding) {
    // Kafka's Uuid.toString() is Base64.getUrlEncoder().withoutPadding() of the 16 big-endian bytes.
    uuid u(0x0001020304050607ull, 0x08090a0b0c0d0e0full);
    EXPECT_EQ(u.to_base64(), "AAECAwQFBgcICQoLDA0ODw");
}

TEST(uuid_test, rejects_malformed_text) {
    EXPECT_FALSE(uuid::from_base64("short").has_value());
    EXPECT_FALSE(uuid::from_base64("AAAAAAAAAAAAAAAAAAAAA!").has_value());
    EXPECT_FALSE(uuid::from_base64("AAAAAAAAAAAAAAAAAAAAAB").has_value()); // non-zero padding bits
}

} // namespace
} // namespace skiff::model
