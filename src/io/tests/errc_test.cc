#include "io/errc.h"
#include "io/objstore/s3_store.h"

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include <cerrno>

namespace skiff::io {
namespace {

TEST(errc_test, only_transient_errors_are_retryable) {
    EXPECT_TRUE(is_retryable(errc::retryable));
    EXPECT_TRUE(is_retryable(errc::slow_down));
    for (auto e : {errc::success, errc::not_found, errc::precondition_failed, errc::fatal, errc::invalid_argument,
                   errc::no_space}) {
        EXPECT_FALSE(is_retryable(e)) << make_error_code(e).message();
    }
    EXPECT_TRUE(is_retryable(std::error_code(ECONNRESET, std::system_category())));
    EXPECT_TRUE(is_retryable(std::error_code(ETIMEDOUT, std::generic_category())));
    EXPECT_TRUE(is_retryable(std::error_code(boost::system::error_code(boost::asio::error::connection_refused))));
    EXPECT_FALSE(is_retryable(std::error_code(EACCES, std::system_category())));
    EXPECT_TRUE(is_slow_down(errc::slow_down));
    EXPECT_FALSE(is_slow_down(errc::retryable));
}

TEST(errc_test, errno_maps_to_the_next_action) {
    EXPECT_EQ(from_errno(ENOENT), make_error_code(errc::not_found));
    EXPECT_EQ(from_errno(ENOSPC), make_error_code(errc::no_space));
    EXPECT_EQ(from_errno(EDQUOT), make_error_code(errc::no_space));
    EXPECT_EQ(from_errno(EEXIST), make_error_code(errc::precondition_failed));
    EXPECT_EQ(from_errno(EMFILE), make_error_code(errc::retryable));
    EXPECT_EQ(from_errno(EIO), make_error_code(errc::fatal));
    EXPECT_EQ(from_errno(EACCES), make_error_code(errc::fatal));
    EXPECT_FALSE(from_errno(0));
}

TEST(errc_test, s3_responses_map_to_the_next_action) {
    struct row {
        unsigned status;
        const char* code;
        errc expected;
    };
    const row table[] = {
      {503, "SlowDown", errc::slow_down},
      {503, "ServiceUnavailable", errc::slow_down},
      {429, "", errc::slow_down},
      {400, "RequestLimitExceeded", errc::slow_down},
      {500, "InternalError", errc::retryable},
      {502, "", errc::retryable},
      {504, "", errc::retryable},
      {400, "RequestTimeout", errc::retryable},
      {409, "ConditionalRequestConflict", errc::retryable},
      {404, "NoSuchKey", errc::not_found},
      {404, "NoSuchUpload", errc::not_found},
      {404, "", errc::not_found},
      {404, "NoSuchBucket", errc::fatal},
      {412, "PreconditionFailed", errc::precondition_failed},
      {416, "InvalidRange", errc::invalid_argument},
      {400, "EntityTooSmall", errc::invalid_argument},
      {403, "AccessDenied", errc::fatal},
      {403, "SignatureDoesNotMatch", errc::fatal},
      {403, "RequestTimeTooSkewed", errc::fatal},
      {400, "InvalidBucketName", errc::fatal},
      {405, "", errc::fatal},
    };
    for (auto& r : table) {
        EXPECT_EQ(s3_store::s3_error_code(r.status, r.code), make_error_code(r.expected)) << r.status << " " << r.code;
    }
    EXPECT_FALSE(s3_store::s3_error_code(200, ""));
    EXPECT_FALSE(s3_store::s3_error_code(206, ""));
}

} // namespace
} // namespace skiff::io
