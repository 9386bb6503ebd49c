#include "http/router.h"

#include <re2/re2.h>

#include "common/ascii.h"

namespace fulcrum::http {

namespace {

std::unique_ptr<re2::RE2> compile(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  // The loader validated the pattern; a failure here leaves a regex that matches nothing.
  return std::make_unique<re2::RE2>(pattern, options);
}

bool fullMatch(const re2::RE2& re, std::string_view text) {
  return re.ok() && re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), re);
}

// path_regex is searched for (anchor it with ^ and $), as NGINX and HAProxy users expect.
bool searchMatch(const re2::RE2& re, std::string_view text) {
  return re.ok() && re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

}  // namespace

Router::Router(const std::vector<config::Route>& routes) {
  routes_.reserve(routes.size());
  for (const config::Route& r : routes) {
    Compiled c;
    for (const std::string& h : r.match.hosts) {
      if (h.size() > 1 && h[0] == '*' && h[1] == '.') {
        c.wildcard_suffixes.push_back(h.substr(1));
      } else {
        c.exact_hosts.push_back(h);
      }
    }
    c.path_kind = r.match.path_kind;
    c.path = r.match.path;
    if (c.path_kind == config::PathMatchKind::Regex) {
      c.path_regex = compile(c.path);
    }
    c.methods = r.match.methods;
    auto rules = [](const std::vector<config::ValueMatch>& in, std::vector<ValueRule>& out) {
      for (const auto& m : in) {
        ValueRule rule{m.name, m.kind, m.value, nullptr};
        if (m.kind == config::ValueMatchKind::Regex) {
          rule.regex = compile(m.value);
        }
        out.push_back(std::move(rule));
      }
    };
    rules(r.match.headers, c.headers);
    rules(r.match.query, c.query);
    rules(r.match.cookies, c.cookies);
    rules(r.match.client_certificate, c.client_certificate);
    routes_.push_back(std::move(c));
  }
}

Router::~Router() = default;

int Router::match(const Request& request) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (matches(routes_[i], request)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool Router::hostMatches(const Compiled& c, std::string_view host) {
  if (c.exact_hosts.empty() && c.wildcard_suffixes.empty()) {
    return true;
  }
  for (const auto& h : c.exact_hosts) {
    if (equalsIgnoreCase(h, host)) {
      return true;
    }
  }
  for (const auto& suffix : c.wildcard_suffixes) {
    // "*.example.com" needs at least one label before the suffix.
    if (host.size() > suffix.size() && equalsIgnoreCase(host.substr(host.size() - suffix.size()), suffix)) {
      return true;
    }
  }
  return false;
}

bool Router::valueMatches(const ValueRule& rule, bool found, std::string_view value) {
  switch (rule.kind) {
    case config::ValueMatchKind::Present:
      return found;
    case config::ValueMatchKind::Absent:
      return !found;
    case config::ValueMatchKind::Exact:
      return found && value == rule.value;
    case config::ValueMatchKind::Regex:
      return found && fullMatch(*rule.regex, value);
  }
  return false;
}

bool Router::matches(const Compiled& c, const Request& request) const {
  if (!hostMatches(c, request.host)) {
    return false;
  }
  switch (c.path_kind) {
    case config::PathMatchKind::Any:
      break;
    case config::PathMatchKind::Exact:
      if (request.path != c.path) return false;
      break;
    case config::PathMatchKind::Prefix:
      if (request.path.substr(0, c.path.size()) != c.path) return false;
      break;
    case config::PathMatchKind::Regex:
      if (!searchMatch(*c.path_regex, request.path)) return false;
      break;
  }
  if (!c.methods.empty()) {
    bool any = false;
    for (const auto& m : c.methods) {
      any = any || m == request.method;
    }
    if (!any) {
      return false;
    }
  }
  for (const auto& rule : c.headers) {
    const Header* h = request.find(rule.name);
    if (!valueMatches(rule, h != nullptr, h ? h->value : std::string_view())) {
      return false;
    }
  }
  for (const auto& rule : c.query) {
    bool found = false;
    std::string_view v = queryParam(request.query, rule.name, found);
    if (!valueMatches(rule, found, v)) {
      return false;
    }
  }
  for (const auto& rule : c.cookies) {
    bool found = false;
    std::string_view v = cookieValue(request, rule.name, found);
    if (!valueMatches(rule, found, v)) {
      return false;
    }
  }
  for (const auto& rule : c.client_certificate) {
    const net::ClientCertificate* cert = request.client_certificate;
    if (!valueMatches(rule, cert != nullptr, cert ? std::string_view(cert->subject) : std::string_view())) {
      return false;
    }
  }
  return true;
}

}  // namespace fulcrum::http
