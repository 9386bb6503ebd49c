// What the admin API accepts: bodies that are JSON objects without duplicate keys, sent as
// application/json; 405 with Allow; the Bearer scheme in any case; ctl weight out of range;
// a corrupt state file reported with where and why (docs/admin.md).
#include <gtest/gtest.h>
#include <signal.h>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

// Two servers that are never contacted: the API's answers are all these tests look at.
std::string quietPool() { return httpPool("web", {deadPort(), deadPort()}); }

}  // namespace

TEST(AdminInput, ActionBodiesMustBeJsonObjectsWithoutDuplicateKeys) {
  AdminEnv env;
  env.start(httpConfig(env.port, quietPool(), ""));
  std::string s0 = "/api/v1/pools/web/servers/" + env.server0();
  struct Case {
    std::string method, path, body;
    int status;
    std::string says;
  };
  std::vector<Case> cases = {
      {"POST", s0 + "/drain", "[1]", 400, "must be a JSON object"},
      {"POST", s0 + "/enable", "\"yes\"", 400, "must be a JSON object"},
      {"POST", s0 + "/disable", "nonsense", 400, "not valid JSON: syntax error"},
      {"POST", s0 + "/drain", "{\"now\": true}", 400, "drain takes no fields; got \\\"now\\\""},
      {"PUT", s0 + "/weight", "{\"weight\": 2, \"weight\": 200}", 400, "duplicate key \\\"weight\\\" at line 1, column 15"},
      {"POST", "/api/v1/changes",
       "{\"changes\": [{\"op\": \"weight\", \"pool\": \"web\", \"server\": \"" + env.server0() +
           "\", \"weight\": 2, \"op\": \"drain\"}]}",
       400, "duplicate key \\\"op\\\""},
      {"PUT", s0 + "/weight", "{\"weight\": 4294967297}", 400, "between 1 and 256 (use drain to stop traffic), got 4294967297"},
      {"PUT", s0 + "/weight", "{\"weight\": 99999999999999999999}", 400, "between 1 and 256"},
  };
  for (const auto& c : cases) {
    auto r = env.api(c.method, c.path, c.body);
    EXPECT_EQ(r.first, c.status) << c.method << " " << c.path << " " << c.body << " -> " << r.second;
    EXPECT_NE(r.second.find(c.says), std::string::npos) << c.body << " -> " << r.second;
  }
  auto status = env.api("GET", "/api/v1/status");
  EXPECT_NE(status.second.find("\"api_overrides\": 0"), std::string::npos) << "nothing was changed: " << status.second;
  // An empty object, or no body at all, is fine.
  EXPECT_EQ(env.api("POST", s0 + "/drain", "{}").first, 200);
  EXPECT_EQ(env.api("POST", s0 + "/enable").first, 200);
}

TEST(AdminInput, ABodyMustBeSentAsApplicationJson) {
  AdminEnv env;
  env.start(httpConfig(env.port, quietPool(), ""));
  std::string weight = "/api/v1/pools/web/servers/" + env.server0() + "/weight";
  for (const char* ok : {"Content-Type: application/json", "Content-Type: application/json; charset=utf-8",
                         "Content-Type: Application/JSON;charset=UTF-8"}) {
    auto r = env.apiWith("PUT", weight, {ok}, "{\"weight\": 2}");
    EXPECT_EQ(r.first, 200) << ok << " -> " << r.second;
  }
  for (const char* bad : {"Content-Type: application/jsonp", "Content-Type: text/json", "Content-Type: text/plain",
                          "Content-Type: application/x-www-form-urlencoded", "Content-Type:"}) {
    auto r = env.apiWith("PUT", weight, {bad}, "{\"weight\": 3}");
    EXPECT_EQ(r.first, 415) << bad << " -> " << r.second;
    EXPECT_NE(r.second.find("Content-Type: application/json"), std::string::npos) << r.second;
  }
  auto s = env.api("GET", "/api/v1/pools/web/servers/" + env.server0());
  EXPECT_NE(s.second.find("\"weight\": 2\n"), std::string::npos) << s.second;
}

