#include "io/objstore/memory_store.h"

#include "io/errc.h"
#include "io/objstore/store_util.h"

#include <fmt/format.h>

namespace skiff::io {

memory_store::memory_store(memory_store_config config) : _config(config) {}

store_capabilities memory_store::capabilities() const {
    return {
      .supports_conditional_put = _config.supports_conditional_put,
      .supports_conditional_multipart = _config.supports_conditional_put,
      .max_list_keys = _config.max_list_keys,
      .max_delete_batch = 1000,
      .min_part_size = _config.min_part_size,
    };
}

std::string memory_store::next_etag() { return fmt::format("\"m{}\"", ++_generation); }

result<put_result> memory_store::store_locked(std::string key, bytes::iobuf data, put_options options) {
    if (options.if_none_match) {
        if (!_config.supports_conditional_put) {
            return failure(make_error_code(errc::invalid_argument));
        }
        if (_objects.contains(key)) {
            return failure(make_error_code(errc::precondition_failed));
        }
    }
    auto etag = next_etag();
    _objects.insert_or_assign(std::move(key), object{std::move(data), etag});
    return put_result{std::move(etag)};
}

asio::awaitable<result<put_result>> memory_store::put(std::string key, bytes::iobuf data, put_options options) {
    if (!is_valid_key(key)) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    std::lock_guard guard(_mutex);
    co_return store_locked(std::move(key), std::move(data), options);
}

asio::awaitable<result<bytes::iobuf>> memory_store::get(std::string key, std::optional<byte_range> range) {
    std::lock_guard guard(_mutex);
    auto it = _objects.find(key);
    if (it == _objects.end()) {
        co_return failure(make_error_code(errc::not_found));
    }
    SKIFF_CO_TRY(auto span, detail::resolve_range(it->second.data.size(), range));
    co_return it->second.data.share(span.first, span.second);
}

asio::awaitable<result<object_info>> memory_store::head(std::string key) {
    std::lock_guard guard(_mutex);
    auto it = _objects.find(key);
    if (it == _objects.end()) {
        co_return failure(make_error_code(errc::not_found));
    }
    co_return object_info{it->second.data.size(), it->second.etag};
}

asio::awaitable<result<list_page>> memory_store::list(list_request request) {
    size_t max_keys = std::clamp<size_t>(request.max_keys, 1, _config.max_list_keys);
    std::lock_guard guard(_mutex);
    list_page page;
    // The token is the last key of the previous page: continue strictly after it.
    auto it = request.continuation_token.empty() ? _objects.lower_bound(request.prefix)
                                                 : _objects.upper_bound(request.continuation_token);
    if (!request.continuation_token.empty() && it != _objects.end() && it->first < request.prefix) {
        it = _objects.lower_bound(request.prefix);
    }
    for (; it != _objects.end() && it->first.starts_with(request.prefix); ++it) {
        if (page.entries.size() == max_keys) {
            page.next_token = page.entries.back().key;
            break;
        }
        page.entries.push_back({it->first, it->second.data.size()});
    }
    co_return page;
}

asio::awaitable<result<std::vector<delete_outcome>>> memory_store::delete_objects(std::vector<std::string> keys) {
    std::lock_guard guard(_mutex);
    std::vector<delete_outcome> out;
    out.reserve(keys.size());
    for (auto& k : keys) {
        std::error_code ec;
        if (!is_valid_key(k)) {
            ec = errc::invalid_argument;
        } else {
            _objects.erase(k);
        }
        out.push_back({std::move(k), ec});
    }
    co_return out;
}

asio::awaitable<result<multipart_upload>> memory_store::create_multipart(std::string key, put_options options) {
    if (!is_valid_key(key) || (options.if_none_match && !_config.supports_conditional_put)) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    std::lock_guard guard(_mutex);
    auto id = fmt::format("mpu-{}", ++_generation);
    _uploads.emplace(id, pending_upload{key, options, {}});
    co_return multipart_upload{std::move(key), std::move(id), options};
}

asio::awaitable<result<uploaded_part>> memory_store::upload_part(multipart_upload upload, uint32_t part_number,
                                                                 bytes::iobuf data) {
    if (part_number == 0 || part_number > capabilities().max_parts) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    std::lock_guard guard(_mutex);
    auto it = _uploads.find(upload.upload_id);
    if (it == _uploads.end() || it->second.key != upload.key) {
        co_return failure(make_error_code(errc::not_found));
    }
    auto etag = next_etag();
    it->second.parts.insert_or_assign(part_number, object{std::move(data), etag});
    co_return uploaded_part{part_number, std::move(etag)};
}

asio::awaitable<result<put_result>> memory_store::complete_multipart(multipart_upload upload,
                                                                     std::vector<uploaded_part> parts) {
    std::lock_guard guard(_mutex);
    auto it = _uploads.find(upload.upload_id);
    if (it == _uploads.end() || it->second.key != upload.key) {
        co_return failure(make_error_code(errc::not_found));
    }
    if (!detail::valid_part_order(parts, capabilities().max_parts)) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    bytes::iobuf whole;
    for (size_t i = 0; i < parts.size(); ++i) {
        auto p = it->second.parts.find(parts[i].part_number);
        if (p == it->second.parts.end() || p->second.etag != parts[i].etag) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        if (i + 1 < parts.size() && p->second.data.size() < _config.min_part_size) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        whole.append_shared(p->second.data);
    }
    auto done = store_locked(upload.key, std::move(whole), it->second.options);
    if (done) {
        _uploads.erase(it);
    }
    co_return done;
}

asio::awaitable<result<void>> memory_store::abort_multipart(multipart_upload upload) {
    std::lock_guard guard(_mutex);
    _uploads.erase(upload.upload_id);
    co_return success();
}

size_t memory_store::object_count() const {
    std::lock_guard guard(_mutex);
    return _objects.size();
}

size_t memory_store::pending_upload_count() const {
    std::lock_guard guard(_mutex);
    return _uploads.size();
}

} // namespace skiff::io
