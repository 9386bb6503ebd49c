// What `fulcrum watch` says to BIRD: the control socket's replies split into codes and text,
// and the announcer's commands from the verdict and BIRD's answers (BIRD restarts, refusals,
// changes made behind the watcher's back); and one exchange with a fake BIRD on a Unix socket.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "watch/announcer.h"
#include "watch/bird_control.h"
#include "watch/bird_reply.h"

using namespace fulcrum::watch;
using fulcrum::Status;

namespace {

std::vector<BirdReply> feedAll(std::string_view bytes) {
  BirdReplyReader r;
  std::vector<BirdReply> out;
  EXPECT_TRUE(r.feed(bytes, out).ok());
  return out;
}

BirdReply reply(int code, std::string text = "") { return BirdReply{code, std::move(text)}; }

}  // namespace

TEST(BirdReply, SplitsRepliesByTheirLastLine) {
  // As BIRD 2.0.12 answers (a multi-line answer ends with "0000 ").
  auto out = feedAll("0001 BIRD 2.0.12 ready.\n0011-fulcrum_vip: enabled\n0000 \n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].code, kBirdWelcome);
  EXPECT_EQ(out[0].text, "BIRD 2.0.12 ready.");
  EXPECT_EQ(out[1].code, kBirdEnabled);
  EXPECT_EQ(out[1].text, "fulcrum_vip: enabled\n");
  EXPECT_FALSE(out[1].failed());

  // A table: '-' lines and ' ' continuations belong to one reply, ended by "0000 ".
  out = feedAll("2002-Name Proto\n1002-fulcrum_vip Static\n more\n0000 \n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, 2002);
  EXPECT_EQ(out[0].text, "Name Proto\nfulcrum_vip Static\nmore\n");

  out = feedAll("9001 syntax error, unexpected CF_SYM_UNDEFINED\n1000-x\n8003-y\n0000 \n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].failed());
  EXPECT_EQ(out[1].code, 8003) << "an error anywhere is the answer";
}

TEST(BirdReply, KeepsAPartialLineForTheNextRead) {
  BirdReplyReader r;
  std::vector<BirdReply> out;
  ASSERT_TRUE(r.feed("0009 fulcrum", out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(r.feed("_vip: disabled\n00", out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, kBirdDisabled);
  EXPECT_EQ(out[0].text, "fulcrum_vip: disabled");
  ASSERT_TRUE(r.feed("08 x: already disabled\n", out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].code, kBirdAlreadyDisabled);
}

TEST(BirdReply, RefusesWhatIsNotBirdsProtocol) {
  for (std::string_view bad : {"hello\n", " continued\n", "12a4 x\n", "0011xenabled\n", "001\n"}) {
    BirdReplyReader r;
    std::vector<BirdReply> out;
    Status s = r.feed(bad, out);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_FALSE(s.message().empty()) << bad;
  }
  BirdReplyReader r;
  std::vector<BirdReply> out;
  Status s = r.feed(std::string(5000, '0'), out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("longer than 4096"), std::string::npos) << s.message();
  BirdReplyReader big;
  std::string line = "1000-" + std::string(4000, 'x') + "\n";
  Status t;
  for (int i = 0; i < 20 && t.ok(); ++i) {
    t = big.feed(line, out);
  }
  EXPECT_FALSE(t.ok()) << "a reply over 64 KiB";
}

TEST(Announcer, StartsWithdrawnAndSendsNothingUntilConnected) {
  Announcer a("fulcrum_vip", 1000);
  a.setWanted(true);
  EXPECT_EQ(a.next(0), "") << "not connected";
  a.onConnected();
  EXPECT_EQ(a.next(0), "enable fulcrum_vip\n");
  EXPECT_EQ(a.next(0), "") << "one command in flight";
  EXPECT_EQ(a.onReply(reply(kBirdEnabled, "fulcrum_vip: enabled"), 0), "route announced (BIRD protocol fulcrum_vip)");
  EXPECT_TRUE(a.settled());
  EXPECT_EQ(a.next(10), "") << "BIRD agrees: nothing to say before the re-assertion";
}

TEST(Announcer, WithdrawsAtOnceAndAfterAnEnableInFlight) {
  Announcer a("vip", 1000);
  a.onConnected();
  EXPECT_EQ(a.next(0), "disable vip\n") << "the first word after connecting: withdrawn";
  EXPECT_EQ(a.onReply(reply(kBirdAlreadyDisabled), 0), "") << "nothing changed: nothing to log";
  a.setWanted(true);
  EXPECT_EQ(a.next(1), "enable vip\n");
  a.setWanted(false);  // died while the enable was in flight
  EXPECT_EQ(a.next(1), "");
  EXPECT_EQ(a.onReply(reply(kBirdEnabled), 2), "route announced (BIRD protocol vip)");
  EXPECT_FALSE(a.settled());
  EXPECT_EQ(a.next(2), "disable vip\n") << "the withdrawal follows the answer, not the re-assertion time";
  EXPECT_EQ(a.onReply(reply(kBirdDisabled), 3), "route withdrawn (BIRD protocol vip)");
  EXPECT_TRUE(a.settled());
  EXPECT_EQ(a.known(), std::optional<bool>(false));
}

TEST(Announcer, AssertsAgainAfterAReconnectAndPeriodically) {
  Announcer a("vip", 1000);
  a.setWanted(true);
  a.onConnected();
  ASSERT_EQ(a.next(0), "enable vip\n");
  a.onReply(reply(kBirdEnabled), 0);
  // BIRD restarted (its config says `disabled`): the new connection asserts again at once.
  a.onDisconnected();
  EXPECT_EQ(a.next(5), "");
  EXPECT_EQ(a.known(), std::nullopt);
  a.onConnected();
  EXPECT_EQ(a.next(6), "enable vip\n");
  EXPECT_EQ(a.onReply(reply(kBirdEnabled), 6), "route announced (BIRD protocol vip)");
  // Every reassert_ms, the same word again; a change it undoes is logged as such.
  EXPECT_EQ(a.next(1005), "");
  EXPECT_EQ(a.next(1006), "enable vip\n");
  EXPECT_EQ(a.onReply(reply(kBirdAlreadyEnabled), 1006), "");
  ASSERT_EQ(a.next(2006), "enable vip\n");
  EXPECT_EQ(a.onReply(reply(kBirdEnabled), 2006),
            "route announced again (protocol vip was changed behind the watcher's back)");
}

TEST(Announcer, ARefusalIsLoggedAndRetriedLater) {
  Announcer a("nosuch", 1000);
  a.setWanted(true);
  a.onConnected();
  ASSERT_EQ(a.next(0), "enable nosuch\n");
  std::string line = a.onReply(reply(9001, "syntax error, unexpected CF_SYM_UNDEFINED"), 0);
  EXPECT_NE(line.find("BIRD refused \"enable nosuch\": 9001 syntax error"), std::string::npos) << line;
  EXPECT_EQ(a.next(10), "") << "not a hot loop";
  EXPECT_EQ(a.next(1000), "enable nosuch\n");
  a.onReply(reply(8003), 1000);
  a.setWanted(false);
  EXPECT_EQ(a.next(1001), "disable nosuch\n") << "a new verdict is tried at once";
}

TEST(Announcer, ProtocolNames) {
  EXPECT_TRUE(validProtocolName("fulcrum_vip"));
  EXPECT_TRUE(validProtocolName("v4"));
  EXPECT_FALSE(validProtocolName(""));
  EXPECT_FALSE(validProtocolName("4v"));
  EXPECT_FALSE(validProtocolName("a b"));
  EXPECT_FALSE(validProtocolName("a\nshow"));
}

// A fake BIRD: greets, answers one command, hangs up.
TEST(BirdControl, GreetsSendsAndSeesTheHangUp) {
  std::string path = std::string("/tmp/fulcrum-bird-test-") + std::to_string(getpid()) + ".ctl";
  ::unlink(path.c_str());
  int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(ls, 1), 0);
  BirdControl c(path);
  ASSERT_TRUE(c.connect().ok());
  int peer = ::accept(ls, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  std::vector<BirdReply> out;
  ASSERT_TRUE(c.read(out).ok());
  EXPECT_FALSE(c.greeted());
  ASSERT_EQ(::write(peer, "0001 BIRD 2.0.12 ready.\n", 24), 24);
  usleep(10000);
  ASSERT_TRUE(c.read(out).ok());
  EXPECT_TRUE(c.greeted());
  EXPECT_TRUE(out.empty()) << "the greeting is not a reply to a command";
  ASSERT_TRUE(c.send("disable vip\n").ok());
  char buf[64] = {};
  ASSERT_EQ(::read(peer, buf, sizeof buf), 12);
  EXPECT_STREQ(buf, "disable vip\n");
  ASSERT_EQ(::write(peer, "0009 vip: disabled\n", 19), 19);
  ::close(peer);
  usleep(10000);
  Status s = c.read(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, kBirdDisabled);
  EXPECT_FALSE(s.ok()) << "BIRD went away";
  EXPECT_FALSE(c.connected());
  ::close(ls);
  ::unlink(path.c_str());
  BirdControl none(path);
  Status refused = none.connect();
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("cannot connect to BIRD at " + path), std::string::npos) << refused.message();
}
