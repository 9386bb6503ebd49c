// HTTP/2 from clients (issue #16 item 1) with real clients: curl (--http2-prior-knowledge, and
// --http2 over TLS by ALPN), nghttp, h2load, and raw frames from python3-h2's parts
// (tests/integration/clients/h2_probe.py) for what RFC 9113 §8 says an intermediary must refuse.
// HTTP/1.1 servers behind (tools/httpbackend).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

const std::string kProbe = SOURCE_DIR "/tests/integration/clients/h2_probe.py";

struct H2Env {
  TempDir dir;
  HttpBackend backend = startHttpBackend(dir, "b1");
  uint16_t port = freePort();
  std::string log = dir.file("access.log");
  std::unique_ptr<Process> fulcrum;

  // An http listener with http2 enabled (plus `extra` under it), the access log on.
  void start(const std::string& extra = "", const std::string& http2 = "    http2:\n      enabled: true\n") {
    fulcrum = startFulcrum(dir, httpConfig(port, httpPool("web", {backend.port}), http2 + extra, "web",
                                           "access_log:\n  path: " + log + "\n"),
                           port);
  }
  RunResult probe(const std::string& c) { return runCommand({"/usr/bin/python3", kProbe, std::to_string(port), c}, 20s); }
};

// A TCP listener that accepts nothing: what reached it shows in its backlog.
struct SilentServer {
  int fd = -1;
  uint16_t port = 0;
  SilentServer() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd); }
  // Whether a connection is waiting to be accepted (within `ms`).
  bool reached(int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }
};

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST(Http2, PriorKnowledgeGetsWhatHttp11GetsWithTheSameForwardedFieldsAndLogLine) {
  H2Env env;
  env.start();
  auto h2 = curl({"--http2-prior-knowledge", "-i", url(env.port, "/headers?x=1")});
  ASSERT_EQ(h2.code, 0) << h2.output;
  EXPECT_EQ(h2.output.rfind("HTTP/2 200", 0), 0u) << h2.output;
  auto h1 = curl({"-i", url(env.port, "/headers?x=1")});
  EXPECT_EQ(h1.output.rfind("HTTP/1.1 200", 0), 0u) << h1.output;
  for (const std::string& f : std::vector<std::string>{"[\"X-Forwarded-For\", \"127.0.0.1\"]", "[\"X-Forwarded-Proto\", \"http\"]",
                               "[\"Host\", \"127.0.0.1:" + std::to_string(env.port) + "\"]", "\"target\": \"/headers?x=1\"",
                               "\"version\": \"HTTP/1.1\""}) {
    EXPECT_NE(h2.output.find(f), std::string::npos) << f << "\n" << h2.output;
    EXPECT_NE(h1.output.find(f), std::string::npos) << f << "\n" << h1.output;
  }
  std::string lines;
  ASSERT_TRUE(waitFor([&] { return count(lines = readFile(env.log), "\n") >= 2; }, 5s)) << lines;
  EXPECT_NE(lines.find("\"protocol\":\"HTTP/2.0\""), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"protocol\":\"http\""), std::string::npos) << lines;
  EXPECT_EQ(count(lines, "\"path\":\"/headers?x=1\""), 2u) << lines;
  EXPECT_EQ(count(lines, "\"status\":200"), 2u) << lines;
}

