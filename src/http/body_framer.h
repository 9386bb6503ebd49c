#pragma once
// BodyFramer: follows one message body through the bytes buffered from a peer. It says how
// many bytes at the front of the buffer belong to the body and have been checked (ready to
// forward as they are: chunked bodies pass through verbatim once the strict decoder accepted
// them), and when the body ends. Nothing past the end is ever taken as body.
#include <cstdint>
#include <string_view>

#include "codec/chunked.h"
#include "codec/message.h"

namespace fulcrum::http {

class BodyFramer {
 public:
  explicit BodyFramer(const Limits& limits = {}) : decoder_(limits) {}
  void start(BodyFraming framing);
  // Extends ready() over `buffered` (everything buffered, from the first body byte not yet
  // forwarded). False on a framing error (see error()).
  bool scan(std::string_view buffered);
  size_t ready() const { return ready_; }
  // n ready bytes were forwarded and dropped from the buffer.
  void forwarded(size_t n) { ready_ -= n; }
  // Every byte of the body has been seen (some may still be ready, not forwarded).
  bool complete() const { return complete_; }
  bool finished() const { return complete_ && ready_ == 0; }
  // The peer closed: the end of an until-close body; a truncation for the others.
  void onEof();
  bool untilClose() const { return framing_.kind == BodyKind::UntilClose; }
  const ParseError& error() const { return error_; }

 private:
  BodyFraming framing_;
  ChunkedDecoder decoder_;
  uint64_t remaining_ = 0;  // Content-Length bytes not yet seen
  size_t ready_ = 0;
  bool complete_ = false;
  ParseError error_;
};

}  // namespace fulcrum::http
