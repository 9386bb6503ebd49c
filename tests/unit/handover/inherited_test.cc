// Inherited sockets: systemd's LISTEN_* variables (parsed purely), what a socket says it is,
// and which worker takes which socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "handover/inherited.h"

using namespace fulcrum;
using namespace fulcrum::handover;

namespace {
// A socket on 127.0.0.1 with a kernel-chosen port; listening for TCP.
core::Fd loopbackSocket(int type, bool listen = true) {
  core::Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (type == SOCK_STREAM && listen) {
    EXPECT_EQ(::listen(fd.get(), 4), 0);
  }
  return fd;
}

uint16_t portOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}
}  // namespace

TEST(ListenFds, ParsesWhatSystemdSets) {
  auto r = parseListenFds("42", "3", "web:web:dns", 42);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].fd, 3);
  EXPECT_EQ((*r)[0].name, "web");
  EXPECT_EQ((*r)[2].fd, 5);
  EXPECT_EQ((*r)[2].name, "dns");
  auto unnamed = parseListenFds("42", "2", nullptr, 42);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->size(), 2u);
  EXPECT_EQ((*unnamed)[1].name, "");
}

TEST(ListenFds, VariablesForAnotherProcessOrNoneAreNotOurs) {
  auto none = parseListenFds(nullptr, "3", nullptr, 42);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto other = parseListenFds("41", "3", nullptr, 42);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty()) << "LISTEN_PID of a parent that did not unset them";
}

TEST(ListenFds, MalformedValuesAreErrors) {
  EXPECT_FALSE(parseListenFds("x", "1", nullptr, 42).ok());
  EXPECT_FALSE(parseListenFds("42", nullptr, nullptr, 42).ok());
  EXPECT_FALSE(parseListenFds("42", "-1", nullptr, 42).ok());
  EXPECT_FALSE(parseListenFds("42", "2x", nullptr, 42).ok());
  auto names = parseListenFds("42", "2", "one", 42);
  ASSERT_FALSE(names.ok());
  EXPECT_NE(names.error().message.find("1 names for LISTEN_FDS=2"), std::string::npos) << names.error().message;
}

TEST(DescribeSocket, TellsTcpFromUdpAndRefusesOthers) {
  auto tcp = loopbackSocket(SOCK_STREAM);
  auto d = describeSocket(tcp.get());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(socketKey(*d), "tcp 127.0.0.1:" + std::to_string(portOf(tcp.get())));
  auto udp = loopbackSocket(SOCK_DGRAM);
  auto u = describeSocket(udp.get());
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->kind, SocketKind::Udp);

  auto notListening = loopbackSocket(SOCK_STREAM, false);
  auto n = describeSocket(notListening.get());
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("is not listening"), std::string::npos) << n.error().message;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  core::Fd r(p[0]), w(p[1]);
  auto pipeErr = describeSocket(r.get());
  ASSERT_FALSE(pipeErr.ok());
  EXPECT_NE(pipeErr.error().message.find("not a socket"), std::string::npos);
  core::Fd unixSock(::socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_FALSE(describeSocket(unixSock.get()).ok());
}

TEST(CheckSocket, ASocketThatIsNotWhatItsRecordSaysIsRefused) {
  auto tcp = loopbackSocket(SOCK_STREAM);
  std::string addr = "127.0.0.1:" + std::to_string(portOf(tcp.get()));
  EXPECT_TRUE(checkSocket(tcp.get(), {SocketKind::Tcp, 0, addr, "web"}).ok());
  auto wrongKind = checkSocket(tcp.get(), {SocketKind::Udp, 0, addr, "web"});
  ASSERT_FALSE(wrongKind.ok());
  EXPECT_NE(wrongKind.message().find("is tcp " + addr), std::string::npos) << wrongKind.message();
  EXPECT_FALSE(checkSocket(tcp.get(), {SocketKind::Tcp, 0, "127.0.0.1:1", "web"}).ok());
}

TEST(InheritedSockets, EachWorkerTakesItsOwnAndTheRestIsClosed) {
  InheritedSockets in;
  auto a0 = loopbackSocket(SOCK_STREAM), a1 = loopbackSocket(SOCK_STREAM), b = loopbackSocket(SOCK_DGRAM);
  int a0fd = a0.get(), a1fd = a1.get();
  in.add({SocketKind::Tcp, 1, "127.0.0.1:80", "web"}, std::move(a1), "test");
  in.add({SocketKind::Tcp, 0, "127.0.0.1:80", "web"}, std::move(a0), "test");
  in.add({SocketKind::Udp, 0, "127.0.0.1:53", "dns"}, std::move(b), "test");
  EXPECT_TRUE(in.has("tcp 127.0.0.1:80"));
  EXPECT_FALSE(in.has("udp 127.0.0.1:80"));
  EXPECT_EQ(in.take("tcp 127.0.0.1:80", 0).release(), a0fd);
  EXPECT_EQ(in.take("tcp 127.0.0.1:80", 1).release(), a1fd);
  EXPECT_FALSE(in.take("tcp 127.0.0.1:80", 2).valid()) << "a third worker binds its own";
  EXPECT_EQ(in.taken(), 2u);
  ::close(a0fd);
  ::close(a1fd);
  auto rest = in.closeRest();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], "udp 127.0.0.1:53 (listener dns, worker 0, from test)");
  EXPECT_TRUE(in.empty());
}
