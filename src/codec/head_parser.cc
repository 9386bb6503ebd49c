#include "codec/head_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codec/char_class.h"

namespace fulcrum::http {
namespace {

size_t clampLimit(size_t v) { return std::min(v, kMaxHeadLimit); }

// "HTTP/" DIGIT "." DIGIT: a version we can name but may not support (→ 505).
bool looksLikeVersion(const char* p, size_t n) {
  return n == 8 && std::memcmp(p, "HTTP/", 5) == 0 && chars::is(p[5], chars::kDigit) && p[6] == '.' &&
         chars::is(p[7], chars::kDigit);
}

// Returns true and sets `version` for exactly "HTTP/1.1" or "HTTP/1.0".
bool supportedVersion(const char* p, size_t n, Version& version) {
  if (n != 8 || std::memcmp(p, "HTTP/1.", 7) != 0) {
    return false;
  }
  if (p[7] == '1') {
    version = Version::Http11;
    return true;
  }
  if (p[7] == '0') {
    version = Version::Http10;
    return true;
  }
  return false;
}

}  // namespace

HeadParser::HeadParser(Kind kind, const Limits& limits)
    : kind_(kind),
      maxStartLine_(clampLimit(limits.maxRequestLine)),
      maxHeaderBytes_(clampLimit(limits.maxHeaderBytes)),
      maxHeaders_(clampLimit(limits.maxHeaders)),
      maxBodySize_(limits.maxBodySize) {
  // Enough for ordinary messages; growth beyond persists, so steady state never allocates.
  fields_.reserve(std::min<size_t>(maxHeaders_, 32));
  headers_.reserve(std::min<size_t>(maxHeaders_, 32));
}

void HeadParser::setLimits(const Limits& limits) {
  maxStartLine_ = clampLimit(limits.maxRequestLine);
  maxHeaderBytes_ = clampLimit(limits.maxHeaderBytes);
  maxHeaders_ = clampLimit(limits.maxHeaders);
  maxBodySize_ = limits.maxBodySize;
}

void HeadParser::reset(ResponseContext context) {
  context_ = context;
  phase_ = Phase::StartLine;
  lineStart_ = 0;
  scanned_ = 0;
  fieldsStart_ = 0;
  result_ = {};
  version_ = Version::Http11;
  methodBegin_ = methodLength_ = targetBegin_ = targetLength_ = 0;
  method_ = Method::Other;
  targetForm_ = TargetForm::Origin;
  status_ = 0;
  reasonBegin_ = reasonLength_ = 0;
  hasContentLength_ = false;
  contentLength_ = 0;
  contentLengthOffset_ = 0;
  hasTransferEncoding_ = false;
  codings_ = {};
  transferEncodingOffset_ = 0;
  connection_ = {};
  hosts_ = 0;
  hostField_ = 0;
  hasUpgrade_ = false;
  expectContinue_ = false;
  request_ = {};
  response_ = {};
  fields_.clear();  // keeps the capacity
  headers_.clear();
}

ParseResult HeadParser::fail(uint16_t status, std::string_view reason, size_t offset) {
  phase_ = Phase::Failed;
  result_.status = ParseStatus::Error;
  result_.consumed = 0;
  // A malformed response is the upstream's fault: the client is answered 502 whatever it was.
  result_.error = {kind_ == Kind::Response ? uint16_t{502} : status, reason, offset};
  return result_;
}

bool HeadParser::checkLength(size_t lineEnd) {
  if (phase_ == Phase::StartLine) {
    if (lineEnd > maxStartLine_) {
      fail(414, kind_ == Kind::Request ? "request line too long" : "status line too long", maxStartLine_);
      return false;
    }
  } else if (lineEnd - fieldsStart_ > maxHeaderBytes_) {
    fail(431, "header section too large", fieldsStart_ + maxHeaderBytes_);
    return false;
  }
  return true;
}

ParseResult HeadParser::feed(std::string_view data) {
  if (phase_ == Phase::Done || phase_ == Phase::Failed) {
    return result_;
  }
  if (data.size() < scanned_) {
    // The contract is "the same bytes again, possibly more": anything else is a caller bug.
    std::fprintf(stderr, "http::HeadParser: input shrank from %zu to %zu bytes\n", scanned_, data.size());
    std::abort();
  }
  const char* const base = data.data();
  const size_t size = data.size();
  while (true) {
    if (phase_ == Phase::Fields && scanned_ == lineStart_) {
      // Fast path: a whole valid field line found and checked in one pass. Anything else
      // (partial, invalid, the empty line) goes the slow way below.
      FieldSpan span;
      size_t cr = 0;
      if (scanFieldLine(base, lineStart_, size, span, cr) && cr + 2 - fieldsStart_ <= maxHeaderBytes_ &&
          fields_.size() < maxHeaders_) {
        const size_t begin = lineStart_;
        lineStart_ = scanned_ = cr + 2;
        if (!addField(base, span, begin)) {
          return result_;
        }
        continue;
      }
    }
    const char* found = chars::findLf(base + scanned_, base + size, base);
    if (found == nullptr) {
      scanned_ = size;
      // The line, once complete, will end past at least one more byte (its LF): fail now if
      // that breaks a limit, else NeedMore.
      checkLength(size + 1);
      return result_;
    }
    const size_t lf = static_cast<size_t>(found - base);
    scanned_ = lf + 1;
    if (!checkLength(lf + 1)) {
      return result_;
    }
    if (lf == lineStart_ || base[lf - 1] != '\r') {
      return fail(400, "bare LF", lf);
    }
    const size_t begin = lineStart_;
    const size_t end = lf - 1;
    lineStart_ = lf + 1;
    if (phase_ == Phase::StartLine) {
      if (begin == end && kind_ == Kind::Request) {
        continue;  // RFC 9112 §2.2: ignore empty lines before the request line.
      }
      if (!(kind_ == Kind::Request ? requestLine(base, begin, end) : statusLine(base, begin, end))) {
        return result_;
      }
      phase_ = Phase::Fields;
      fieldsStart_ = lineStart_;
      continue;
    }
    if (begin != end) {
      if (!fieldLine(base, begin, end)) {
        return result_;
      }
      continue;
    }
    // The empty line: the head is complete.
    if (!(kind_ == Kind::Request ? finishRequest() : finishResponse())) {
      return result_;
    }
    fillHeaders(base);
    phase_ = Phase::Done;
    result_.status = ParseStatus::Done;
    result_.consumed = lineStart_;
    return result_;
  }
}

bool HeadParser::requestLine(const char* base, size_t begin, size_t end) {
  size_t p = begin;
  while (p < end && chars::is(base[p], chars::kTchar)) {
    ++p;
  }
  if (p == begin || p == end || base[p] != ' ') {
    fail(400, p < end && base[p] == '\r' ? "bare CR" : "invalid method", p);
    return false;
  }
  methodBegin_ = begin;
  methodLength_ = p - begin;
  method_ = methodFromToken(std::string_view(base + begin, methodLength_));

  const size_t target = ++p;
  p = static_cast<size_t>(chars::skipVchar(base + p, base + end, base) - base);
  if (p == target || p == end || base[p] != ' ') {
    fail(400, p < end && base[p] == '\r' ? "bare CR" : "invalid request-target", p);
    return false;
  }
  if (!requestTarget(base, target, p)) {
    return false;
  }

  const size_t version = ++p;
  if (!supportedVersion(base + version, end - version, version_)) {
    if (looksLikeVersion(base + version, end - version)) {
      fail(505, "unsupported HTTP version", version);
    } else {
      fail(400, "invalid HTTP version", version);
    }
    return false;
  }
  return true;
}

bool HeadParser::requestTarget(const char* base, size_t begin, size_t end) {
  targetBegin_ = begin;
  targetLength_ = end - begin;
  const std::string_view target(base + begin, end - begin);
  if (method_ == Method::Connect) {
    // authority-form: host ":" port, nothing else.
    const size_t colon = target.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size() ||
        !validHost(target.substr(0, colon)) || !chars::allOf(target.substr(colon + 1), chars::kDigit)) {
      fail(400, "CONNECT needs an authority-form target", begin);
      return false;
    }
    targetForm_ = TargetForm::Authority;
    return true;
  }
  if (target[0] == '/') {
    targetForm_ = TargetForm::Origin;
    return true;
  }
  if (target == "*") {
    if (method_ != Method::Options) {
      fail(400, "asterisk-form target outside OPTIONS", begin);
      return false;
    }
    targetForm_ = TargetForm::Asterisk;
    return true;
  }
  // absolute-form: scheme ":" ...
  size_t i = 0;
  if (!chars::isAlpha(static_cast<unsigned char>(target[0]))) {
    fail(400, "invalid request-target", begin);
    return false;
  }
  while (i < target.size() && chars::is(target[i], chars::kScheme)) {
    ++i;
  }
  if (i == target.size() || target[i] != ':') {
    fail(400, "invalid request-target", begin + i);
    return false;
  }
  targetForm_ = TargetForm::Absolute;
  return true;
}

