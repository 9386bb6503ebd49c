// Pump over real socket pairs: byte-exact relay, back-pressure, EOF and errors.
#include "net/pump.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <string>
#include <vector>

using namespace fulcrum;

namespace {

struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    near = fds[0];
    far = fds[1];
  }
  ~Pair() {
    ::close(near);
    if (far >= 0) ::close(far);
  }
  int near, far;  // the pump uses near; the test plays the peer on far
};

class PumpTest : public ::testing::TestWithParam<bool> {
 protected:
  // With splice off (pipe budget 0) the pump copies through buffers.
  core::BufferPool buffers;
  core::PipePool pipes{GetParam() ? 8u : 0u};
  // The most one step of the pump takes in: a pipe's capacity, or one buffer.
  static size_t chunkLimit() { return GetParam() ? core::PipePool::kPipeSize : core::Buffer::kCapacity; }
};

std::string readAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

TEST_P(PumpTest, RelaysBytesAndPassesEof) {
  Pair src, dst;
  net::RawTransport in(core::Fd(dup(src.near))), out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  pump.preload("HEADER\n");
  std::string payload(200000, 'q');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(::write(src.far, payload.data(), 100000), 100000);
  bool r = true, w = true;
  uint64_t moved = 0;
  std::string got;
  size_t written = 100000;
  for (int round = 0; round < 1000 && !pump.done(); ++round) {
    auto st = pump.run(in, r, out, w, moved);
    ASSERT_NE(st, net::Pump::State::Error);
    got += readAll(dst.far);
    w = true;
    r = true;
    if (written < payload.size()) {
      ssize_t n = ::write(src.far, payload.data() + written, payload.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
    } else {
      ::shutdown(src.far, SHUT_WR);
    }
  }
  EXPECT_TRUE(pump.done());
  got += readAll(dst.far);
  EXPECT_EQ(got, "HEADER\n" + payload);
  EXPECT_EQ(moved, got.size());
  // EOF was passed on: the far end reads 0.
  char c;
  EXPECT_EQ(::read(dst.far, &c, 1), 0);
  EXPECT_TRUE(pump.idle());
}

TEST_P(PumpTest, StopsReadingWhenTheOtherSideIsFull) {
  Pair src, dst;
  int small = 4096;
  setsockopt(dst.near, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  // The fast side offers much more than the slow side takes plus one chunk of the pump.
  int big = 4 << 20;
  setsockopt(src.far, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(src.near, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  net::RawTransport in(core::Fd(dup(src.near))), out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  std::vector<char> chunk(1 << 20, 'z');
  size_t offered = 0;
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::write(src.far, chunk.data(), chunk.size());
    if (n > 0) offered += static_cast<size_t>(n);
  }
  bool r = true, w = true;
  uint64_t moved = 0;
  EXPECT_EQ(pump.run(in, r, out, w, moved), net::Pump::State::Blocked);
  EXPECT_FALSE(w);  // blocked on the slow side...
  EXPECT_TRUE(r);   // ...with the fast side left unread
  // In flight: what dst's socket took plus at most one chunk held by the pump (a pipe's worth
  // when splicing, a buffer when copying).
  int pending = 0;
  ASSERT_EQ(ioctl(src.near, FIONREAD, &pending), 0);
  EXPECT_GT(pending, 0);
  EXPECT_LE(offered - static_cast<size_t>(pending) - moved, chunkLimit());
  EXPECT_FALSE(pump.idle());
}

TEST_P(PumpTest, ReportsWriteErrorsWhenThePeerIsGone) {
  Pair src, dst;
  net::RawTransport in(core::Fd(dup(src.near))), out(core::Fd(dup(dst.near)));
  ::close(dst.far);
  dst.far = -1;
  // splice(2) cannot be told MSG_NOSIGNAL; fulcrum ignores SIGPIPE process-wide, as here.
  signal(SIGPIPE, SIG_IGN);
  net::Pump pump(buffers, pipes);
  ASSERT_EQ(::write(src.far, "hello", 5), 5);
  bool r = true, w = true;
  uint64_t moved = 0;
  EXPECT_EQ(pump.run(in, r, out, w, moved), net::Pump::State::Error);
  EXPECT_FALSE(pump.errorOnRead());
  EXPECT_EQ(pump.error(), EPIPE);
  EXPECT_TRUE(pump.idle());
}

INSTANTIATE_TEST_SUITE_P(SpliceAndCopy, PumpTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? std::string("Splice") : std::string("Copy"); });

TEST_P(PumpTest, YieldsWhenItsBudgetIsSpent) {
  Pair src, dst;
  int big = 4 << 20;
  setsockopt(src.far, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(dst.near, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  net::RawTransport in(core::Fd(dup(src.near))), out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  std::vector<char> chunk(1 << 20, 'y');
  ASSERT_GT(::write(src.far, chunk.data(), chunk.size()), 0);
  bool r = true, w = true;
  uint64_t moved = 0;
  auto st = pump.run(in, r, out, w, moved);
  // Readable and writable, but it stops after its budget so others on the worker get a turn.
  EXPECT_EQ(st, net::Pump::State::Yield);
  EXPECT_GE(moved, net::Pump::kBudgetPerRun);
  EXPECT_LE(moved, net::Pump::kBudgetPerRun + chunkLimit());
}

// --- copy for small messages, splice for bulk, a short read is the end of what is there ---

namespace {

// A plain socket that counts the reads made through it (a copy; a splice bypasses it).
class CountingTransport final : public net::Transport {
 public:
  explicit CountingTransport(int fd) : raw_(core::Fd(dup(fd))) {}
  net::IoResult read(uint8_t* data, size_t len) override {
    ++reads;
    return raw_.read(data, len);
  }
  net::IoResult write(const uint8_t* data, size_t len) override { return raw_.write(data, len); }
  net::IoResult write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) override {
    return raw_.write2(a, alen, b, blen);
  }
  void shutdownWrite() override { raw_.shutdownWrite(); }
  bool spliceable() const override { return true; }
  int fd() const override { return raw_.fd(); }
  int reads = 0;

 private:
  net::RawTransport raw_;
};

class PumpModeTest : public ::testing::Test {
 protected:
  core::BufferPool buffers;
  core::PipePool pipes{8};
};

void enlarge(int fd) {
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
}

}  // namespace

TEST_F(PumpModeTest, SmallMessagesAreCopiedWithOneReadEach) {
  Pair src, dst;
  CountingTransport in(src.near);
  net::RawTransport out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  const std::string msg = "*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$3\r\nxyz\r\n";
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(::write(src.far, msg.data(), msg.size()), static_cast<ssize_t>(msg.size()));
    bool r = true, w = true;
    uint64_t moved = 0;
    EXPECT_EQ(pump.run(in, r, out, w, moved), net::Pump::State::Blocked);
    EXPECT_EQ(moved, msg.size());
    EXPECT_EQ(readAll(dst.far), msg);
    EXPECT_EQ(in.reads, 2 * i);  // the message, then EAGAIN (no hup knowledge: read to EAGAIN)
  }
  // No pipe was ever taken: small messages go through a buffer, which is given back.
  EXPECT_EQ(pipes.alive(), 0u);
  EXPECT_TRUE(pump.idle());
}

TEST_F(PumpModeTest, AShortReadEndsTheTurnUnlessThePeerClosed) {
  Pair src, dst;
  CountingTransport in(src.near);
  net::RawTransport out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  ASSERT_EQ(::write(src.far, "PING\r\n", 6), 6);
  bool r = true, w = true;
  uint64_t moved = 0;
  // One recv, one send: the short read emptied the socket, no read to learn EAGAIN.
  EXPECT_EQ(pump.run(in, r, false, out, w, moved), net::Pump::State::Blocked);
  EXPECT_EQ(in.reads, 1);
  EXPECT_FALSE(r);
  EXPECT_EQ(moved, 6u);
  EXPECT_EQ(readAll(dst.far), "PING\r\n");
  EXPECT_TRUE(pump.idle());
  // Bytes followed by a FIN: the FIN raises no edge of its own after the bytes, so once the
  // caller saw it (EPOLLRDHUP) the pump reads on to EOF and passes it on.
  ASSERT_EQ(::write(src.far, "QUIT\r\n", 6), 6);
  ASSERT_EQ(::shutdown(src.far, SHUT_WR), 0);
  r = true;
  EXPECT_EQ(pump.run(in, r, true, out, w, moved), net::Pump::State::Done);
  EXPECT_EQ(in.reads, 3);
  EXPECT_TRUE(pump.done());
  EXPECT_EQ(readAll(dst.far), "QUIT\r\n");
  char c;
  EXPECT_EQ(::read(dst.far, &c, 1), 0);
}

TEST_F(PumpModeTest, BulkSwitchesToSpliceAndSmallMessagesBackToCopy) {
  Pair src, dst;
  CountingTransport in(src.near);
  net::RawTransport out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, pipes);
  // Three buffers' worth at once: two reads fill the buffer, then the direction splices.
  std::string bulk(3 * core::Buffer::kCapacity, 'b');
  for (size_t i = 0; i < bulk.size(); ++i) bulk[i] = static_cast<char>('a' + i % 23);
  ASSERT_EQ(::write(src.far, bulk.data(), bulk.size()), static_cast<ssize_t>(bulk.size()));
  bool r = true, w = true;
  uint64_t moved = 0;
  EXPECT_EQ(pump.run(in, r, false, out, w, moved), net::Pump::State::Blocked);
  EXPECT_EQ(readAll(dst.far), bulk);
  EXPECT_EQ(in.reads, net::Pump::kFullReadsToSplice);  // the rest went through a pipe
  EXPECT_TRUE(pump.splicing());
  EXPECT_EQ(pipes.alive(), 1u);
  EXPECT_TRUE(pump.idle());  // the pipe went back to the pool once drained

  // A small message after the bulk: spliced once (the pump cannot know before reading), and
  // that splice, smaller than a buffer, turns the direction back to copying.
  ASSERT_EQ(::write(src.far, "+OK\r\n", 5), 5);
  r = true;
  EXPECT_EQ(pump.run(in, r, false, out, w, moved), net::Pump::State::Blocked);
  EXPECT_EQ(readAll(dst.far), "+OK\r\n");
  EXPECT_FALSE(pump.splicing());
  int before = in.reads;
  ASSERT_EQ(::write(src.far, "$1\r\nx\r\n", 7), 7);
  r = true;
  EXPECT_EQ(pump.run(in, r, false, out, w, moved), net::Pump::State::Blocked);
  EXPECT_EQ(readAll(dst.far), "$1\r\nx\r\n");
  EXPECT_EQ(in.reads, before + 1);  // copied, with one read
  EXPECT_TRUE(pump.idle());
}

TEST_F(PumpModeTest, WithoutPipesBulkIsCopiedAndItsShortTailEndsTheTurn) {
  core::PipePool none{0};
  Pair src, dst;
  enlarge(src.far);
  enlarge(dst.near);
  CountingTransport in(src.near);
  net::RawTransport out(core::Fd(dup(dst.near)));
  net::Pump pump(buffers, none);
  std::string bulk(16 * core::Buffer::kCapacity + 100, 'c');
  ASSERT_EQ(::write(src.far, bulk.data(), bulk.size()), static_cast<ssize_t>(bulk.size()));
  bool r = true, w = true;
  uint64_t moved = 0;
  EXPECT_EQ(pump.run(in, r, false, out, w, moved), net::Pump::State::Blocked);
  EXPECT_EQ(moved, bulk.size());
  EXPECT_EQ(readAll(dst.far), bulk);
  // Splicing is wanted but no pipe can be had: 16 full buffers are copied, then the 100-byte
  // tail, a short read, ends the turn without a read that would only find EAGAIN.
  EXPECT_EQ(in.reads, 17);
  EXPECT_FALSE(r);
  EXPECT_TRUE(pump.idle());
}
