// Metrics, the access log, the admin REST API, fulcrum ctl, /livez and /readyz: real
// fulcrum, real backends (httpbackend.py), real clients (curl, python, promtool).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono_literals;

TEST(Metrics, CountersMatchKnownTrafficExactly) {
  AdminEnv env;
  env.startBackends(2);
  uint16_t tcpPort = freePort();
  std::string routes =
      "    http:\n      routes:\n        - name: api\n          match: {path_prefix: /api/}\n"
      "          pools: [{pool: web, weight: 1}]\n";
  std::string cfg = httpConfig(env.port, httpPool("web", env.ports()), routes, "");
  cfg.insert(cfg.find("pools:\n"), "  - name: raw\n    bind: 127.0.0.1:" + std::to_string(tcpPort) + "\n    pool: web\n");
  env.start(cfg);
  auto counts = countRequests(env.port, "/api/x", 300);
  auto missed = countRequests(env.port, "/other", 40);
  ASSERT_EQ(counts["200 b1"] + counts["200 b2"], 300);
  ASSERT_EQ(missed["404 -"], 40) << missed.size();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(curl({url(tcpPort, "/api/y")}).code, 0);
  }
  std::string m;
  // Connections are counted when they close: wait until the last client's close is seen.
  waitFor([&] {
    m = env.metrics();
    return metric(m, "fulcrum_listener_connections_active{listener=\"front\",protocol=\"http\"}") == 0 &&
           metric(m, "fulcrum_listener_connections_active{listener=\"raw\",protocol=\"tcp\"}") == 0;
  }, 5s);
  EXPECT_EQ(metric(m, "fulcrum_listener_requests_total{listener=\"front\",class=\"2xx\",code=\"200\"}"), 300) << m;
  EXPECT_EQ(metric(m, "fulcrum_listener_requests_total{listener=\"front\",class=\"4xx\",code=\"404\"}"), 40);
  EXPECT_EQ(metric(m, "fulcrum_route_requests_total{listener=\"front\",route=\"api\",class=\"2xx\",code=\"200\"}"), 300);
  EXPECT_EQ(metric(m, "fulcrum_pool_requests_total{pool=\"web\",class=\"2xx\",code=\"200\"}"), 300);
  // The histogram counts every request once; its +Inf bucket equals its count.
  EXPECT_EQ(metric(m, "fulcrum_listener_request_duration_seconds_count{listener=\"front\"}"), 340);
  EXPECT_EQ(metric(m, "fulcrum_listener_request_duration_seconds_bucket{listener=\"front\",le=\"+Inf\"}"), 340);
  EXPECT_EQ(metric(m, "fulcrum_route_request_duration_seconds_count{listener=\"front\",route=\"api\"}"), 300);
  EXPECT_GT(metric(m, "fulcrum_listener_request_duration_seconds_sum{listener=\"front\"}"), 0);
  // Per server: what each backend saw (HTTP), plus the raw TCP connections.
  for (size_t i = 0; i < 2; ++i) {
    std::string l = "{pool=\"web\",server=\"" + env.server(i) + "\"";
    std::string id = env.backends[i].id;
    EXPECT_EQ(metric(m, "fulcrum_server_requests_total" + l + ",class=\"2xx\",code=\"200\"}"), counts["200 " + id]) << id;
    EXPECT_EQ(metric(m, "fulcrum_server_response_duration_seconds_count" + l + "}"), counts["200 " + id]);
    EXPECT_EQ(metric(m, "fulcrum_server_up" + l + "}"), 1);
    EXPECT_EQ(metric(m, "fulcrum_server_connect_errors_total" + l + "}"), 0);
  }
  EXPECT_EQ(metric(m, "fulcrum_listener_connections_total{listener=\"raw\",protocol=\"tcp\"}"), 5);
  EXPECT_GT(metric(m, "fulcrum_listener_bytes_received_total{listener=\"raw\"}"), 5 * 40);
  // python keeps one connection per run, plus the harness's readiness probe.
  EXPECT_EQ(metric(m, "fulcrum_listener_connections_total{listener=\"front\",protocol=\"http\"}"), 3);
  // The live scrape passes promtool's linter.
  writeFile(env.dir.file("scrape.txt"), m);
  auto lint = shell("/usr/bin/promtool check metrics < " + env.dir.file("scrape.txt"));
  EXPECT_EQ(lint.code, 0) << lint.output;
  // /stats has the same figures as JSON.
  auto stats = curl({env.adminUrl("/stats")}).output;
  EXPECT_NE(stats.find("\"requests_total\": 340"), std::string::npos) << stats;
}

