// The command line: version, check, help.
#include <gtest/gtest.h>

#include "harness.h"

using namespace itest;

TEST(Cli, Version) {
  auto r = runCommand({FULCRUM_BIN, "version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("fulcrum "), std::string::npos);
}

TEST(Cli, HelpForEachCommand) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"run", "--help"}, {"check", "--help"}}) {
    args.insert(args.begin(), FULCRUM_BIN);
    auto r = runCommand(args);
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
  }
}

TEST(Cli, CheckAcceptsTheExample) {
  auto r = runCommand({FULCRUM_BIN, "check", "-c", std::string(SOURCE_DIR) + "/examples/fulcrum.yaml"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("valid"), std::string::npos);
}

TEST(Cli, CheckListsEveryErrorWithPosition) {
  TempDir dir;
  writeFile(dir.file("bad.yaml"),
            "listeners:\n"
            "  - name: web\n"
            "    bind: 127.0.0.1:8080\n"
            "    pool: nowhere\n"
            "    colour: blue\n"
            "pools:\n"
            "  - name: p\n"
            "    servers:\n"
            "      - address: 127.0.0.1:9000\n"
            "        weight: lots\n");
  auto r = runCommand({FULCRUM_BIN, "check", "-c", dir.file("bad.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("bad.yaml:4:11:"), std::string::npos) << r.output;  // dangling pool
  EXPECT_NE(r.output.find("bad.yaml:5:5:"), std::string::npos) << r.output;   // unknown key
  EXPECT_NE(r.output.find("bad.yaml:10:17:"), std::string::npos) << r.output; // wrong type
  EXPECT_NE(r.output.find("3 errors"), std::string::npos) << r.output;
}

TEST(Cli, UnknownCommandFails) {
  auto r = runCommand({FULCRUM_BIN, "frobnicate"});
  EXPECT_NE(r.code, 0);
}

TEST(Cli, CheckReportsAnUnresolvableHost) {
  TempDir dir;
  writeFile(dir.file("dns.yaml"),
            "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: p\n"
            "pools:\n  - name: p\n    servers:\n      - address: backend.example.invalid:9000\n");
  // In an empty network namespace the lookup fails at once and no query leaves the machine.
  auto r = runCommand({"/usr/bin/unshare", "--net", FULCRUM_BIN, "check", "-c", dir.file("dns.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("dns.yaml:8:18:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot resolve host \"backend.example.invalid\""), std::string::npos) << r.output;
}
