// ClientConnection over a TestTransport: edge-triggered reads, queued output and back-pressure,
// the head-and-body write, and the lingering close, without a socket.
#include "http/client_connection.h"

#include <sys/epoll.h>

#include <gtest/gtest.h>

#include "../net/test_transport.h"

using namespace fulcrum;
using namespace fulcrum::http;
using Io = ClientConnection::Io;

namespace {

struct Fixture {
  Fixture() { conn.transport = &t; }
  ~Fixture() { conn.transport = &conn.raw; }  // (a transport other than raw is the connection's to delete)
  core::BufferPool buffers;
  SpareStrings spares{4, 1 << 20};
  test::TestTransport t;
  ClientConnection conn{core::Fd(), buffers};
};

}  // namespace

TEST(ClientConnection, AShortReadEndsTheEdgeUnlessTheClientHungUp) {
  Fixture f;
  f.t.script = {"GET / HTTP/1.1\r\n", "Host: h\r\n\r\n"};
  f.conn.onEvents(EPOLLIN);
  size_t got = 0;
  EXPECT_EQ(f.conn.read(1 << 16, got), Io::Ok);
  EXPECT_EQ(got, 16u) << "one short read, then wait for the next edge";
  EXPECT_FALSE(f.conn.readable);
  EXPECT_EQ(f.t.reads, 1u);
  f.conn.onEvents(EPOLLIN | EPOLLRDHUP);
  f.t.eof = true;
  EXPECT_EQ(f.conn.read(1 << 16, got), Io::Ok);
  EXPECT_EQ(got, 11u);
  EXPECT_TRUE(f.conn.eof) << "after a FIN, reads go on to the EOF (no further edge comes)";
  EXPECT_EQ(f.conn.in.view(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(f.conn.bytes_in, 27u);
}

TEST(ClientConnection, InputTheTransportHoldsIsReadWithoutAnEdge) {
  Fixture f;
  f.t.buffered = true;  // TLS records decrypted ahead
  f.t.script = {"abc", "def"};
  f.conn.onEvents(EPOLLIN);
  size_t got = 0;
  EXPECT_EQ(f.conn.read(1 << 16, got), Io::Ok);
  EXPECT_EQ(got, 6u);
  EXPECT_FALSE(f.conn.readable) << "until a read finds nothing";
}

TEST(ClientConnection, ReadsStopAtTheBufferLimit) {
  Fixture f;
  f.t.script = {std::string(core::Buffer::kCapacity + 100, 'x')};
  f.conn.onEvents(EPOLLIN);
  size_t got = 0;
  EXPECT_EQ(f.conn.read(core::Buffer::kCapacity, got), Io::Ok);
  EXPECT_EQ(got, core::Buffer::kCapacity);
  EXPECT_TRUE(f.conn.readable) << "more is there: read again once the buffer is taken";
}

TEST(ClientConnection, OutputWaitsForAClientThatDoesNotRead) {
  Fixture f;
  f.conn.onEvents(EPOLLOUT);
  f.conn.out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  f.t.write_room = 10;
  size_t sent = 0;
  EXPECT_EQ(f.conn.flush(f.spares, sent), Io::Blocked);
  EXPECT_EQ(sent, 10u);
  EXPECT_FALSE(f.conn.writable);
  EXPECT_EQ(f.conn.pendingOut(), 30u);
  f.t.write_room = SIZE_MAX;
  f.conn.onEvents(EPOLLOUT);
  EXPECT_EQ(f.conn.flush(f.spares, sent), Io::Ok);
  EXPECT_EQ(f.t.written, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(f.conn.pendingOut(), 0u);
  EXPECT_EQ(f.conn.bytes_out, 40u);
}

TEST(ClientConnection, AHeadAndTheStartOfItsBodyLeaveInOneWrite) {
  Fixture f;
  f.conn.onEvents(EPOLLOUT);
  f.conn.out = "HEAD\n";
  const std::string body = "0123456789";
  f.t.write_room = 8;
  size_t sent = 0, fromBody = 0;
  EXPECT_EQ(f.conn.sendWithBody(reinterpret_cast<const uint8_t*>(body.data()), body.size(), sent, fromBody), Io::Ok);
  EXPECT_EQ(sent, 8u);
  EXPECT_EQ(fromBody, 3u);
  EXPECT_EQ(f.conn.pendingOut(), 0u);
  EXPECT_EQ(f.t.written, "HEAD\n012");
}

TEST(ClientConnection, LingeringSendsFinThenDropsInputUntilTheClientCloses) {
  Fixture f;
  f.conn.onEvents(EPOLLIN);
  f.conn.startLingering();
  EXPECT_TRUE(f.t.shut) << "FIN first";
  EXPECT_TRUE(f.conn.lingering);
  f.t.script = {std::string(5000, 'x')};
  EXPECT_FALSE(f.conn.drainLingering(1 << 20)) << "the client may still be sending";
  f.t.eof = true;
  f.conn.onEvents(EPOLLIN | EPOLLRDHUP);
  EXPECT_TRUE(f.conn.drainLingering(1 << 20));
  f.t.eof = false;
  Fixture g;
  g.conn.onEvents(EPOLLIN);
  g.conn.startLingering();
  g.t.script = {std::string(10000, 'x')};
  EXPECT_TRUE(g.conn.drainLingering(4096)) << "a client that keeps sending is not waited for";
}

TEST(ClientConnection, TheHandshakeWaitsForTheReadinessItAsksFor) {
  Fixture f;
  f.t.handshakes = {net::HandshakeStatus::WantRead, net::HandshakeStatus::WantWrite, net::HandshakeStatus::Done};
  f.conn.onEvents(EPOLLIN | EPOLLOUT);
  EXPECT_EQ(f.conn.handshake(), Io::Blocked);
  EXPECT_FALSE(f.conn.readable) << "until the next readable edge";
  EXPECT_TRUE(f.conn.writable);
  f.conn.onEvents(EPOLLIN);
  EXPECT_EQ(f.conn.handshake(), Io::Blocked);
  EXPECT_FALSE(f.conn.writable);
  f.conn.onEvents(EPOLLOUT);
  EXPECT_EQ(f.conn.handshake(), Io::Ok);
  EXPECT_TRUE(f.conn.handshaken);
  EXPECT_EQ(f.conn.handshake(), Io::Ok) << "done once: the transport is not asked again";
  Fixture g;
  g.t.handshakes = {net::HandshakeStatus::Failed};
  EXPECT_EQ(g.conn.handshake(), Io::Error);
}
