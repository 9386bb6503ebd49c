// The vectorised scans agree with the 256-entry table for every byte at every position.
#include "codec/char_class.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace fulcrum::http::chars {
namespace {

// Byte-by-byte references for the vectorised scans.
size_t reference(const std::string& b, size_t from, size_t to, uint8_t cls) {
  while (from < to && is(b[from], cls)) {
    ++from;
  }
  return from;
}

TEST(CharClass, VectorScansMatchTheTable) {
  // Every byte value at every position, with starts and ends that exercise whole blocks, the
  // overlapping tail load (start not block-aligned from the end) and the byte loop (short
  // buffers where no 16 bytes end at `to`).
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 48; ++at) {
      std::string buffer(48, 'a');
      buffer[at] = static_cast<char>(c);
      const char* b = buffer.data();
      for (size_t from : {0, 1, 3, 7, 15, 16, 17, 30}) {
        for (size_t to : {from, from + 1, from + 9, from + 15, from + 16, from + 17, size_t{48}}) {
          if (to > 48 || to < from) {
            continue;
          }
          SCOPED_TRACE(::testing::Message()
                       << "byte " << c << " at " << at << " in [" << from << "," << to << ")");
          EXPECT_EQ(static_cast<size_t>(skipFieldValue(b + from, b + to, b) - b),
                    reference(buffer, from, to, kField));
          EXPECT_EQ(static_cast<size_t>(skipFieldValue(b + from, b + to, b + from) - b),
                    reference(buffer, from, to, kField));
          EXPECT_EQ(static_cast<size_t>(skipVchar(b + from, b + to, b) - b),
                    reference(buffer, from, to, kTarget));
          EXPECT_EQ(static_cast<size_t>(skipToken(b + from, b + to) - b),
                    reference(buffer, from, to, kTchar));
          size_t lf = from;
          while (lf < to && buffer[lf] != '\n') {
            ++lf;
          }
          const char* found = findLf(b + from, b + to, b);
          EXPECT_EQ(found == nullptr ? to : static_cast<size_t>(found - b), lf);
          if (lf == to) {
            EXPECT_EQ(found, nullptr);
          }
        }
      }
    }
  }
}

TEST(CharClass, Classes) {
  EXPECT_TRUE(is('!', kTchar));
  EXPECT_TRUE(is('~', kTchar));
  EXPECT_FALSE(is(':', kTchar));
  EXPECT_FALSE(is(' ', kTchar));
  EXPECT_FALSE(is('"', kTchar));
  EXPECT_TRUE(is('\t', kField));
  EXPECT_TRUE(is(' ', kField));
  EXPECT_TRUE(is('\x80', kField));
  EXPECT_TRUE(is('\xff', kField));
  EXPECT_FALSE(is('\x7f', kField));
  EXPECT_FALSE(is('\0', kField));
  EXPECT_FALSE(is('\r', kField));
  EXPECT_FALSE(is('\n', kField));
  EXPECT_FALSE(is(' ', kTarget));
  EXPECT_FALSE(is('\x80', kTarget));
  EXPECT_TRUE(is('F', kHex));
  EXPECT_FALSE(is('g', kHex));
  EXPECT_EQ(hexValue('a'), 10);
  EXPECT_EQ(hexValue('F'), 15);
  EXPECT_EQ(hexValue('7'), 7);
  EXPECT_TRUE(equalsLower("Content-Length", "content-length"));
  EXPECT_FALSE(equalsLower("Content-Lengt", "content-length"));
}

}  // namespace
}  // namespace fulcrum::http::chars
