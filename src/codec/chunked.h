#pragma once
// Decoder for the chunked transfer coding (RFC 9112 §7.1): sans-I/O, incremental, zero-copy.
//
// Contract:
//  - decode(input) takes the body bytes from the first one not yet consumed: after a call
//    returns `consumed`, the next input starts with input[consumed:] followed by any new bytes.
//    Chunk-size lines and CRLFs are consumed as they arrive, whatever the split; only the
//    trailer section is left unconsumed until it is complete (so it can be reported as views),
//    and it is never rescanned.
//  - Data: `data` is payload, a view into this input; deliver it, then call again with the
//    rest. NeedMore: everything usable was consumed; call again with more bytes.
//    Done: the body ended `consumed` bytes in; what follows is the next message; trailers()
//    holds the trailer fields as views into this input. Error: status 400 (malformed), 413
//    (chunk sizes add up past maxBodySize) or 431 (trailers past their limits); the offset
//    counts from the first body byte. Done and Error are final until reset().
//  - Strict: hex digits only (1..256 of them, leading zeros allowed, value at most 2^63-1) with
//    no whitespace;
//    extensions ";name" or ";name=token" or ";name=\"quoted\"", skipped but bounded by
//    maxChunkExtension; CRLF (never a bare CR or LF) after the size line and after the data;
//    trailer fields follow the header rules, are bounded, and may not be Content-Length,
//    Transfer-Encoding or Host.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "codec/field_rules.h"
#include "codec/limits.h"
#include "codec/message.h"

namespace fulcrum::http {

enum class ChunkStatus : uint8_t { NeedMore, Data, Done, Error };

struct ChunkResult {
  ChunkStatus status = ChunkStatus::NeedMore;
  size_t consumed = 0;    // bytes of this input used (framing and data)
  std::string_view data;  // Data only: payload bytes, inside this input
  ParseError error;       // Error only
};

class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const Limits& limits = {});

  ChunkResult decode(std::string_view input);
  // After Done: views into the input of the call that returned Done.
  std::span<const Header> trailers() const { return trailers_; }
  // Payload bytes so far (the sum of chunk sizes announced and completed).
  uint64_t bodySize() const { return bodySize_; }
  void reset();

 private:
  enum class State : uint8_t {
    SizeStart,  // before the first hex digit
    Size,       // in the hex digits
    ExtStart,   // after ';': a name must follow
    ExtName,
    ExtValueStart,  // after '='
    ExtToken,
    ExtQuoted,
    ExtQuotedPair,  // after '\' inside quotes
    ExtQuoteEnd,    // after the closing quote
    SizeLf,         // after the size line's CR
    Data,
    DataCr,
    DataLf,
    Trailers,
    Done,
    Failed,
  };

  ChunkResult fail(uint16_t status, std::string_view reason, size_t offset);
  // Parses the trailer section at input[start:]; start > 0 only in the call that enters it.
  ChunkResult trailers(std::string_view input, size_t start);
  // Returns false (after failing) for a line ending at `lineEnd` (relative, LF included) that
  // breaks the trailer limit.
  bool checkTrailerLength(size_t lineEnd, size_t start);

  const size_t maxExtension_;
  const size_t maxTrailerBytes_;
  const size_t maxTrailers_;
  const uint64_t maxBodySize_;

  State state_ = State::SizeStart;
  uint64_t size_ = 0;       // chunk size being read
  uint32_t digits_ = 0;     // hex digits read
  size_t extension_ = 0;    // bytes after the size on this line
  uint64_t remaining_ = 0;  // data bytes left in this chunk
  uint64_t bodySize_ = 0;
  uint64_t before_ = 0;  // bytes consumed by earlier calls (for error offsets)
  ChunkResult result_;   // kept once Done or Failed

  // Trailer section, offsets relative to its first byte (the caller re-presents it).
  size_t lineStart_ = 0;
  size_t scanned_ = 0;
  struct FieldPos {
    uint32_t nameBegin;
    uint32_t nameLength;
    uint32_t valueBegin;
    uint32_t valueLength;
  };
  std::vector<FieldPos> fields_;
  std::vector<Header> trailers_;
};

}  // namespace fulcrum::http
