// The command line: version, check, help.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <thread>

#include "configs.h"
#include "../tls_certs.h"
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

namespace {
// examples/fulcrum.yaml in `dir`, with the self-signed localhost pair its HTTPS listener names
// next to it (scripts/demo.sh makes the same).
std::string exampleWithCertificate(const TempDir& dir) {
  writeFile(dir.file("fulcrum.yaml"), readFile(std::string(SOURCE_DIR) + "/examples/fulcrum.yaml"));
  testcerts::TestCa ca;
  auto pem = ca.issue({"localhost"});
  testcerts::writeFile(dir.file("localhost.pem"), pem.cert);
  testcerts::writeFile(dir.file("localhost.key"), pem.key);
  return dir.file("fulcrum.yaml");
}
}  // namespace

TEST(Cli, CheckAcceptsTheExample) {
  TempDir dir;
  auto r = runCommand({FULCRUM_BIN, "check", "-c", exampleWithCertificate(dir)});
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

// --- issue #12: flags, exit codes, help, ports in `check`, ctl with a broken config ---

namespace {

std::string minimalConfig(uint16_t port, const std::string& extra = "") {
  return "listeners:\n  - name: web\n    bind: 127.0.0.1:" + std::to_string(port) +
         "\n    pool: p\npools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:9000\n" + extra;
}

}  // namespace

TEST(Cli, VersionFlag) {
  auto r = runCommand({FULCRUM_BIN, "--version"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("fulcrum ", 0), 0u) << r.output;
}

TEST(Cli, CheckTakesTheFileAsAnArgumentOrWithC) {
  TempDir dir;
  std::string example = exampleWithCertificate(dir);
  for (std::vector<std::string> args : {std::vector<std::string>{"check", example}, {"check", "-c", example}}) {
    args.insert(args.begin(), FULCRUM_BIN);
    auto r = runCommand(args);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("valid (4 listeners, 2 pools)"), std::string::npos) << r.output;
  }
  auto none = runCommand({FULCRUM_BIN, "check"});
  EXPECT_EQ(none.code, 2) << none.output;
  EXPECT_NE(none.output.find("fulcrum check FILE"), std::string::npos) << none.output;
}

TEST(Cli, OnePoolIsNotOnePools) {
  TempDir dir;
  writeFile(dir.file("one.yaml"), minimalConfig(8080));
  auto r = runCommand({FULCRUM_BIN, "check", dir.file("one.yaml")});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("(1 listener, 1 pool)"), std::string::npos) << r.output;
}

TEST(Cli, BadUsageExitsWith2) {
  TempDir dir;
  writeFile(dir.file("ok.yaml"), minimalConfig(8080));
  const std::vector<std::vector<std::string>> usages = {
      {},                                                   // no command
      {"frobnicate"},                                       // unknown command
      {"--frobnicate"},                                     // unknown option
      {"run"},                                              // -c missing
      {"run", "-c", dir.file("ok.yaml"), "--workers", "lots"},  // not a number
      {"run", "-c", dir.file("ok.yaml"), "--workers", "5000"},  // out of range
      {"check", "-c", dir.file("ok.yaml"), dir.file("ok.yaml")},  // both forms at once
      {"ctl"},                                              // ctl command missing
      {"ctl", "weight", "web"},                             // its arguments missing
  };
  for (auto args : usages) {
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    args.insert(args.begin(), FULCRUM_BIN);
    auto r = runCommand(args);
    EXPECT_EQ(r.code, 2) << "fulcrum" << shown << "\n" << r.output;
    EXPECT_FALSE(r.output.empty()) << "fulcrum" << shown;
  }
}

TEST(Cli, HelpSaysWhatItBalancesAndTheExitCodes) {
  auto r = runCommand({FULCRUM_BIN, "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("TCP, UDP and HTTP"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--version"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Exit codes: 0 success; 1 failure"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 bad usage"), std::string::npos) << r.output;
}

TEST(Cli, WorkersZeroMeansOnePerCore) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  TempDir dir;
  uint16_t port = freePort();
  writeFile(dir.file("f.yaml"), "workers: " + std::to_string(cores + 1) + "\n" + minimalConfig(port) +
                                    "admin:\n  bind: 127.0.0.1:" + std::to_string(freePort()) + "\n");
  Process f({FULCRUM_BIN, "run", "-c", dir.file("f.yaml"), "--workers", "0"}, dir.file("f.log"));
  ASSERT_TRUE(waitFor([&] { return f.log().find("fulcrum started") != std::string::npos || !f.running(); }, 10s))
      << f.log();
  EXPECT_NE(f.log().find("workers=" + std::to_string(cores) + " "), std::string::npos) << f.log();
  f.signal(SIGTERM);
  EXPECT_EQ(f.wait(10s).value_or(-1), 0) << f.log();
}

