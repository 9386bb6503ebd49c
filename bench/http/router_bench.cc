// Router::match on a parsed request: the first route, a route deep in a list of 50, a miss,
// and the kinds of condition (host wildcard, path prefix, path regex, header, cookie, query).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "codec/parser.h"
#include "http/h1/request_decoder.h"
#include "http/router.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Parsed {
  explicit Parsed(std::string raw) : text(std::move(raw)) {
    parser.feed(text);
    std::string_view why;
    decodeRequest(parser.head(), info, why);
  }
  std::string text;
  RequestParser parser;
  Request info;
};

config::Route route(const std::string& name) {
  config::Route r;
  r.name = name;
  r.pools = {{"p", 1}};
  return r;
}

// 50 routes on distinct hosts and path prefixes; route i matches host "svc<i>.example.com".
std::vector<config::Route> manyRoutes() {
  std::vector<config::Route> routes;
  for (int i = 0; i < 50; ++i) {
    // Appended piece by piece (a + b + c chains trip GCC 12's -Wrestrict).
    std::string n = std::to_string(i);
    auto r = route("r" + n);
    std::string host = "svc";
    host.append(n).append(".example.com");
    r.match.hosts = {host};
    r.match.path_kind = config::PathMatchKind::Prefix;
    r.match.path = "/api/v";
    r.match.path.append(std::to_string(i % 3)).append("/");
    routes.push_back(r);
  }
  return routes;
}

void matchFirstOf50(benchmark::State& state) {
  Router router(manyRoutes());
  Parsed req("GET /api/v0/users HTTP/1.1\r\nHost: svc0.example.com\r\n\r\n");
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(req.info));
  }
}
BENCHMARK(matchFirstOf50);

void matchLastOf50(benchmark::State& state) {
  Router router(manyRoutes());
  Parsed req("GET /api/v1/users HTTP/1.1\r\nHost: svc49.example.com\r\n\r\n");
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(req.info));
  }
}
BENCHMARK(matchLastOf50);

void missOf50(benchmark::State& state) {
  Router router(manyRoutes());
  Parsed req("GET /other HTTP/1.1\r\nHost: nowhere.example.org\r\n\r\n");
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(req.info));
  }
}
BENCHMARK(missOf50);

void conditionKinds(benchmark::State& state) {
  std::vector<config::Route> routes{route("wild"), route("regex"), route("all")};
  routes[0].match.hosts = {"*.internal.example.com"};
  routes[1].match.path_kind = config::PathMatchKind::Regex;
  routes[1].match.path = "^/v[0-9]+/items/[0-9]+$";
  auto& m = routes[2].match;
  m.methods = {"GET"};
  m.headers = {{"X-Canary", config::ValueMatchKind::Exact, "1"}};
  m.query = {{"v", config::ValueMatchKind::Regex, "[0-9]+"}};
  m.cookies = {{"session", config::ValueMatchKind::Present, ""}};
  Router router(routes);
  Parsed req(
      "GET /shop?a=b&v=42 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\nX-Canary: 1\r\n"
      "Cookie: theme=dark; session=abc123\r\n\r\n");
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(req.info));
  }
}
BENCHMARK(conditionKinds);

}  // namespace

BENCHMARK_MAIN();
