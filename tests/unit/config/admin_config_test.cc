// The admin and access_log sections: defaults, values, and each error at its position.
#include <gtest/gtest.h>

#include "config/address.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::load;
using testing::onlyError;

const std::string kBase =
    "listeners:\n  - name: l\n    bind: 127.0.0.1:8080\n    pool: web\n"
    "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n";

TEST(AdminConfig, DefaultsToLoopback9900WithoutToken) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_TRUE(r.config->admin.enabled);
  EXPECT_EQ(r.config->admin.bind.text, "127.0.0.1:9900");
  EXPECT_TRUE(isLoopback(r.config->admin.bind));
  EXPECT_TRUE(r.config->admin.token.empty());
  EXPECT_FALSE(r.config->access_log.enabled);
}

TEST(AdminConfig, ValuesAreRead) {
  auto r = load(kBase +
                "admin:\n  bind: \"[::1]:9901\"\n  token: abcdefghijklmnop-1\n  state_file: /var/lib/f.json\n"
                "  audit_log: /var/log/f.audit\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_TRUE(isLoopback(r.config->admin.bind));
  EXPECT_EQ(r.config->admin.token, "abcdefghijklmnop-1");
  EXPECT_EQ(r.config->admin.state_file, "/var/lib/f.json");
  EXPECT_EQ(r.config->admin.audit_log, "/var/log/f.audit");
}

TEST(AdminConfig, TheControlSocketIsAPathAUnixSocketCanHave) {
  auto r = load(kBase + "admin:\n  control_socket: /run/fulcrum/ctl.sock\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_EQ(r.config->admin.control_socket, "/run/fulcrum/ctl.sock");
  EXPECT_TRUE(load(kBase).config->admin.control_socket.empty()) << "default: next to the config file";
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  control_socket: /" + std::string(107, 'x') + "\n"), 9, 19,
                        "expected a path of 1 to 107 bytes"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  control_socket: \"\"\n"), 9, 19, "expected a path of 1 to 107"));
}

TEST(AdminConfig, AwayFromLoopbackATokenAndTlsAreRequired) {
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  bind: \"*:9900\"\n"), 9, 9, "set admin.token (or token_file) and admin.tls"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  bind: 10.1.2.3:9900\n"), 9, 9, "reachable from other hosts"));
  // And TLS: a token in clear text is anyone's who can see the traffic.
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  bind: \"*:9900\"\n  token: abcdefghijklmnop-1\n"), 9, 9,
                        "set admin.tls"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  bind: 0.0.0.0:9900\n  tls: {certificates: [{cert: a.pem, key: a.key}]}\n"),
                        9, 9, "set admin.token (or token_file), or bind it to 127.0.0.1"));
  auto r = load(kBase + "admin:\n  bind: \"*:9900\"\n  token: abcdefghijklmnop-1\n  tls:\n    certificates:\n"
                        "      - {cert: /etc/fulcrum/admin.pem, key: /etc/fulcrum/admin.key}\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_EQ(r.config->admin.tls.certificates.at(0).cert, "/etc/fulcrum/admin.pem");
  EXPECT_EQ(r.config->admin.tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_TRUE(load(kBase + "admin:\n  bind: \"*:9900\"\n  enabled: false\n").ok());
}

TEST(AdminConfig, BadTokensAreRefused) {
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  token: short\n"), 9, 10, "at least 16"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  token: \"has a space in it!!\"\n"), 9, 10, "without spaces"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  token: abcdefghijklmnop-1\n  token_file: /x\n"), 10, 3,
                        "not both"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  token_file: /nonexistent/token\n"), 9, 15, "cannot read"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  bnd: 127.0.0.1:1\n"), 9, 3, "unknown key"));
}

TEST(AdminConfig, HeadTimeoutAndPerClientCapHaveSafeDefaultsAndRanges) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_EQ(r.config->admin.head_timeout, Millis(2000));
  EXPECT_EQ(r.config->admin.max_connections_per_client, 16u);
  r = load(kBase + "admin:\n  head_timeout: 500ms\n  max_connections_per_client: 4\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_EQ(r.config->admin.head_timeout, Millis(500));
  EXPECT_EQ(r.config->admin.max_connections_per_client, 4u);
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  head_timeout: 0s\n"), 9, 17, "between 100ms and 1m"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  max_connections_per_client: 0\n"), 9, 31, "1"));
  EXPECT_TRUE(onlyError(load(kBase + "admin:\n  max_connections_per_client: 5000\n"), 9, 31, "1024"));
}

TEST(AccessLogConfig, JsonByDefaultOrATemplate) {
  auto r = load(kBase + "access_log:\n  path: /tmp/a.log\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_TRUE(r.config->access_log.enabled);
  EXPECT_TRUE(r.config->access_log.json);
  r = load(kBase + "access_log:\n  path: \"-\"\n  format: \"$${client} ${client} ${status} [${total_ms}]\"\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& f = r.config->access_log.format;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].literal, "${client} ");
  EXPECT_EQ(f[0].field, static_cast<int>(LogField::Client));
  EXPECT_EQ(f[1].field, static_cast<int>(LogField::Status));
  EXPECT_EQ(f[2].literal, " [");
  EXPECT_EQ(f[2].field, static_cast<int>(LogField::TotalMs));
  EXPECT_EQ(f[3].literal, "]");
  EXPECT_EQ(f[3].field, -1);
}

TEST(AccessLogConfig, BadTemplatesSayWhy) {
  EXPECT_TRUE(onlyError(load(kBase + "access_log:\n  path: a\n  format: \"${nope}\"\n"), 10, 11,
                        "unknown field ${nope}; expected one of time, client"));
  EXPECT_TRUE(onlyError(load(kBase + "access_log:\n  path: a\n  format: \"${client\"\n"), 10, 11, "unclosed"));
  EXPECT_TRUE(onlyError(load(kBase + "access_log:\n  path: a\n  format: \"$client\"\n"), 10, 11, "expected ${field}"));
  EXPECT_TRUE(onlyError(load(kBase + "access_log:\n  format: json\n"), 9, 3, "missing required key \"path\""));
  EXPECT_TRUE(onlyError(load(kBase + "access_log:\n  path: \"\"\n"), 9, 9, "empty"));
}

TEST(ServerConfig, DisabledIsRead) {
  auto r = load("listeners:\n  - name: l\n    bind: 127.0.0.1:8080\n    pool: web\n"
                "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001, disabled: true}, {address: 127.0.0.1:9002}]\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_TRUE(r.config->pools[0].servers[0].disabled);
  EXPECT_FALSE(r.config->pools[0].servers[1].disabled);
}

}  // namespace
}  // namespace fulcrum::config
