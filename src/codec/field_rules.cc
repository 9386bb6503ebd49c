#include "codec/field_rules.h"

namespace fulcrum::http {

FieldCheck parseFieldLine(const char* base, size_t begin, size_t end, FieldSpan& out) {
  const char* p = base + begin;
  const char* const e = base + end;
  if (chars::isOws(*p)) {
    return {"obsolete line folding", begin};
  }
  p = chars::skipToken(p, e);
  const size_t colon = static_cast<size_t>(p - base);
  if (p == e) {
    return {"header field without colon", colon};
  }
  if (*p != ':') {
    if (chars::isOws(*p)) {
      return {"whitespace between header name and colon", colon};
    }
    return {*p == '\r' ? "bare CR" : "invalid character in header name", colon};
  }
  if (colon == begin) {
    return {"empty header name", colon};
  }
  ++p;
  while (p < e && chars::isOws(*p)) {
    ++p;
  }
  const char* const valueBegin = p;
  p = chars::skipFieldValue(p, e, base);
  if (p != e) {
    return {*p == '\r' ? "bare CR" : "invalid character in header value", static_cast<size_t>(p - base)};
  }
  while (p > valueBegin && chars::isOws(p[-1])) {
    --p;
  }
  out.nameBegin = begin;
  out.nameEnd = colon;
  out.valueBegin = static_cast<size_t>(valueBegin - base);
  out.valueEnd = static_cast<size_t>(p - base);
  return {};
}

std::string_view parseContentLength(std::string_view value, uint64_t& out) {
  constexpr uint64_t kMax = UINT64_C(0x7fffffffffffffff);
  bool any = false;
  uint64_t first = 0;
  std::string_view reason;
  forEachListElement(value, [&](std::string_view element) {
    if (element.empty()) {
      reason = "invalid Content-Length";
      return false;
    }
    // 19 digits cannot overflow 64 bits; the 2^63-1 bound is checked after.
    if (element.size() > 19) {
      reason = "Content-Length too large";
      return false;
    }
    uint64_t n = 0;
    for (char c : element) {
      if (!chars::is(c, chars::kDigit)) {
        reason = "invalid Content-Length";
        return false;
      }
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > kMax) {
      reason = "Content-Length too large";
      return false;
    }
    if (any && n != first) {
      reason = "conflicting Content-Length values";
      return false;
    }
    first = n;
    any = true;
    return true;
  });
  if (reason.empty()) {
    out = first;
  }
  return reason;
}

std::string_view addTransferCodings(std::string_view value, TransferCodings& codings) {
  std::string_view reason;
  forEachListElement(value, [&](std::string_view element) {
    if (element.empty() || !chars::allOf(element, chars::kTchar)) {
      reason = "invalid Transfer-Encoding";
      return false;
    }
    if (chars::equalsLower(element, "chunked")) {
      if (codings.chunked < 255) {
        ++codings.chunked;
      }
      codings.chunkedLast = true;
    } else {
      codings.other = true;
      codings.chunkedLast = false;
    }
    return true;
  });
  return reason;
}

std::string_view addConnectionOptions(std::string_view value, ConnectionOptions& options) {
  // Nearly every Connection field is exactly one of these: no list to split.
  if (chars::equalsLower(value, "keep-alive")) {
    options.keepAlive = true;
    return {};
  }
  if (chars::equalsLower(value, "close")) {
    options.close = true;
    return {};
  }
  std::string_view reason;
  forEachListElement(value, [&](std::string_view option) {
    if (option.empty() || !chars::allOf(option, chars::kTchar)) {
      reason = "invalid Connection option";
      return false;
    }
    if (chars::equalsLower(option, "close")) {
      options.close = true;
    } else if (chars::equalsLower(option, "keep-alive")) {
      options.keepAlive = true;
    } else if (chars::equalsLower(option, "upgrade")) {
      options.upgrade = true;
    } else if (chars::equalsLower(option, "host") || chars::equalsLower(option, "content-length") ||
               chars::equalsLower(option, "transfer-encoding")) {
      reason = "Connection names a framing header";
      return false;
    }
    return true;
  });
  return reason;
}

bool validHost(std::string_view value) { return chars::allOf(value, chars::kHost); }

}  // namespace fulcrum::http
