#include "tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fulcrum::tls {

namespace {

constexpr size_t kKeyBytes = 80;

// The SSL_CTX ex_data slot that points at the context's TicketKeys.
int keysIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TicketKey randomKey() {
  TicketKey k;
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size())) != 1 ||
      RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size())) != 1) {
    // No randomness is no TLS at all: OpenSSL's own handshakes would fail the same way.
    ERR_clear_error();
    std::abort();
  }
  return k;
}

bool setHmacKey(EVP_MAC_CTX* hctx, const TicketKey& k) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(k.hmac.data()), k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

// OpenSSL's ticket key callback (workers, during handshakes). enc=1: fill in the key name and
// IV of a new ticket under the current key. enc=0: the ticket names its key; 0 = unknown (a
// full handshake and a new ticket), 1 = decrypted with the current key, 2 = with an older one
// (decrypted, and renewed under the current key).
int onTicketKey(SSL* ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX* cctx,
                EVP_MAC_CTX* hctx, int enc) {
  const auto* self = static_cast<const TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keysIndex()));
  if (!self) {
    return enc ? -1 : 0;
  }
  if (enc) {
    const TicketKey k = self->encrypting();
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) {
      return -1;
    }
    std::memcpy(name, k.name.data(), k.name.size());
    if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1 || !setHmacKey(hctx, k)) {
      return -1;
    }
    return 1;
  }
  TicketKey k;
  size_t index = 0;
  if (!self->find(name, k, index)) {
    return 0;
  }
  if (!setHmacKey(hctx, k) || EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) {
    return -1;
  }
  // 2 (renew) every time, not only for an older key: OpenSSL sends a TLS 1.3 client a new
  // ticket after a resumption only when told to renew, and a client that keeps resuming needs
  // one (measured: with 1, 59 % of bench/tls's resumptions resumed; the rest had no ticket).
  (void)index;
  return 2;
}

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) {
    ++b;
  }
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

// Strict base64 (padding required); nullopt when `s` is not.
std::optional<std::string> base64Decode(const std::string& s) {
  if (s.empty() || s.size() % 4 != 0) {
    return std::nullopt;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool pad = c == '=' && i + 2 >= s.size();
    if (!std::isalnum(c) && c != '+' && c != '/' && !pad) {
      return std::nullopt;
    }
  }
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  size_t pads = s.ends_with("==") ? 2 : s.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pads);
  return out;
}

}  // namespace

std::string TicketKey::id() const {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    out += kHex[name[i] >> 4];
    out += kHex[name[i] & 15];
  }
  return out;
}

std::optional<std::vector<TicketKey>> parseTicketKeys(std::string_view text, std::string& error) {
  std::vector<TicketKey> keys;
  std::vector<size_t> lines;
  size_t lineNo = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineNo;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto bytes = base64Decode(line);
    if (!bytes || bytes->size() != kKeyBytes) {
      error = "line " + std::to_string(lineNo) + ": " +
              (bytes ? "a key of " + std::to_string(bytes->size()) + " bytes" : std::string("not base64")) +
              "; expected the base64 of 80 random bytes (openssl rand 80 | base64 -w0)";
      return std::nullopt;
    }
    TicketKey k;
    std::memcpy(k.name.data(), bytes->data(), 16);
    std::memcpy(k.aes.data(), bytes->data() + 16, 32);
    std::memcpy(k.hmac.data(), bytes->data() + 48, 32);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].name == k.name) {
        error = "line " + std::to_string(lineNo) + ": the same key name (first 16 bytes) as line " +
                std::to_string(lines[i]) + "; expected every key to be different";
        return std::nullopt;
      }
    }
    if (keys.size() == TicketKeys::kMaxKeys) {
      error = "line " + std::to_string(lineNo) + ": more than " + std::to_string(TicketKeys::kMaxKeys) +
              " keys; expected only the keys still in use";
      return std::nullopt;
    }
    keys.push_back(k);
    lines.push_back(lineNo);
  }
  if (keys.empty()) {
    error = "no key in it; expected one base64 key of 80 bytes per line (openssl rand 80 | base64 -w0)";
    return std::nullopt;
  }
  std::reverse(keys.begin(), keys.end());  // the file's last key encrypts
  return keys;
}

