#pragma once
// TicketKeys: the keys that encrypt and decrypt TLS session tickets (TLS 1.2 tickets and
// TLS 1.3 stateless PSKs), owned by Fulcrum instead of OpenSSL's per-context random key, which
// would die with every context rebuild (each reload) and with the process, and never rotate.
//
// A ring: the first key encrypts new tickets; the others still decrypt, and a ticket decrypted
// with one of them is renewed (a new ticket under the current key). The workers' handshakes
// read it without a lock while the control thread rotates it or installs keys read from a key
// file: two buffers of atomic words, the control thread writes the one not in use and then
// flips an index, and a reader re-checks the buffer's version after copying a key (a seqlock
// whose writer never touches the buffer readers were sent to). Not std::atomic<shared_ptr>:
// ThreadSanitizer reports libstdc++ 12's lock-bit implementation of it as a data race (found
// by TlsResumption.* under TSan), and a reference count per handshake is a shared cache line.
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

// A key file's text parsed; keys in ring order (the file's last key first). nullopt with
// `error` ("line N: reason") when a line is not a key, there is no key, or more than
// TicketKeys::kMaxKeys.
std::optional<std::vector<TicketKey>> parseTicketKeys(std::string_view text, std::string& error);
// The same from a file; `error` starts with the path.
std::optional<std::vector<TicketKey>> readTicketKeyFile(const std::string& path, std::string& error);

class TicketKeys {
 public:
  // Generated keys kept: the current one and two before it, so a ticket issued at the end of
  // its key's interval still decrypts for two more intervals (lifetime: at most 2 x rotate).
  static constexpr size_t kGeneratedKept = 3;
  // The most keys a ring holds (a key file with more is an error).
  static constexpr size_t kMaxKeys = 16;

  // A ring of one random key.
  TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;
  // The keys `cfg` asks for: from its key_file, else random. Null with `error` (naming the
  // config entry and the file) when the file is unreadable or not a key file.
  static std::shared_ptr<TicketKeys> fromConfig(const config::TlsSessionTickets& cfg, std::string& error);

  // Control thread: the ring as last published, [0] encrypting.
  const std::vector<TicketKey>& keys() const { return keys_; }
  // Control thread. A new random key encrypts; the previous ones are kept up to kGeneratedKept.
  void rotate();
  // Control thread. `keys` (ring order, 1..kMaxKeys) replace the ring whole.
  void install(std::vector<TicketKey> keys);

  // Any thread, without a lock. The key that encrypts.
  TicketKey encrypting() const;
  // Any thread, without a lock. The key named `name` and its place in the ring (0: the one
  // that encrypts); false when the ring has no such key.
  bool find(const uint8_t* name, TicketKey& key, size_t& index) const;

  // Makes `ctx` encrypt and decrypt its tickets with this object's ring, and sets how long a
  // session lives (`cfg.lifetime`; with generated keys at most 2 x rotate, what the ring
  // covers). This object must outlive `ctx` (ServerContext holds both).
  void attach(ssl_ctx_st* ctx, const config::TlsSessionTickets& cfg) const;
  // The session lifetime attach() sets, in seconds.
  static long lifetimeSeconds(const config::TlsSessionTickets& cfg);

 private:
  static constexpr size_t kWords = 10;  // 80 bytes
  struct Buffer {
    std::atomic<uint64_t> version{0};  // odd while the control thread writes it
    std::atomic<uint32_t> count{0};
    std::array<std::array<std::atomic<uint64_t>, kWords>, kMaxKeys> keys{};
  };
  void publish();
  // Copies key `i` of buffer `b` (relaxed loads; the caller checks the version).
  static TicketKey load(const Buffer& b, size_t i);

  std::vector<TicketKey> keys_;  // the control thread's copy
  std::array<Buffer, 2> buffers_;
  std::atomic<uint32_t> current_{0};  // the buffer readers use
};

}  // namespace fulcrum::tls
