// API changes are overrides on top of the config file; an edit of the file must be able to
// see them: an override equal to the file's value is dropped, GET lists them, reset clears
// them, a reload names every file value one shadows, and the state file is read again at
// every reload (docs/admin.md, "Where API changes live").
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

// Pool web with servers a and b (never contacted), each with `extra` YAML under it.
struct TwoServers {
  uint16_t a = deadPort();
  uint16_t b = deadPort();
  std::string sa() const { return "127.0.0.1:" + std::to_string(a); }
  std::string sb() const { return "127.0.0.1:" + std::to_string(b); }
  std::string pool(const std::string& aExtra = "", const std::string& bExtra = "") const {
    return "  - name: web\n    servers:\n      - address: " + sa() + "\n" + aExtra + "      - address: " + sb() +
           "\n" + bExtra;
  }
};

// Rewrites the config file with new pools and reloads through the API.
std::pair<int, std::string> editAndReload(AdminEnv& env, const std::string& pools) {
  std::string cfg = httpConfig(env.port, pools, "") + env.config.substr(env.config.find("admin:\n"));
  writeFile(env.dir.file("fulcrum.yaml"), cfg);
  return env.api("POST", "/api/v1/reload");
}

// The text without spaces and newlines, to match JSON whatever its indentation.
std::string compact(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '\n'; }), s.end());
  return s;
}

std::string serverJson(const AdminEnv& env, const std::string& server) {
  return env.api("GET", "/api/v1/pools/web/servers/" + server).second;
}

}  // namespace

TEST(AdminOverrides, ADrainUndoneThroughTheApiLeavesNothingToShadowTheFile) {
  AdminEnv env;
  TwoServers s;
  env.start(httpConfig(env.port, s.pool(), ""));
  ASSERT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + s.sa() + "/drain").first, 200);
  ASSERT_EQ(env.api("POST", "/api/v1/pools/web/servers/" + s.sa() + "/enable").first, 200);
  ASSERT_EQ(env.ctl({"weight", "web", s.sb(), "5"}).code, 0);
  ASSERT_EQ(env.ctl({"weight", "web", s.sb(), "1"}).code, 0);  // the file's value
  auto list = env.api("GET", "/api/v1/overrides");
  EXPECT_EQ(list.first, 200) << list.second;
  EXPECT_NE(list.second.find("\"overrides\": []"), std::string::npos) << list.second;
  EXPECT_NE(env.api("GET", "/api/v1/status").second.find("\"api_overrides\": 0"), std::string::npos);
  EXPECT_EQ(readFile(env.dir.file("fulcrum.yaml.state.json")).find(s.sa()), std::string::npos);
  // The file now drains a and weighs b 3: both take effect.
  auto r = editAndReload(env, s.pool("        drain: true\n", "        weight: 3\n"));
  ASSERT_EQ(r.first, 200) << r.second;
  EXPECT_NE(r.second.find("\"shadowed\": []"), std::string::npos) << r.second;
  EXPECT_NE(serverJson(env, s.sa()).find("\"state\": \"draining\""), std::string::npos) << serverJson(env, s.sa());
  EXPECT_NE(serverJson(env, s.sb()).find("\"weight\": 3\n"), std::string::npos) << serverJson(env, s.sb());
}

