#include "core/buffer_pool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace fulcrum::core;

TEST(BufferPool, ReusesReleasedBuffersAndClearsThem) {
  BufferPool pool(2);
  auto a = pool.acquire();
  a->end = 100;
  a->begin = 10;
  Buffer* raw = a.get();
  pool.release(std::move(a));
  EXPECT_EQ(pool.freeCount(), 1u);
  auto b = pool.acquire();
  EXPECT_EQ(b.get(), raw);
  EXPECT_TRUE(b->empty());
  EXPECT_EQ(b->room(), Buffer::kCapacity);
}

TEST(BufferPool, KeepsAtMostMaxFree) {
  BufferPool pool(2);
  auto a = pool.acquire(), b = pool.acquire(), c = pool.acquire();
  pool.release(std::move(a));
  pool.release(std::move(b));
  pool.release(std::move(c));
  EXPECT_EQ(pool.freeCount(), 2u);
}

TEST(PipePool, BoundsLivePipesAndReusesEmptyOnes) {
  PipePool pool(2, 1);
  Pipe p1, p2, p3;
  ASSERT_TRUE(pool.acquire(p1));
  ASSERT_TRUE(pool.acquire(p2));
  EXPECT_FALSE(pool.acquire(p3));  // budget of 2 used up: the caller falls back to buffers
  int fd = p1.read_fd;
  pool.release(p1, true);
  EXPECT_EQ(p1.read_fd, -1);
  ASSERT_TRUE(pool.acquire(p3));
  EXPECT_EQ(p3.read_fd, fd);
  // A pipe with data in it is closed, never reused.
  ASSERT_EQ(::write(p2.write_fd, "x", 1), 1);
  pool.release(p2, false);
  EXPECT_EQ(pool.alive(), 1u);
  EXPECT_EQ(fcntl(fd, F_GETFD), 0 | FD_CLOEXEC);
  pool.release(p3, true);
}

TEST(PipePool, TrimClosesIdlePipes) {
  PipePool pool(4, 4);
  Pipe a, b;
  ASSERT_TRUE(pool.acquire(a));
  ASSERT_TRUE(pool.acquire(b));
  int fd = a.read_fd;
  pool.release(a, true);
  EXPECT_EQ(pool.trim(), 1u);  // the idle one; b is in use and stays
  EXPECT_EQ(pool.alive(), 1u);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // closed
  pool.release(b, true);
}
