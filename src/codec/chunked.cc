#include "codec/chunked.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codec/char_class.h"

namespace fulcrum::http {
namespace {

constexpr uint64_t kMaxChunkSize = UINT64_C(0x7fffffffffffffff);
constexpr uint32_t kMaxSizeDigits = 256;  // hex digits of one size, leading zeros included

}  // namespace

ChunkedDecoder::ChunkedDecoder(const Limits& limits)
    : maxExtension_(limits.maxChunkExtension),
      maxTrailerBytes_(std::min(limits.maxTrailerBytes, kMaxHeadLimit)),
      maxTrailers_(std::min(limits.maxTrailers, kMaxHeadLimit)),
      maxBodySize_(limits.maxBodySize) {}

void ChunkedDecoder::reset() {
  state_ = State::SizeStart;
  size_ = 0;
  digits_ = 0;
  extension_ = 0;
  remaining_ = 0;
  bodySize_ = 0;
  before_ = 0;
  result_ = {};
  lineStart_ = 0;
  scanned_ = 0;
  fields_.clear();
  trailers_.clear();
}

ChunkResult ChunkedDecoder::fail(uint16_t status, std::string_view reason, size_t offset) {
  state_ = State::Failed;
  result_ = {};
  result_.status = ChunkStatus::Error;
  result_.error = {status, reason, static_cast<size_t>(before_ + offset)};
  return result_;
}

ChunkResult ChunkedDecoder::decode(std::string_view input) {
  if (state_ == State::Done || state_ == State::Failed) {
    return result_;
  }
  if (state_ == State::Trailers) {
    return trailers(input, 0);
  }
  const size_t n = input.size();
  size_t p = 0;
  while (p < n) {
    const char c = input[p];
    switch (state_) {
      case State::SizeStart:
        if (!chars::is(c, chars::kHex)) {
          return fail(400, "invalid chunk size", p);
        }
        size_ = static_cast<uint64_t>(chars::hexValue(c));
        digits_ = 1;
        extension_ = 0;
        state_ = State::Size;
        break;
      case State::Size:
        if (chars::is(c, chars::kHex)) {
          // Leading zeros are valid (RFC 9112 §7.1): the value is bounded, and the digits only
          // loosely, so that a size line cannot grow without end.
          if (++digits_ > kMaxSizeDigits) {
            return fail(400, "chunk size too long", p);
          }
          uint64_t digit = static_cast<uint64_t>(chars::hexValue(c));
          if (size_ > (kMaxChunkSize - digit) / 16) {
            return fail(400, "chunk size too large", p);
          }
          size_ = size_ * 16 + digit;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == ';') {
          if (++extension_ > maxExtension_) {
            return fail(400, "chunk extension too long", p);
          }
          state_ = State::ExtStart;
        } else {
          return fail(400, c == '\n' ? "bare LF" : "invalid character in chunk size", p);
        }
        break;
      case State::SizeLf:
        if (c != '\n') {
          return fail(400, "bare CR", p);
        }
        if (size_ == 0) {
          state_ = State::Trailers;
          lineStart_ = 0;
          scanned_ = 0;
          return trailers(input, p + 1);
        }
        if (size_ > maxBodySize_ - bodySize_) {
          return fail(413, "body too large", p);
        }
        bodySize_ += size_;
        remaining_ = size_;
        state_ = State::Data;
        break;
      case State::Data: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - p));
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = State::DataCr;
        }
        ChunkResult r;
        r.status = ChunkStatus::Data;
        r.consumed = p + take;
        r.data = input.substr(p, take);
        before_ += r.consumed;
        return r;
      }
      case State::DataCr:
        if (c != '\r') {
          return fail(400, "missing CRLF after chunk data", p);
        }
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (c != '\n') {
          return fail(400, "bare CR", p);
        }
        state_ = State::SizeStart;
        break;
      default: {
        // Extensions: skipped, but only well-formed and bounded ones (the CR ends them).
        if (c != '\r' && ++extension_ > maxExtension_) {
          return fail(400, "chunk extension too long", p);
        }
        switch (state_) {
          case State::ExtStart:
            if (!chars::is(c, chars::kTchar)) {
              return fail(400, "invalid chunk extension", p);
            }
            state_ = State::ExtName;
            break;
          case State::ExtName:
          case State::ExtToken:
            if (c == '=' && state_ == State::ExtName) {
              state_ = State::ExtValueStart;
            } else if (c == ';') {
              state_ = State::ExtStart;
            } else if (c == '\r') {
              state_ = State::SizeLf;
            } else if (!chars::is(c, chars::kTchar)) {
              return fail(400, "invalid chunk extension", p);
            }
            break;
          case State::ExtValueStart:
            if (c == '"') {
              state_ = State::ExtQuoted;
            } else if (chars::is(c, chars::kTchar)) {
              state_ = State::ExtToken;
            } else {
              return fail(400, "invalid chunk extension", p);
            }
            break;
          case State::ExtQuoted:
            if (c == '"') {
              state_ = State::ExtQuoteEnd;
            } else if (c == '\\') {
              state_ = State::ExtQuotedPair;
            } else if (!chars::is(c, chars::kQdtext)) {
              return fail(400, "invalid chunk extension", p);
            }
            break;
          case State::ExtQuotedPair:
            if (!chars::is(c, chars::kField)) {
              return fail(400, "invalid chunk extension", p);
            }
            state_ = State::ExtQuoted;
            break;
          case State::ExtQuoteEnd:
            if (c == ';') {
              state_ = State::ExtStart;
            } else if (c == '\r') {
              state_ = State::SizeLf;
            } else {
              return fail(400, "invalid chunk extension", p);
            }
            break;
          default:
            std::abort();  // every other state is handled above
        }
        break;
      }
    }
    ++p;
  }
  before_ += n;
  ChunkResult r;
  r.consumed = n;
  return r;
}

