#pragma once
// ClientConnection: the client's side of one HTTP connection: its transport (a plain socket,
// or TLS later: only the Transport interface is used), the bytes read and not yet taken, the
// bytes queued for the client, the readiness the event loop reported, and the lingering
// close. No HTTP here: the session (and its codec) decide what the bytes mean.
//
// Edge-triggered readiness: `readable` stays set until a read proves the socket empty (a
// WouldBlock, or a short read while no FIN was signalled and the transport holds nothing);
// `writable` until a write would block.
#include <cstdint>
#include <memory>
#include <string>

#include "core/io_buffer.h"
#include "http/recycler.h"
#include "net/transport.h"

namespace fulcrum::http {

class ClientConnection {
 public:
  enum class Io : uint8_t { Ok, Blocked, Error };

  ClientConnection(core::Fd fd, core::BufferPool& buffers) : raw(std::move(fd)), in(buffers) {}
  ~ClientConnection() {
    if (transport != &raw) {
      delete transport;
    }
  }
  ClientConnection(const ClientConnection&) = delete;  // `transport` points into the object
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Bytes go through `t` (TLS) over the socket `raw` still owns (and closes).
  void useTransport(std::unique_ptr<net::Transport> t) {
    if (transport != &raw) {
      delete transport;
    }
    transport = t.release();
  }
  // The event loop's readiness bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR).
  void onEvents(uint32_t events);
  // Advances the transport's handshake (TLS) as far as readiness allows: Ok once it is done
  // (a plain socket's at once), Blocked while it waits for the readiness it asked for (that
  // flag is cleared until the next edge), Error when it failed.
  Io handshake();
  // Reads while readable and `in` holds less than maxBuffered. Ok: `got` bytes read (maybe
  // 0: nothing there, or no room); Error: the read failed (the connection is done for).
  Io read(size_t maxBuffered, size_t& got);
  // Sends what `out` holds. Ok: all of it (its storage goes back to `spares`); Blocked: the
  // client is not reading; Error: the write failed. `sent`: bytes sent by this call.
  Io flush(SpareStrings& spares, size_t& sent);
  // Sends what `out` holds followed by `len` bytes of `body` in one write (a response head
  // and the start of its body). `fromBody`: how many body bytes left.
  Io sendWithBody(const uint8_t* body, size_t len, size_t& sent, size_t& fromBody);
  // Writes `len` bytes (nothing must be queued in `out`); `sent` bytes left.
  Io write(const uint8_t* data, size_t len, size_t& sent);
  size_t pendingOut() const { return out.size() - out_sent; }
  // Why the transport's handshake failed (TLS: OpenSSL's reason), for the log.
  const std::string& failure() const { return transport->failure(); }

  // The lingering close: FIN first, then what the client still sends is read and dropped, so
  // that closing with unread input (an RST) cannot destroy a response still in flight.
  void startLingering();
  // Drops input while there is some. True when lingering is over: the client closed, or
  // `maxBytes` were dropped by this call (a client that keeps sending is not waited for).
  bool drainLingering(size_t maxBytes);

  net::RawTransport raw;                  // the socket ...
  // ... used only through the interface: `raw` itself, or one this object owns (TLS; not a
  // unique_ptr beside the pointer: an idle connection's size counts, docs/performance.md).
  net::Transport* transport = &raw;
  core::IoBuffer in;
  std::string out;                        // queued for the client (borrowed storage)
  size_t out_sent = 0;
  bool readable = false;
  bool writable = false;
  bool eof = false;        // a read returned EOF
  bool hup = false;        // the client's FIN (or an error) was signalled
  bool lingering = false;
  bool handshaken = false;
  uint64_t bytes_in = 0;   // whole connection
  uint64_t bytes_out = 0;
};

}  // namespace fulcrum::http
