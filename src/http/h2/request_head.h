#pragma once
// RequestFields: the field section of one HTTP/2 request as nghttp2 decodes it (pseudo-header
// fields and regular ones, field by field), gathered into storage the stream owns, then made
// into the neutral Request every filter reads. Pure: unit-tested without nghttp2.
//
// What nghttp2 already refuses before a field gets here (RFC 9113 §8.2, §8.3: uppercase names,
// connection-specific fields, TE other than "trailers", pseudo-headers out of place or
// repeated, a bad content-length) is not checked twice; what reaches the HTTP/1.1 side is
// checked here anyway: names are lowercase tchar, values hold no CR, LF or NUL and no
// leading or trailing whitespace, :path is visible ASCII. Cookie crumbs are joined with "; "
// (§8.2.3).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/message.h"
#include "config/model.h"
#include "http/stream/request.h"

namespace fulcrum::http::h2 {

class RequestFields {
 public:
  // Adds one field. False: malformed (the stream is reset with PROTOCOL_ERROR); `why` says so.
  bool add(std::string_view name, std::string_view value, std::string_view& why);
  // Bytes of names and values so far (plus 32 per field, RFC 9113 §6.5.2's accounting).
  size_t listSize() const { return list_size_; }

  // The request head, once every field is in: views into this object (valid while it lives
  // and no field is added). False: malformed; `status` 400 (or 405 for CONNECT) and `why`.
  // Dot segments in the path as the listener says (request_decoder.h).
  bool toRequest(config::DotSegments dots, Request& out, uint16_t& status, std::string_view& why);

  // The content-length the client announced (checked by nghttp2 against the DATA it sends);
  // -1 when none.
  int64_t contentLength() const { return content_length_; }

 private:
  struct Span {
    uint32_t name_at, name_len, value_at, value_len;
  };
  std::string bytes_;          // every name and value, one after the other
  std::vector<Span> fields_;   // regular fields (cookies apart), in order
  std::vector<Header> views_;  // made by toRequest
  std::string cookie_;         // the cookie crumbs joined
  std::string scratch_;        // a path with dot segments removed
  std::string_view method_, scheme_, authority_, path_;
  std::string method_store_, scheme_store_, authority_store_, path_store_;
  int64_t content_length_ = -1;
  size_t list_size_ = 0;
  bool has_cookie_ = false;
};

// A field name HTTP/1.1 can carry and HTTP/2 allows: lowercase tchar, not empty.
bool validFieldName(std::string_view name);
// A field value: no CR, LF or NUL, no leading or trailing space or tab (RFC 9113 §8.2.1).
bool validFieldValue(std::string_view value);

}  // namespace fulcrum::http::h2
