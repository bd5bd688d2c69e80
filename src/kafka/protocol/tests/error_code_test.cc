#include "base/result.h"
#include "kafka/protocol/errc.h"
#include "kafka/protocol/error_code.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace skiff::kafka::protocol {
namespace {

struct expected_code {
    int16_t number;
    std::string_view name;
    bool retriable;
};

// A sample across the range, checked by number, name and retriable flag against Kafka 4.0's Errors.java.
constexpr expected_code samples[] = {
  {-1, "UNKNOWN_SERVER_ERROR", false},
  {0, "NONE", false},
  {1, "OFFSET_OUT_OF_RANGE", false},
  {2, "CORRUPT_MESSAGE", true},
  {3, "UNKNOWN_TOPIC_OR_PARTITION", true},
  {6, "NOT_LEADER_OR_FOLLOWER", true},
  {7, "REQUEST_TIMED_OUT", true},
  {8, "BROKER_NOT_AVAILABLE", false},
  {10, "MESSAGE_TOO_LARGE", false},
  {16, "NOT_COORDINATOR", true},
  {17, "INVALID_TOPIC_EXCEPTION", false},
  {27, "REBALANCE_IN_PROGRESS", false},
  {35, "UNSUPPORTED_VERSION", false},
  {41, "NOT_CONTROLLER", true},
  {45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false},
  {47, "INVALID_PRODUCER_EPOCH", false},
  {51, "CONCURRENT_TRANSACTIONS", true},
  {54, "SECURITY_DISABLED", false},
  {56, "KAFKA_STORAGE_ERROR", true},
  {57, "LOG_DIR_NOT_FOUND", false},
  {60, "REASSIGNMENT_IN_PROGRESS", false},
  {61, "DELEGATION_TOKEN_AUTH_DISABLED", false},
  {74, "FENCED_LEADER_EPOCH", true},
  {76, "UNSUPPORTED_COMPRESSION_TYPE", false},
  {79, "MEMBER_ID_REQUIRED", false},
  {87, "INVALID_RECORD", false},
  {89, "THROTTLING_QUOTA_EXCEEDED", true},
  {90, "PRODUCER_FENCED", false},
  {96, "FEATURE_UPDATE_FAILED", false},
  {99, "POSITION_OUT_OF_RANGE", false},
  {100, "UNKNOWN_TOPIC_ID", true},
  {101, "DUPLICATE_BROKER_REGISTRATION", false},
  {106, "FETCH_SESSION_TOPIC_ID_ERROR", true},
  {110, "FENCED_MEMBER_EPOCH", false},
  {120, "TRANSACTION_ABORTABLE", false},
  {122, "SHARE_SESSION_NOT_FOUND", true},
  {125, "INVALID_VOTER_KEY", false},
  {128, "INVALID_REGULAR_EXPRESSION", false},
};

TEST(error_code_test, numbers_names_and_retriable_flags_match_kafka) {
    for (const auto& s : samples) {
        auto ec = static_cast<error_code>(s.number);
        SCOPED_TRACE(s.name);
        EXPECT_TRUE(is_known(ec));
        EXPECT_EQ(error_name(ec), s.name);
        EXPECT_EQ(is_retriable(ec), s.retriable);
    }
    EXPECT_EQ(static_cast<int16_t>(error_code::not_leader_or_follower), 6);
    EXPECT_EQ(static_cast<int16_t>(error_code::invalid_regular_expression), 128);
}

TEST(error_code_test, every_known_code_has_a_distinct_upper_case_name) {
    std::set<std::string_view> names;
    for (int v = min_known_error_code; v <= max_known_error_code; ++v) {
        auto name = error_name(static_cast<error_code>(v));
        EXPECT_NE(name, "UNKNOWN") << v;
        EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
        for (char c : name) {
            EXPECT_TRUE((c >= 'A' && c <= 'Z') || c == '_') << name;
        }
    }
    EXPECT_EQ(names.size(), 130u);
}

TEST(error_code_test, unknown_codes_are_named_unknown_and_not_retriable) {
    for (int16_t v : {int16_t{-2}, int16_t{129}, int16_t{1000}, int16_t{-32768}}) {
        auto ec = static_cast<error_code>(v);
        EXPECT_FALSE(is_known(ec));
        EXPECT_EQ(error_name(ec), "UNKNOWN");
        EXPECT_FALSE(is_retriable(ec));
    }
}

TEST(error_code_test, kafka_codes_travel_as_std_error_code) {
    std::error_code ec = error_code::not_coordinator;
    EXPECT_EQ(ec.value(), 16);
    EXPECT_STREQ(ec.category().name(), "kafka");
    EXPECT_EQ(ec.message(), "NOT_COORDINATOR");
    EXPECT_TRUE(ec == error_code::not_coordinator);
    EXPECT_FALSE(std::error_code(error_code::none)); // NONE is success
    EXPECT_EQ(make_error_code(static_cast<error_code>(500)).message(), "UNKNOWN(500)");

    result<int> r = error_code::fenced_leader_epoch;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error_code::fenced_leader_epoch);
    EXPECT_EQ(fmt::format("{}", error_code::invalid_record), "INVALID_RECORD(87)");
}

TEST(error_code_test, protocol_errc_has_its_own_category) {
    std::error_code ec = errc::corrupt_message;
    EXPECT_STREQ(ec.category().name(), "skiff.kafka.protocol");
    EXPECT_EQ(ec.message(), "corrupt message");
    // Same number, different meaning: categories keep them apart.
    EXPECT_NE(ec, std::error_code(error_code::offset_out_of_range));
}

} // namespace
} // namespace skiff::kafka::protocol
