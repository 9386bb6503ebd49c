// libFuzzer target: what the proxy forwards for a request head (forward_property.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "forward_property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string failure =
      fulcrum::http::fuzz::checkForwardProperty(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!failure.empty()) {
    std::fprintf(stderr, "HTTP forward property violated: %s\n", failure.c_str());
    std::abort();
  }
  return 0;
}
