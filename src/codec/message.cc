#include "codec/message.h"

#include "codec/char_class.h"
#include "codec/field_rules.h"
#include "common/ascii.h"

namespace fulcrum::http {

Method methodFromToken(std::string_view token) {
  switch (token.size()) {
    case 3:
      if (token == "GET") {
        return Method::Get;
      }
      if (token == "PUT") {
        return Method::Put;
      }
      break;
    case 4:
      if (token == "HEAD") {
        return Method::Head;
      }
      if (token == "POST") {
        return Method::Post;
      }
      break;
    case 5:
      if (token == "TRACE") {
        return Method::Trace;
      }
      if (token == "PATCH") {
        return Method::Patch;
      }
      break;
    case 6:
      if (token == "DELETE") {
        return Method::Delete;
      }
      break;
    case 7:
      if (token == "CONNECT") {
        return Method::Connect;
      }
      if (token == "OPTIONS") {
        return Method::Options;
      }
      break;
    default:
      break;
  }
  return Method::Other;
}

const Header* findField(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

bool isHopByHop(std::span<const Header> headers, std::string_view name) {
  switch (name.size()) {
    case 2:
      if (equalsIgnoreCase(name, "te")) {
        return true;
      }
      break;
    case 7:
      if (equalsIgnoreCase(name, "upgrade")) {
        return true;
      }
      break;
    case 10:
      if (equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive")) {
        return true;
      }
      break;
    case 16:
      if (equalsIgnoreCase(name, "proxy-connection")) {
        return true;
      }
      break;
    case 17:
      if (equalsIgnoreCase(name, "transfer-encoding")) {
        return true;
      }
      break;
    default:
      break;
  }
  // The parser has validated every Connection value as a list of tokens.
  for (const Header& h : headers) {
    if (h.name.size() != 10 || !chars::equalsLower(h.name, "connection")) {
      continue;
    }
    bool listed = false;
    forEachListElement(h.value, [&](std::string_view option) {
      listed = equalsIgnoreCase(option, name);
      return !listed;
    });
    if (listed) {
      return true;
    }
  }
  return false;
}

}  // namespace fulcrum::http
