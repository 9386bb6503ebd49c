#pragma once
// Bounds on what the HTTP/1 parsers accept. Each is checked before the bytes it covers are
// interpreted, so a peer cannot make the parser scan or store more than these allow.
#include <cstddef>
#include <cstdint>

namespace fulcrum::http {

struct Limits {
  // Request line (or status line) with its CRLF, and any empty lines before it → 414.
  size_t maxRequestLine = 8 * 1024;
  // Header section: every field line with its CRLF plus the final CRLF → 431.
  size_t maxHeaderBytes = 64 * 1024;
  // Field lines in the header section → 431.
  size_t maxHeaders = 100;
  // Declared Content-Length, or the sum of chunk sizes → 413.
  uint64_t maxBodySize = UINT64_C(0x7fffffffffffffff);
  // Bytes after the chunk size on one chunk line (";name=value" extensions) → 400.
  size_t maxChunkExtension = 1024;
  // Trailer section of a chunked body, like the header section → 431.
  size_t maxTrailerBytes = 16 * 1024;
  size_t maxTrailers = 32;
};

// Offsets are stored in 32 bits; larger limits are clamped to this.
inline constexpr size_t kMaxHeadLimit = size_t{1} << 30;

}  // namespace fulcrum::http
