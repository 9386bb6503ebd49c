// Active-active instances behind ECMP see a client's requests arrive at any of them: with
// `maglev` or `consistent_hash` pools, every instance must pick the same server for the same
// key. Two real fulcrum processes with the same pools (only the listening port differs, and
// the worker count: tables come from the config alone) answer many keys; each key must land
// on the same server in both.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "http_support.h"

using namespace itest;

namespace {

// The X-Backend of the answer to each of `keys` sent as `header`, one request after the other
// on one keep-alive connection.
std::vector<std::string> backendsFor(uint16_t port, const std::string& path, const std::string& header,
                                     const std::vector<std::string>& keys) {
  std::vector<std::string> who;
  int fd = connectTcp(port);
  if (fd < 0) return who;
  std::string in;
  char buf[4096];
  for (const auto& key : keys) {
    if (!sendStr(fd, "GET " + path + " HTTP/1.1\r\nHost: h\r\n" + header + ": " + key + "\r\n\r\n")) break;
    size_t end = std::string::npos;
    for (;;) {
      size_t head = in.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < head) {
          size_t total = head + 4 + std::stoul(in.substr(cl + 16));
          if (in.size() >= total) {
            end = total;
            break;
          }
        }
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (end == std::string::npos) break;
    size_t at = in.find("X-Backend: ");
    who.push_back(at < end ? in.substr(at + 11, in.find("\r\n", at) - at - 11) : "?");
    in.erase(0, end);
  }
  ::close(fd);
  return who;
}

}  // namespace

TEST(HaHash, MaglevAndConsistentHashPickTheSameServerInEveryInstance) {
  TempDir dir;
  std::vector<HttpBackend> backends;
  std::vector<uint16_t> ports;
  for (int i = 0; i < 5; ++i) {
    backends.push_back(startHttpBackend(dir, "b" + std::to_string(i + 1)));
    ASSERT_NE(backends.back().port, 0);
    ports.push_back(backends.back().port);
  }
  std::string pools = httpPool("ring", ports, "    algorithm: consistent_hash\n    hash_key: header:X-User\n") +
                      httpPool("table", ports, "    algorithm: maglev\n    hash_key: header:X-User\n");
  std::string routes =
      "    http:\n"
      "      routes:\n"
      "        - {match: {path_prefix: /ring/}, pool: ring}\n"
      "        - {match: {path_prefix: /table/}, pool: table}\n";
  uint16_t p1 = freePort();
  uint16_t p2 = freePort();
  auto one = startFulcrum(dir, httpConfig(p1, pools, routes, "ring"), p1, 1, "one.yaml");
  auto two = startFulcrum(dir, httpConfig(p2, pools, routes, "ring"), p2, 2, "two.yaml");
  ASSERT_TRUE(one->running() && two->running()) << one->log() << two->log();
  std::vector<std::string> keys;
  for (int k = 0; k < 200; ++k) {
    keys.push_back("user-" + std::to_string(k * 7919));
  }
  for (const char* path : {"/ring/x", "/table/x"}) {
    std::vector<std::string> a;
    std::vector<std::string> b;
    for (size_t from = 0; from < keys.size(); from += 50) {
      std::vector<std::string> batch(keys.begin() + from, keys.begin() + from + 50);
      auto x = backendsFor(p1, path, "X-User", batch);
      auto y = backendsFor(p2, path, "X-User", batch);
      ASSERT_EQ(x.size(), batch.size()) << path;
      ASSERT_EQ(y.size(), batch.size()) << path;
      a.insert(a.end(), x.begin(), x.end());
      b.insert(b.end(), y.begin(), y.end());
    }
    std::map<std::string, int> spread;
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(a[i], b[i]) << path << " key " << keys[i] << ": the instances disagree";
      spread[a[i]]++;
    }
    EXPECT_EQ(spread.size(), 5u) << path << ": 200 keys reach every server";
  }
}