TEST(Metrics, FailuresRetriesAndHealthAreCounted) {
  AdminEnv env;
  env.startBackends(1);
  uint16_t dead = deadPort();
  std::string servers = "    servers:\n      - address: 127.0.0.1:" + std::to_string(env.backends[0].port) +
                        "\n      - address: 127.0.0.1:" + std::to_string(dead) + "\n";
  // web: checked (the dead server goes down); flaky: unchecked, so requests meet the dead
  // server and are retried on the live one.
  std::string pools = "  - name: web\n    health_check: {type: tcp, interval: 200ms, timeout: 100ms, fall: 1, rise: 1}\n" +
                      servers + "  - name: flaky\n    retries: 1\n    http: {retry_budget: 100}\n" + servers;
  std::string routes = "    http:\n      routes:\n        - name: flaky\n          match: {path_prefix: /flaky/}\n"
                       "          pools: [{pool: flaky, weight: 1}]\n";
  env.start(httpConfig(env.port, pools, routes));
  std::string deadLabels = "{pool=\"web\",server=\"127.0.0.1:" + std::to_string(dead) + "\"}";
  std::string m;
  ASSERT_TRUE(waitFor([&] {
    m = env.metrics();
    return metric(m, "fulcrum_server_up" + deadLabels) == 0 &&
           metric(m, "fulcrum_server_checks_total{pool=\"web\",server=\"127.0.0.1:" + std::to_string(dead) +
                         "\",result=\"failure\"}") >= 1;
  }, 5s)) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_servers_healthy{pool=\"web\"}"), 1);
  EXPECT_GT(metric(m, "fulcrum_server_last_check_timestamp_seconds" + deadLabels), 1.7e9);
  EXPECT_EQ(metric(m, "fulcrum_pool_health_check_interval_seconds{pool=\"web\"}"), 0.2);
  // A 503 from the server is counted for the server and the client.
  auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", url(env.port, "/status/503")});
  EXPECT_EQ(r.output, "503");
  // Connect failures on the unchecked pool: each one is a connect error and a retry.
  auto counts = countRequests(env.port, "/flaky/x", 20);
  EXPECT_EQ(counts["200 b1"], 20);
  m = env.metrics();
  std::string live = "{pool=\"web\",server=\"" + env.server(0) + "\"";
  EXPECT_EQ(metric(m, "fulcrum_server_requests_total" + live + ",class=\"5xx\",code=\"503\"}"), 1) << m;
  EXPECT_EQ(metric(m, "fulcrum_listener_requests_total{listener=\"front\",class=\"5xx\",code=\"503\"}"), 1);
  double errors = metric(m, "fulcrum_server_connect_errors_total{pool=\"flaky\",server=\"127.0.0.1:" +
                                std::to_string(dead) + "\"}");
  EXPECT_GT(errors, 0);
  EXPECT_EQ(metric(m, "fulcrum_pool_retries_total{pool=\"flaky\"}"), errors);
  EXPECT_EQ(metric(m, "fulcrum_pool_requests_total{pool=\"flaky\",class=\"2xx\",code=\"200\"}"), 20);
}

TEST(AccessLog, OneJsonLinePerRequestAndReopenOnSigusr1) {
  AdminEnv env;
  env.startBackends(1);
  std::string log = env.dir.file("access.log");
  env.start(httpConfig(env.port, httpPool("web", env.ports()), "", "web",
                       "access_log:\n  path: " + log + "\n"));
  auto counts = countRequests(env.port, "/hello?x=1", 20);
  ASSERT_EQ(counts["200 b1"], 20);
  auto lines = [&](const std::string& path) {
    std::string t = readFile(path);
    return static_cast<int>(std::count(t.begin(), t.end(), '\n'));
  };
  ASSERT_TRUE(waitFor([&] { return lines(log) == 20; }, 3s)) << readFile(log);
  std::string first = readFile(log).substr(0, readFile(log).find('\n'));
  for (const char* key : {"\"client\":\"127.0.0.1\"", "\"listener\":\"front\"", "\"pool\":\"web\"",
                          "\"method\":\"GET\"", "\"path\":\"/hello?x=1\"", "\"status\":200", "\"retries\":0",
                          "\"termination\":\"ok\"", "\"total_ms\":", "\"response_ms\":", "\"server\":\"127.0.0.1:"}) {
    EXPECT_NE(first.find(key), std::string::npos) << key << " in " << first;
  }
  // Rotation: move the file away, SIGUSR1, and the next lines go to a new file.
  ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0);
  env.fulcrum->signal(SIGUSR1);
  ASSERT_TRUE(waitFor([&] { return env.fulcrum->log().find("access log reopened") != std::string::npos; }, 3s));
  countRequests(env.port, "/after", 5);
  ASSERT_TRUE(waitFor([&] { return lines(log) == 5; }, 3s)) << readFile(log);
  EXPECT_EQ(lines(log + ".1"), 20);
}

