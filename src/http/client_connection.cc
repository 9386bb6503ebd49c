#include "http/client_connection.h"

#include <sys/epoll.h>

#include <algorithm>

namespace fulcrum::http {

void ClientConnection::onEvents(uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    readable = true;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    hup = true;
  }
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    writable = true;
  }
}

ClientConnection::Io ClientConnection::handshake() {
  if (handshaken) {
    return Io::Ok;
  }
  switch (transport->handshake()) {
    case net::HandshakeStatus::Done:
      handshaken = true;
      // The first request may have come with the handshake's last flight: already read into
      // the transport, or still in the socket with its edge spent by the handshake's reads.
      readable = true;
      return Io::Ok;
    case net::HandshakeStatus::WantRead:
      readable = false;
      return Io::Blocked;
    case net::HandshakeStatus::WantWrite:
      writable = false;
      return Io::Blocked;
    case net::HandshakeStatus::Failed:
      break;
  }
  return Io::Error;
}

ClientConnection::Io ClientConnection::read(size_t maxBuffered, size_t& got) {
  got = 0;
  while (readable) {
    auto room = in.room(maxBuffered);
    if (room.empty()) {
      return Io::Ok;
    }
    auto r = transport->read(room.data(), room.size());
    if (r.status == net::IoStatus::Ok) {
      in.commit(r.bytes);
      bytes_in += r.bytes;
      got += r.bytes;
      if (r.bytes < room.size() && !hup && transport->shortReadMeansEmpty() && !transport->hasBufferedInput()) {
        // A short read emptied the socket: new bytes will raise a new edge. (Not after the peer
        // closed: its FIN raises no further edge and must be read as EOF; nor while the
        // transport holds bytes of its own, which no edge announces.)
        readable = false;
      }
    } else if (r.status == net::IoStatus::WouldBlock) {
      readable = false;
    } else if (r.status == net::IoStatus::Eof) {
      readable = false;
      eof = true;
    } else {
      return Io::Error;
    }
  }
  return Io::Ok;
}

ClientConnection::Io ClientConnection::flush(SpareStrings& spares, size_t& sent) {
  sent = 0;
  while (out_sent < out.size()) {
    if (!writable) {
      return Io::Blocked;
    }
    auto r = transport->write(reinterpret_cast<const uint8_t*>(out.data()) + out_sent, out.size() - out_sent);
    if (r.status == net::IoStatus::Ok) {
      bytes_out += r.bytes;
      sent += r.bytes;
      out_sent += r.bytes;
    } else if (r.status == net::IoStatus::WouldBlock) {
      writable = false;
      return Io::Blocked;
    } else {
      return Io::Error;
    }
  }
  out_sent = 0;
  spares.reclaim(out);
  return Io::Ok;
}

ClientConnection::Io ClientConnection::sendWithBody(const uint8_t* body, size_t len, size_t& sent, size_t& fromBody) {
  sent = fromBody = 0;
  size_t head = out.size() - out_sent;
  auto r = transport->write2(reinterpret_cast<const uint8_t*>(out.data()) + out_sent, head, body, len);
  if (r.status == net::IoStatus::Ok) {
    bytes_out += r.bytes;
    sent = r.bytes;
    size_t fromHead = std::min(head, r.bytes);
    out_sent += fromHead;
    fromBody = r.bytes - fromHead;
    return Io::Ok;
  }
  if (r.status == net::IoStatus::WouldBlock) {
    writable = false;
    return Io::Blocked;
  }
  return Io::Error;
}

ClientConnection::Io ClientConnection::write(const uint8_t* data, size_t len, size_t& sent) {
  sent = 0;
  auto r = transport->write(data, len);
  if (r.status == net::IoStatus::Ok) {
    bytes_out += r.bytes;
    sent = r.bytes;
    return Io::Ok;
  }
  if (r.status == net::IoStatus::WouldBlock) {
    writable = false;
    return Io::Blocked;
  }
  return Io::Error;
}

void ClientConnection::startLingering() {
  lingering = true;
  transport->shutdownWrite();
  in.release();
}

bool ClientConnection::drainLingering(size_t maxBytes) {
  uint8_t sink[4096];
  size_t dropped = 0;
  while (!eof && readable && dropped < maxBytes) {
    auto r = transport->read(sink, sizeof sink);
    if (r.status == net::IoStatus::Ok) {
      dropped += r.bytes;
    } else if (r.status == net::IoStatus::WouldBlock) {
      readable = false;
    } else {
      eof = true;
    }
  }
  return eof || dropped >= maxBytes;
}

}  // namespace fulcrum::http
