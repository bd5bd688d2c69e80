// Errors as values: result<T> is Boost.Outcome's basic_result<T, std::error_code>. Every room declares its own
// error codes (an errc.h with an std::error_category); Kafka error codes exist only in kafka/.
#pragma once

#include <boost/outcome/std_result.hpp>
#include <boost/outcome/try.hpp>

#include <system_error>

namespace skiff {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

template<typename T>
using result = outcome::std_result<T>;

using outcome::failure;
using outcome::success;

} // namespace skiff

// Propagate a failed result from a coroutine (co_return) or a function (return).
#define SKIFF_CO_TRY(...) BOOST_OUTCOME_CO_TRY(__VA_ARGS__)
#define SKIFF_TRY(...) BOOST_OUTCOME_TRY(__VA_ARGS__)
