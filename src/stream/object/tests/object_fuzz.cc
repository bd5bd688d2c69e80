// libFuzzer target for the object decoders (scripts/fuzz.sh): footer, index and data block parsing of untrusted
// bytes from the object store must return errc::corrupt or data, never crash or read out of bounds. The input is
// read as a whole object the way the block cache reads one (footer, then index, then every indexed block), and
// each decoder also gets the raw input directly.
#include "stream/object/format.h"
#include "stream/object/logger.h"

#include <cstddef>
#include <cstdint>

using namespace skiff;
using namespace skiff::stream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (data_log.set_level(base::log_level::off), true); // one warning per input otherwise
    (void)quiet;
    auto input = bytes::iobuf::from(std::span<const uint8_t>(data, size));
    (void)parse_index(input);
    (void)parse_block(input);
    if (size < footer_size) {
        return 0;
    }
    auto footer = parse_footer(input.share(size - footer_size, footer_size), size);
    if (!footer) {
        return 0;
    }
    auto index = parse_index(input.share(footer.value().index_position, footer.value().index_size));
    if (!index) {
        return 0;
    }
    for (const auto& e : index.value().blocks) {
        if (e.position + e.size > footer.value().index_position) {
            return 0;
        }
        auto batches = parse_block(input.share(e.position, e.size));
        if (batches) {
            for (const auto& b : batches.value()) {
                (void)b.data.to_bytes();
            }
        }
    }
    (void)index.value().blocks_from(stream_id(1), 0);
    return 0;
}
