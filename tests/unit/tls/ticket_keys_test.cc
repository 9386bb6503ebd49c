// TicketKeys: the key file format (errors a person can act on), the ring order (the file's last
// key encrypts) and rotation (a new key encrypts, two older ones still decrypt).
#include "tls/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace fulcrum;

namespace {

// The base64 line of 80 bytes all equal to `fill`.
std::string keyLine(unsigned char fill) {
  unsigned char raw[80];
  std::fill(std::begin(raw), std::end(raw), fill);
  unsigned char b64[128];
  int n = EVP_EncodeBlock(b64, raw, sizeof raw);
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

}  // namespace

TEST(TicketKeys, AKeyFileIsOneBase64KeyPerLineAndItsLastKeyEncrypts) {
  std::string error;
  auto keys = tls::parseTicketKeys("# comment\n" + keyLine(1) + "\n\n  " + keyLine(2) + "  \r\n", error);
  ASSERT_TRUE(keys) << error;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->front().name[0], 2) << "the last line encrypts";
  EXPECT_EQ(keys->front().aes[0], 2);
  EXPECT_EQ(keys->front().id(), "02020202");
  EXPECT_EQ((*keys)[1].hmac[31], 1);
}

TEST(TicketKeys, BadKeyFilesSayWhichLineAndWhy) {
  std::string error;
  EXPECT_FALSE(tls::parseTicketKeys("# only a comment\n\n", error));
  EXPECT_NE(error.find("no key in it"), std::string::npos) << error;
  EXPECT_FALSE(tls::parseTicketKeys(keyLine(1) + "\nc2hvcnQ=\n", error));
  EXPECT_NE(error.find("line 2: a key of 5 bytes; expected the base64 of 80 random bytes"), std::string::npos) << error;
  EXPECT_FALSE(tls::parseTicketKeys("not*base64\n", error));
  EXPECT_NE(error.find("line 1: not base64"), std::string::npos) << error;
  EXPECT_FALSE(tls::parseTicketKeys(keyLine(1) + "\n" + keyLine(1) + "\n", error));
  EXPECT_NE(error.find("line 2: the same key name (first 16 bytes) as line 1"), std::string::npos) << error;
  EXPECT_FALSE(tls::readTicketKeyFile("/nonexistent/tickets.keys", error));
  EXPECT_NE(error.find("/nonexistent/tickets.keys: cannot read the session ticket key file"), std::string::npos)
      << error;
}

TEST(TicketKeys, RotationPutsANewKeyFirstAndKeepsTwoOlderOnes) {
  tls::TicketKeys keys;
  ASSERT_EQ(keys.keys().size(), 1u);
  const auto first = keys.keys()[0];
  keys.rotate();
  keys.rotate();
  ASSERT_EQ(keys.keys().size(), 3u);
  EXPECT_EQ(keys.keys()[2].name, first.name) << "the first key still decrypts two rotations later";
  tls::TicketKey found;
  size_t index = 9;
  ASSERT_TRUE(keys.find(first.name.data(), found, index));
  EXPECT_EQ(index, 2u) << "an older key: the ticket is renewed";
  EXPECT_EQ(found.aes, first.aes);
  EXPECT_EQ(keys.encrypting().name, keys.keys()[0].name);
  keys.rotate();
  ASSERT_EQ(keys.keys().size(), tls::TicketKeys::kGeneratedKept);
  EXPECT_FALSE(keys.find(first.name.data(), found, index)) << "three rotations later it is gone";
}

TEST(TicketKeys, ReadersOnOtherThreadsNeverSeeHalfAKeyWhileTheRingChanges) {
  // Every byte of key i is i: a torn read would mix two keys' bytes.
  auto ring = [](uint8_t first, size_t n) {
    std::vector<tls::TicketKey> keys(n);
    for (size_t i = 0; i < n; ++i) {
      auto fill = static_cast<uint8_t>(first + i);
      keys[i].name.fill(fill);
      keys[i].aes.fill(fill);
      keys[i].hmac.fill(fill);
    }
    return keys;
  };
  tls::TicketKeys keys;
  keys.install(ring(1, 3));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto k = keys.encrypting();
        for (auto b : k.aes) {
          torn += b != k.name[0];
        }
        tls::TicketKey found;
        size_t index = 0;
        std::array<uint8_t, 16> name;
        name.fill(3);
        if (keys.find(name.data(), found, index)) {
          torn += found.hmac[31] != 3;
        }
      }
    });
  }
  for (int i = 0; i < 20000; ++i) {
    keys.install(ring(static_cast<uint8_t>(1 + i % 5), 1 + i % 4));
  }
  stop = true;
  for (auto& r : readers) {
    r.join();
  }
  EXPECT_EQ(torn.load(), 0);
}

TEST(TicketKeys, SessionsLiveAtMostWhatTheRingCovers) {
  config::TlsSessionTickets cfg;
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 7200) << "2h by default";
  cfg.rotate = std::chrono::seconds(3);
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 6) << "2 x rotate";
  cfg.key_file = "/x";
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 7200) << "a key file's keys are the operator's to keep";
}
