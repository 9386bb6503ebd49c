#pragma once
// Router: the listener's ordered routes, compiled once per snapshot on the control thread
// (regular expressions are RE2: linear time, no backtracking, safe on hostile input).
// match() is pure and allocation-free: the first route whose every condition holds wins.
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "http/stream/request.h"

namespace re2 {
class RE2;
}

namespace fulcrum::http {

class Router {
 public:
  explicit Router(const std::vector<config::Route>& routes);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Index into the routes given to the constructor, or -1 when none matches.
  int match(const Request& request) const;

 private:
  struct ValueRule {
    std::string name;
    config::ValueMatchKind kind;
    std::string value;
    std::unique_ptr<re2::RE2> regex;
  };
  struct Compiled {
    std::vector<std::string> exact_hosts;
    std::vector<std::string> wildcard_suffixes;  // ".example.com" for "*.example.com"
    config::PathMatchKind path_kind = config::PathMatchKind::Any;
    std::string path;
    std::unique_ptr<re2::RE2> path_regex;
    std::vector<std::string> methods;
    std::vector<ValueRule> headers;
    std::vector<ValueRule> query;
    std::vector<ValueRule> cookies;
    std::vector<ValueRule> client_certificate;  // on the verified subject
  };
  static bool hostMatches(const Compiled& c, std::string_view host);
  static bool valueMatches(const ValueRule& rule, bool found, std::string_view value);
  bool matches(const Compiled& c, const Request& request) const;

  std::vector<Compiled> routes_;
};

}  // namespace fulcrum::http