bool ChunkedDecoder::checkTrailerLength(size_t lineEnd, size_t start) {
  if (lineEnd > maxTrailerBytes_) {
    fail(431, "trailer section too large", start + maxTrailerBytes_);
    return false;
  }
  return true;
}

ChunkResult ChunkedDecoder::trailers(std::string_view input, size_t start) {
  const char* const base = input.data() + start;
  const size_t size = input.size() - start;
  if (size < scanned_) {
    std::fprintf(stderr, "http::ChunkedDecoder: trailer bytes not re-presented (%zu < %zu)\n", size,
                 scanned_);
    std::abort();
  }
  while (true) {
    const void* found = std::memchr(base + scanned_, '\n', size - scanned_);
    if (found == nullptr) {
      scanned_ = size;
      if (!checkTrailerLength(size + 1, start)) {
        return result_;
      }
      // Only the bytes before the trailer section are consumed; the caller keeps the rest.
      before_ += start;
      ChunkResult r;
      r.consumed = start;
      return r;
    }
    const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - base);
    scanned_ = lf + 1;
    if (!checkTrailerLength(lf + 1, start)) {
      return result_;
    }
    if (lf == lineStart_ || base[lf - 1] != '\r') {
      return fail(400, "bare LF", start + lf);
    }
    const size_t begin = lineStart_;
    const size_t end = lf - 1;
    lineStart_ = lf + 1;
    if (begin == end) {
      break;
    }
    if (fields_.size() >= maxTrailers_) {
      return fail(431, "too many trailer fields", start + begin);
    }
    FieldSpan span;
    if (FieldCheck check = parseFieldLine(base, begin, end, span); !check.ok()) {
      return fail(400, check.reason, start + check.offset);
    }
    const std::string_view name(base + span.nameBegin, span.nameEnd - span.nameBegin);
    if (chars::equalsLower(name, "content-length") || chars::equalsLower(name, "transfer-encoding") ||
        chars::equalsLower(name, "host")) {
      return fail(400, "framing field in trailers", start + begin);
    }
    fields_.push_back(FieldPos{
        static_cast<uint32_t>(span.nameBegin), static_cast<uint32_t>(span.nameEnd - span.nameBegin),
        static_cast<uint32_t>(span.valueBegin), static_cast<uint32_t>(span.valueEnd - span.valueBegin)});
  }
  trailers_.clear();
  for (const FieldPos& f : fields_) {
    trailers_.push_back(Header{std::string_view(base + f.nameBegin, f.nameLength),
                               std::string_view(base + f.valueBegin, f.valueLength)});
  }
  state_ = State::Done;
  result_ = {};
  result_.status = ChunkStatus::Done;
  result_.consumed = start + lineStart_;
  before_ += result_.consumed;
  // Later calls return Done with nothing more consumed.
  ChunkResult r = result_;
  result_.consumed = 0;
  return r;
}

}  // namespace fulcrum::http
