#pragma once
// What parseClientHello must hold for any input (the fuzz target and
// tests/unit/codec/client_hello_corpus_test.cc both check it): results are final (a longer
// input with the same start never changes a Done or Invalid, and a prefix of a Done or
// NeedMore input is never Invalid), NeedMore is bounded, and what Done reports is lower-case
// printable ASCII. Returns "" when it holds, else what broke.
#include <cstdint>
#include <span>
#include <string>

#include "codec/client_hello.h"

namespace fulcrum::codec::fuzz {

inline std::string checkClientHelloProperty(std::span<const uint8_t> data) {
  HelloResult whole = parseClientHello(data);
  if (whole.status == HelloStatus::NeedMore && data.size() >= kMaxClientHelloInput) {
    return "NeedMore at " + std::to_string(data.size()) + " bytes";
  }
  if (whole.status == HelloStatus::Invalid && whole.error.empty()) {
    return "Invalid without a reason";
  }
  for (char c : whole.hello.server_name) {
    if (c <= 0x20 || c >= 0x7f || (c >= 'A' && c <= 'Z')) {
      return "server name not lower-case printable ASCII";
    }
  }
  // Prefixes at a few cut points (every cut would be quadratic on 17 KiB inputs).
  for (size_t cut : {size_t{1}, size_t{5}, size_t{9}, data.size() / 2, data.size() - (data.empty() ? 0 : 1)}) {
    if (cut == 0 || cut >= data.size()) {
      continue;
    }
    HelloResult part = parseClientHello(data.first(cut));
    if (part.status == HelloStatus::Invalid && whole.status != HelloStatus::Invalid) {
      return "prefix of " + std::to_string(cut) + " bytes Invalid (" + part.error + ") but the whole is not";
    }
    if (part.status == HelloStatus::Done &&
        (whole.status != HelloStatus::Done || whole.hello.server_name != part.hello.server_name ||
         whole.hello.alpn != part.hello.alpn || whole.hello.versions != part.hello.versions)) {
      return "prefix of " + std::to_string(cut) + " bytes Done, the whole gives another result";
    }
  }
  return "";
}

}  // namespace fulcrum::codec::fuzz
