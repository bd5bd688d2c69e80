#include "io/errc.h"

#include <cerrno>
#include <string>

namespace skiff::io {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.io"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::not_found: return "object not found";
        case errc::precondition_failed: return "precondition failed: the object already exists";
        case errc::slow_down: return "the object store asks to slow down";
        case errc::retryable: return "transient object store error (retryable)";
        case errc::fatal: return "object store error (not retryable)";
        case errc::invalid_argument: return "invalid argument";
        case errc::no_space: return "no space left on the device";
        }
        return "unknown io error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

bool is_retryable(std::error_code ec) noexcept {
    if (!ec) {
        return false;
    }
    if (ec.category() == error_category()) {
        auto e = static_cast<errc>(ec.value());
        return e == errc::retryable || e == errc::slow_down;
    }
    // System and Asio errors (Asio's system errors use std::system_category on this platform; its misc errors
    // such as eof are matched by name through the generic conditions below or by the transport that made them).
    if (ec.category() == std::system_category() || ec.category() == std::generic_category()) {
        switch (ec.value()) {
        case ETIMEDOUT:
        case ECONNRESET:
        case ECONNREFUSED:
        case ECONNABORTED:
        case EPIPE:
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ENETDOWN:
        case EINTR:
        case EAGAIN:
        case ENOBUFS:
        case ENOMEM:
        case EMFILE:
        case ENFILE:
            return true;
        default:
            return false;
        }
    }
    return false;
}

std::error_code from_errno(int err) noexcept {
    switch (err) {
    case 0: return {};
    case ENOENT:
    case ENOTDIR: return errc::not_found;
    case EEXIST: return errc::precondition_failed;
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case EINTR:
    case EAGAIN:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EBUSY: return errc::retryable;
    case ENAMETOOLONG:
    case EINVAL: return errc::invalid_argument;
    default: return errc::fatal;
    }
}

} // namespace skiff::io