TEST(AdminInput, AChunkedBodyIsReadLikeOneWithContentLength) {
  AdminEnv env;
  env.start(httpConfig(env.port, quietPool(), ""));
  std::string server = "/api/v1/pools/web/servers/" + env.server0();
  auto r = env.apiWith("PUT", server + "/weight", {"Content-Type: application/json", "Transfer-Encoding: chunked"},
                       "{\"weight\": 7}");
  EXPECT_EQ(r.first, 200) << r.second;
  auto s = env.api("GET", server);
  EXPECT_NE(s.second.find("\"weight\": 7\n"), std::string::npos) << s.second;
  // Malformed chunks are refused, with a JSON error, and change nothing.
  std::string raw = rawExchange(env.admin, "PUT " + server + "/weight HTTP/1.1\r\nHost: x\r\n"
                                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  EXPECT_NE(raw.find("\"error\""), std::string::npos) << raw;
  EXPECT_NE(env.api("GET", server).second.find("\"weight\": 7\n"), std::string::npos);
}

TEST(AdminInput, MethodNotAllowedNamesTheAllowedMethods) {
  AdminEnv env;
  env.start(httpConfig(env.port, quietPool(), ""));
  std::string s0 = "/api/v1/pools/web/servers/" + env.server0();
  std::vector<std::pair<std::string, std::string>> cases = {
      {"DELETE /metrics", "GET, HEAD"},
      {"POST /api/v1/status", "GET, HEAD"},
      {"GET /api/v1/reload", "POST"},
      {"GET /api/v1/changes", "POST"},
      {"PUT /api/v1/pools/web/servers", "GET, HEAD, POST"},
      {"POST " + s0, "GET, HEAD, DELETE"},
      {"GET " + s0 + "/weight", "PUT, POST"},
      {"GET " + s0 + "/drain", "POST"},
  };
  for (const auto& [request, allow] : cases) {
    std::string raw = rawExchange(env.admin, request + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(raw.rfind("HTTP/1.1 405", 0), 0u) << request << " -> " << raw;
    EXPECT_EQ(headerOf(raw, "Allow"), allow) << request << " -> " << raw;
  }
}

TEST(AdminInput, TheBearerSchemeIsCaseInsensitive) {
  AdminEnv env;
  const std::string token = "s3cret-token-0123456789";
  env.start(httpConfig(env.port, quietPool(), ""), "  token: " + token + "\n");
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    auto r = env.apiWith("GET", "/api/v1/status", {"Authorization: " + scheme + " " + token});
    EXPECT_EQ(r.first, 200) << scheme << " -> " << r.second;
  }
  EXPECT_EQ(env.apiWith("GET", "/api/v1/status", {"Authorization: Basic " + token}).first, 401);
  EXPECT_EQ(env.apiWith("GET", "/api/v1/status", {"Authorization: Bearer wrong-" + token}).first, 401);
  EXPECT_EQ(env.apiWith("GET", "/api/v1/status", {"Authorization: Bearer"}).first, 401);
}

TEST(AdminInput, CtlWeightOutOfRangeSaysSoInsteadOfWrapping) {
  AdminEnv env;
  env.start(httpConfig(env.port, quietPool(), ""));
  for (const std::string w : {"99999999999999999999", "4294967297", "-1", "300", "0"}) {
    auto r = env.ctl({"weight", "web", env.server0(), w});
    EXPECT_NE(r.code, 0) << w;
    EXPECT_NE(r.output.find("between 1 and 256"), std::string::npos) << w << " -> " << r.output;
    EXPECT_NE(r.output.find("got " + w), std::string::npos) << w << " -> " << r.output;
  }
  for (const std::string w : {" 5", "5x", "", "0x10", "+5"}) {
    auto r = env.ctl({"weight", "web", env.server0(), w});
    EXPECT_NE(r.code, 0) << w;
    EXPECT_NE(r.output.find("must be a whole number"), std::string::npos) << w << " -> " << r.output;
  }
  auto s = env.api("GET", "/api/v1/pools/web/servers/" + env.server0());
  EXPECT_NE(s.second.find("\"weight\": 1\n"), std::string::npos) << s.second;
  EXPECT_EQ(env.ctl({"weight", "web", env.server0(), "007"}).code, 0);
}

TEST(AdminInput, ACorruptStateFileIsReportedWithFileLineColumnAndReason) {
  AdminEnv env;
  std::string config = httpConfig(env.port, quietPool(), "") + "admin:\n  bind: 127.0.0.1:" +
                       std::to_string(env.admin) + "\n";
  writeFile(env.dir.file("fulcrum.yaml"), config);
  std::string state = env.dir.file("fulcrum.yaml.state.json");
  auto startWith = [&](const std::string& text) {
    writeFile(state, text);
    return runCommand({FULCRUM_BIN, "run", "-c", env.dir.file("fulcrum.yaml")}, 10s);
  };
  auto r = startWith("{\"format\": 1,\n \"pools\": {\"web\": {\"127.0.0.1:1\": {\"weight\": 999}}}}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(state + ":2:46: pools.web.127.0.0.1:1.weight: expected a whole number from 1 to 256, got 999"),
            std::string::npos)
      << r.output;
  r = startWith("{\"format\": 1,\n \"pools\": {\"web\": {\"127.0.0.1:1\": {\"drain\": tru}}}}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(state + ":2:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("syntax error"), std::string::npos) << r.output;
  r = startWith("{\"format\": 1, \"format\": 1}");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(state + ":1:15: duplicate key"), std::string::npos) << r.output;
}
