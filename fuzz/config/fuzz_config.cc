// libFuzzer target: the whole config loader (YAML, then Fulcrum's own validation of
// durations, addresses, CIDRs and references). Property: any input yields either a valid
// config or at least one diagnostic with a position inside the input, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = fulcrum::config::loadString(text, "fuzz.yaml");
  if (r.config == nullptr && r.errors.empty()) {
    std::abort();  // a rejected config must say why
  }
  for (const auto& d : r.errors) {
    if (d.line < 0 || d.column < 0 || d.message.empty()) {
      std::abort();
    }
  }
  return 0;
}