bool HeadParser::statusLine(const char* base, size_t begin, size_t end) {
  const size_t n = end - begin;
  const size_t versionLength = std::min<size_t>(n, 8);
  if (!supportedVersion(base + begin, versionLength, version_)) {
    fail(502,
         looksLikeVersion(base + begin, versionLength) ? "unsupported HTTP version" : "invalid status line",
         begin);
    return false;
  }
  // SP 3DIGIT, then the end or SP reason-phrase.
  const char* s = base + begin + 8;
  if (n < 12 || s[0] != ' ' || !chars::is(s[1], chars::kDigit) || !chars::is(s[2], chars::kDigit) ||
      !chars::is(s[3], chars::kDigit) || (n > 12 && s[4] != ' ')) {
    fail(502, "invalid status line", begin + 8);
    return false;
  }
  status_ = static_cast<uint16_t>((s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
  if (status_ < 100 || status_ > 599) {
    fail(502, "status code out of range", begin + 9);
    return false;
  }
  reasonBegin_ = n > 12 ? begin + 13 : end;
  if (const char* bad = chars::skipFieldValue(base + reasonBegin_, base + end, base); bad != base + end) {
    fail(502, *bad == '\r' ? "bare CR" : "invalid character in reason phrase",
         static_cast<size_t>(bad - base));
    return false;
  }
  reasonLength_ = end - reasonBegin_;
  return true;
}

bool HeadParser::fieldLine(const char* base, size_t begin, size_t end) {
  if (fields_.size() >= maxHeaders_) {
    fail(431, "too many header fields", begin);
    return false;
  }
  FieldSpan span;
  if (FieldCheck check = parseFieldLine(base, begin, end, span); !check.ok()) {
    fail(400, check.reason, check.offset);
    return false;
  }
  return addField(base, span, begin);
}

bool HeadParser::addField(const char* base, const FieldSpan& span, size_t begin) {
  fields_.push_back(FieldPos{
      static_cast<uint32_t>(span.nameBegin), static_cast<uint32_t>(span.nameEnd - span.nameBegin),
      static_cast<uint32_t>(span.valueBegin), static_cast<uint32_t>(span.valueEnd - span.valueBegin)});
  return applyField(std::string_view(base + span.nameBegin, span.nameEnd - span.nameBegin),
                    std::string_view(base + span.valueBegin, span.valueEnd - span.valueBegin),
                    fields_.size() - 1, begin);
}

bool HeadParser::applyField(std::string_view name, std::string_view value, size_t index, size_t offset) {
  std::string_view reason;
  // Length first: most fields are none of these and cost one switch.
  switch (name.size()) {
    case 4:
      if (kind_ == Kind::Request && chars::equalsLower(name, "host")) {
        if (++hosts_ > 1) {
          reason = "more than one Host";
        } else if (!validHost(value)) {
          reason = "invalid Host";
        }
        hostField_ = index;
      }
      break;
    case 6:
      if (kind_ == Kind::Request && chars::equalsLower(name, "expect") &&
          chars::equalsLower(value, "100-continue")) {
        expectContinue_ = true;
      }
      break;
    case 7:
      if (chars::equalsLower(name, "upgrade")) {
        hasUpgrade_ = true;
      }
      break;
    case 10:
      if (chars::equalsLower(name, "connection")) {
        reason = addConnectionOptions(value, connection_);
      }
      break;
    case 14:
      if (chars::equalsLower(name, "content-length")) {
        uint64_t n = 0;
        reason = parseContentLength(value, n);
        if (reason.empty() && hasContentLength_ && n != contentLength_) {
          reason = "conflicting Content-Length values";
        }
        if (!hasContentLength_) {
          contentLengthOffset_ = offset;
        }
        hasContentLength_ = true;
        contentLength_ = n;
      }
      break;
    case 17:
      if (chars::equalsLower(name, "transfer-encoding")) {
        if (!hasTransferEncoding_) {
          transferEncodingOffset_ = offset;
        }
        hasTransferEncoding_ = true;
        reason = addTransferCodings(value, codings_);
      }
      break;
    default:
      break;
  }
  if (!reason.empty()) {
    fail(400, reason, offset);
    return false;
  }
  return true;
}

bool HeadParser::finishRequest() {
  const bool http11 = version_ == Version::Http11;
  if (http11 && hosts_ == 0) {
    fail(400, "missing Host", lineStart_ - 2);
    return false;
  }
  BodyFraming body;
  if (hasTransferEncoding_) {
    // RFC 9112 §6.1-6.3; every case a peer could read differently is refused.
    const size_t at = transferEncodingOffset_;
    if (hasContentLength_) {
      fail(400, "both Content-Length and Transfer-Encoding", std::max(at, contentLengthOffset_));
      return false;
    }
    if (!http11) {
      fail(400, "Transfer-Encoding in HTTP/1.0", at);
      return false;
    }
    if (codings_.chunked > 1) {
      fail(400, "chunked applied more than once", at);
      return false;
    }
    if (!codings_.chunkedLast) {
      fail(400, "chunked is not the final transfer coding", at);
      return false;
    }
    if (codings_.other) {
      fail(501, "unsupported transfer coding", at);
      return false;
    }
    body.kind = BodyKind::Chunked;
  } else if (hasContentLength_) {
    if (contentLength_ > maxBodySize_) {
      fail(413, "body too large", contentLengthOffset_);
      return false;
    }
    body = {BodyKind::ContentLength, contentLength_};
  }

  RequestHead& r = request_;
  r.version = version_;
  r.body = body;
  r.keepAlive = http11 ? !connection_.close : (connection_.keepAlive && !connection_.close);
  r.upgrade = http11 && connection_.upgrade && hasUpgrade_;
  r.methodId = method_;
  r.targetForm = targetForm_;
  r.expectContinue = http11 && expectContinue_;
  return true;
}

bool HeadParser::finishResponse() {
  const bool http11 = version_ == Version::Http11;
  if (hasTransferEncoding_ && hasContentLength_) {
    fail(502, "both Content-Length and Transfer-Encoding",
         std::max(transferEncodingOffset_, contentLengthOffset_));
    return false;
  }
  if (hasTransferEncoding_ && !http11) {
    fail(502, "Transfer-Encoding in HTTP/1.0", transferEncodingOffset_);
    return false;
  }
  if (codings_.chunked > 1) {
    fail(502, "chunked applied more than once", transferEncodingOffset_);
    return false;
  }
  BodyFraming body;
  bool upgrade = false;
  if (status_ < 200 || status_ == 204) {
    // Never a body. "Content-Length: 0" is tolerated (common on 204), other framing is not.
    if (hasTransferEncoding_ || (hasContentLength_ && contentLength_ != 0)) {
      fail(502, "framing fields in a 1xx or 204 response",
           hasTransferEncoding_ ? transferEncodingOffset_ : contentLengthOffset_);
      return false;
    }
    if (status_ == 101) {
      if (!hasUpgrade_) {
        fail(502, "101 without Upgrade", lineStart_ - 2);
        return false;
      }
      upgrade = true;
    }
  } else if (context_.headRequest || status_ == 304 || (context_.connectRequest && status_ < 300)) {
    body.kind = BodyKind::None;
  } else if (hasTransferEncoding_) {
    // RFC 9112 §6.3 rule 4: a final coding other than chunked means "read until close".
    body.kind = codings_.chunkedLast ? BodyKind::Chunked : BodyKind::UntilClose;
  } else if (hasContentLength_) {
    if (contentLength_ > maxBodySize_) {
      fail(502, "body too large", contentLengthOffset_);
      return false;
    }
    body = {BodyKind::ContentLength, contentLength_};
  } else {
    body.kind = BodyKind::UntilClose;
  }

  ResponseHead& r = response_;
  r.version = version_;
  r.body = body;
  r.keepAlive = body.kind != BodyKind::UntilClose &&
                (http11 ? !connection_.close : (connection_.keepAlive && !connection_.close));
  r.upgrade = upgrade;
  r.status = status_;
  return true;
}

void HeadParser::fillHeaders(const char* base) {
  headers_.clear();
  for (const FieldPos& f : fields_) {
    headers_.push_back(Header{std::string_view(base + f.nameBegin, f.nameLength),
                              std::string_view(base + f.valueBegin, f.valueLength)});
  }
  if (kind_ == Kind::Request) {
    request_.headers = headers_;
    request_.method = std::string_view(base + methodBegin_, methodLength_);
    request_.target = std::string_view(base + targetBegin_, targetLength_);
    request_.host = hosts_ > 0 ? headers_[hostField_].value : std::string_view();
  } else {
    response_.headers = headers_;
    response_.reason = std::string_view(base + reasonBegin_, reasonLength_);
  }
}

}  // namespace fulcrum::http
