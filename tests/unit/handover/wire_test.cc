// The handover messages (handover/wire.h): what is encoded decodes to the same, and every
// malformed or mismatched message is refused with a message that says what is wrong.
#include <gtest/gtest.h>

#include "handover/wire.h"

using namespace fulcrum::handover;

namespace {
Message parsed(const std::string& text) {
  auto m = parseMessage(text);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : Message{};
}
}  // namespace

TEST(HandoverWire, SocketsRoundTrip) {
  std::vector<SocketRecord> records = {
      {SocketKind::Tcp, 0, "127.0.0.1:8080", "web"},
      {SocketKind::Tcp, 1, "127.0.0.1:8080", "web"},
      {SocketKind::Udp, 0, "[::1]:53", "dns.v6-x_1"},
  };
  auto m = parsed(encodeSockets(records));
  auto back = decodeSockets(m, 3);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, records);
  EXPECT_EQ(socketKey(records[0]), "tcp 127.0.0.1:8080");
  EXPECT_EQ(socketKey(records[2]), "udp [::1]:53");
}

TEST(HandoverWire, SocketsWithADifferentDescriptorCountAreRefused) {
  std::vector<SocketRecord> records = {{SocketKind::Tcp, 0, "127.0.0.1:80", "a"}, {SocketKind::Tcp, 1, "127.0.0.1:80", "a"}};
  auto m = parsed(encodeSockets(records));
  for (size_t fds : {0u, 1u, 3u}) {
    auto r = decodeSockets(m, fds);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("descriptor count mismatch"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("2 sockets came with " + std::to_string(fds)), std::string::npos)
        << r.error().message;
  }
}

TEST(HandoverWire, MalformedSocketsAreRefused) {
  const char* bad[] = {
      "sockets 2\ntcp 0 127.0.0.1:80 a",       // fewer records than announced
      "sockets 0",                             // none
      "sockets 65\ntcp 0 127.0.0.1:80 a",      // more than one message may carry
      "sockets x\ntcp 0 127.0.0.1:80 a",       // no count
      "sockets 1\nsctp 0 127.0.0.1:80 a",      // unknown kind
      "sockets 1\ntcp -1 127.0.0.1:80 a",      // bad worker
      "sockets 1\ntcp 0 127.0.0.1:80 a b",     // extra field
      "sockets 1\ntcp 0 127.0.0.1:80 bad/name",  // not a listener name
      "sockets 1\ntcp 0 127.0.0.1:80",         // no name
  };
  for (const char* text : bad) {
    auto m = parseMessage(text);
    ASSERT_TRUE(m.ok()) << text;
    auto r = decodeSockets(*m, 1);
    EXPECT_FALSE(r.ok()) << text;
  }
}

TEST(HandoverWire, BeginTakeoverReadyDrainingRoundTrip) {
  auto b = decodeBegin(parsed(encodeBegin(812, 9)));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->pid, 812);
  EXPECT_EQ(b->count, 9u);
  auto t = decodeTakeover(parsed(encodeTakeover(77)));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 77);
  auto r = decodeReady(parsed(encodeReady(78)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 78);
  auto d = decodeDraining(parsed(encodeDraining(30000)));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 30000u);
  EXPECT_TRUE(isStatusRequest(parsed(encodeStatusRequest())));
  auto s = parsed(encodeStatus(5, "0.1.0", "serving"));
  EXPECT_EQ(s.verb, "running");
  EXPECT_EQ(s.args, (std::vector<std::string>{"5", "0.1.0", "serving"}));
}

TEST(HandoverWire, APeerErrorIsPassedOnAsItsText) {
  auto m = parsed(encodeError("an upgrade is already under way\n(pid 9)"));
  ASSERT_EQ(m.args.size(), 1u);
  EXPECT_EQ(m.args[0], "an upgrade is already under way (pid 9)");
  auto b = decodeBegin(m);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "an upgrade is already under way (pid 9)");
}

TEST(HandoverWire, OtherVersionsAndWrongMessagesAreRefused) {
  auto v2 = decodeBegin(parsed("begin 2 812 9"));
  ASSERT_FALSE(v2.ok());
  EXPECT_NE(v2.error().message.find("protocol 2"), std::string::npos) << v2.error().message;
  auto wrong = decodeBegin(parsed("end"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("expected \"begin\", got \"end\""), std::string::npos);
  EXPECT_FALSE(decodeBegin(parsed("begin 1 0 9")).ok()) << "pid 0";
  EXPECT_FALSE(decodeBegin(parsed("begin 1 812")).ok()) << "no count";
  EXPECT_FALSE(decodeBegin(parsed("begin 1 812 99999999")).ok()) << "absurd count";
  EXPECT_FALSE(decodeTakeover(parsed("takeover 1")).ok());
  EXPECT_FALSE(decodeReady(parsed("ready")).ok());
  EXPECT_FALSE(decodeDraining(parsed("draining soon")).ok());
}

TEST(HandoverWire, GarbageIsNotAMessage) {
  EXPECT_FALSE(parseMessage("").ok());
  EXPECT_FALSE(parseMessage(std::string("ready\0 1", 8)).ok());
  EXPECT_FALSE(parseMessage("ready \x01").ok());
  EXPECT_FALSE(parseMessage("\xff\xfe").ok());
  EXPECT_FALSE(parseMessage(" leading space").ok());
  EXPECT_FALSE(parseMessage(std::string(kMaxMessageBytes + 1, 'a')).ok());
}
