#pragma once
// Internal: the engine behind RequestParser and ResponseParser (see parser.h for the
// contract). It finds lines with memchr, remembering how far it has looked, so every byte is
// searched once and validated once however the input is split; what it keeps between calls
// is offsets, never pointers, so the caller's buffer may move between calls.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "codec/field_rules.h"
#include "codec/limits.h"
#include "codec/message.h"

namespace fulcrum::http {

class HeadParser {
 public:
  enum class Kind : uint8_t { Request, Response };

  HeadParser(Kind kind, const Limits& limits);

  void reset(ResponseContext context);
  // New limits for the next message (a recycled parser serving another listener or config).
  void setLimits(const Limits& limits);
  ParseResult feed(std::string_view data);
  const RequestHead& request() const { return request_; }
  const ResponseHead& response() const { return response_; }

 private:
  enum class Phase : uint8_t { StartLine, Fields, Done, Failed };

  // A field line's position; 32 bits suffice under kMaxHeadLimit.
  struct FieldPos {
    uint32_t nameBegin;
    uint32_t nameLength;
    uint32_t valueBegin;
    uint32_t valueLength;
  };

  ParseResult fail(uint16_t status, std::string_view reason, size_t offset);
  // Rejects a line ending at `lineEnd` (exclusive, CRLF included) that would break a limit.
  bool checkLength(size_t lineEnd);
  bool requestLine(const char* base, size_t begin, size_t end);
  bool statusLine(const char* base, size_t begin, size_t end);
  bool requestTarget(const char* base, size_t begin, size_t end);
  bool fieldLine(const char* base, size_t begin, size_t end);
  bool addField(const char* base, const FieldSpan& span, size_t begin);
  bool applyField(std::string_view name, std::string_view value, size_t index, size_t offset);
  bool finishRequest();
  bool finishResponse();
  void fillHeaders(const char* base);

  const Kind kind_;
  size_t maxStartLine_;
  size_t maxHeaderBytes_;
  size_t maxHeaders_;
  uint64_t maxBodySize_;
  ResponseContext context_;

  Phase phase_ = Phase::StartLine;
  size_t lineStart_ = 0;    // first byte of the line being looked for
  size_t scanned_ = 0;      // no LF in [lineStart_, scanned_)
  size_t fieldsStart_ = 0;  // first byte after the start line
  ParseResult result_;      // kept once Done or Failed

  std::vector<FieldPos> fields_;
  std::vector<Header> headers_;  // views, built at Done; both reused across messages

  // Start line.
  Version version_ = Version::Http11;
  size_t methodBegin_ = 0;
  size_t methodLength_ = 0;
  size_t targetBegin_ = 0;
  size_t targetLength_ = 0;
  Method method_ = Method::Other;
  TargetForm targetForm_ = TargetForm::Origin;
  uint16_t status_ = 0;
  size_t reasonBegin_ = 0;
  size_t reasonLength_ = 0;

  // What the fields said about framing and the connection.
  bool hasContentLength_ = false;
  uint64_t contentLength_ = 0;
  size_t contentLengthOffset_ = 0;
  bool hasTransferEncoding_ = false;
  TransferCodings codings_;
  size_t transferEncodingOffset_ = 0;
  ConnectionOptions connection_;
  uint32_t hosts_ = 0;
  size_t hostField_ = 0;
  bool hasUpgrade_ = false;
  bool expectContinue_ = false;

  RequestHead request_;
  ResponseHead response_;
};

}  // namespace fulcrum::http
