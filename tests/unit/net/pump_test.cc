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
