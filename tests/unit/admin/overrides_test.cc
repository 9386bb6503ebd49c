#include "admin/overrides.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace fulcrum::admin {
namespace {

std::shared_ptr<const config::Config> base() {
  auto r = config::loadString(
      "listeners:\n  - name: l\n    bind: 127.0.0.1:1\n    pool: web\n"
      "pools:\n  - name: web\n    servers:\n      - address: 127.0.0.1:9001\n      - address: localhost:9002\n"
      "  - name: api\n    servers: [{address: 127.0.0.1:9101}]\n",
      "t.yaml");
  EXPECT_TRUE(r.ok());
  return r.config;
}

Change make(Change::Op op, std::string pool, std::string server, uint32_t weight = 1) {
  Change c;
  c.op = op;
  c.pool = std::move(pool);
  c.server = std::move(server);
  c.weight = weight;
  return c;
}

TEST(Overrides, ChangesApplyToTheWorkingConfigAndAreRecorded) {
  auto cfg = std::make_shared<config::Config>(*base());
  Overrides o;
  EXPECT_FALSE(applyChange(make(Change::Op::Weight, "web", "127.0.0.1:9001", 7), *cfg, o));
  EXPECT_FALSE(applyChange(make(Change::Op::Drain, "web", "127.0.0.1:9002"), *cfg, o));  // written as localhost
  EXPECT_FALSE(applyChange(make(Change::Op::Add, "web", "127.0.0.1:9003", 2), *cfg, o));
  EXPECT_FALSE(applyChange(make(Change::Op::Disable, "api", "127.0.0.1:9101"), *cfg, o));
  EXPECT_EQ(cfg->pools[0].servers[0].weight, 7u);
  EXPECT_TRUE(cfg->pools[0].servers[1].drain);
  ASSERT_EQ(cfg->pools[0].servers.size(), 3u);
  EXPECT_EQ(cfg->pools[0].servers[2].address.text, "127.0.0.1:9003");
  EXPECT_TRUE(cfg->pools[1].servers[0].disabled);
  EXPECT_EQ(o.count(), 4u);
  // The same overrides merged onto the file give the same config.
  std::vector<std::string> notes;
  auto merged = merge(*base(), o, notes);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(merged->pools[0].servers[0].weight, 7u);
  EXPECT_TRUE(merged->pools[0].servers[1].drain);
  EXPECT_EQ(merged->pools[0].servers.size(), 3u);
  EXPECT_TRUE(merged->pools[1].servers[0].disabled);
  // Enable undoes drain and disable.
  EXPECT_FALSE(applyChange(make(Change::Op::Enable, "web", "127.0.0.1:9002"), *cfg, o));
  EXPECT_FALSE(cfg->pools[0].servers[1].drain);
}

TEST(Overrides, RemovalOfAnAddedServerForgetsItAndOfAFileServerIsKept) {
  auto cfg = std::make_shared<config::Config>(*base());
  Overrides o;
  ASSERT_FALSE(applyChange(make(Change::Op::Add, "web", "127.0.0.1:9003"), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Remove, "web", "127.0.0.1:9003"), *cfg, o));
  EXPECT_TRUE(o.empty());
  ASSERT_FALSE(applyChange(make(Change::Op::Remove, "web", "127.0.0.1:9001"), *cfg, o));
  EXPECT_EQ(cfg->pools[0].servers.size(), 1u);
  std::vector<std::string> notes;
  auto merged = merge(*base(), o, notes);
  ASSERT_EQ(merged->pools[0].servers.size(), 1u);
  EXPECT_EQ(merged->pools[0].servers[0].address.text, "localhost:9002");
  // Adding it back brings the file's server back.
  ASSERT_FALSE(applyChange(make(Change::Op::Add, "web", "127.0.0.1:9001", 3), *cfg, o));
  merged = merge(*base(), o, notes);
  EXPECT_EQ(merged->pools[0].servers.size(), 2u);
}

TEST(Overrides, ErrorsChangeNothing) {
  auto cfg = std::make_shared<config::Config>(*base());
  Overrides o;
  auto status = [&](Change c) {
    auto e = applyChange(c, *cfg, o);
    return e ? e->status : 0;
  };
  EXPECT_EQ(status(make(Change::Op::Weight, "nope", "127.0.0.1:9001", 2)), 404);
  EXPECT_EQ(status(make(Change::Op::Weight, "web", "127.0.0.1:1", 2)), 404);
  EXPECT_EQ(status(make(Change::Op::Weight, "web", "127.0.0.1:9001", 0)), 400);
  EXPECT_EQ(status(make(Change::Op::Weight, "web", "127.0.0.1:9001", 257)), 400);
  EXPECT_EQ(status(make(Change::Op::Weight, "web", "not an address", 2)), 400);
  EXPECT_EQ(status(make(Change::Op::Add, "web", "127.0.0.1:9001")), 409);
  EXPECT_EQ(status(make(Change::Op::Add, "web", "0.0.0.0:9001")), 400);
  EXPECT_EQ(status(make(Change::Op::Remove, "api", "127.0.0.1:9101")), 409);  // the last server
  EXPECT_TRUE(o.empty());
  EXPECT_EQ(cfg->pools[0].servers[0].weight, 1u);
  EXPECT_EQ(cfg->pools[1].servers.size(), 1u);
}

