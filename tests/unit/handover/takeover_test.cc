// The new fulcrum's side of a handover (handover/takeover.h) against a scripted predecessor
// on a real control socket: descriptors really pass (SCM_RIGHTS), and each broken transfer
// (no socket, a stale one, a peer that dies mid-way, a descriptor count or kind mismatch) is
// an error that says so and adopts nothing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "handover/channel.h"
#include "handover/takeover.h"
#include "handover/wire.h"

using namespace fulcrum;
using namespace fulcrum::handover;
using namespace std::chrono_literals;

namespace {

class TempPath {
 public:
  TempPath() {
    char tmpl[] = "/tmp/fulcrum-handover-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempPath() {
    ::unlink(path().c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/ctl.sock"; }

 private:
  std::string dir_;
};

core::Fd tcpListener(uint16_t& port) {
  core::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(fd.get(), 4);
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// A predecessor: accepts one connection on path, reads the takeover request, then runs script.
class FakePredecessor {
 public:
  FakePredecessor(const std::string& path, std::function<void(Channel&)> script) {
    auto fd = listenControlSocket(path);
    EXPECT_TRUE(fd.ok()) << (fd.ok() ? "" : fd.error().message);
    listen_ = std::move(*fd);
    thread_ = std::thread([this, script = std::move(script)] {
      std::optional<Channel> ch;
      for (int i = 0; i < 500 && !ch; ++i) {  // bounded: 5 s
        ch = acceptChannel(listen_.get());
        if (!ch) std::this_thread::sleep_for(10ms);
      }
      if (!ch) return;
      auto req = ch->receive(5s);
      if (!req.ok()) return;
      request = req->text;
      script(*ch);
    });
  }
  ~FakePredecessor() { thread_.join(); }
  std::string request;

 private:
  core::Fd listen_;
  std::thread thread_;
};

std::string describe(const Result<Takeover>& t) { return t.ok() ? "ok" : t.error().message; }

}  // namespace

TEST(Takeover, ReceivesEverySocketInBatchesAndConfirms) {
  TempPath tmp;
  // More sockets than one message may carry, so the transfer takes two.
  constexpr size_t kCount = kMaxFdsPerMessage + 6;
  std::vector<core::Fd> sockets;
  std::vector<SocketRecord> records;
  for (size_t i = 0; i < kCount; ++i) {
    uint16_t port;
    sockets.push_back(tcpListener(port));
    records.push_back({SocketKind::Tcp, static_cast<uint32_t>(i % 2), "127.0.0.1:" + std::to_string(port), "l" + std::to_string(i)});
  }
  std::string readyMsg;
  {
    FakePredecessor old(tmp.path(), [&](Channel& ch) {
      ASSERT_TRUE(ch.send(encodeBegin(4242, kCount)).ok());
      for (size_t at = 0; at < kCount; at += kMaxFdsPerMessage) {
        size_t n = std::min(kMaxFdsPerMessage, kCount - at);
        std::vector<int> fds;
        for (size_t i = at; i < at + n; ++i) fds.push_back(sockets[i].get());
        ASSERT_TRUE(ch.send(encodeSockets(std::span(records).subspan(at, n)), fds).ok());
      }
      ASSERT_TRUE(ch.send(encodeEnd()).ok());
      auto ready = ch.receive(5s);
      ASSERT_TRUE(ready.ok());
      readyMsg = ready->text;
      ASSERT_TRUE(ch.send(encodeDraining(1234)).ok());
    });
    InheritedSockets in;
    auto t = Takeover::start(tmp.path(), in, 5s);
    ASSERT_TRUE(t.ok()) << describe(t);
    EXPECT_EQ(t->predecessor(), 4242);
    EXPECT_EQ(t->received(), kCount);
    EXPECT_EQ(in.size(), kCount);
    EXPECT_EQ(old.request, encodeTakeover(::getpid()));
    // The descriptor received is the same socket: same address, another number.
    core::Fd got = in.take(socketKey(records[3]), 1);
    ASSERT_TRUE(got.valid());
    EXPECT_NE(got.get(), sockets[3].get());
    auto d = describeSocket(got.get());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->address, records[3].address);
    auto drain = t->confirmReady(5s);
    ASSERT_TRUE(drain.ok()) << drain.error().message;
    EXPECT_EQ(*drain, 1234u);
  }
  EXPECT_EQ(readyMsg, encodeReady(::getpid()));
}

TEST(Takeover, APeerThatDiesMidTransferIsAnErrorAndNothingIsAdopted) {
  TempPath tmp;
  uint16_t port;
  auto s = tcpListener(port);
  SocketRecord r{SocketKind::Tcp, 0, "127.0.0.1:" + std::to_string(port), "web"};
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeBegin(4242, 3)).ok());
    int fd = s.get();
    ASSERT_TRUE(ch.send(encodeSockets(std::span(&r, 1)), std::span(&fd, 1)).ok());
    ch.close();  // dies
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 5s);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("the peer closed the connection (got 1 of 3 sockets)"), std::string::npos)
      << t.error().message;
  EXPECT_TRUE(in.empty());
}

