#include "admin/json_input.h"

#include <gtest/gtest.h>

namespace fulcrum::admin {
namespace {

std::string errorOf(std::string_view text) {
  nlohmann::json j;
  auto e = parseStrictJson(text, j);
  return e ? lineColumn(text, e->offset) + " " + e->reason : "ok";
}

TEST(StrictJson, DuplicateKeysAreRefusedAtAnyDepthWithTheirPosition) {
  EXPECT_EQ(errorOf("{\"weight\": 1, \"weight\": 2}"), "1:15 duplicate key \"weight\"");
  EXPECT_EQ(errorOf("{\"a\": {\"b\": 1,\n \"b\": 2}}"), "2:2 duplicate key \"b\"");
  EXPECT_EQ(errorOf("{\"a\": [{\"x\": 1}, {\"x\": 2}], \"b\": {\"x\": 3}}"), "ok");  // different objects
  // The same key spelt with an escape is the same key.
  EXPECT_EQ(errorOf("{\"ab\": 1, \"a\\u0062\": 2}"), "1:11 duplicate key \"ab\"");
  EXPECT_EQ(errorOf("{\"a\": \"{\\\"a\\\": 1}\", \"b\": \"a\"}"), "ok");  // keys inside strings are text
}

TEST(StrictJson, SyntaxErrorsSayWhereAndNestingIsBounded) {
  EXPECT_EQ(errorOf("{\"weight\": }").rfind("1:12 syntax error", 0), 0u) << errorOf("{\"weight\": }");
  EXPECT_EQ(errorOf("{\"a\" 1, \"a\": 2}").rfind("1:6 syntax error", 0), 0u) << errorOf("{\"a\" 1, \"a\": 2}");
  EXPECT_EQ(errorOf("").rfind("1:1 syntax error", 0), 0u) << errorOf("");
  std::string deep(100000, '[');
  EXPECT_EQ(errorOf(deep), "1:65 nested more than 64 levels deep");
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_EQ(errorOf(ok), "ok");
}

TEST(StrictJson, LocatesTheValueAtAKeyPath) {
  std::string t = "{\"pools\": {\"web\": {\"1.2.3.4:80\": {\"weight\": 9}}}, \"x\": [{\"weight\": 1}]}";
  EXPECT_EQ(locateJsonValue(t, {"pools", "web", "1.2.3.4:80", "weight"}), t.find("9"));
  EXPECT_EQ(locateJsonValue(t, {"pools", "web"}), t.find("{\"1.2"));
  EXPECT_EQ(locateJsonValue(t, {"weight"}), std::string_view::npos);  // not at the root
  EXPECT_EQ(locateJsonValue(t, {}), 0u);
  EXPECT_EQ(lineColumn("ab\ncd", 4), "2:2");
}

}  // namespace
}  // namespace fulcrum::admin
