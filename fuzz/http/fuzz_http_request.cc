// libFuzzer target: the HTTP/1 request head parser. The property is in http_fuzz_properties.h,
// which tests/unit/codec/fuzz_corpus_test.cc also replays over this target's seed corpus.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_fuzz_properties.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string failure =
      fulcrum::http::fuzz::checkRequestProperty(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!failure.empty()) {
    std::fprintf(stderr, "HTTP request property violated: %s\n", failure.c_str());
    std::abort();
  }
  return 0;
}