TEST(Overrides, StaleOverridesAreDroppedWithANote) {
  Overrides o;
  o.pools["gone"]["127.0.0.1:1"].weight = 3;
  o.pools["web"]["127.0.0.1:9999"].drain = true;           // not in the file, not added
  o.pools["web"]["127.0.0.1:9001"].weight = 5;              // still applies
  std::vector<std::string> notes;
  auto merged = merge(*base(), o, notes);
  EXPECT_EQ(notes.size(), 2u);
  EXPECT_EQ(o.count(), 1u);
  EXPECT_EQ(merged->pools[0].servers[0].weight, 5u);
}

TEST(Overrides, StateFileRoundTripsAndBadFilesSayWhy) {
  Overrides o;
  o.pools["web"]["127.0.0.1:9001"].weight = 5;
  o.pools["web"]["[::1]:80"].added = true;
  o.pools["web"]["127.0.0.1:9002"].removed = true;
  std::string text = toJson(o);
  auto back = parseOverrides(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(toJson(*back), text);
  EXPECT_FALSE(parseOverrides("{").ok());
  EXPECT_FALSE(parseOverrides("{\"format\": 2}").ok());
  auto bad = parseOverrides("{\"format\": 1, \"pools\": {\"web\": {\"127.0.0.1:1\": {\"weight\": 0}}}}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("pools.web.127.0.0.1:1.weight"), std::string::npos) << bad.error().message;
  auto unknown = parseOverrides("{\"format\": 1, \"pools\": {\"web\": {\"127.0.0.1:1\": {\"wait\": 1}}}}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("pools.web.127.0.0.1:1.wait: unknown key"), std::string::npos)
      << unknown.error().message;
  EXPECT_EQ(checksumHex("abc").size(), 16u);
  EXPECT_NE(checksumHex("abc"), checksumHex("abd"));
}

TEST(Overrides, AnOverrideEqualToTheFileIsDropped) {
  auto cfg = std::make_shared<config::Config>(*base());
  Overrides o;
  // Drain then enable, weight away and back: nothing is left to shadow the file.
  ASSERT_FALSE(applyChange(make(Change::Op::Drain, "web", "127.0.0.1:9001"), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Enable, "web", "127.0.0.1:9001"), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Weight, "web", "127.0.0.1:9002", 4), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Weight, "web", "127.0.0.1:9002", 1), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Weight, "api", "127.0.0.1:9101", 9), *cfg, o));
  EXPECT_EQ(o.count(), 3u);
  std::vector<std::string> notes;
  auto merged = merge(*base(), o, notes);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(o.count(), 1u) << toJson(o);
  EXPECT_EQ(toJson(o), "{\n  \"format\": 1,\n  \"pools\": {\n    \"api\": {\n      \"127.0.0.1:9101\": {\n        \"weight\": 9\n"
                       "      }\n    }\n  }\n}\n");
  EXPECT_EQ(merged->pools[1].servers[0].weight, 9u);
  // The file changed to the API's value: the override goes at the next merge.
  auto file = std::make_shared<config::Config>(*base());
  file->pools[1].servers[0].weight = 9;
  merge(*file, o, notes);
  EXPECT_TRUE(o.empty());
}

TEST(Overrides, ShadowedNamesEveryFileValueAnOverrideHides) {
  Overrides o;
  o.pools["web"]["127.0.0.1:9002"].weight = 5;  // written as localhost:9002 in the file
  o.pools["web"]["127.0.0.1:9002"].drain = true;
  o.pools["web"]["127.0.0.1:9001"].removed = true;
  o.pools["web"]["127.0.0.1:9003"].added = true;
  o.pools["web"]["127.0.0.1:9003"].weight = 2;
  std::vector<std::string> notes;
  merge(*base(), o, notes);
  auto lines = shadowed(*base(), o);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "pool web, server 127.0.0.1:9001: in the file, removed through the API");
  EXPECT_EQ(lines[1], "pool web, server localhost:9002 (127.0.0.1:9002): weight 1 in the file, 5 from the API");
  EXPECT_EQ(lines[2], "pool web, server localhost:9002 (127.0.0.1:9002): drain false in the file, true from the API");
  EXPECT_EQ(lines[3], "pool web, server 127.0.0.1:9003: not in the file, added through the API");
}

