// IoBuffer: borrows pooled storage only while holding bytes, grows for large heads up to the
// caller's bound, compacts, and gives storage back once empty.
#include "core/io_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace fulcrum::core;

TEST(IoBuffer, BorrowsOnlyWhileHoldingBytes) {
  BufferPool pool;
  {
    IoBuffer b(pool);
    EXPECT_TRUE(b.empty());
    auto room = b.room(Buffer::kCapacity);
    ASSERT_EQ(room.size(), Buffer::kCapacity);
    std::memcpy(room.data(), "hello", 5);
    b.commit(5);
    EXPECT_EQ(b.view(), "hello");
    b.consume(2);
    EXPECT_EQ(b.view(), "llo");
    EXPECT_EQ(pool.freeCount(), 0u);
    b.consume(3);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(pool.freeCount(), 1u);  // given back once empty
  }
  EXPECT_EQ(pool.freeCount(), 1u);
}

TEST(IoBuffer, CompactsThenGrowsUpToTheBoundAndNoFurther) {
  BufferPool pool;
  IoBuffer b(pool);
  std::string all;
  size_t bound = 3 * Buffer::kCapacity;
  for (;;) {
    auto room = b.room(bound);
    if (room.empty()) {
      break;
    }
    for (size_t i = 0; i < room.size(); ++i) {
      room[i] = static_cast<uint8_t>('a' + (all.size() + i) % 26);
    }
    all.append(reinterpret_cast<const char*>(room.data()), room.size());
    b.commit(room.size());
  }
  EXPECT_EQ(b.size(), bound);
  EXPECT_EQ(b.view(), all);
  b.consume(10);
  auto room = b.room(bound);  // compacts: 10 bytes of room again
  EXPECT_EQ(room.size(), 10u);
  EXPECT_EQ(b.view(), all.substr(10));
  b.release();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.room(Buffer::kCapacity).size(), Buffer::kCapacity);  // back to a pooled buffer
}