TEST(Cli, CheckReportsAnAdminBindThatIsAListenersBind) {
  TempDir dir;
  writeFile(dir.file("a.yaml"), minimalConfig(8080,
                                              "admin:\n"
                                              "  bind: 127.0.0.1:8080\n"));
  auto r = runCommand({FULCRUM_BIN, "check", dir.file("a.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("a.yaml:10:9: error: admin.bind: 127.0.0.1:8080 is also the bind of listener \"web\""),
            std::string::npos)
      << r.output;
  // Without an admin section the admin listener takes 127.0.0.1:9900: a listener cannot.
  writeFile(dir.file("b.yaml"), minimalConfig(9900));
  r = runCommand({FULCRUM_BIN, "check", dir.file("b.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("b.yaml:3:11: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("admin listener's default address"), std::string::npos) << r.output;
  // A wildcard admin bind takes the port on every address.
  writeFile(dir.file("c.yaml"), minimalConfig(8080,
                                              "admin:\n"
                                              "  bind: \"*:8080\"\n"
                                              "  token: 0123456789abcdef0123\n"));
  r = runCommand({FULCRUM_BIN, "check", dir.file("c.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("c.yaml:10:9: error: admin.bind"), std::string::npos) << r.output;
}

TEST(Cli, CheckReportsAWildcardAndASpecificAddressOnOnePort) {
  TempDir dir;
  writeFile(dir.file("w.yaml"),
            "listeners:\n"
            "  - name: all\n"
            "    bind: \"*:8080\"\n"
            "    pool: p\n"
            "  - name: local\n"
            "    bind: 127.0.0.1:8080\n"
            "    protocol: http\n"
            "    pool: p\n"
            "  - name: dns\n"                 // the same port over UDP is another socket: fine
            "    bind: 127.0.0.1:8080\n"
            "    protocol: udp\n"
            "    pool: p\n"
            "  - name: six-all\n"
            "    bind: \"[::]:8081\"\n"
            "    pool: p\n"
            "  - name: six-one\n"
            "    bind: \"[::1]:8081\"\n"
            "    pool: p\n"
            "  - name: four-one\n"            // IPv6 wildcards are IPv6 only
            "    bind: 127.0.0.1:8081\n"
            "    pool: p\n"
            "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:9000\n");
  auto r = runCommand({FULCRUM_BIN, "check", dir.file("w.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("w.yaml:6:11: error: listeners[1].bind: 127.0.0.1:8080 overlaps *:8080/tcp of listener "
                          "\"all\" at line 3"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("w.yaml:17:11: error: listeners[4].bind: [::1]:8081 overlaps"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 errors"), std::string::npos) << r.output;
}

TEST(Cli, CtlFindsTheAdminThroughAConfigThatNoLongerLoads) {
  TempDir dir;
  uint16_t port = freePort(), admin = freePort();
  std::string adminYaml = "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n";
  auto f = startFulcrum(dir, minimalConfig(port, adminYaml), port);
  ASSERT_TRUE(f->running()) << f->log();
  // Being edited: the pool is gone, so the file no longer loads; its admin section still does.
  writeFile(dir.file("fulcrum.yaml"),
            "listeners:\n  - name: web\n    bind: 127.0.0.1:" + std::to_string(port) + "\n    pool: p\n" + adminYaml);
  ASSERT_NE(runCommand({FULCRUM_BIN, "check", dir.file("fulcrum.yaml")}).code, 0);
  auto r = runCommand({FULCRUM_BIN, "ctl", "-c", dir.file("fulcrum.yaml"), "status"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1:9000"), std::string::npos) << r.output;
  // A file that is not YAML at all: a warning, and the default address (where nothing of ours
  // listens here), so a failure (1), not bad usage.
  writeFile(dir.file("broken.yaml"), "admin: [unclosed\n");
  r = runCommand({FULCRUM_BIN, "ctl", "-c", dir.file("broken.yaml"), "--admin",
                  "127.0.0.1:" + std::to_string(deadPort()), "status"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("warning: " + dir.file("broken.yaml") + ":"), std::string::npos) << r.output;
}