TEST(AccessLog, TemplateFormatAndL4Connections) {
  AdminEnv env;
  env.startBackends(1);
  std::string log = env.dir.file("access.log");
  std::string cfg = "access_log:\n  path: " + log + "\n  format: \"${client} ${listener} ${server} ${bytes_in} ${termination}\"\n"
                    "listeners:\n  - name: raw\n    bind: 127.0.0.1:" + std::to_string(env.port) +
                    "\n    pool: web\npools:\n" + httpPool("web", env.ports());
  env.start(cfg);
  ASSERT_EQ(curl({"-o", "/dev/null", url(env.port, "/")}).code, 0);
  ASSERT_TRUE(waitFor([&] { return readFile(log).find('\n') != std::string::npos; }, 3s));
  std::string line = readFile(log);
  EXPECT_EQ(line.rfind("127.0.0.1 raw ", 0), 0u) << line;
  EXPECT_NE(line.find(" raw " + env.server(0) + " "), std::string::npos) << line;
  EXPECT_NE(line.find(" done\n"), std::string::npos) << line;
}

TEST(AdminApi, DrainEnableAndWeightShowInTraffic) {
  AdminEnv env;
  env.startBackends(2);
  env.start(httpConfig(env.port, httpPool("web", env.ports(), "    algorithm: weighted_round_robin\n"), ""));
  // Drain b1: no new connections to it.
  auto [code, body] = env.api("POST", "/api/v1/pools/web/servers/" + env.server(0) + "/drain");
  ASSERT_EQ(code, 200) << body;
  EXPECT_NE(body.find("\"state\": \"draining\""), std::string::npos) << body;
  auto counts = countRequests(env.port, "/", 100, {"--new-conn"});
  EXPECT_EQ(counts["200 b2"], 100);
  auto m = env.metrics();
  EXPECT_EQ(metric(m, "fulcrum_server_draining{pool=\"web\",server=\"" + env.server(0) + "\"}"), 1);
  // Enable again, then weight 3:1 -> 75% within +-5% over 10,000 requests.
  ASSERT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + env.server(0) + "/enable").first, 200);
  auto w = env.ctl({"weight", "web", env.server(0), "3"});
  ASSERT_EQ(w.code, 0) << w.output;
  m = env.metrics();
  EXPECT_EQ(metric(m, "fulcrum_server_weight{pool=\"web\",server=\"" + env.server(0) + "\"}"), 3) << m;
  counts = countRequests(env.port, "/", 10000);
  ASSERT_EQ(counts["200 b1"] + counts["200 b2"], 10000);
  double share = counts["200 b1"] / 10000.0;
  EXPECT_NEAR(share, 0.75, 0.05) << counts["200 b1"];
  // The table lists both servers with their weights.
  auto status = env.ctl({"status"});
  EXPECT_EQ(status.code, 0);
  EXPECT_NE(status.output.find("POOL"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(env.server(0)), std::string::npos);
  auto js = env.ctl({"--json", "status"});
  EXPECT_NE(js.output.find("\"weight\": 3"), std::string::npos) << js.output;
}

