// libFuzzer target: BIRD control-socket replies (watch/bird_reply.h), the bytes `fulcrum watch`
// reads from BIRD. Property: fuzz/watch/bird_reply_property.h.
#include <cstdlib>

#include "bird_reply_property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string why = fulcrum::fuzz::checkBirdReplyProperty(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!why.empty()) {
    std::abort();
  }
  return 0;
}