TEST(Overrides, ResetForgetsAServerAPoolOrEverything) {
  auto cfg = std::make_shared<config::Config>(*base());
  Overrides o;
  ASSERT_FALSE(applyChange(make(Change::Op::Weight, "web", "127.0.0.1:9001", 7), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Drain, "web", "127.0.0.1:9002"), *cfg, o));
  ASSERT_FALSE(applyChange(make(Change::Op::Disable, "api", "127.0.0.1:9101"), *cfg, o));
  size_t cleared = 0;
  EXPECT_FALSE(resetOverrides(*cfg, o, "web", "localhost:9002", cleared));  // as configured
  EXPECT_EQ(cleared, 1u);
  EXPECT_FALSE(resetOverrides(*cfg, o, "web", "127.0.0.1:9002", cleared));  // nothing left: fine
  EXPECT_EQ(cleared, 0u);
  EXPECT_EQ(resetOverrides(*cfg, o, "web", "127.0.0.1:1", cleared)->status, 404);
  EXPECT_EQ(resetOverrides(*cfg, o, "nope", "", cleared)->status, 404);
  EXPECT_EQ(resetOverrides(*cfg, o, "web", "what", cleared)->status, 400);
  EXPECT_FALSE(resetOverrides(*cfg, o, "web", "", cleared));
  EXPECT_EQ(cleared, 1u);
  EXPECT_EQ(o.count(), 1u);
  EXPECT_FALSE(resetOverrides(*cfg, o, "", "", cleared));
  EXPECT_EQ(cleared, 1u);
  EXPECT_TRUE(o.empty());
  // A removed server is named by its address though the running config no longer has it.
  ASSERT_FALSE(applyChange(make(Change::Op::Remove, "web", "127.0.0.1:9001"), *cfg, o));
  EXPECT_FALSE(resetOverrides(*cfg, o, "web", "127.0.0.1:9001", cleared));
  EXPECT_EQ(cleared, 1u);
}

TEST(Overrides, ACorruptStateFileIsReportedWithFileLineColumnAndReason) {
  auto message = [](std::string_view text) {
    auto r = parseOverrides(text, "/var/lib/fulcrum/state.json");
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  // A syntax error: where the parser stopped.
  EXPECT_EQ(message("{\"format\": 1,\n \"pools\": {\"web\": [}}\n").rfind("/var/lib/fulcrum/state.json:2:20: syntax error", 0),
            0u)
      << message("{\"format\": 1,\n \"pools\": {\"web\": [}}\n");
  EXPECT_EQ(message("").rfind("/var/lib/fulcrum/state.json:1:1: syntax error", 0), 0u) << message("");
  // A bad value: where the value is, its key path, what was expected.
  std::string bad = "{\"format\": 1, \"pools\": {\n  \"web\": {\n    \"127.0.0.1:1\": {\"weight\": 999}}}}\n";
  EXPECT_EQ(message(bad),
            "/var/lib/fulcrum/state.json:3:31: pools.web.127.0.0.1:1.weight: expected a whole number from 1 to 256, "
            "got 999");
  EXPECT_EQ(message("{\"format\": 1, \"pools\": {\"web\": {\"nowhere\": {}}}}").rfind(
                "/var/lib/fulcrum/state.json:1:44: pools.web.nowhere: ", 0),
            0u);
  EXPECT_EQ(message("{\"format\": 2}"), "/var/lib/fulcrum/state.json:1:12: format: expected 1, got 2");
  EXPECT_EQ(message("[]").rfind("/var/lib/fulcrum/state.json:1:1: expected a JSON object", 0), 0u);
  // A key given twice would silently keep the last: refused, at the second.
  EXPECT_EQ(message("{\"format\": 1, \"pools\": {\"web\": {\"127.0.0.1:1\": {\"weight\": 2, \"weight\": 3}}}}"),
            "/var/lib/fulcrum/state.json:1:62: duplicate key \"weight\"");
  EXPECT_EQ(message("{\"format\": 1, \"pools\": {\"web\": {\"[::1]:80\": {}, \"[0::1]:80\": {}}}}").rfind(
                "/var/lib/fulcrum/state.json:1:45: pools.web.[::1]:80: the same server as \"[0::1]:80\", given twice", 0),
            0u)
      << message("{\"format\": 1, \"pools\": {\"web\": {\"[::1]:80\": {}, \"[0::1]:80\": {}}}}");
}

}  // namespace
}  // namespace fulcrum::admin
