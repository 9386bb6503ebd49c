#include "http/h1/request_decoder.h"

#include "codec/field_rules.h"
#include "common/ascii.h"

namespace fulcrum::http {

std::string_view stripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

namespace {

bool isDot(std::string_view seg) { return seg == "." || equalsIgnoreCase(seg, "%2e"); }

bool isDotDot(std::string_view seg) {
  return seg == ".." || equalsIgnoreCase(seg, "%2e%2e") || equalsIgnoreCase(seg, ".%2e") ||
         equalsIgnoreCase(seg, "%2e.");
}

// Calls f(segment, last) for each segment of an absolute path ("/a//b/" has "a", "", "b", "").
template <class F>
void forEachSegment(std::string_view path, F&& f) {
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i + 1);
    bool last = next == std::string_view::npos;
    if (!f(path.substr(i + 1, last ? std::string_view::npos : next - i - 1), last) || last) {
      return;
    }
    i = next;
  }
}

}  // namespace

bool hasDotSegment(std::string_view path) {
  bool found = false;
  forEachSegment(path, [&](std::string_view seg, bool) {
    found = isDot(seg) || isDotDot(seg);
    return !found;
  });
  return found;
}

void removeDotSegments(std::string_view path, std::string& out) {
  size_t base = out.size();
  forEachSegment(path, [&](std::string_view seg, bool last) {
    if (isDotDot(seg)) {
      size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos || slash < base ? base : slash);  // "/.." stays at the root
    } else if (!isDot(seg)) {
      out.push_back('/');
      out.append(seg);
      return true;
    }
    if (last) {
      out.push_back('/');  // "/a/." and "/a/b/.." name a directory: "/a/"
    }
    return true;
  });
  if (out.size() == base) {
    out.push_back('/');
  }
}

bool decodeRequest(const RequestHead& head, config::DotSegments dots, std::string& scratch, Request& out,
                   std::string_view& why) {
  out = Request{};
  out.method = head.method;
  out.method_id = head.methodId;
  out.headers = head.headers;
  if (head.upgrade) {
    if (const Header* up = head.find("upgrade")) {
      out.upgrade = true;
      out.upgrade_protocol = up->value;
    }
  }
  std::string_view target = head.target;
  std::string_view host = head.host;
  switch (head.targetForm) {
    case TargetForm::Absolute: {
      // RFC 9112 §3.2.2: the target's authority wins over Host.
      size_t scheme = target.find("://");
      std::string_view rest = target.substr(scheme + 3);
      size_t slash = rest.find_first_of("/?");
      host = rest.substr(0, slash);
      if (size_t at = host.rfind('@'); at != std::string_view::npos) {
        host.remove_prefix(at + 1);
      }
      target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      if (host.empty() || !validHost(host)) {
        why = "invalid host in the absolute target";  // it becomes the Host sent on
        return false;
      }
      break;
    }
    case TargetForm::Asterisk:
      out.authority = host;
      out.host = stripPort(host);
      out.path = "*";
      out.uri = target;
      return true;
    case TargetForm::Authority:
      why = "CONNECT is not supported";
      return false;
    case TargetForm::Origin:
      break;
  }
  out.authority = host;
  out.host = stripPort(host);
  if (target.empty() || target.front() != '/') {
    // "http://h?q": an absolute form without a path.
    out.uri = target;
    out.path = "/";
    out.query = target.empty() ? target : target.substr(1);
    return true;
  }
  out.uri = target;
  size_t q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string_view::npos) {
    out.query = target.substr(q + 1);
  }
  if (dots == config::DotSegments::Forward || !hasDotSegment(out.path)) {
    return true;
  }
  if (dots == config::DotSegments::Reject) {
    why = "dot segment in the path";
    return false;
  }
  scratch.clear();
  removeDotSegments(out.path, scratch);
  size_t pathLength = scratch.size();
  if (q != std::string_view::npos) {
    scratch.append(target.substr(q));
  }
  out.uri = scratch;
  out.path = out.uri.substr(0, pathLength);
  return true;
}

}  // namespace fulcrum::http
