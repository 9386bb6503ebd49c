#pragma once
// Property of what the proxy forwards: for any request head the parser accepts and the proxy
// does not refuse, the head written for the server parses again, strictly, to the same method,
// target and body framing, with no hop-by-hop field left (Connection only for an upgrade).
// Nothing ambiguous can reach a server. Used by fuzz_http_forward and replayed by
// tests/unit/http/forward_property_test.cc over the seed corpus.
#include <string>
#include <string_view>

#include "codec/parser.h"
#include "common/ascii.h"
#include "http/filters/forwarded_filter.h"
#include "http/filters/header_edits_filter.h"
#include "http/h1/head_writer.h"
#include "http/h1/request_decoder.h"
#include "http/router.h"

namespace fulcrum::http::fuzz {

inline std::string checkForwardProperty(std::string_view input) {
  RequestParser parser;
  ParseResult r = parser.feed(input);
  if (r.status != ParseStatus::Done) {
    return {};
  }
  const RequestHead& in = parser.head();
  Request info;
  std::string_view why;
  if (!decodeRequest(in, info, why)) {
    return {};
  }
  // Routing must never crash on any accepted request.
  static const Router* router = [] {
    std::vector<config::Route> routes(3);
    routes[0].match.hosts = {"*.example.com"};
    routes[0].match.path_kind = config::PathMatchKind::Regex;
    routes[0].match.path = "^/v[0-9]+/";
    routes[1].match.headers = {{"x-a", config::ValueMatchKind::Regex, "a+"}};
    routes[1].match.cookies = {{"s", config::ValueMatchKind::Exact, "1"}};
    routes[2].match.query = {{"q", config::ValueMatchKind::Present, ""}};
    return new Router(routes);
  }();
  (void)router->match(info);
  config::Forwarded fwd;
  config::Route route;
  route.request_headers.add = {{"X-Added", "1"}};
  route.request_headers.remove = {"x-remove"};
  FieldEdits edits;
  forwardedEdits(info, fwd, false, "192.0.2.1", edits);
  routeEdits(&route, edits);
  ForwardParams p;
  p.request = &info;
  p.framing = in.body;
  p.edits = &edits;
  std::string out;
  writeRequestHead(out, p);
  // The proxy adds a few fields (X-Forwarded-*, X-Real-IP, edits): a request at the client-side
  // limits may exceed them by that much (servers' limits are theirs to set).
  Limits roomier;
  roomier.maxHeaders += 16;
  roomier.maxHeaderBytes += 4096;
  RequestParser again(roomier);
  ParseResult r2 = again.feed(out);
  if (r2.status != ParseStatus::Done || r2.consumed != out.size()) {
    return "the forwarded head does not parse whole: " + out;
  }
  const RequestHead& fwdHead = again.head();
  std::string expectedTarget;
  if (in.targetForm == TargetForm::Asterisk) {
    expectedTarget.push_back('*');
  } else {
    if (info.uri.empty() || info.uri.front() == '?') {
      expectedTarget.push_back('/');
    }
    expectedTarget.append(info.uri);
  }
  if (fwdHead.method != in.method || fwdHead.target != expectedTarget) {
    return "method or target changed: " + out;
  }
  if (fwdHead.body.kind != in.body.kind || fwdHead.body.length != in.body.length) {
    return "body framing changed: " + out;
  }
  for (const Header& h : fwdHead.headers) {
    bool upgradeField = in.upgrade && (equalsIgnoreCase(h.name, "connection") || equalsIgnoreCase(h.name, "upgrade"));
    if (!upgradeField && fwdHead.isHopByHop(h.name) && !equalsIgnoreCase(h.name, "transfer-encoding")) {
      return "hop-by-hop field forwarded: " + std::string(h.name);
    }
    if (equalsIgnoreCase(h.name, "x-remove")) {
      return "removed field forwarded";
    }
  }
  return {};
}

}  // namespace fulcrum::http::fuzz
