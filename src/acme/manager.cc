#include "acme/manager.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "common/log.h"
#include "tls/openssl_util.h"

namespace fulcrum::acme {

int64_t pemNotAfter(const std::string& pem) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  tls::X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) {
    ERR_clear_error();
    return 0;
  }
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x.get()), &tm) != 1) {
    ERR_clear_error();
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

config::TlsCertificateFiles storedCertificate(const config::Acme& acme, const std::vector<std::string>& names) {
  config::TlsCertificateFiles files;
  Storage storage(acme.storage);
  if (!storage.hasCertificate(names)) {
    return files;
  }
  files.cert = storage.certPath(names);
  files.key = storage.keyPath(names);
  files.where = acme.where + " (obtained for " + names.front() + ")";
  return files;
}

std::vector<std::vector<std::string>> nameSets(const config::Config& config) {
  std::vector<std::vector<std::string>> out;
  for (const auto& l : config.listeners) {
    if (!l.tls.acme.empty() && std::find(out.begin(), out.end(), l.tls.acme) == out.end()) {
      out.push_back(l.tls.acme);
    }
  }
  return out;
}

Manager::Manager(config::Acme config, std::vector<std::vector<std::string>> sets,
                 std::shared_ptr<tls::AcmeChallenges> challenges, core::EventLoop& loop, std::function<void()> onIssued)
    : config_(std::move(config)),
      sets_(std::move(sets)),
      challenges_(std::move(challenges)),
      loop_(loop),
      on_issued_(std::move(onIssued)),
      storage_(config_.storage),
      backoff_(config_.retry_min, config_.retry_max) {
  auto now = Clock::now();
  for (const auto& names : sets_) {
    Entry e{names, now, 0};
    if (storage_.hasCertificate(names)) {
      std::string error;
      auto pem = Storage::readFile(storage_.certPath(names), error);
      int64_t notAfter = pem ? pemNotAfter(*pem) : 0;
      if (notAfter > 0) {
        e.due = Clock::time_point(std::chrono::seconds(notAfter)) -
                std::chrono::duration_cast<Clock::duration>(config_.renew_before);
        log::info("acme certificate reused", {{"names", namesText(names)}, {"file", storage_.certPath(names)},
                                              {"not_after", notAfter}});
      }
    }
    entries_.push_back(std::move(e));
  }
  thread_ = std::thread([this] { run(); });
}

Manager::~Manager() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cancel_.store(true);
  cv_.notify_all();
  thread_.join();
}

bool Manager::sameAs(const config::Acme& c, const std::vector<std::vector<std::string>>& sets) const {
  return c.directory == config_.directory && c.email == config_.email && c.storage == config_.storage &&
         c.ca == config_.ca && c.challenge == config_.challenge && c.renew_before == config_.renew_before &&
         c.retry_min == config_.retry_min && c.retry_max == config_.retry_max && c.timeout == config_.timeout &&
         sets == sets_;
}

std::string Manager::namesText(const std::vector<std::string>& names) const {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ",") + n;
  }
  return out;
}

bool Manager::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void Manager::run() {
  for (;;) {
    auto next = std::min_element(entries_.begin(), entries_.end(),
                                 [](const Entry& a, const Entry& b) { return a.due < b.due; });
    if (next == entries_.end()) {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stop_; });
      return;
    }
    {
      std::unique_lock lock(mutex_);
      if (cv_.wait_until(lock, next->due, [this] { return stop_; })) {
        return;
      }
    }
    process(*next);
  }
}

bool Manager::ensureAccountKey(std::string& error) {
  if (account_) {
    return true;
  }
  const std::string path = storage_.accountKeyPath();
  if (auto pem = Storage::readFile(path, error)) {
    account_ = AccountKey::fromPem(*pem, error);
    if (!account_) {
      error = path + ": " + error;
    }
    return account_ != nullptr;
  }
  if (!error.empty()) {
    return false;
  }
  auto key = AccountKey::generate(error);
  if (!key || !Storage::writeFileAtomic(path, key->pem(), error)) {
    return false;
  }
  log::info("acme account key created", {{"file", path}});
  account_ = std::move(key);
  return true;
}

void Manager::process(Entry& e) {
  std::string error;
  Issued issued;
  bool ok = ensureAccountKey(error);
  if (ok) {
    if (!http_) {
      http_ = std::make_unique<HttpClient>(config_.ca, config_.timeout);
      http_->setCancel(&cancel_);
    }
    if (!flow_) {
      OrderFlow::Options o;
      o.directory = config_.directory;
      o.email = config_.email;
      o.challenge = config_.challenge;
      flow_ = std::make_unique<OrderFlow>(o, *account_, *http_, *this,
                                          [this](std::chrono::milliseconds d) { return pause(d); });
    }
    ok = flow_->obtain(e.names, issued, error);
  }
  if (ok && !storage_.saveCertificate(e.names, issued.chain_pem, issued.key_pem, error)) {
    ok = false;
  }
  auto now = Clock::now();
  if (!ok) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) {
        return;
      }
    }
    flow_.reset();  // the CA may have restarted: find the directory and account again
    ++e.failures;
    failures_.fetch_add(1, std::memory_order_relaxed);
    auto wait = backoff_.delay(e.failures);
    e.due = now + wait;
    log::warn("acme order failed", {{"names", namesText(e.names)}, {"error", error}, {"failures", e.failures},
                                    {"retry_in_ms", static_cast<int64_t>(wait.count())}});
    return;
  }
  e.failures = 0;
  issued_.fetch_add(1, std::memory_order_relaxed);
  int64_t notAfter = pemNotAfter(issued.chain_pem);
  auto renewAt = Clock::time_point(std::chrono::seconds(notAfter)) -
                 std::chrono::duration_cast<Clock::duration>(config_.renew_before);
  e.due = std::max(renewAt, now + std::chrono::duration_cast<Clock::duration>(config_.retry_min));
  log::info("acme certificate stored", {{"names", namesText(e.names)}, {"file", storage_.certPath(e.names)},
                                        {"not_after", notAfter}});
  loop_.post(on_issued_);
}

bool Manager::install(config::AcmeChallenge type, const std::string& name, const std::string& token,
                      const std::string& keyAuthorization, std::string& error) {
  if (type == config::AcmeChallenge::Http01) {
    challenges_->setHttp(token, keyAuthorization);
    return true;
  }
  return challenges_->setAlpn(name, keyAuthorization, error);
}

void Manager::remove(config::AcmeChallenge type, const std::string& name, const std::string& token) {
  if (type == config::AcmeChallenge::Http01) {
    challenges_->removeHttp(token);
  } else {
    challenges_->removeAlpn(name);
  }
}

}  // namespace fulcrum::acme
