// listeners[].http2: whether an http listener serves HTTP/2 (h2 by ALPN with TLS, h2c with
// prior knowledge without) and the settings it announces. See docs/config.md.
#include "config/schema.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kHttp2Keys = {"enabled", "max_concurrent_streams", "initial_window_size",
                                                  "max_frame_size", "max_header_list_size"};

}  // namespace

void readListenerHttp2(YamlReader& r, const Entry& e, Http2& out) {
  auto map = r.readSection(e, kHttp2Keys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("enabled")) {
    r.readBool(*p, out.enabled);
  }
  if (const Entry* p = map->find("max_concurrent_streams")) {
    r.readUint(*p, 1, 10000, out.max_concurrent_streams);
  }
  if (const Entry* p = map->find("initial_window_size")) {
    r.readUint(*p, 1024, 2147483647, out.initial_window_size);  // RFC 9113 §6.5.2: at most 2^31-1
  }
  if (const Entry* p = map->find("max_frame_size")) {
    r.readUint(*p, 16384, 16777215, out.max_frame_size);  // RFC 9113 §6.5.2
  }
  if (const Entry* p = map->find("max_header_list_size")) {
    r.readUint(*p, 1024, 16 * 1024 * 1024, out.max_header_list_size);
  }
}

}  // namespace fulcrum::config::detail
