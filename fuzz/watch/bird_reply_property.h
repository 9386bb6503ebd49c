#pragma once
// The property the BIRD reply fuzzer checks, shared with tests/unit/watch/bird_reply_corpus_test.cc:
// any byte stream is split into the same replies, or refused with the same reason, whether it
// arrives whole or a byte at a time; a refusal has a reason; no reply outgrows the limits.
// Returns "" when it holds, else what broke.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "watch/bird_reply.h"

namespace fulcrum::fuzz {

inline std::string checkBirdReplyProperty(std::string_view input) {
  using watch::BirdReply;
  using watch::BirdReplyReader;
  auto run = [&](size_t step, std::vector<BirdReply>& out) {
    BirdReplyReader reader;
    for (size_t at = 0; at < input.size(); at += step) {
      if (Status s = reader.feed(input.substr(at, step), out); !s) {
        return s.message().empty() ? std::string("(refused without a reason)") : s.message();
      }
    }
    return std::string();
  };
  std::vector<BirdReply> whole;
  std::vector<BirdReply> bytes;
  std::string a = run(input.size() == 0 ? 1 : input.size(), whole);
  std::string b = run(1, bytes);
  if (a == "(refused without a reason)" || b == "(refused without a reason)") {
    return "refused without a reason";
  }
  if (a != b) {
    return "whole and byte-at-a-time disagree: \"" + a + "\" vs \"" + b + "\"";
  }
  if (whole.size() != bytes.size()) {
    return "whole and byte-at-a-time give different reply counts";
  }
  for (size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].code != bytes[i].code || whole[i].text != bytes[i].text) {
      return "reply " + std::to_string(i) + " differs between whole and byte-at-a-time";
    }
    if (whole[i].code < 0 || whole[i].code > 9999 || whole[i].text.size() > BirdReplyReader::kMaxReply) {
      return "reply " + std::to_string(i) + " outside the limits";
    }
  }
  return "";
}

}  // namespace fulcrum::fuzz
