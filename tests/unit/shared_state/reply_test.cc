// Replies built from RESP bytes by hiredis's own reader, as they come off the wire.
#include "shared_state/reply.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

using namespace fulcrum::shared_state;

namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

Reply parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* out = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &out), REDIS_OK);
  redisReaderFree(reader);
  EXPECT_NE(out, nullptr) << resp;
  return Reply(static_cast<redisReply*>(out));
}

}  // namespace

TEST(Reply, LimitRepliesAreGrantAndExcessPairs) {
  std::string error;
  auto r = parse("*4\r\n:3\r\n$3\r\n4.5\r\n:0\r\n$1\r\n7\r\n");
  auto leases = parseLimitReply(r.get(), 2, error);
  ASSERT_TRUE(leases) << error;
  EXPECT_EQ((*leases)[0].granted, 3u);
  EXPECT_DOUBLE_EQ((*leases)[0].excess, 4.5);
  EXPECT_EQ((*leases)[1].granted, 0u);
  EXPECT_DOUBLE_EQ((*leases)[1].excess, 7);
}

TEST(Reply, BadLimitRepliesSayWhat) {
  std::string error;
  EXPECT_FALSE(parseLimitReply(parse("-READONLY You can't write against a read only replica.\r\n").get(), 1, error));
  EXPECT_NE(error.find("READONLY"), std::string::npos);
  EXPECT_FALSE(parseLimitReply(parse("*2\r\n:1\r\n$1\r\n1\r\n").get(), 2, error));
  EXPECT_NE(error.find("expected 4 values, got 2"), std::string::npos);
  EXPECT_FALSE(parseLimitReply(parse("*2\r\n:-1\r\n$1\r\n1\r\n").get(), 1, error));
  EXPECT_FALSE(parseLimitReply(parse("*2\r\n:1\r\n$3\r\nabc\r\n").get(), 1, error));
  EXPECT_FALSE(parseLimitReply(parse("*2\r\n$3\r\n1.5\r\n$1\r\n1\r\n").get(), 1, error)) << "a fractional grant";
  EXPECT_FALSE(parseLimitReply(nullptr, 1, error));
  EXPECT_EQ(error, "expected an array, got no reply");
}

TEST(Reply, StickyRepliesAreServerIds) {
  std::string error;
  auto ok = parseStickyReply(parse("*2\r\n$4\r\naaaa\r\n$4\r\nbbbb\r\n").get(), 2, error);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ((*ok)[1], "bbbb");
  EXPECT_FALSE(parseStickyReply(parse("*1\r\n$-1\r\n").get(), 1, error));
  EXPECT_NE(error.find("expected a server id, got nil"), std::string::npos);
}

TEST(Reply, SentinelMasterAddress) {
  std::string error;
  auto m = parseMasterAddress(parse("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n").get(), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->host, "127.0.0.1");
  EXPECT_EQ(m->port, 6380);
  EXPECT_FALSE(parseMasterAddress(parse("*-1\r\n").get(), error));
  EXPECT_NE(error.find("does not know"), std::string::npos);
  EXPECT_FALSE(parseMasterAddress(parse("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n70000\r\n").get(), error));
  EXPECT_FALSE(parseMasterAddress(parse("*2\r\n$9\r\n127.0.0.1\r\n$2\r\nx1\r\n").get(), error));
}

TEST(Reply, PublishedChoicesAreParsedAndOtherPushesIgnored) {
  auto e = parseStickyMessage(parse("*3\r\n$7\r\nmessage\r\n$4\r\np:st\r\n$21\r\np:st:web:1.2.3.4\nab\n9\r\n").get());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "p:st:web:1.2.3.4");
  EXPECT_EQ(e->server, "ab");
  EXPECT_EQ(e->ttl_ms, 9u);
  EXPECT_FALSE(parseStickyMessage(parse("*3\r\n$9\r\nsubscribe\r\n$4\r\np:st\r\n:1\r\n").get()));
  EXPECT_FALSE(parseStickyMessage(parse("*3\r\n$7\r\nmessage\r\n$4\r\np:st\r\n$4\r\nk\nab\r\n").get()));
  EXPECT_FALSE(parseStickyMessage(parse("*3\r\n$7\r\nmessage\r\n$4\r\np:st\r\n$6\r\nk\nab\nx\r\n").get()));
  EXPECT_FALSE(parseStickyMessage(nullptr));
}
