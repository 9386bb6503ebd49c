// timeouts.withdraw: a stopping fulcrum behind a router first makes /readyz fail (so
// `fulcrum watch` withdraws its route) while it still accepts, and closes keep-alive
// connections at request boundaries, so that by the time the route is gone it holds as few
// connections as it can; only then does it drain and stop.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono;

namespace {

// One HTTP/1.1 exchange on fd: the whole response (Content-Length framed), or "" on error.
std::string exchange(int fd) {
  if (!sendStr(fd, "GET / HTTP/1.1\r\nHost: vip\r\n\r\n")) return "";
  std::string in;
  char buf[4096];
  for (;;) {
    size_t head = in.find("\r\n\r\n");
    if (head != std::string::npos) {
      size_t cl = in.find("content-length: ");
      if (cl == std::string::npos) cl = in.find("Content-Length: ");
      if (cl != std::string::npos && in.size() >= head + 4 + std::stoul(in.substr(cl + 16))) return in;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
}

bool saysClose(const std::string& response) {
  return response.find("onnection: close\r\n") != std::string::npos;
}

}  // namespace

TEST(Withdraw, AStoppingFulcrumIsUnreadyButStillServesAndClosesKeepAlive) {
  AdminEnv env;
  env.start("timeouts:\n  withdraw: 1500ms\nlisteners:\n  - name: web\n    bind: 127.0.0.1:" +
                std::to_string(env.port) +
                "\n    protocol: http\n    http:\n      routes:\n        - respond: {status: 200, body: \"ok\\n\"}\n"
                "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" + std::to_string(deadPort()) + "\n",
            "", 1);
  int idle = connectTcp(env.port);
  ASSERT_GE(idle, 0);
  std::string first = exchange(idle);
  ASSERT_NE(first.find("200"), std::string::npos) << first;
  EXPECT_FALSE(saysClose(first)) << "kept alive before the stop";
  ASSERT_EQ(env.api("GET", "/readyz").first, 200);

  auto start = steady_clock::now();
  env.fulcrum->signal(SIGTERM);
  ASSERT_TRUE(waitFor([&] { return env.api("GET", "/readyz").first == 503; }, 1s)) << env.fulcrum->log();
  EXPECT_NE(env.api("GET", "/readyz").second.find("withdrawing this instance"), std::string::npos);
  // The idle keep-alive connection is closed now, between requests...
  EXPECT_TRUE(closedWithin(idle, 500ms)) << "an idle keep-alive connection is closed at once";
  ::close(idle);
  // ...and a new one is still accepted and served, once.
  int fresh = connectTcp(env.port, "127.0.0.1", 1);
  ASSERT_GE(fresh, 0) << "still accepting while the route is withdrawn";
  std::string answer = exchange(fresh);
  EXPECT_NE(answer.find("200"), std::string::npos) << answer;
  EXPECT_TRUE(saysClose(answer)) << answer;
  EXPECT_TRUE(closedWithin(fresh, 1s));
  ::close(fresh);
  EXPECT_LT(steady_clock::now() - start, 1500ms) << "(the checks above ran within the withdrawal)";
  auto code = env.fulcrum->wait(10s);
  ASSERT_TRUE(code.has_value()) << env.fulcrum->log();
  EXPECT_EQ(*code, 0);
  EXPECT_GE(steady_clock::now() - start, 1400ms) << "it accepted for the whole withdrawal";
  std::string log = env.fulcrum->log();
  EXPECT_NE(log.find("stopping: unready, still accepting"), std::string::npos) << log;
  EXPECT_NE(log.find("signal=withdrawn"), std::string::npos) << log;
}

TEST(Withdraw, ASecondSignalDrainsAtOnce) {
  AdminEnv env;
  env.start("timeouts:\n  withdraw: 30s\nlisteners:\n  - name: web\n    bind: 127.0.0.1:" + std::to_string(env.port) +
                "\n    protocol: http\n    http:\n      routes:\n        - respond: {status: 200, body: \"ok\\n\"}\n"
                "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" + std::to_string(deadPort()) + "\n",
            "", 1);
  env.fulcrum->signal(SIGTERM);
  ASSERT_TRUE(waitFor([&] { return env.api("GET", "/readyz").first == 503; }, 1s));
  env.fulcrum->signal(SIGTERM);
  auto code = env.fulcrum->wait(5s);
  ASSERT_TRUE(code.has_value()) << "not 30 s: the second signal skips the withdrawal";
  EXPECT_EQ(*code, 0);
  EXPECT_NE(env.fulcrum->log().find("second stop signal: draining now"), std::string::npos);
}

TEST(Withdraw, ZeroToAMinuteIsAcceptedAndMoreIsAConfigError) {
  TempDir dir;
  auto config = [&](const std::string& value) {
    writeFile(dir.file("f.yaml"), "timeouts:\n  withdraw: " + value +
                                      "\nlisteners:\n  - name: web\n    bind: 127.0.0.1:1\n"
                                      "    pool: p\npools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:2\n");
    return runCommand({FULCRUM_BIN, "check", dir.file("f.yaml")});
  };
  for (const char* ok : {"0s", "400ms", "60s"}) {
    auto r = config(ok);
    EXPECT_EQ(r.code, 0) << ok << ": " << r.output;
  }
  auto r = config("2m");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("f.yaml:2:"), std::string::npos) << r.output;
}