TEST(AdminApi, AddedServerGetsTrafficRemovedServerFinishesInFlight) {
  AdminEnv env;
  env.startBackends(2);
  env.start(httpConfig(env.port, httpPool("web", {env.backends[0].port}), ""));
  auto add = env.ctl({"add", "web", env.server(1), "--weight", "1"});
  ASSERT_EQ(add.code, 0) << add.output;
  auto counts = countRequests(env.port, "/", 40);
  EXPECT_EQ(counts["200 b1"] + counts["200 b2"], 40);
  EXPECT_GE(counts["200 b2"], 10) << "the added server takes its share";
  // Slow requests to b2 only (b1 disabled), then remove b2 while they are in flight.
  ASSERT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + env.server(0) + "/disable").first, 200);
  std::string out = env.dir.file("slow");
  auto slow = std::make_unique<Process>(
      std::vector<std::string>{"/bin/sh", "-c",
                               "for i in 1 2 3; do /usr/bin/curl -s -o /dev/null -w '%{http_code} ' " +
                                   url(env.port, "/sleep/1500") + " & done; wait"},
      out);
  ASSERT_TRUE(waitFor([&] {
    auto m = env.metrics();
    return metric(m, "fulcrum_server_connections_active{pool=\"web\",server=\"" + env.server(1) + "\"}") == 3;
  }, 5s));
  ASSERT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + env.server(0) + "/enable").first, 200);
  auto rm = env.api("DELETE", "/api/v1/pools/web/servers/" + env.server(1));
  ASSERT_EQ(rm.first, 200) << rm.second;
  auto done = slow->wait(10s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(readFile(out), "200 200 200 ") << "requests in flight to a removed server finish";
  counts = countRequests(env.port, "/", 20);
  EXPECT_EQ(counts["200 b1"], 20);
  auto pool = env.api("GET", "/api/v1/pools/web");
  EXPECT_EQ(pool.second.find(env.server(1)), std::string::npos) << pool.second;
  // The last server cannot be removed.
  auto last = env.api("DELETE", "/api/v1/pools/web/servers/" + env.server(0));
  EXPECT_EQ(last.first, 409) << last.second;
}

TEST(AdminApi, ChangesSurviveReloadAndRestart) {
  AdminEnv env;
  env.startBackends(3);
  env.start(httpConfig(env.port, httpPool("web", {env.backends[0].port, env.backends[1].port}), ""));
  std::string changes = "{\"changes\": [{\"op\": \"weight\", \"pool\": \"web\", \"server\": \"" + env.server(0) +
                        "\", \"weight\": 4}, {\"op\": \"add\", \"pool\": \"web\", \"server\": \"" + env.server(2) +
                        "\", \"weight\": 2}, {\"op\": \"drain\", \"pool\": \"web\", \"server\": \"" + env.server(1) +
                        "\"}]}";
  auto r = env.api("POST", "/api/v1/changes", changes);
  ASSERT_EQ(r.first, 200) << r.second;
  auto check = [&](const char* when) {
    auto s0 = env.api("GET", "/api/v1/pools/web/servers/" + env.server(0));
    EXPECT_NE(s0.second.find("\"weight\": 4"), std::string::npos) << when << s0.second;
    auto s1 = env.api("GET", "/api/v1/pools/web/servers/" + env.server(1));
    EXPECT_NE(s1.second.find("\"drain\": true"), std::string::npos) << when << s1.second;
    auto s2 = env.api("GET", "/api/v1/pools/web/servers/" + env.server(2));
    EXPECT_EQ(s2.first, 200) << when << s2.second;
  };
  check("after the change: ");
  auto status = env.api("GET", "/api/v1/status");
  EXPECT_NE(status.second.find("\"api_overrides\": 3"), std::string::npos) << status.second;
  // The audit log has who, what and when.
  std::string audit = readFile(env.dir.file("fulcrum.yaml.audit.log"));
  EXPECT_NE(audit.find("\"action\":\"change\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("add web " + env.server(2)), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"actor\":\"anonymous@127.0.0.1:"), std::string::npos) << audit;
  // Reload (SIGHUP, then through the API): the changes are merged onto the file again.
  env.fulcrum->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return env.api("GET", "/api/v1/status").second.find("\"success\": 1") != std::string::npos; }, 5s));
  check("after SIGHUP: ");
  auto rl = env.ctl({"reload"});
  EXPECT_EQ(rl.code, 0) << rl.output;
  check("after ctl reload: ");
  env.restart();
  check("after a restart: ");
  auto counts = countRequests(env.port, "/", 60);
  EXPECT_EQ(counts["200 b2"], 0) << "b2 is still draining";
  EXPECT_EQ(counts["200 b1"], 40);
  EXPECT_EQ(counts["200 b3"], 20);
  // A broken config file: 422 with file:line:column, and nothing changes.
  std::string version = env.api("GET", "/api/v1/status").second;
  writeFile(env.dir.file("fulcrum.yaml"), "listeners: [\n");
  auto bad = env.api("POST", "/api/v1/reload");
  EXPECT_EQ(bad.first, 422) << bad.second;
  EXPECT_NE(bad.second.find("fulcrum.yaml:"), std::string::npos) << bad.second;
  auto ctlBad = env.ctl({"reload"});
  EXPECT_EQ(ctlBad.code, 1);
  EXPECT_NE(ctlBad.output.find("rejected"), std::string::npos) << ctlBad.output;
  counts = countRequests(env.port, "/", 6);
  EXPECT_EQ(counts["200 b1"] + counts["200 b3"], 6);
}