TEST(AdminOverrides, GetListsThemAReloadNamesWhatTheyShadowAndResetClearsThem) {
  AdminEnv env;
  TwoServers s;
  uint16_t c = deadPort();
  std::string sc = "127.0.0.1:" + std::to_string(c);
  env.start(httpConfig(env.port, s.pool(), ""));
  ASSERT_EQ(env.ctl({"weight", "web", s.sa(), "5"}).code, 0);
  ASSERT_EQ(env.ctl({"disable", "web", s.sb()}).code, 0);
  ASSERT_EQ(env.ctl({"add", "web", sc}).code, 0);
  // The file changes a's weight to 3 and b to drain: the API's values still win, and the
  // reload says which file values they hide.
  auto r = editAndReload(env, s.pool("        weight: 3\n", "        drain: true\n"));
  ASSERT_EQ(r.first, 200) << r.second;
  for (const std::string& line :
       {"pool web, server " + s.sa() + ": weight 3 in the file, 5 from the API",
        "pool web, server " + s.sb() + ": disabled false in the file, true from the API",
        "pool web, server " + sc + ": not in the file, added through the API"}) {
    EXPECT_NE(r.second.find("\"" + line + "\""), std::string::npos) << line << " in " << r.second;
  }
  auto ctlReload = env.ctl({"reload"});
  EXPECT_EQ(ctlReload.code, 0);
  EXPECT_NE(ctlReload.output.find("shadowed: pool web, server " + s.sa() + ": weight 3 in the file, 5 from the API"),
            std::string::npos)
      << ctlReload.output;
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 5\n"), std::string::npos);
  // GET lists each override with the file's value it hides.
  auto list = env.api("GET", "/api/v1/overrides/web/" + s.sa());
  EXPECT_EQ(list.first, 200);
  EXPECT_NE(compact(list.second).find("\"fields\":{\"weight\":{\"api\":5,\"file\":3}}"), std::string::npos)
      << list.second;
  EXPECT_EQ(list.second.find(s.sb()), std::string::npos) << "only the server asked for: " << list.second;
  EXPECT_NE(env.api("GET", "/api/v1/overrides").second.find(sc), std::string::npos);
  // Reset one server through ctl: the file's weight applies, and survives a restart.
  auto reset = env.ctl({"reset", "web", s.sa()});
  EXPECT_EQ(reset.code, 0) << reset.output;
  EXPECT_NE(reset.output.find("1 server(s) follow the config file again"), std::string::npos) << reset.output;
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 3\n"), std::string::npos) << serverJson(env, s.sa());
  EXPECT_EQ(readFile(env.dir.file("fulcrum.yaml.state.json")).find(s.sa()), std::string::npos);
  // Reset the pool through the API: b drains as the file says, the added server goes.
  auto del = env.api("DELETE", "/api/v1/overrides/web");
  EXPECT_EQ(del.first, 200) << del.second;
  EXPECT_NE(del.second.find("\"cleared\": 2"), std::string::npos) << del.second;
  EXPECT_NE(serverJson(env, s.sb()).find("\"state\": \"draining\""), std::string::npos) << serverJson(env, s.sb());
  EXPECT_EQ(env.api("GET", "/api/v1/pools/web/servers/" + sc).first, 404);
  env.config = readFile(env.dir.file("fulcrum.yaml"));
  env.restart();
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 3\n"), std::string::npos) << serverJson(env, s.sa());
  EXPECT_NE(env.api("GET", "/api/v1/status").second.find("\"api_overrides\": 0"), std::string::npos);
  // Unknown names are 404; reset is audited.
  EXPECT_EQ(env.api("DELETE", "/api/v1/overrides/nope").first, 404);
  EXPECT_EQ(env.ctl({"reset", "web", "127.0.0.1:1"}).code, 1);
  EXPECT_NE(readFile(env.dir.file("fulcrum.yaml.audit.log")).find("\"action\":\"reset\""), std::string::npos);
}

TEST(AdminOverrides, DeletingTheStateFileClearsThemAtTheNextReload) {
  AdminEnv env;
  TwoServers s;
  env.start(httpConfig(env.port, s.pool(), ""));
  ASSERT_EQ(env.ctl({"weight", "web", s.sa(), "5"}).code, 0);
  ASSERT_EQ(env.ctl({"drain", "web", s.sb()}).code, 0);
  ASSERT_EQ(::unlink(env.dir.file("fulcrum.yaml.state.json").c_str()), 0);
  auto r = env.api("POST", "/api/v1/reload");
  ASSERT_EQ(r.first, 200) << r.second;
  EXPECT_NE(r.second.find("follow the file again"), std::string::npos) << r.second;
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 1\n"), std::string::npos) << serverJson(env, s.sa());
  EXPECT_NE(serverJson(env, s.sb()).find("\"drain\": false"), std::string::npos) << serverJson(env, s.sb());
  // A state file edited by hand counts too, and a broken one stops the reload, saying where.
  writeFile(env.dir.file("fulcrum.yaml.state.json"),
            "{\"format\": 1, \"pools\": {\"web\": {\"" + s.sa() + "\": {\"weight\": 7}}}}\n");
  ASSERT_EQ(env.api("POST", "/api/v1/reload").first, 200);
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 7\n"), std::string::npos) << serverJson(env, s.sa());
  writeFile(env.dir.file("fulcrum.yaml.state.json"), "{\"format\": 1, \"pools\": {\"web\": []}}\n");
  auto bad = env.api("POST", "/api/v1/reload");
  EXPECT_EQ(bad.first, 422) << bad.second;
  EXPECT_NE(bad.second.find("fulcrum.yaml.state.json:1:32: pools.web: must be an object"), std::string::npos)
      << bad.second;
  EXPECT_NE(serverJson(env, s.sa()).find("\"weight\": 7\n"), std::string::npos) << "unchanged";
}
