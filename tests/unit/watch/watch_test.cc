// The watcher's pure parts: the verdict's rise and fall, the readiness URL, the track file;
// and one probe against a real listener on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "watch/readiness_probe.h"
#include "watch/track_file.h"
#include "watch/verdict.h"

using namespace fulcrum::watch;

TEST(Verdict, RisesAndFallsOnProbesInARowAndDiesAtOnce) {
  Verdict v(2, 3);
  EXPECT_FALSE(v.up()) << "down until ready";
  EXPECT_FALSE(v.onProbe(true));
  EXPECT_FALSE(v.onProbe(false)) << "a failure breaks the run";
  EXPECT_FALSE(v.onProbe(true));
  EXPECT_TRUE(v.onProbe(true));
  EXPECT_TRUE(v.up());
  EXPECT_FALSE(v.onProbe(false));
  EXPECT_FALSE(v.onProbe(false));
  EXPECT_FALSE(v.onProbe(true)) << "one slow answer under load moves nothing";
  EXPECT_FALSE(v.onProbe(false));
  EXPECT_FALSE(v.onProbe(false));
  EXPECT_TRUE(v.onProbe(false));
  EXPECT_FALSE(v.up());
  EXPECT_FALSE(v.onProbe(true));
  EXPECT_TRUE(v.onProbe(true));
  EXPECT_TRUE(v.onDeath()) << "a dead process is down at once";
  EXPECT_FALSE(v.up());
  EXPECT_FALSE(v.onDeath());
}

TEST(ProbeUrl, ParsesHostsPortsAndPaths) {
  auto a = parseProbeUrl("http://127.0.0.1:9900/readyz");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9900);
  EXPECT_EQ(a->path, "/readyz");
  EXPECT_EQ(a->host_header, "127.0.0.1:9900");
  auto b = parseProbeUrl("http://[::1]:81/x?y=1");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 81);
  EXPECT_EQ(b->path, "/x?y=1");
  auto c = parseProbeUrl("http://localhost");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 80);
  EXPECT_EQ(c->path, "/");
  for (const char* bad : {"https://127.0.0.1/readyz", "127.0.0.1:9900", "http://example.com/readyz",
                          "http://127.0.0.1:99999/", "http://127.0.0.1:0/", "http://[::1/", "http://:80/",
                          "http://127.0.0.1:9x/"}) {
    auto r = parseProbeUrl(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("readiness URL"), std::string::npos) << r.error().message;
    }
  }
}

TEST(TrackFile, HoldsZeroWhenUpAndOneWhenDown) {
  char dir[] = "/tmp/fulcrum-watch-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/track";
  auto read = [&] {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  ASSERT_TRUE(writeTrackFile(path, true));
  EXPECT_EQ(read(), "0\n");
  ASSERT_TRUE(writeTrackFile(path, false));
  EXPECT_EQ(read(), "1\n");
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "the temporary file was renamed over it";
  fulcrum::Status s = writeTrackFile(std::string(dir) + "/no/such/dir/track", true);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
  unlink(path.c_str());
  rmdir(dir);
}

namespace {

// A listener on loopback that answers each connection with `answer` (or nothing: silent).
struct OneShotServer {
  explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd, 4), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      char buf[1024];
      (void)read(c, buf, sizeof buf);
      if (!answer_.empty()) {
        (void)write(c, answer_.data(), answer_.size());
      } else {
        usleep(300'000);  // silent past the probe's deadline
      }
      close(c);
    });
  }
  ~OneShotServer() {
    thread.join();
    close(fd);
  }
  std::string answer_;
  int fd = -1;
  uint16_t port = 0;
  std::thread thread;
};

ProbeTarget target(uint16_t port) {
  auto t = parseProbeUrl("http://127.0.0.1:" + std::to_string(port) + "/readyz");
  EXPECT_TRUE(t);
  return *t;
}

}  // namespace

TEST(ReadinessProbe, PassesOnlyOnA200InTime) {
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
    auto r = probe(target(s.port), 2000);
    EXPECT_TRUE(r.passed) << r.reason;
    EXPECT_EQ(r.status, 200);
  }
  {
    OneShotServer s("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    auto r = probe(target(s.port), 2000);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.reason, "status 503");
  }
  {
    OneShotServer s("");
    auto r = probe(target(s.port), 100);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.reason.find("timed out"), std::string::npos) << r.reason;
  }
  {
    OneShotServer s("nonsense\r\n\r\n");
    auto r = probe(target(s.port), 2000);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.reason.find("malformed"), std::string::npos) << r.reason;
  }
}
