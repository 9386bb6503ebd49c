#pragma once
// Response: the head of one stream's response as every codec gives it, protocol-neutral: the
// status and the fields. No version, framing or keep-alive: the encoder toward the client
// decides those (h1/head_writer.h). Views into the codec's bytes, valid while they are.
#include <cstdint>
#include <span>
#include <string_view>

#include "codec/message.h"

namespace fulcrum::http {

struct Response {
  uint16_t status = 0;
  std::string_view reason;  // HTTP/1's reason phrase; empty = the standard one for the status
  // The fields as received, repeats kept in order; fields of one connection hop may be among
  // them (HTTP/1's Connection and those it names): encoders drop them.
  std::span<const Header> headers;
  std::string_view upgrade_protocol;  // a 101's: the protocol switched to

  // First field with this name (case-insensitive), or null.
  const Header* find(std::string_view name) const { return findField(headers, name); }
};

}  // namespace fulcrum::http
