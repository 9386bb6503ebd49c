#pragma once
// Field-level grammar shared by the head parsers and the chunked trailer parser (internal):
// one field line, comma-separated lists, and the values that decide framing and connection
// handling. Every function here validates; none allocates.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/char_class.h"

namespace fulcrum::http {

// Offsets of one field line's parts, relative to the buffer the line was found in.
struct FieldSpan {
  size_t nameBegin = 0;
  size_t nameEnd = 0;
  size_t valueBegin = 0;
  size_t valueEnd = 0;
};

// Why a field line (or value) was rejected, and where; reason is empty when it was accepted.
struct FieldCheck {
  std::string_view reason;
  size_t offset = 0;
  bool ok() const { return reason.empty(); }
};

// Splits and validates `base[begin, end)`, a non-empty field line without its CRLF:
// field-name ":" OWS field-value OWS (RFC 9112 §5), rejecting obs-fold (leading SP/HTAB),
// whitespace before the colon, non-tchar name bytes and CTLs (CR, NUL, DEL...) in the value.
FieldCheck parseFieldLine(const char* base, size_t begin, size_t end, FieldSpan& out);

// The fast path of parseFieldLine, for a line not yet known to be complete: true (with `out`
// and `cr`, the offset of its CR) when base[begin, size) starts with a complete valid field
// line, found in one pass. False when it is partial, invalid or empty: the caller then finds
// the line end first and calls parseFieldLine, so that limits and errors are decided the
// same way whatever the split.
inline bool scanFieldLine(const char* base, size_t begin, size_t size, FieldSpan& out, size_t& cr) {
  const char* p = base + begin;
  const char* const e = base + size;
  if (p == e || !chars::is(*p, chars::kTchar)) {
    return false;
  }
  p = chars::skipToken(p, e);
  if (p == e || *p != ':') {
    return false;
  }
  const char* const colon = p++;
  while (p < e && chars::isOws(*p)) {
    ++p;
  }
  const char* const valueBegin = p;
  p = chars::skipFieldValue(p, e, base);
  if (e - p < 2 || p[0] != '\r' || p[1] != '\n') {
    return false;
  }
  cr = static_cast<size_t>(p - base);
  while (p > valueBegin && chars::isOws(p[-1])) {
    --p;
  }
  out.nameBegin = begin;
  out.nameEnd = static_cast<size_t>(colon - base);
  out.valueBegin = static_cast<size_t>(valueBegin - base);
  out.valueEnd = static_cast<size_t>(p - base);
  return true;
}

// Calls f(element) for each comma-separated element with its OWS trimmed, empty ones included,
// until f returns false. Returns whether every call returned true.
template <class F>
bool forEachListElement(std::string_view value, F&& f) {
  size_t i = 0;
  while (true) {
    size_t comma = value.find(',', i);
    size_t end = comma == std::string_view::npos ? value.size() : comma;
    size_t b = i;
    while (b < end && chars::isOws(value[b])) {
      ++b;
    }
    size_t e = end;
    while (e > b && chars::isOws(value[e - 1])) {
      --e;
    }
    if (!f(value.substr(b, e - b))) {
      return false;
    }
    if (comma == std::string_view::npos) {
      return true;
    }
    i = comma + 1;
  }
}

// Content-Length: 1*DIGIT, or a list of one number repeated ("5, 5", RFC 9110 §8.6), at most
// 2^63-1. Returns a reason when malformed (sign, inner space, empty element, overflow) or when
// the elements differ.
std::string_view parseContentLength(std::string_view value, uint64_t& out);

// Transfer-Encoding facts, accumulated over every Transfer-Encoding line of a message.
struct TransferCodings {
  uint8_t chunked = 0;       // how many times "chunked" is listed (capped)
  bool chunkedLast = false;  // the last coding listed is chunked
  bool other = false;        // some coding other than chunked is listed
};
// Adds one field value (a list of bare tokens; parameters, quotes and empty elements are
// rejected). Returns a reason when malformed.
std::string_view addTransferCodings(std::string_view value, TransferCodings& codings);

// Connection options this parser acts on, accumulated over every Connection line.
struct ConnectionOptions {
  bool close = false;
  bool keepAlive = false;
  bool upgrade = false;
};
// Adds one Connection value: a list of tokens. Naming Host, Content-Length or
// Transfer-Encoding is rejected: a proxy honouring it would strip the message's framing.
std::string_view addConnectionOptions(std::string_view value, ConnectionOptions& options);

// Host value: uri-host [":" port] characters only (may be empty, RFC 9112 §3.2).
bool validHost(std::string_view value);

}  // namespace fulcrum::http
