#include "http/h1/head_writer.h"

#include <algorithm>

#include "common/ascii.h"

namespace fulcrum::http {

namespace {

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return equalsIgnoreCase(n, name); });
}

bool listedValue(const std::vector<config::HeaderValue>& values, std::string_view name) {
  return std::any_of(values.begin(), values.end(),
                     [&](const config::HeaderValue& v) { return equalsIgnoreCase(v.name, name); });
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Fields from `head` that survive: not hop-by-hop, not framing, not edited away.
template <typename Skip>
void copyFields(std::string& out, const MessageHead& head, const config::HeaderEdits* edits, Skip skip) {
  for (const Header& h : head.headers) {
    if (head.isHopByHop(h.name) || equalsIgnoreCase(h.name, "content-length") || skip(h)) {
      continue;
    }
    if (edits && (listed(edits->remove, h.name) || listedValue(edits->set, h.name))) {
      continue;
    }
    field(out, h.name, h.value);
  }
}

void applyEdits(std::string& out, const config::HeaderEdits* edits) {
  if (!edits) {
    return;
  }
  for (const auto& v : edits->set) {
    field(out, v.name, v.value);
  }
  for (const auto& v : edits->add) {
    field(out, v.name, v.value);
  }
}

void appendNumber(std::string& out, uint64_t n) {
  char buf[24];
  size_t i = sizeof buf;
  do {
    buf[--i] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n);
  out.append(buf + i, sizeof buf - i);
}

// The one framing field of a message that has a body.
void writeFraming(std::string& out, const BodyFraming& body) {
  if (body.kind == BodyKind::ContentLength) {
    out.append("Content-Length: ");
    appendNumber(out, body.length);
    out.append("\r\n");
  } else if (body.kind == BodyKind::Chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
}

}  // namespace

void writeRequestHead(std::string& out, const ForwardParams& p) {
  const Request& req = *p.request;
  static const FieldEdits kNone;
  const FieldEdits& fe = p.edits ? *p.edits : kNone;
  const config::HeaderEdits* edits = fe.edits;
  out.append(req.method);
  out.push_back(' ');
  if (req.uri.empty() || req.uri.front() == '?') {
    out.push_back('/');  // "http://h?q" is "/?q" in origin form
  }
  out.append(req.uri);
  // Our own version, whatever the client's (RFC 9110 §6.2): an HTTP/1.0 client's request is an
  // HTTP/1.1 request to the server, on a pooled connection like any other.
  out.append(" HTTP/1.1\r\n");
  // The authority routing used (an absolute target's wins over Host, RFC 9112 §3.2.2), port included.
  field(out, "Host", fe.authority.empty() ? req.authority : fe.authority);  // HTTP/1.1 requires it, even empty
  for (const Header& h : req.headers) {
    if (isHopByHop(req.headers, h.name) || equalsIgnoreCase(h.name, "content-length") ||
        equalsIgnoreCase(h.name, "host") || fe.removes(h.name)) {
      continue;
    }
    if (edits && (listed(edits->remove, h.name) || listedValue(edits->set, h.name))) {
      continue;
    }
    field(out, h.name, h.value);
  }
  writeFraming(out, p.framing);
  if (req.upgrade) {
    field(out, "Connection", "upgrade");
    field(out, "Upgrade", req.upgrade_protocol);
  }
  for (size_t i = 0; i < fe.added_count; ++i) {
    const FieldEdits::Added& a = fe.added[i];
    out.append(a.name);
    out.append(": ");
    if (!a.prefix.empty()) {
      out.append(a.prefix);
      out.append(", ");
    }
    out.append(a.value);
    out.append("\r\n");
  }
  applyEdits(out, edits);
  out.append("\r\n");
}

void writeResponseHead(std::string& out, const ResponseParams& p) {
  const ResponseHead& head = *p.head;
  out.append("HTTP/1.1 ");
  appendNumber(out, head.status);
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n");
  bool bodiless = head.body.kind == BodyKind::None;
  for (const Header& h : head.headers) {
    bool framing = equalsIgnoreCase(h.name, "content-length");
    // A bodiless response (HEAD, 304) keeps the length it describes.
    if (framing && bodiless && head.status != 204 && head.status >= 200) {
      field(out, h.name, h.value);
    }
  }
  copyFields(out, head, p.edits, [](const Header&) { return false; });
  writeFraming(out, p.framing ? *p.framing : head.body);
  if (head.status == 101) {
    if (const Header* up = head.find("upgrade")) {
      field(out, "Connection", "upgrade");
      field(out, "Upgrade", up->value);
    }
  } else if (p.close) {
    out.append("Connection: close\r\n");
  } else if (p.client_http10) {
    out.append("Connection: keep-alive\r\n");
  }
  if (!p.set_cookie.empty()) {
    field(out, "Set-Cookie", p.set_cookie);
  }
  applyEdits(out, p.edits);
  out.append("\r\n");
}

void writeLocalResponse(std::string& out, const LocalResponse& r) {
  out.append("HTTP/1.1 ");
  appendNumber(out, r.status);
  out.push_back(' ');
  out.append(reasonPhrase(r.status));
  out.append("\r\n");
  if (!r.body.empty() || r.status >= 200) {
    if (r.status != 204 && r.status != 304) {
      field(out, "Content-Type", r.content_type);
      out.append("Content-Length: ");
      appendNumber(out, r.body.size());
      out.append("\r\n");
    }
  }
  out.append(r.extra);
  if (r.close) {
    out.append("Connection: close\r\n");
  } else if (r.client_http10) {
    out.append("Connection: keep-alive\r\n");
  }
  if (r.edits) {
    for (const auto& v : r.edits->set) field(out, v.name, v.value);
    for (const auto& v : r.edits->add) field(out, v.name, v.value);
  }
  out.append("\r\n");
  if (!r.head_request && r.status != 204 && r.status != 304) {
    out.append(r.body);
  }
}

std::string_view reasonPhrase(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string errorBody(uint16_t status) {
  std::string body = std::to_string(status);
  body.push_back(' ');
  body.append(reasonPhrase(status));
  body.push_back('\n');
  return body;
}

}  // namespace fulcrum::http
