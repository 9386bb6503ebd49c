// TicketKeys: the key file format (errors a person can act on), the ring order (the file's last
// key encrypts) and rotation (a new key encrypts, two older ones still decrypt).
#include "tls/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

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
  auto first = keys.ring();
  ASSERT_EQ(first->keys.size(), 1u);
  keys.rotate();
  keys.rotate();
  auto third = keys.ring();
  ASSERT_EQ(third->keys.size(), 3u);
  EXPECT_EQ(third->keys[2].name, first->keys[0].name) << "the first key still decrypts two rotations later";
  keys.rotate();
  auto fourth = keys.ring();
  ASSERT_EQ(fourth->keys.size(), tls::TicketKeys::kGeneratedKept);
  for (const auto& k : fourth->keys) {
    EXPECT_NE(k.name, first->keys[0].name) << "three rotations later it is gone";
  }
  EXPECT_EQ(first->keys.size(), 1u) << "a ring once read never changes (readers hold it)";
}

TEST(TicketKeys, SessionsLiveAtMostWhatTheRingCovers) {
  config::TlsSessionTickets cfg;
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 7200) << "2h by default";
  cfg.rotate = std::chrono::seconds(3);
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 6) << "2 x rotate";
  cfg.key_file = "/x";
  EXPECT_EQ(tls::TicketKeys::lifetimeSeconds(cfg), 7200) << "a key file's keys are the operator's to keep";
}
