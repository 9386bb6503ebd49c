#pragma once
// TicketKeys: the keys that encrypt and decrypt TLS session tickets (TLS 1.2 tickets and
// TLS 1.3 stateless PSKs), owned by Fulcrum instead of OpenSSL's per-context random key, which
// would die with every context rebuild (each reload) and with the process, and never rotate.
//
// A ring: the first key encrypts new tickets; the others still decrypt, and a ticket decrypted
// with one of them is renewed (a new ticket under the current key). The ring is immutable and
// published through an atomic shared_ptr: the workers' handshakes read it without a lock while
// the control thread rotates it or installs keys read from a key file.
//
// Key file (tls.session_tickets.key_file): text, one key per line (like HAProxy's
// tls-ticket-keys), each the base64 of 80 bytes (16 bytes of key name, a 32-byte AES-256-CBC
// key, a 32-byte HMAC-SHA256 key; `openssl rand 80 | base64 -w0`); blank lines and lines
// starting with # are ignored. The LAST key encrypts, every key decrypts. Instances
// that read the same file resume each other's sessions.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

struct ssl_ctx_st;  // SSL_CTX (OpenSSL stays inside tls/)

namespace fulcrum::tls {

struct TicketKey {
  std::array<uint8_t, 16> name{};
  std::array<uint8_t, 32> aes{};
  std::array<uint8_t, 32> hmac{};
  // The first 4 bytes of the name in hex: which key it is, for logs (never the secret).
  std::string id() const;
};

struct TicketKeyRing {
  std::vector<TicketKey> keys;  // [0] encrypts; never empty
};

// A key file's text parsed; keys in ring order (the file's last key first). nullopt with
// `error` ("line N: reason") when a line is not a key or there is no key.
std::optional<std::vector<TicketKey>> parseTicketKeys(std::string_view text, std::string& error);
// The same from a file; `error` starts with the path.
std::optional<std::vector<TicketKey>> readTicketKeyFile(const std::string& path, std::string& error);

class TicketKeys {
 public:
  // Generated keys kept: the current one and two before it, so a ticket issued at the end of
  // its key's interval still decrypts for two more intervals (lifetime: at most 2 x rotate).
  static constexpr size_t kGeneratedKept = 3;

  // A ring of one random key.
  TicketKeys();
  // The keys `cfg` asks for: from its key_file, else random. Null with `error` (naming the
  // config entry and the file) when the file is unreadable or not a key file.
  static std::shared_ptr<TicketKeys> fromConfig(const config::TlsSessionTickets& cfg, std::string& error);

  // Any thread, lock-free for the reader's purposes (one atomic load and a reference).
  std::shared_ptr<const TicketKeyRing> ring() const { return ring_.load(std::memory_order_acquire); }

  // Control thread. A new random key encrypts; the previous ones are kept up to kGeneratedKept.
  void rotate();
  // Control thread. `keys` (ring order, not empty) replace the ring whole.
  void install(std::vector<TicketKey> keys);

  // Makes `ctx` encrypt and decrypt its tickets with this object's ring, and sets how long a
  // session lives (`cfg.lifetime`; with generated keys at most 2 x rotate, what the ring
  // covers). This object must outlive `ctx` (ServerContext holds both).
  void attach(ssl_ctx_st* ctx, const config::TlsSessionTickets& cfg) const;
  // The session lifetime attach() sets, in seconds.
  static long lifetimeSeconds(const config::TlsSessionTickets& cfg);

 private:
  std::atomic<std::shared_ptr<const TicketKeyRing>> ring_;
};

}  // namespace fulcrum::tls
