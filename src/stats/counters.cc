#include "stats/counters.h"

namespace fulcrum::stats {

void Histogram::observe(uint64_t micros) {
  // Bounds in whole microseconds; a linear scan of 18 is as fast as a search here.
  static constexpr uint64_t kBoundMicros[kBounds] = {100,    250,    500,     1000,    2500,    5000,
                                                      10000,  25000,  50000,   100000,  250000,  500000,
                                                      1000000, 2500000, 5000000, 10000000, 30000000, 60000000};
  size_t i = 0;
  while (i < kBounds && micros > kBoundMicros[i]) {
    ++i;
  }
  buckets_[i].add();
  sum_us_.add(micros);
}

void StatusCounts::add(uint16_t code) {
  if (code == 0) {
    other_.add();
    return;
  }
  size_t start = code % kSlots;
  for (size_t n = 0; n < kSlots; ++n) {
    size_t i = (start + n) % kSlots;
    uint16_t c = codes_[i].load(std::memory_order_relaxed);
    if (c == code) {
      counts_[i].add();
      return;
    }
    if (c == 0) {
      // Only this worker writes the table: claim the slot, then count. A reader that
      // sees the code before the count reads 0 for it, which is still true.
      codes_[i].store(code, std::memory_order_release);
      counts_[i].add();
      return;
    }
  }
  other_.add();
}

void StatusCounts::sumInto(std::map<uint16_t, uint64_t>& out) const {
  for (size_t i = 0; i < kSlots; ++i) {
    uint16_t c = codes_[i].load(std::memory_order_acquire);
    if (c != 0) {
      out[c] += counts_[i].get();
    }
  }
  if (uint64_t o = other_.get()) {
    out[0] += o;
  }
}

void CipherCounts::add(const char* name, bool resumed) {
  for (size_t i = 0; name && i < kSlots; ++i) {
    const char* n = names_[i].load(std::memory_order_relaxed);
    if (n == nullptr) {
      // Only this worker writes the table: claim the slot, then count (as StatusCounts).
      names_[i].store(name, std::memory_order_release);
      n = name;
    }
    if (n == name) {
      (resumed ? resumed_[i] : full_[i]).add();
      return;
    }
  }
  (resumed ? other_resumed_ : other_full_).add();
}

void CipherCounts::sumInto(std::map<std::string, Totals>& out) const {
  for (size_t i = 0; i < kSlots; ++i) {
    if (const char* n = names_[i].load(std::memory_order_acquire)) {
      Totals& t = out[n];
      t.full += full_[i].get();
      t.resumed += resumed_[i].get();
    }
  }
  if (other_full_.get() + other_resumed_.get() > 0) {
    Totals& t = out["other"];
    t.full += other_full_.get();
    t.resumed += other_resumed_.get();
  }
}

uint64_t TrafficTotals::Hist::count() const {
  uint64_t n = 0;
  for (uint64_t b : buckets) {
    n += b;
  }
  return n;
}

TrafficSet::TrafficSet(size_t workers) : slots_(new Slot[workers ? workers : 1]), count_(workers ? workers : 1) {}

namespace {
void addHist(TrafficTotals::Hist& h, const Histogram& src) {
  for (size_t i = 0; i <= Histogram::kBounds; ++i) {
    h.buckets[i] += src.bucket(i);
  }
  h.sum_us += src.sumMicros();
}
}  // namespace

TrafficTotals TrafficSet::sum() const {
  TrafficTotals t;
  for (size_t w = 0; w < count_; ++w) {
    const Traffic& s = slots_[w].t;
    t.connections += s.connections.get();
    t.active += s.active.get();
    s.statuses.sumInto(t.statuses);
    t.bytes_in += s.bytes_in.get();
    t.bytes_out += s.bytes_out.get();
    t.connect_errors += s.connect_errors.get();
    t.retries += s.retries.get();
    t.timeouts += s.timeouts.get();
    t.rate_limited += s.rate_limited.get();
    t.sni_refused += s.sni_refused.get();
    t.queue_timeouts += s.queue_timeouts.get();
    t.tls12_full += s.tls12_full.get();
    t.tls12_resumed += s.tls12_resumed.get();
    t.tls13_full += s.tls13_full.get();
    t.tls13_resumed += s.tls13_resumed.get();
    t.tls_failed += s.tls_failed.get();
    t.tls_certificate_rejected += s.tls_certificate_rejected.get();
    t.tls_abandoned += s.tls_abandoned.get();
    t.client_cert_missing += s.client_cert_missing.get();
    t.client_cert_untrusted += s.client_cert_untrusted.get();
    t.client_cert_revoked += s.client_cert_revoked.get();
    t.client_cert_expired += s.client_cert_expired.get();
    t.client_cert_invalid += s.client_cert_invalid.get();
    s.tls_ciphers.sumInto(t.tls_ciphers);
    addHist(t.tls_handshake_time, s.tls_handshake_time);
    t.queued += s.queued.get();
    addHist(t.request_time, s.request_time);
    addHist(t.response_time, s.response_time);
  }
  for (const auto& [code, n] : t.statuses) {
    t.requests += n;
  }
  return t;
}

const char* statusClass(uint16_t code) {
  switch (code / 100) {
    case 1:
      return "1xx";
    case 2:
      return "2xx";
    case 3:
      return "3xx";
    case 4:
      return "4xx";
    case 5:
      return "5xx";
    default:
      return "other";
  }
}

}  // namespace fulcrum::stats
