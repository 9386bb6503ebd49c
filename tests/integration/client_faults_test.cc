// What real clients and a fault run tripped over (issue #12): HTTP/1.0 clients, clients that
// try to get servers ejected, chunk sizes with leading zeros, dot segments, the authority sent
// on, per-server queues and a stalled server. Real fulcrum, real backends, real clients.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <thread>

#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

// tests/integration/clients/chunked_server.py: answers everything chunked, whatever the version.
struct ChunkedServer {
  uint16_t port = 0;
  std::unique_ptr<Process> proc;
};

ChunkedServer startChunkedServer(const TempDir& dir, const std::string& id) {
  ChunkedServer s;
  std::string ready = dir.file(id);
  ready += ".ready";  // (not "x" + id: GCC 12 warns falsely, -Wrestrict)
  s.proc = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/chunked_server.py", id, ready},
      ready + ".log");
  if (waitFor([&] { return !readFile(ready).empty(); }, 10s)) {
    s.port = static_cast<uint16_t>(std::stoi(readFile(ready)));
  }
  return s;
}

std::string bodyOf(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// httpbackends b1, b2 and b3; `ports` gets the port of each one that became ready.
std::vector<HttpBackend> startThreeBackends(const TempDir& dir, std::vector<uint16_t>& ports) {
  std::vector<HttpBackend> backends;
  for (const char* id : {"b1", "b2", "b3"}) {
    backends.push_back(startHttpBackend(dir, id));
    if (backends.back().port != 0) {
      ports.push_back(backends.back().port);
    }
  }
  return backends;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ClientFaults, Http10RequestsGoUpstreamAsHttp11AndChunkedBodiesAreDechunked) {
  TempDir dir;
  auto chunky = startChunkedServer(dir, "c1");
  ASSERT_NE(chunky.port, 0);
  auto b1 = startHttpBackend(dir, "b1");
  ASSERT_NE(b1.port, 0);
  uint16_t port = freePort(), port2 = freePort();
  std::string config = "listeners:\n"
                       "  - {name: chunky, bind: 127.0.0.1:" + std::to_string(port) + ", protocol: http, pool: chunky}\n"
                       "  - {name: plain, bind: 127.0.0.1:" + std::to_string(port2) + ", protocol: http, pool: plain}\n"
                       "pools:\n" +
                       httpPool("chunky", {chunky.port}) + httpPool("plain", {b1.port});
  auto f = startFulcrum(dir, config, port, 1);
  ASSERT_TRUE(f->running()) << f->log();

  // A server that answers chunked whatever the request: the 1.0 client gets the body whole,
  // with its length (it was all in hand), the trailers dropped; the server saw HTTP/1.1.
  std::string out = rawExchange(port, "GET /x HTTP/1.0\r\nHost: a\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200") << out;
  EXPECT_EQ(headerOf(out, "X-Version"), "HTTP/1.1") << out;
  EXPECT_EQ(headerOf(out, "Transfer-Encoding"), "") << out;
  EXPECT_EQ(headerOf(out, "Content-Length"), "14") << out;
  EXPECT_EQ(bodyOf(out), "hello from c1\n") << out;
  EXPECT_EQ(out.find("X-Trailer"), std::string::npos) << out;
  // Keep-alive 1.0 clients keep their connection: two answers on one.
  std::string two = rawExchange(port, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
  EXPECT_EQ(count(two, "hello from c1\n"), 2u) << two;
  EXPECT_EQ(count(two, "HTTP/1.1 502"), 0u) << two;

  // A large chunked body streams de-chunked, delimited by the close.
  std::string big = rawExchange(port2, "GET /source/3000000?chunked=1 HTTP/1.0\r\n\r\n", 20);
  EXPECT_EQ(big.substr(0, 12), "HTTP/1.1 200") << big.substr(0, 300);
  EXPECT_EQ(headerOf(big, "Transfer-Encoding"), "") << big.substr(0, 300);
  EXPECT_EQ(headerOf(big, "Connection"), "close") << big.substr(0, 300);
  EXPECT_TRUE(bodyOf(big) == httpBlock(0, 3000000)) << "body of " << bodyOf(big).size() << " bytes";
  // The server connection is pooled for 1.0 clients like any other: one server connection.
  std::string first = rawExchange(port2, "GET / HTTP/1.0\r\n\r\n");
  std::string second = rawExchange(port2, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(headerOf(first, "X-Conn"), "");
  EXPECT_EQ(headerOf(first, "X-Conn"), headerOf(second, "X-Conn")) << first << second;
  std::string headers = rawExchange(port2, "GET /headers HTTP/1.0\r\n\r\n");
  EXPECT_NE(headers.find("\"version\": \"HTTP/1.1\""), std::string::npos) << headers;
}

// Only the server's faults feed passive health: these clients try every way they have to get
// a healthy server ejected (max_fails 2), and none works.
TEST(ClientFaults, ClientsCannotGetAHealthyServerEjected) {
  TempDir dir;
  auto chunky = startChunkedServer(dir, "c1");
  ASSERT_NE(chunky.port, 0);
  auto b1 = startHttpBackend(dir, "b1");
  ASSERT_NE(b1.port, 0);
  uint16_t port = freePort();
  std::string pool = "  - name: web\n    outlier_detection: {max_fails: 2}\n    retries: 0\n    servers:\n"
                     "      - address: 127.0.0.1:" + std::to_string(chunky.port) +
                     "\n      - address: 127.0.0.1:" + std::to_string(b1.port) + "\n";
  auto f = startFulcrum(dir, httpConfig(port, pool, "", "web", "timeouts: {response: 1s, request_body: 20s}\n"), port, 1);
  ASSERT_TRUE(f->running()) << f->log();

  // 1. HTTP/1.0 requests (a chunked answer to them once made a 502 that counted).
  for (int i = 0; i < 6; ++i) {
    std::string out = rawExchange(port, "GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200") << out;
  }
  std::vector<std::thread> clients;
  // 2. Clients that do not read a large response for longer than the response timeout.
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([port] {
      int fd = connectTcp(port);
      int small = 4096;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      sendStr(fd, "GET /source/50000000 HTTP/1.1\r\nHost: h\r\n\r\n");
      std::this_thread::sleep_for(2500ms);
      ::close(fd);
    });
  }
  // 3. Clients that pause in the middle of a request body for longer than the response timeout.
  std::vector<std::string> answers(4);
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([port, &answers, i] {
      int fd = connectTcp(port);
      sendStr(fd, "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345");
      std::this_thread::sleep_for(2500ms);
      sendStr(fd, "67890");
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      answers[static_cast<size_t>(i)] = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "<nothing>";
      ::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  for (const auto& a : answers) {
    EXPECT_EQ(a.substr(0, 12), "HTTP/1.1 200") << a;  // (the chunked server answers a POST too)
  }
  EXPECT_EQ(f->log().find("server ejected"), std::string::npos) << f->log();
  auto counts = countRequests(port, "/", 10);
  EXPECT_EQ(counts["200 b1"], 5) << f->log();
  EXPECT_EQ(counts["200 c1"], 5) << f->log();
}

TEST(ClientFaults, ChunkSizesWithLeadingZerosAreValid) {
  TempDir dir;
  auto b1 = startHttpBackend(dir, "b1");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, httpConfig(port, httpPool("web", {b1.port}), ""), port, 1);
  std::string out = rawExchange(port,
                                "POST /sink HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                "000000000000000000005\r\nhello\r\n0000\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200") << out;
  EXPECT_NE(out.find("\"bytes\": 5,"), std::string::npos) << out;
}

TEST(ClientFaults, DotSegmentsAreRejectedNormalizedOrForwardedAsConfigured) {
  TempDir dir;
  auto b1 = startHttpBackend(dir, "b1");
  uint16_t reject = freePort(), normalize = freePort(), forward = freePort();
  std::string routes = "    http:\n      path_dot_segments: MODE\n      routes:\n"
                       "        - {match: {path_prefix: /admin}, respond: {status: 403, body: \"private\\n\"}}\n";
  auto listener = [&](const std::string& name, uint16_t p, const std::string& mode) {
    std::string r = routes;
    r.replace(r.find("MODE"), 4, mode);
    return "  - name: " + name + "\n    bind: 127.0.0.1:" + std::to_string(p) + "\n    protocol: http\n    pool: web\n" + r;
  };
  std::string config = "listeners:\n" + listener("reject", reject, "reject") + listener("normalize", normalize, "normalize") +
                       listener("forward", forward, "forward") + "pools:\n" + httpPool("web", {b1.port});
  auto f = startFulcrum(dir, config, reject, 1);
  ASSERT_TRUE(f->running()) << f->log();
  const std::string sneaky = "GET /public/%2e%2E/admin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(rawExchange(reject, sneaky).substr(0, 12), "HTTP/1.1 400");
  // Normalized before routing: routed as /admin, which is what the server would have served.
  std::string n = rawExchange(normalize, sneaky);
  EXPECT_EQ(n.substr(0, 12), "HTTP/1.1 403") << n;
  EXPECT_EQ(bodyOf(n), "private\n");
  // ... and the server gets the normalized path, query kept.
  n = rawExchange(normalize, "GET /a/b/../../x/./../headers?q=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(n.find("\"target\": \"/headers?q=1\""), std::string::npos) << n;
  // Forwarded as they are: routed on the raw path (not /admin), the server gets it unchanged.
  std::string fw = rawExchange(forward, sneaky);
  EXPECT_EQ(fw.substr(0, 12), "HTTP/1.1 200") << fw;
  EXPECT_EQ(bodyOf(fw), "hello from b1\n");
  // A bad mode is a config error with its place.
  writeFile(dir.file("bad.yaml"), "listeners:\n  - {name: a, bind: 127.0.0.1:1, protocol: http, pool: web, http: "
                                  "{path_dot_segments: resolve}}\npools:\n" + httpPool("web", {b1.port}));
  auto check = runCommand({FULCRUM_BIN, "check", "-c", dir.file("bad.yaml")});
  EXPECT_NE(check.code, 0);
  EXPECT_NE(check.output.find("bad.yaml:2:"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("normalize"), std::string::npos) << check.output;
}

TEST(ClientFaults, TheAuthorityRoutingUsedIsTheOneForwarded) {
  TempDir dir;
  auto b1 = startHttpBackend(dir, "b1");
  uint16_t port = freePort();
  std::string listener = "    http:\n      routes:\n"
                         "        - {match: {host: public.example}, pool: web}\n"
                         "        - {match: {host: internal.example}, respond: {status: 403, body: \"internal\\n\"}}\n";
  auto f = startFulcrum(dir, httpConfig(port, httpPool("web", {b1.port}), listener, ""), port, 1);
  ASSERT_TRUE(f->running()) << f->log();
  std::string out = rawExchange(port, "GET http://public.example:8080/headers HTTP/1.1\r\nHost: internal.example\r\n"
                                      "Connection: close\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200") << out;
  EXPECT_NE(out.find("[\"Host\", \"public.example:8080\"]"), std::string::npos) << out;
  EXPECT_NE(out.find("[\"X-Forwarded-Host\", \"public.example:8080\"]"), std::string::npos) << out;
  EXPECT_EQ(out.find("internal.example"), std::string::npos) << out;
}

// HAProxy's maxconn: when every server is full a request waits for a slot instead of a 503.
TEST(ClientFaults, PerServerMaxConnectionsQueuesHttpRequests) {
  TempDir dir;
  std::vector<uint16_t> ports;
  auto backends = startThreeBackends(dir, ports);
  ASSERT_EQ(ports.size(), 3u);
  std::string pool = "  - name: web\n    servers:\n";
  for (uint16_t p : ports) {
    pool += "      - {address: 127.0.0.1:" + std::to_string(p) + ", max_connections: 10}\n";
  }
  uint16_t port = freePort();
  auto f = startFulcrum(dir, httpConfig(port, pool, ""), port, 2);
  ASSERT_TRUE(f->running()) << f->log();
  auto r = runCommand({"/usr/bin/wrk", "-t2", "-c300", "-d3s", "--timeout", "8s", url(port, "/sleep/50")}, 60s);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("Non-2xx"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Socket errors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("requests in"), std::string::npos) << r.output;
  for (uint16_t p : ports) {
    auto peak = curl({url(p, "/peak")});
    ASSERT_EQ(peak.code, 0);
    EXPECT_LE(std::stoi(peak.output), 10) << "port " << p;
    EXPECT_GE(std::stoi(peak.output), 5) << "port " << p << ": the servers were kept busy";
  }
}

// One of three servers stops answering (SIGSTOP) for 8 s under 500 requests/s; with the default
// retries, retry budget and passive health, no client sees a failure, and the stalled server is
// ejected within twice the response timeout.
TEST(ClientFaults, AStalledServerCostsClientsNothingWithTheDefaults) {
  TempDir dir;
  std::vector<uint16_t> ports;
  auto backends = startThreeBackends(dir, ports);
  ASSERT_EQ(ports.size(), 3u);
  uint16_t port = freePort();
  // Defaults only, but for a response timeout short enough for a test.
  auto f = startFulcrum(dir, httpConfig(port, httpPool("web", ports), "", "web", "timeouts: {response: 1s}\n"), port, 2);
  ASSERT_TRUE(f->running()) << f->log();
  auto load = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/paced_load.py", "127.0.0.1",
                               std::to_string(port), "/", "500", "13"},
      dir.file("load.log"));
  std::this_thread::sleep_for(3s);
  backends[1].proc->signal(SIGSTOP);
  auto stopped = std::chrono::steady_clock::now();
  std::string b2 = "server=127.0.0.1:" + std::to_string(ports[1]);
  bool ejected = waitFor([&] {
    std::string log = f->log();
    size_t at = log.find("server ejected");
    return at != std::string::npos && log.find(b2, at) != std::string::npos;
  }, 2s);
  auto ejectedAfter = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopped);
  std::this_thread::sleep_for(8s - ejectedAfter);
  backends[1].proc->signal(SIGCONT);
  ASSERT_TRUE(load->wait(40s).has_value());
  std::string result = readFile(dir.file("load.log"));
  EXPECT_TRUE(ejected) << "not ejected within 2 x the response timeout:\n" << f->log();
  EXPECT_NE(result.find("sent 6500 ok 6500 failed 0"), std::string::npos) << result << f->log().substr(0, 5000);
}
