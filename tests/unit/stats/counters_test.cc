#include "stats/counters.h"

#include <gtest/gtest.h>

#include <thread>

#include "stats/prometheus.h"

namespace fulcrum::stats {
namespace {

TEST(Histogram, BucketsByUpperBoundInclusive) {
  Histogram h;
  h.observe(0);        // <= 100 us
  h.observe(100);      // <= 100 us (bounds are inclusive, as Prometheus' le)
  h.observe(101);      // <= 250 us
  h.observe(999999);   // <= 1 s
  h.observe(1000000);  // <= 1 s
  h.observe(61000000); // +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 1u);
  EXPECT_EQ(h.bucket(12), 2u);  // the 1 s bucket
  EXPECT_EQ(Histogram::kBoundSeconds[12], 1.0);
  EXPECT_EQ(h.bucket(Histogram::kBounds), 1u);
  EXPECT_EQ(h.sumMicros(), 0u + 100 + 101 + 999999 + 1000000 + 61000000);
}

TEST(CipherCounts, CountsByNameAndResultBoundedWithTheRestAsOther) {
  // Names are kept by address (OpenSSL's static table): the same text elsewhere is another key.
  static const char* const kNames[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "A", "B", "C", "D", "E",
                                       "F", "G", "H"};
  CipherCounts c;
  c.add(kNames[0], false);
  c.add(kNames[0], true);
  c.add(kNames[0], true);
  for (const char* n : kNames) {
    c.add(n, false);
  }
  c.add(nullptr, true);  // no cipher name: other
  std::map<std::string, CipherCounts::Totals> out;
  c.sumInto(out);
  EXPECT_EQ(out.size(), CipherCounts::kSlots + 1);
  EXPECT_EQ(out["TLS_AES_128_GCM_SHA256"].full, 2u);
  EXPECT_EQ(out["TLS_AES_128_GCM_SHA256"].resumed, 2u);
  EXPECT_EQ(out["F"].full, 1u);
  EXPECT_EQ(out.count("G"), 0u);
  EXPECT_EQ(out["other"].full, 2u);  // G and H: past the 8 slots
  EXPECT_EQ(out["other"].resumed, 1u);
}

TEST(StatusCounts, CountsEachCodeAndOverflowsToOther) {
  StatusCounts s;
  for (int i = 0; i < 3; ++i) s.add(200);
  s.add(404);
  s.add(0);
  for (uint16_t c = 500; c < 520; ++c) s.add(c);  // 20 codes: more than the 16 slots
  std::map<uint16_t, uint64_t> out;
  s.sumInto(out);
  EXPECT_EQ(out[200], 3u);
  EXPECT_EQ(out[404], 1u);
  uint64_t total = 0;
  for (const auto& [code, n] : out) total += n;
  EXPECT_EQ(total, 3u + 1 + 1 + 20) << "nothing is lost: overflow counts under 0";
  EXPECT_GE(out[0], 1u + 20 - 14);
}

TEST(TrafficSet, SumsWorkersAndEachWorkerHasItsOwnCacheLines) {
  TrafficSet set(4);
  EXPECT_NE(reinterpret_cast<uintptr_t>(&set.worker(0)) / 64, reinterpret_cast<uintptr_t>(&set.worker(1)) / 64);
  std::vector<std::thread> threads;
  for (size_t w = 0; w < 4; ++w) {
    threads.emplace_back([&set, w] {
      auto& t = set.worker(w);
      for (int i = 0; i < 10000; ++i) {
        t.statuses.add(200);
        t.bytes_in.add(10);
        t.request_time.observe(50);
        t.active.add(1);
        t.active.add(-1);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto s = set.sum();
  EXPECT_EQ(s.requests, 40000u);
  EXPECT_EQ(s.statuses[200], 40000u);
  EXPECT_EQ(s.bytes_in, 400000u);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.request_time.count(), 40000u);
  EXPECT_EQ(s.request_time.buckets[0], 40000u);
  // An out-of-range worker index lands on the last slot rather than outside.
  set.worker(99).connections.add();
  EXPECT_EQ(set.sum().connections, 1u);
}

TEST(PromWriter, GroupsFamiliesEscapesLabelsAndWritesHistograms) {
  PromWriter w;
  w.family("x_total", PromWriter::Type::Counter, "Xs.");
  w.family("y_seconds", PromWriter::Type::Histogram, "Ys.");
  w.sample("x_total", {{"name", "a\"b\\c\nd"}}, 3);
  TrafficTotals::Hist h;
  h.buckets[0] = 2;
  h.buckets[Histogram::kBounds] = 1;
  h.sum_us = 1500000;
  w.histogram("y_seconds", {{"l", "v"}}, h);
  w.sample("x_total", {{"name", "b"}}, 1796032133.9378624);
  w.family("unused", PromWriter::Type::Gauge, "Never sampled: not written.");
  std::string out = w.str();
  EXPECT_EQ(out.find("unused"), std::string::npos);
  size_t type = out.find("# TYPE x_total counter\n");
  ASSERT_NE(type, std::string::npos) << out;
  EXPECT_NE(out.find("x_total{name=\"a\\\"b\\\\c\\nd\"} 3\nx_total{name=\"b\"} 1796032133.938\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("y_seconds_bucket{l=\"v\",le=\"0.0001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_seconds_bucket{l=\"v\",le=\"60\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_seconds_bucket{l=\"v\",le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_seconds_sum{l=\"v\"} 1.5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_seconds_count{l=\"v\"} 3\n"), std::string::npos) << out;
  EXPECT_EQ(statusClass(204), std::string("2xx"));
  EXPECT_EQ(statusClass(0), std::string("other"));
}

}  // namespace
}  // namespace fulcrum::stats