TEST(Http2, CurlNegotiatesH2ByAlpnOnTlsAndHttp11StillWorks) {
  H2Env env;
  testcerts::TestCa ca;
  testcerts::writeFile(env.dir.file("ca.pem"), ca.pem());
  auto pem = ca.issue({"site.test"}, testcerts::Key::Ecdsa, -3600, 86400L * 30);
  testcerts::writeFile(env.dir.file("site.pem"), pem.cert);
  testcerts::writeFile(env.dir.file("site.key"), pem.key);
  env.start("    tls:\n      certificates:\n        - cert: site.pem\n          key: site.key\n");
  std::string host = "site.test:" + std::to_string(env.port);
  std::vector<std::string> base{"--cacert", env.dir.file("ca.pem"), "--resolve", host + ":127.0.0.1"};
  auto args = base;
  args.insert(args.end(), {"--http2", "-i", "https://" + host + "/headers"});
  auto r = curl(args);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("HTTP/2 200", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("[\"X-Forwarded-Proto\", \"https\"]"), std::string::npos) << r.output;
  args = base;
  args.insert(args.end(), {"--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "https://" + host + "/"});
  EXPECT_EQ(curl(args).output, "1.1 200");
}

TEST(Http2, NghttpAndH2loadRunManyStreamsOnSeveralConnections) {
  H2Env env;
  env.start();
  auto ng = runCommand({"/usr/bin/nghttp", "-v", "-n", url(env.port, "/"), url(env.port, "/headers"),
                        url(env.port, "/status/404")},
                       20s);
  EXPECT_EQ(ng.code, 0) << ng.output;
  EXPECT_NE(ng.output.find("recv SETTINGS frame"), std::string::npos) << ng.output;
  EXPECT_EQ(count(ng.output, ":status: 200"), 2u) << ng.output;
  EXPECT_EQ(count(ng.output, ":status: 404"), 1u) << ng.output;
  auto load = runCommand({"/usr/bin/h2load", "-n", "3000", "-c", "6", "-m", "20", url(env.port, "/")}, 60s);
  ASSERT_EQ(load.code, 0) << load.output;
  EXPECT_NE(load.output.find("requests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed"),
            std::string::npos)
      << load.output;
  EXPECT_NE(load.output.find("status codes: 3000 2xx, 0 3xx, 0 4xx, 0 5xx"), std::string::npos) << load.output;
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Http2, TenMiBUpAndDownByteExactWithALengthOrChunked) {
  H2Env env;
  env.start();
  const size_t n = 10 * 1024 * 1024;
  std::string body = httpBlock(0, n);
  writeFile(env.dir.file("up.bin"), body);
  auto sha = runCommand({"/usr/bin/sha256sum", env.dir.file("up.bin")}).output.substr(0, 64);
  // With content-length (curl announces it), then without (stdin: the server is told chunked).
  auto up = curl({"--http2-prior-knowledge", "--data-binary", "@" + env.dir.file("up.bin"), url(env.port, "/sink")});
  EXPECT_NE(up.output.find("\"bytes\": 10485760, \"sha256\": \"" + sha + "\", \"chunked\": false"), std::string::npos)
      << up.output;
  auto upChunked = shell("/usr/bin/curl -sS --max-time 20 --http2-prior-knowledge -X POST -T - " +
                         url(env.port, "/sink") + " < " + env.dir.file("up.bin"));
  EXPECT_NE(upChunked.output.find("\"bytes\": 10485760, \"sha256\": \"" + sha + "\", \"chunked\": true"),
            std::string::npos)
      << upChunked.output;
  for (std::string q : {"", "?chunked=1"}) {
    auto down = curl({"--http2-prior-knowledge", "-o", env.dir.file("down.bin"), "-w", "%{http_version} %{http_code}",
                      url(env.port, "/source/" + std::to_string(n) + q)});
    EXPECT_EQ(down.output, "2 200") << q;
    EXPECT_EQ(readFile(env.dir.file("down.bin")) == body, true) << q;
  }
}

TEST(Http2, MalformedRequestsAreResetAndNothingReachesTheServer) {
  SilentServer silent;
  H2Env env;
  env.fulcrum = startFulcrum(env.dir, httpConfig(env.port, httpPool("web", {silent.port}),
                                                  "    http2:\n      enabled: true\n"),
                             env.port);
  // §8.1.1 content-length against DATA (more, and less), §8.2.2 TE and connection-specific
  // fields (a smuggled HTTP/1 request in a chunked-looking body: H2.TE), §8.2 names and values.
  for (std::string c : {"cl-excess", "cl-short", "te-gzip", "uppercase", "connection", "transfer-enc", "crlf-value"}) {
    auto r = env.probe(c);
    EXPECT_NE(r.output.find("stream 1 rst 1\n"), std::string::npos) << c << ": " << r.output;  // PROTOCOL_ERROR
    EXPECT_EQ(r.output.find("status"), std::string::npos) << c << ": " << r.output;
  }
  EXPECT_FALSE(silent.reached(300)) << "a malformed request reached the server";
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Http2, CookieCrumbsTrailersBothWaysTeTrailersAndInterim100) {
  H2Env env;
  env.start();
  auto cookie = env.probe("cookie");
  EXPECT_NE(cookie.output.find("stream 1 status 200"), std::string::npos) << cookie.output;
  EXPECT_NE(cookie.output.find("body 1 a=1; b=2\n"), std::string::npos) << cookie.output;
  auto te = env.probe("te-trailers");
  EXPECT_NE(te.output.find("stream 1 status 200 bytes 14 ended"), std::string::npos) << te.output;
  // Request trailers: the body goes chunked with them to the server.
  auto tr = env.probe("trailers");
  EXPECT_NE(tr.output.find("\"bytes\": 5, \"sha256\": \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\", "
                           "\"chunked\": true"),
            std::string::npos)
      << tr.output;
  // Response trailers: the server's chunked trailer arrives as HTTP/2 trailers.
  auto chunked = curl({"--http2-prior-knowledge", "-v", url(env.port, "/chunked")});
  EXPECT_NE(chunked.output.find("< x-trailer: yes"), std::string::npos) << chunked.output;
  EXPECT_NE(chunked.output.find("hello from b1"), std::string::npos) << chunked.output;
  // 100 Continue from the server is relayed as an interim HEADERS.
  writeFile(env.dir.file("small.bin"), "0123456789");
  auto cont = curl({"--http2-prior-knowledge", "-v", "-H", "Expect: 100-continue", "--data-binary",
                    "@" + env.dir.file("small.bin"), url(env.port, "/sink")});
  EXPECT_NE(cont.output.find("< HTTP/2 100"), std::string::npos) << cont.output;
  EXPECT_NE(cont.output.find("\"bytes\": 10,"), std::string::npos) << cont.output;
}

TEST(Http2, ASlowReaderOfOneStreamDoesNotStallAnother) {
  H2Env env;
  env.start();
  // Stream 1 (4 MiB) is never given window past 65535 bytes; stream 3 must still complete.
  auto r = env.probe("slow-reader");
  EXPECT_NE(r.output.find("stream 1 status 200 bytes 65535\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stream 3 status 200 bytes 14 ended"), std::string::npos) << r.output;
}

TEST(Http2, StopSendsTwoGoawaysAndServesWhatCameBeforeTheFinalOne) {
  H2Env env;
  env.start();
  // Stream 1 is in flight at SIGTERM; stream 3 is sent after the first GOAWAY (NO_ERROR, the
  // highest id): both are answered, then the final GOAWAY names the last one, then the close.
  auto r = runCommand({"/usr/bin/python3", kProbe, std::to_string(env.port), "drain", std::to_string(env.fulcrum->pid())},
                      20s);
  EXPECT_NE(r.output.find("goaway 0 last 2147483647\ngoaway 0 last 3\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stream 1 status 200 bytes 10 ended"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stream 3 status 200 bytes 14 ended"), std::string::npos) << r.output;
  EXPECT_EQ(env.fulcrum->wait(10s), 0);
}

TEST(Http2, AReloadDuringH2loadLosesNoRequest) {
  H2Env env;
  HttpBackend b2 = startHttpBackend(env.dir, "b2");
  env.start();
  RunResult load;
  std::thread client([&] {
    load = runCommand({"/usr/bin/h2load", "-n", "6000", "-c", "4", "-m", "10", url(env.port, "/")}, 60s);
  });
  std::this_thread::sleep_for(50ms);
  writeFile(env.dir.file("fulcrum.yaml"),
            httpConfig(env.port, httpPool("web", {env.backend.port, b2.port}), "    http2:\n      enabled: true\n"));
  env.fulcrum->signal(SIGHUP);
  client.join();
  EXPECT_TRUE(waitFor([&] { return count(env.fulcrum->log(), "config applied") == 2; }, 5s)) << env.fulcrum->log();
  EXPECT_NE(load.output.find("requests: 6000 total, 6000 started, 6000 done, 6000 succeeded, 0 failed"),
            std::string::npos)
      << load.output;
  // The new config serves (one stream per connection: curl 7.88 cannot reuse an h2c connection
  // for a second URL, whatever the server).
  std::string after;
  for (int i = 0; i < 6 && after.find("hello from b2") == std::string::npos; ++i) {
    after += curl({"--http2-prior-knowledge", url(env.port, "/")}).output;
  }
  EXPECT_NE(after.find("hello from b2"), std::string::npos) << after;
}

TEST(Http2, StreamsBeyondThePoolsMaxRequestsWaitInTheQueue) {
  H2Env env;
  env.fulcrum = startFulcrum(env.dir,
                             httpConfig(env.port, httpPool("web", {env.backend.port}, "    http:\n      max_requests: 1\n"),
                                        "    http2:\n      enabled: true\n"),
                             env.port);
  // Three streams at once on one connection: one at a time reaches the server, none is refused.
  auto ng = runCommand({"/usr/bin/nghttp", "-n", "-s", url(env.port, "/sleep/150?a"), url(env.port, "/sleep/150?b"),
                        url(env.port, "/sleep/150?c")},
                       20s);
  EXPECT_EQ(ng.code, 0) << ng.output;
  EXPECT_EQ(count(ng.output, " 200 "), 3u) << ng.output;
  EXPECT_EQ(curl({url(env.backend.port, "/peak")}).output, "1\n");
}