TEST(AdminApi, BadInputIsRefusedAndChangesNothing) {
  AdminEnv env;
  env.startBackends(2);
  env.start(httpConfig(env.port, httpPool("web", env.ports()), ""));
  std::string s0 = "/api/v1/pools/web/servers/" + env.server(0);
  std::string before = env.api("GET", "/api/v1/pools/web").second;
  struct Case {
    std::string method, path, body;
    int status;
    std::string says;
  };
  std::vector<Case> cases = {
      {"PUT", s0 + "/weight", "{\"weight\": ", 400, "not valid JSON"},
      {"PUT", s0 + "/weight", "[1]", 400, "JSON object"},
      {"PUT", s0 + "/weight", "{\"weight\": 0}", 400, "between 1 and 256"},
      {"PUT", s0 + "/weight", "{\"weight\": 9999}", 400, "between 1 and 256"},
      {"PUT", s0 + "/weight", "{\"weight\": \"heavy\"}", 400, "whole number"},
      {"PUT", s0 + "/weight", "{\"wieght\": 3}", 400, "unknown field"},
      {"POST", "/api/v1/pools/nope/servers/127.0.0.1:1/drain", "", 404, "no pool named"},
      {"POST", "/api/v1/pools/%ff/servers/127.0.0.1:1/drain", "", 404, "no pool named"},  // not UTF-8
      {"POST", "/api/v1/pools/web/servers/127.0.0.1:1/drain", "", 404, "has no server"},
      {"POST", "/api/v1/pools/web/servers", "{\"address\": \"not-an-address\"}", 400, "port"},
      {"POST", "/api/v1/pools/web/servers", "{\"address\": \"" + env.server(1) + "\"}", 409, "already has"},
      {"POST", "/api/v1/changes",
       "{\"changes\": [{\"op\": \"weight\", \"pool\": \"web\", \"server\": \"" + env.server(0) +
           "\", \"weight\": 5}, {\"op\": \"drain\", \"pool\": \"web\", \"server\": \"10.9.9.9:1\"}]}",
       404, "nothing was applied"},
      {"POST", "/api/v1/changes", "{\"changes\": [{\"op\": \"explode\"}]}", 400, "\\\"op\\\" must be one of"},
      {"GET", s0 + "/drain", "", 405, "use POST"},
      {"GET", "/api/v1/nothing", "", 404, "no such endpoint"},
      {"GET", "/api/v1/pools/web/servers/%zz", "", 400, "percent"},
  };
  for (const auto& c : cases) {
    auto r = env.api(c.method, c.path, c.body);
    EXPECT_EQ(r.first, c.status) << c.method << " " << c.path << " " << c.body << " -> " << r.second;
    EXPECT_NE(r.second.find(c.says), std::string::npos) << c.path << " -> " << r.second;
    EXPECT_NE(r.second.find("\"error\""), std::string::npos) << r.second;
  }
  EXPECT_EQ(env.api("PUT", s0 + "/weight", "weight=3").first, 400) << "a form body sent as JSON";
  auto r = curl({"-X", "PUT", "-w", "%{http_code}", "-o", "/dev/null", "-H", "Content-Type: text/plain", "--data",
                 "3", env.adminUrl(s0 + "/weight")});
  EXPECT_EQ(r.output, "415");
  // A request sent with a half-close (as `printf ... | nc` does) is still answered.
  auto halfClosed = shell("printf 'GET /livez HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | /usr/bin/nc -N 127.0.0.1 " +
                          std::to_string(env.admin));
  EXPECT_EQ(halfClosed.output.rfind("HTTP/1.1 200", 0), 0u) << halfClosed.output;
  // Garbage on the admin port gets a 400 and the server carries on.
  auto raw = rawExchange(env.admin, "GARBAGE\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  std::string after = env.api("GET", "/api/v1/pools/web").second;
  // Counters may move (the GETs are not proxied traffic), weights and states do not.
  EXPECT_EQ(after.find("\"weight\": 5"), std::string::npos) << after;
  EXPECT_EQ(env.api("GET", "/api/v1/status").second.find("\"api_overrides\": 0") != std::string::npos, true);
  EXPECT_EQ(countRequests(env.port, "/", 10).size(), 2u) << "both servers still serve";
  // ctl: a refused change exits 1 with the API's reason; an unreachable API exits 1 (a failure, not bad usage).
  auto refused = env.ctl({"weight", "web", env.server(0), "0"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.output.find("between 1 and 256"), std::string::npos) << refused.output;
  auto unreachable = runCommand({FULCRUM_BIN, "ctl", "--admin", "127.0.0.1:" + std::to_string(deadPort()), "status"});
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_NE(unreachable.output.find("cannot connect"), std::string::npos) << unreachable.output;
}

TEST(AdminApi, TokenIsRequiredAwayFromLoopback) {
  AdminEnv env;
  env.startBackends(1);
  // Bound to every address without a token: refused at start.
  std::string open = httpConfig(env.port, httpPool("web", env.ports()), "") + "admin:\n  bind: \"*:" +
                     std::to_string(env.admin) + "\"\n";
  writeFile(env.dir.file("open.yaml"), open);
  auto r = runCommand({FULCRUM_BIN, "run", "-c", env.dir.file("open.yaml")}, 10s);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("set admin.token"), std::string::npos) << r.output;
  // With a token: nothing without it, everything with it; /livez and /readyz stay open.
  const std::string token = "s3cret-token-0123456789";
  env.start(httpConfig(env.port, httpPool("web", env.ports()), ""), "  token: " + token + "\n");
  EXPECT_EQ(env.api("GET", "/api/v1/status").first, 401);
  EXPECT_EQ(env.api("GET", "/metrics").first, 401);
  EXPECT_EQ(env.api("GET", "/metrics", "", "wrong-token-0123456789").first, 401);
  EXPECT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + env.server(0) + "/drain").first, 401);
  EXPECT_EQ(env.api("GET", "/api/v1/status", "", token).first, 200);
  EXPECT_EQ(env.api("GET", "/livez").first, 200);
  EXPECT_EQ(env.api("GET", "/readyz").first, 200);
  EXPECT_EQ(env.ctl({"status"}).code, 1);
  EXPECT_EQ(env.ctl({"--token", token, "status"}).code, 0);
  auto viaConfig = runCommand({FULCRUM_BIN, "ctl", "-c", env.dir.file("fulcrum.yaml"), "status"}, 30s);
  EXPECT_EQ(viaConfig.code, 0) << viaConfig.output;
}