TEST(Takeover, ASilentPeerTimesOut) {
  TempPath tmp;
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeBegin(4242, 1)).ok());
    std::this_thread::sleep_for(400ms);
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 200ms);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("no answer within 200 ms (got 0 of 1 sockets)"), std::string::npos)
      << t.error().message;
}

TEST(Takeover, DescriptorCountMismatchesAreRefused) {
  TempPath tmp;
  uint16_t port;
  auto s = tcpListener(port);
  std::vector<SocketRecord> two = {{SocketKind::Tcp, 0, "127.0.0.1:" + std::to_string(port), "web"},
                                   {SocketKind::Tcp, 1, "127.0.0.1:" + std::to_string(port), "web"}};
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeBegin(4242, 2)).ok());
    int fd = s.get();
    ASSERT_TRUE(ch.send(encodeSockets(two), std::span(&fd, 1)).ok());  // two records, one descriptor
    std::this_thread::sleep_for(100ms);
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 5s);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("descriptor count mismatch: a message of 2 sockets came with 1 descriptors"),
            std::string::npos)
      << t.error().message;
  EXPECT_TRUE(in.empty());
}

TEST(Takeover, EndBeforeEverySocketCameIsAMismatch) {
  TempPath tmp;
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeBegin(4242, 2)).ok());
    ASSERT_TRUE(ch.send(encodeEnd()).ok());
    std::this_thread::sleep_for(100ms);
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 5s);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("\"end\" before all sockets came (got 0 of 2"), std::string::npos)
      << t.error().message;
}

TEST(Takeover, ASocketThatIsNotWhatItsRecordSaysIsRefused) {
  TempPath tmp;
  uint16_t port;
  auto s = tcpListener(port);
  SocketRecord lie{SocketKind::Udp, 0, "127.0.0.1:" + std::to_string(port), "dns"};
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeBegin(4242, 1)).ok());
    int fd = s.get();
    ASSERT_TRUE(ch.send(encodeSockets(std::span(&lie, 1)), std::span(&fd, 1)).ok());
    std::this_thread::sleep_for(100ms);
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 5s);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("announced as udp 127.0.0.1:" + std::to_string(port) + " (listener dns, worker 0) is tcp"),
            std::string::npos)
      << t.error().message;
}

TEST(Takeover, ARefusalIsPassedOn) {
  TempPath tmp;
  FakePredecessor old(tmp.path(), [&](Channel& ch) {
    ASSERT_TRUE(ch.send(encodeError("an upgrade is already under way (new fulcrum pid 9)")).ok());
  });
  InheritedSockets in;
  auto t = Takeover::start(tmp.path(), in, 5s);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "the running fulcrum refused: an upgrade is already under way (new fulcrum pid 9)");
}

TEST(Takeover, NoSocketAndAStaleSocketSaySo) {
  TempPath tmp;
  InheritedSockets in;
  auto none = Takeover::start(tmp.path(), in, 1s);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no control socket at " + tmp.path()), std::string::npos)
      << none.error().message;
  {
    auto fd = listenControlSocket(tmp.path());  // bound, then its process "dies": the file stays
    ASSERT_TRUE(fd.ok());
  }
  auto stale = Takeover::start(tmp.path(), in, 1s);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("stale control socket " + tmp.path()), std::string::npos)
      << stale.error().message;
  auto exists = listenControlSocket(tmp.path());
  EXPECT_FALSE(exists.ok()) << "an existing file is never replaced silently";
}

TEST(Channel, ATooLongPathIsRefused) {
  auto r = Channel::connect("/tmp/" + std::string(200, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too long"), std::string::npos);
}
