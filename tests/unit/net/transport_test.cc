// The Transport interface as relays use it, over TestTransport (no sockets): a transport that
// holds input of its own (TLS) is read on without waiting for an edge; a plain one is not.
#include <gtest/gtest.h>

#include "net/pump.h"
#include "test_transport.h"

using namespace fulcrum;

TEST(Transport, PlainSocketsHaveNoHandshakeAndNoInputOfTheirOwn) {
  net::RawTransport raw{core::Fd()};
  EXPECT_EQ(raw.handshake(), net::HandshakeStatus::Done);
  EXPECT_FALSE(raw.hasBufferedInput());
}

TEST(Transport, AShortReadEndsTheTurnUnlessTheTransportHoldsInput) {
  core::BufferPool buffers;
  core::PipePool pipes{0};
  for (bool buffered : {false, true}) {
    SCOPED_TRACE(buffered ? "input held by the transport" : "plain");
    test::TestTransport src, dst;
    src.script = {"short one", "and more"};
    src.buffered = buffered;
    net::Pump pump(buffers, pipes);
    bool readable = true, writable = true;
    uint64_t moved = 0;
    pump.run(src, readable, false, dst, writable, moved);
    if (buffered) {
      EXPECT_EQ(dst.written, "short oneand more") << "read on: no edge will announce what it holds";
    } else {
      EXPECT_EQ(dst.written, "short one") << "a short read emptied the socket: wait for the next edge";
      EXPECT_FALSE(readable);
      EXPECT_EQ(src.reads, 1u);
    }
  }
}

TEST(Transport, TestTransportRecordsWritesUpToItsRoom) {
  test::TestTransport t;
  t.write_room = 5;
  const uint8_t head[] = {'a', 'b', 'c'};
  const uint8_t body[] = {'d', 'e', 'f'};
  auto r = t.write2(head, 3, body, 3);
  EXPECT_EQ(r.bytes, 5u);
  EXPECT_EQ(t.written, "abcde");
  EXPECT_EQ(t.write(body, 1).status, net::IoStatus::WouldBlock);
}
