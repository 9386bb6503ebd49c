#include "http/recycler.h"

#include <gtest/gtest.h>

#include "codec/parser.h"

namespace fulcrum::http {
namespace {

struct Counted {
  static inline int alive = 0;
  int value = 0;
  Counted() { ++alive; }
  ~Counted() { --alive; }
};

TEST(Recycler, GivesBackTheSameObjectAndDeletesBeyondItsBound) {
  {
    Recycler<Counted> r(1);
    Counted* first = nullptr;
    {
      auto a = r.take([] { return new Counted(); });
      a->value = 7;
      first = a.get();
    }
    EXPECT_EQ(r.spareCount(), 1u);
    auto b = r.take([] { return new Counted(); });
    EXPECT_EQ(b.get(), first);  // reused, as its last user left it
    EXPECT_EQ(b->value, 7);
    EXPECT_EQ(r.spareCount(), 0u);
    {
      auto c = r.take([] { return new Counted(); });
      auto d = r.take([] { return new Counted(); });
      EXPECT_EQ(Counted::alive, 3);
    }
    // Bound of one: one kept, the other deleted.
    EXPECT_EQ(r.spareCount(), 1u);
    EXPECT_EQ(Counted::alive, 2);
  }
  EXPECT_EQ(Counted::alive, 0);  // the recycler deletes its spares
}

TEST(Recycler, AResetPtrHasNoHomeAndDeletes) {
  Recycler<Counted>::Ptr p(new Counted());
  EXPECT_EQ(Counted::alive, 1);
  p = nullptr;
  EXPECT_EQ(Counted::alive, 0);
}

TEST(SpareStrings, LendsCapacityAndTakesItBack) {
  SpareStrings spares(2, 1024);
  std::string s(300, 'x');
  const char* storage = s.data();
  spares.reclaim(s);
  EXPECT_TRUE(s.empty());
  EXPECT_LT(s.capacity(), 64u);  // no heap memory left behind
  EXPECT_EQ(spares.spareCount(), 1u);
  std::string t;
  spares.lend(t);
  EXPECT_TRUE(t.empty());
  EXPECT_GE(t.capacity(), 300u);
  EXPECT_EQ(t.data(), storage);
  EXPECT_EQ(spares.spareCount(), 0u);
  // A string that already has storage keeps its own.
  std::string own(200, 'y');
  own.clear();
  spares.reclaim(t);
  spares.lend(own);
  EXPECT_EQ(spares.spareCount(), 1u);
}

TEST(SpareStrings, DropsHugeAndTinyStringsAndKeepsItsBound) {
  SpareStrings spares(1, 1024);
  std::string huge(4096, 'h');
  spares.reclaim(huge);
  EXPECT_EQ(spares.spareCount(), 0u);
  EXPECT_LT(huge.capacity(), 64u);
  std::string tiny = "ab";
  spares.reclaim(tiny);
  EXPECT_EQ(spares.spareCount(), 0u);
  std::string a(100, 'a'), b(100, 'b');
  spares.reclaim(a);
  spares.reclaim(b);
  EXPECT_EQ(spares.spareCount(), 1u);
}

// A recycled parser takes the limits of its new user.
TEST(Recycler, RecycledParserAppliesNewLimits) {
  Limits roomy;
  Limits tight;
  tight.maxHeaders = 1;
  RequestParser p(roomy);
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n";
  EXPECT_EQ(p.feed(head).status, ParseStatus::Done);
  p.configure(tight);
  ParseResult r = p.feed(head);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 431);
  p.configure(roomy);
  EXPECT_EQ(p.feed(head).status, ParseStatus::Done);
}

}  // namespace
}  // namespace fulcrum::http
