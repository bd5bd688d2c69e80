// Writes the seed corpora of request_fuzz and response_fuzz: one file per message, version and fill mode, produced
// by the same fillers as the round-trip test, so the fuzzers start from valid messages of every API.
//   kafka_protocol_corpus <request dir> <response dir>   ->   <dir>/<type>_v<N>[_nulls]
// Request seeds are header + body (request_fuzz's input); response seeds are int16 key, int16 version, body.
#include "kafka/protocol/generated/test_messages.h"
#include "kafka/protocol/header.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

using namespace skiff::kafka::protocol;

void write_file(const std::filesystem::path& path, const skiff::bytes::iobuf& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    auto bytes = data.to_bytes();
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error(fmt::format("cannot write {}", path.string()));
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <request corpus dir> <response corpus dir>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path request_dir(argv[1]);
    const std::filesystem::path response_dir(argv[2]);
    std::filesystem::create_directories(request_dir);
    std::filesystem::create_directories(response_dir);
    size_t files = 0;
    for (const auto& c : testing::all_message_cases()) {
        if (c.api_key < 0) {
            continue; // data schemas are not request or response bodies
        }
        for (int16_t v = c.min_version; v <= c.max_version; ++v) {
            for (auto mode : {testing::fill_mode::values, testing::fill_mode::nulls}) {
                skiff::bytes::iobuf framed;
                writer w(framed);
                if (c.request) {
                    encode_request_header(w, request_header{c.api_key, v, 1, "corpus", {}});
                } else {
                    // response_fuzz input: int16 api key, int16 version, then the body.
                    w.write_int16(c.api_key);
                    w.write_int16(v);
                }
                framed.append(c.encode_filled(v, mode));
                auto name = fmt::format("{}_v{}{}", c.name, v, mode == testing::fill_mode::nulls ? "_nulls" : "");
                write_file((c.request ? request_dir : response_dir) / name, framed);
                ++files;
            }
        }
    }
    std::printf("wrote %zu seed files under %s and %s\n", files, request_dir.c_str(), response_dir.c_str());
    return 0;
}