std::optional<std::vector<TicketKey>> readTicketKeyFile(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read the session ticket key file: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string why;
  auto keys = parseTicketKeys(ss.str(), why);
  if (!keys) {
    error = path + ": " + why;
  }
  return keys;
}

TicketKeys::TicketKeys() {
  keys_.push_back(randomKey());
  publish();
}

void TicketKeys::publish() {
  // The buffer readers are not sent to; a reader still copying from it (sent there before the
  // previous flip) sees the version change and reads again.
  const uint32_t next = 1 - current_.load(std::memory_order_relaxed);
  Buffer& b = buffers_[next];
  const uint64_t v = b.version.load(std::memory_order_relaxed);
  b.version.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < keys_.size(); ++i) {
    uint64_t words[kWords];
    static_assert(sizeof(TicketKey) == sizeof words);
    std::memcpy(words, &keys_[i], sizeof words);
    for (size_t w = 0; w < kWords; ++w) {
      b.keys[i][w].store(words[w], std::memory_order_relaxed);
    }
  }
  b.count.store(static_cast<uint32_t>(keys_.size()), std::memory_order_relaxed);
  b.version.store(v + 2, std::memory_order_release);
  current_.store(next, std::memory_order_release);
}

TicketKey TicketKeys::load(const Buffer& b, size_t i) {
  uint64_t words[kWords];
  for (size_t w = 0; w < kWords; ++w) {
    words[w] = b.keys[i][w].load(std::memory_order_relaxed);
  }
  TicketKey k;
  std::memcpy(&k, words, sizeof words);
  return k;
}

TicketKey TicketKeys::encrypting() const {
  for (;;) {
    const Buffer& b = buffers_[current_.load(std::memory_order_acquire)];
    const uint64_t v = b.version.load(std::memory_order_acquire);
    TicketKey k = load(b, 0);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((v & 1) == 0 && b.version.load(std::memory_order_relaxed) == v) {
      return k;
    }
  }
}

bool TicketKeys::find(const uint8_t* name, TicketKey& key, size_t& index) const {
  for (;;) {
    const Buffer& b = buffers_[current_.load(std::memory_order_acquire)];
    const uint64_t v = b.version.load(std::memory_order_acquire);
    const size_t n = std::min<size_t>(b.count.load(std::memory_order_relaxed), kMaxKeys);
    bool found = false;
    for (size_t i = 0; i < n && !found; ++i) {
      TicketKey k = load(b, i);
      if (std::memcmp(k.name.data(), name, k.name.size()) == 0) {
        key = k;
        index = i;
        found = true;
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((v & 1) == 0 && b.version.load(std::memory_order_relaxed) == v) {
      return found;
    }
  }
}

std::shared_ptr<TicketKeys> TicketKeys::fromConfig(const config::TlsSessionTickets& cfg, std::string& error) {
  auto keys = std::make_shared<TicketKeys>();
  if (!cfg.key_file.empty()) {
    std::string why;
    auto fromFile = readTicketKeyFile(cfg.key_file, why);
    if (!fromFile) {
      error = cfg.where + ".key_file: " + why;
      return nullptr;
    }
    keys->install(std::move(*fromFile));
  }
  return keys;
}

void TicketKeys::rotate() {
  keys_.insert(keys_.begin(), randomKey());
  if (keys_.size() > kGeneratedKept) {
    keys_.resize(kGeneratedKept);
  }
  publish();
}

void TicketKeys::install(std::vector<TicketKey> keys) {
  if (keys.empty()) {
    return;
  }
  if (keys.size() > kMaxKeys) {
    keys.resize(kMaxKeys);
  }
  keys_ = std::move(keys);
  publish();
}

long TicketKeys::lifetimeSeconds(const config::TlsSessionTickets& cfg) {
  auto life = cfg.lifetime;
  if (cfg.key_file.empty()) {
    life = std::min(life, cfg.rotate * 2);
  }
  return std::max<long>(1, static_cast<long>(life.count() / 1000));
}

void TicketKeys::attach(ssl_ctx_st* ctx, const config::TlsSessionTickets& cfg) const {
  SSL_CTX_set_ex_data(ctx, keysIndex(), const_cast<TicketKeys*>(this));
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &onTicketKey);
  SSL_CTX_set_timeout(ctx, lifetimeSeconds(cfg));
}

}  // namespace fulcrum::tls
