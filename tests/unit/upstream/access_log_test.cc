#include "upstream/access_log.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace fulcrum::upstream {
namespace {

AccessRecord sample() {
  AccessRecord r;
  r.client = "10.0.0.1";
  r.listener = "front";
  r.protocol = "http";
  r.pool = "web";
  r.server = "127.0.0.1:9001";
  r.method = "GET";
  r.path = "/a\"b";
  r.termination = "ok";
  r.status = 200;
  r.bytes_in = 80;
  r.bytes_out = 1234;
  r.connect_us = 1500;
  r.total_us = 2500;
  r.retries = 1;
  return r;
}

TEST(AccessLogFormat, JsonHasEveryFieldEscaped) {
  config::AccessLog cfg;
  cfg.enabled = true;
  std::string out;
  AccessLog::format(cfg, sample(), out, "2026-11-30T10:00:00.000Z");
  EXPECT_EQ(out,
            "{\"time\":\"2026-11-30T10:00:00.000Z\",\"client\":\"10.0.0.1\",\"listener\":\"front\",\"protocol\":"
            "\"http\",\"route\":\"\",\"pool\":\"web\",\"server\":\"127.0.0.1:9001\",\"method\":\"GET\",\"path\":"
            "\"/a\\\"b\",\"status\":200,\"bytes_in\":80,\"bytes_out\":1234,\"queue_ms\":-1,\"connect_ms\":1.500,"
            "\"response_ms\":-1,\"total_ms\":2.500,\"retries\":1,\"termination\":\"ok\"}\n");
}

TEST(AccessLogFormat, TemplateWithDashesForEmptyFields) {
  auto r = config::loadString(
      "access_log:\n  path: \"-\"\n  format: \"${client} [${route}] ${status} ${total_ms}ms $$\"\n"
      "listeners:\n  - name: l\n    bind: 127.0.0.1:1\n    pool: p\npools:\n  - name: p\n"
      "    servers: [{address: 127.0.0.1:2}]\n",
      "t.yaml");
  ASSERT_TRUE(r.ok());
  std::string out;
  AccessLog::format(r.config->access_log, sample(), out, "t");
  EXPECT_EQ(out, "10.0.0.1 [-] 200 2.500ms $\n");
  EXPECT_EQ(formatText(r.config->access_log), "${client} [${route}] ${status} ${total_ms}ms $$");
}

TEST(AccessLog, WritesEverythingBufferedWhenDestroyed) {
  char path[] = "/tmp/fulcrum-access-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  config::AccessLog cfg;
  cfg.enabled = true;
  cfg.path = path;
  {
    auto log = AccessLog::open(cfg, 2);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 1000; ++i) (*log)->write(static_cast<size_t>(i % 2), sample());
    (*log)->flush(0);
  }
  FILE* f = fopen(path, "r");
  int lines = 0;
  for (int c; (c = fgetc(f)) != EOF;) lines += c == '\n';
  fclose(f);
  unlink(path);
  EXPECT_EQ(lines, 1000);
  config::AccessLog bad = cfg;
  bad.path = "/nonexistent/dir/a.log";
  auto none = AccessLog::open(bad, 1);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("cannot open access log"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum::upstream
