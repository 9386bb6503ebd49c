#pragma once
// Manager: keeps every ACME certificate of the config obtained and fresh. One thread of its own
// runs the orders (OrderFlow, blocking HTTP with timeouts), so no worker and not the control
// loop ever waits on the CA. Per set of names (a listener's tls.acme):
//   - at start, a stored certificate for exactly these names is reused (no order) and due for
//     renewal at notAfter - renew_before; none stored: an order now;
//   - an order that succeeds stores the chain and key (storage.h) and tells the control thread
//     (`onIssued`, posted to its loop), which rebuilds the TLS contexts: new connections get
//     the new certificate, open ones keep theirs; until then the old one serves;
//   - an order that fails is logged with its reason and tried again after a backoff
//     (retry_min doubling to retry_max); the listeners keep serving what they have.
// A fresh certificate already inside renew_before is renewed again no sooner than retry_min.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "acme/backoff.h"
#include "acme/order_flow.h"
#include "acme/storage.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "tls/acme_challenges.h"

namespace fulcrum::acme {

// The certificate files to serve for `names` when stored and loadable; "" cert otherwise.
// (The TLS contexts call it at start and at each rebuild.)
config::TlsCertificateFiles storedCertificate(const config::Acme& acme, const std::vector<std::string>& names);

// The distinct name sets of a config's listeners (tls.acme), in listener order.
std::vector<std::vector<std::string>> nameSets(const config::Config& config);

// notAfter (unix seconds) of the first certificate in a PEM chain; 0 when unreadable.
int64_t pemNotAfter(const std::string& pem);

class Manager final : public ChallengeAnswerer {
 public:
  // `onIssued` runs on `loop`'s thread after a certificate was stored. Starts the thread.
  Manager(config::Acme config, std::vector<std::vector<std::string>> sets,
          std::shared_ptr<tls::AcmeChallenges> challenges, core::EventLoop& loop, std::function<void()> onIssued);
  // Stops the thread (an order in flight ends at its next step) and joins it.
  ~Manager() override;

  // Whether this manager serves exactly this configuration (a reload keeps it then).
  bool sameAs(const config::Acme& config, const std::vector<std::vector<std::string>>& sets) const;

  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t issued() const { return issued_.load(std::memory_order_relaxed); }

  // ChallengeAnswerer (the ACME thread).
  bool install(config::AcmeChallenge type, const std::string& name, const std::string& token,
               const std::string& keyAuthorization, std::string& error) override;
  void remove(config::AcmeChallenge type, const std::string& name, const std::string& token) override;

 private:
  using Clock = std::chrono::system_clock;
  struct Entry {
    std::vector<std::string> names;
    Clock::time_point due;
    uint32_t failures = 0;  // in a row
  };

  void run();
  // Sleeps up to `d`; false when stopping.
  bool pause(std::chrono::milliseconds d);
  void process(Entry& e);
  bool ensureAccountKey(std::string& error);
  std::string namesText(const std::vector<std::string>& names) const;

  config::Acme config_;
  std::vector<std::vector<std::string>> sets_;
  std::shared_ptr<tls::AcmeChallenges> challenges_;
  core::EventLoop& loop_;
  std::function<void()> on_issued_;
  Storage storage_;
  Backoff backoff_;
  std::unique_ptr<AccountKey> account_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<OrderFlow> flow_;  // keeps the directory and account URL between orders
  std::vector<Entry> entries_;
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> issued_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // under mutex_
  std::atomic<bool> cancel_{false};  // stop_, for requests in flight
  std::thread thread_;
};

}  // namespace fulcrum::acme
