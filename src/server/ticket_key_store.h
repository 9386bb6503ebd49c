#pragma once
// The session ticket keys of every TLS listener, by listener name, kept by the control thread
// across reloads: a listener's contexts are rebuilt at each reload and on certificate changes,
// and each new context is given the same tls::TicketKeys, so no reload costs resumption.
// Generated keys rotate here on schedule; key files are re-read at reload and when they change.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "server/file_watch.h"
#include "tls/ticket_keys.h"

namespace fulcrum::server {

class TicketKeyStore {
 public:
  // Control thread. The keys for listener `listener` with settings `cfg`: the same object as
  // before when it had one; its key file (if any) read anew. Null with `error` ("file:line:
  // column: listeners[i].tls.session_tickets.key_file: FILE: reason") when the file cannot
  // serve; the keys in use then stay as they were. `nowMs`: monotonic, for the rotation clock.
  std::shared_ptr<tls::TicketKeys> keysFor(const std::string& listener, const config::TlsSessionTickets& cfg,
                                           uint64_t nowMs, std::string& error);
  // The keys a listener has now (null: none yet).
  std::shared_ptr<tls::TicketKeys> current(const std::string& listener) const;
  // Forgets listeners that are not in `listeners` (after a config without them is applied).
  void retain(const std::vector<std::string>& listeners);
  // Control thread, every second or so: generated keys that are due rotate; a key file that
  // changed (and has stayed the same for a poll) is read again; a bad one is logged once and
  // the keys in use keep serving.
  void poll(uint64_t nowMs);

 private:
  struct Entry {
    std::shared_ptr<tls::TicketKeys> keys;
    config::TlsSessionTickets cfg;
    uint64_t rotated_ms = 0;
    WatchedFiles file;  // the key file, when there is one
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace fulcrum::server
