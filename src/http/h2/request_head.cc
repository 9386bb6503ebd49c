#include "http/h2/request_head.h"

#include <charconv>

#include "codec/field_rules.h"
#include "http/h1/request_decoder.h"

namespace fulcrum::http::h2 {

namespace {

bool isTchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// :path of a request other than OPTIONS *: visible ASCII from "/" on, no fragment.
bool validPath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f || c == '#') {
      return false;
    }
  }
  return true;
}

bool validMethod(std::string_view method) {
  if (method.empty()) {
    return false;
  }
  for (unsigned char c : method) {
    if (!isTchar(c) && !(c >= 'A' && c <= 'Z')) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool validFieldName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (unsigned char c : name) {
    if (!isTchar(c)) {
      return false;
    }
  }
  return true;
}

bool validFieldValue(std::string_view value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return false;
    }
  }
  auto ws = [](char c) { return c == ' ' || c == '\t'; };
  return value.empty() || (!ws(value.front()) && !ws(value.back()));
}

bool RequestFields::add(std::string_view name, std::string_view value, std::string_view& why) {
  list_size_ += name.size() + value.size() + 32;
  if (!validFieldValue(value)) {
    why = "invalid field value";
    return false;
  }
  if (!name.empty() && name.front() == ':') {
    auto set = [&](std::string& store, std::string_view& view) {
      if (!view.empty() || !store.empty()) {
        why = "repeated pseudo-header field";
        return false;
      }
      store.assign(value);
      view = store;
      return true;
    };
    if (!fields_.empty() || has_cookie_) {
      why = "pseudo-header field after a regular one";
      return false;
    }
    if (name == ":method") return set(method_store_, method_);
    if (name == ":scheme") return set(scheme_store_, scheme_);
    if (name == ":authority") return set(authority_store_, authority_);
    if (name == ":path") return set(path_store_, path_);
    why = "unknown pseudo-header field";
    return false;
  }
  if (!validFieldName(name)) {
    why = "invalid field name";
    return false;
  }
  if (name == "cookie") {
    // §8.2.3: crumbs sent as separate fields are one Cookie field to HTTP/1.1.
    if (has_cookie_) {
      cookie_.append("; ");
    }
    cookie_.append(value);
    has_cookie_ = true;
    return true;
  }
  if (name == "content-length") {
    int64_t n = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 0 ||
        (content_length_ >= 0 && content_length_ != n)) {
      why = "invalid content-length";
      return false;
    }
    content_length_ = n;
    return true;  // framing is written anew toward the server
  }
  Span s;
  s.name_at = static_cast<uint32_t>(bytes_.size());
  s.name_len = static_cast<uint32_t>(name.size());
  bytes_.append(name);
  s.value_at = static_cast<uint32_t>(bytes_.size());
  s.value_len = static_cast<uint32_t>(value.size());
  bytes_.append(value);
  fields_.push_back(s);
  return true;
}

bool RequestFields::toRequest(config::DotSegments dots, Request& out, uint16_t& status, std::string_view& why) {
  out = Request{};
  status = 400;
  if (method_ == "CONNECT") {
    status = 405;  // (extended CONNECT is not enabled: no :protocol)
    why = "CONNECT is not supported";
    return false;
  }
  if (method_.empty() || scheme_.empty() || path_.empty()) {
    why = "missing pseudo-header field";  // (§8.3.1; nghttp2 checks it too)
    return false;
  }
  if (!validMethod(method_)) {
    why = "invalid method";
    return false;
  }
  views_.clear();
  views_.reserve(fields_.size() + 1);
  std::string_view host;
  for (const Span& s : fields_) {
    Header h{std::string_view(bytes_).substr(s.name_at, s.name_len),
             std::string_view(bytes_).substr(s.value_at, s.value_len)};
    if (h.name == "host") {
      if (!host.empty()) {
        why = "repeated host";
        return false;
      }
      host = h.value;
    }
    views_.push_back(h);
  }
  if (has_cookie_) {
    views_.push_back(Header{"cookie", cookie_});
  }
  // §8.3.1: :authority, else Host; they name the same when both are there (the server is told
  // :authority, Host fields are dropped by the head writer).
  std::string_view authority = authority_.empty() ? host : authority_;
  if (!validHost(authority) || authority.find('@') != std::string_view::npos) {
    why = "invalid authority";
    return false;
  }
  out.method = method_;
  out.method_id = methodFromToken(method_);
  out.scheme = scheme_;
  out.authority = authority;
  out.host = stripPort(authority);
  out.headers = views_;
  if (path_ == "*") {
    if (out.method_id != Method::Options) {
      why = "asterisk path on a method other than OPTIONS";
      return false;
    }
    out.path = "*";
    out.uri = path_;
    return true;
  }
  if (!validPath(path_)) {
    why = "invalid :path";
    return false;
  }
  size_t q = path_.find('?');
  out.uri = path_;
  out.path = path_.substr(0, q);
  if (q != std::string_view::npos) {
    out.query = path_.substr(q + 1);
  }
  if (dots == config::DotSegments::Forward || !hasDotSegment(out.path)) {
    return true;
  }
  if (dots == config::DotSegments::Reject) {
    why = "dot segment in the path";
    return false;
  }
  scratch_.clear();
  removeDotSegments(out.path, scratch_);
  size_t pathLength = scratch_.size();
  if (q != std::string_view::npos) {
    scratch_.append(path_.substr(q));
  }
  out.uri = scratch_;
  out.path = out.uri.substr(0, pathLength);
  return true;
}

}  // namespace fulcrum::http::h2
