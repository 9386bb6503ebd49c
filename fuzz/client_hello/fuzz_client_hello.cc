// libFuzzer target for the TLS ClientHello reader (src/codec/client_hello.h). The property lives
// in client_hello_property.h so that tests/unit/codec/client_hello_corpus_test.cc replays the
// seed corpus in ordinary builds.
#include <cstdio>
#include <cstdlib>

#include "client_hello_property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string broken = fulcrum::codec::fuzz::checkClientHelloProperty(std::span<const uint8_t>(data, size));
  if (!broken.empty()) {
    std::fprintf(stderr, "client_hello property broken: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