TEST(AdminApi, ReadyzFollowsServerHealth) {
  AdminEnv env;
  uint16_t dead = deadPort();
  env.start(httpConfig(env.port,
                       "  - name: web\n    health_check: {type: tcp, interval: 200ms, timeout: 100ms, fall: 1, rise: 1}\n"
                       "    servers:\n      - address: 127.0.0.1:" + std::to_string(dead) + "\n",
                       ""));
  EXPECT_EQ(env.api("GET", "/livez").first, 200);
  std::pair<int, std::string> ready;
  ASSERT_TRUE(waitFor([&] {
    ready = env.api("GET", "/readyz");
    return ready.first == 503;
  }, 5s));
  EXPECT_NE(ready.second.find("pool web has no healthy server"), std::string::npos) << ready.second;
  // The server comes up: ready.
  auto b = startHttpBackend(env.dir, "late", {"--port", std::to_string(dead)});
  ASSERT_NE(b.port, 0);
  EXPECT_TRUE(waitFor([&] { return env.api("GET", "/readyz").first == 200; }, 5s));
}

TEST(Ecosystem, PrometheusRulesAndAlertTestsPass) {
  auto check = runCommand({"/usr/bin/promtool", "check", "rules", SOURCE_DIR "/examples/prometheus/alerts.yml"}, 60s);
  EXPECT_EQ(check.code, 0) << check.output;
  auto test = runCommand({"/usr/bin/promtool", "test", "rules", SOURCE_DIR "/examples/prometheus/alerts_test.yml"}, 60s);
  EXPECT_EQ(test.code, 0) << test.output;
  auto dash = runCommand({"/usr/bin/python3", "-m", "json.tool", SOURCE_DIR "/examples/grafana/fulcrum-dashboard.json"}, 30s);
  EXPECT_EQ(dash.code, 0) << dash.output;
}
