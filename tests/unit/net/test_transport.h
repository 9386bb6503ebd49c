#pragma once
// TestTransport: a Transport with no socket, for unit tests of what uses transports (relays,
// codecs, streams). Reads come from a script of chunks (an empty chunk is a WouldBlock; after
// the script, EOF if `eof`, else WouldBlock); writes are recorded, up to `write_room` bytes
// before WouldBlock. `buffered` plays a transport that holds input no readiness edge will
// announce (TLS records decrypted ahead).
#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "net/transport.h"

namespace fulcrum::test {

class TestTransport final : public net::Transport {
 public:
  std::deque<std::string> script;
  bool eof = false;
  std::string written;
  size_t write_room = SIZE_MAX;
  bool buffered = false;
  bool shut = false;
  size_t reads = 0;
  // What successive handshake() calls answer; Done once the script is spent.
  std::deque<net::HandshakeStatus> handshakes;

  net::IoResult read(uint8_t* data, size_t len) override {
    ++reads;
    if (script.empty()) {
      return {eof ? net::IoStatus::Eof : net::IoStatus::WouldBlock};
    }
    std::string& front = script.front();
    if (front.empty()) {
      script.pop_front();
      return {net::IoStatus::WouldBlock};
    }
    size_t n = std::min(len, front.size());
    std::memcpy(data, front.data(), n);
    front.erase(0, n);
    if (front.empty()) {
      script.pop_front();
    }
    return {net::IoStatus::Ok, n};
  }
  net::IoResult write(const uint8_t* data, size_t len) override { return write2(data, len, nullptr, 0); }
  net::IoResult write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) override {
    if (write_room == 0) {
      return {net::IoStatus::WouldBlock};
    }
    size_t n = std::min(alen + blen, write_room);
    size_t fromA = std::min(alen, n);
    written.append(reinterpret_cast<const char*>(a), fromA);
    if (b != nullptr && n > fromA) {
      written.append(reinterpret_cast<const char*>(b), n - fromA);
    }
    if (write_room != SIZE_MAX) {
      write_room -= n;
    }
    return {net::IoStatus::Ok, n};
  }
  void shutdownWrite() override { shut = true; }
  bool spliceable() const override { return false; }
  int fd() const override { return -1; }
  bool hasBufferedInput() const override { return buffered && !script.empty(); }
  net::HandshakeStatus handshake() override {
    if (handshakes.empty()) {
      return net::HandshakeStatus::Done;
    }
    auto h = handshakes.front();
    handshakes.pop_front();
    return h;
  }
};

}  // namespace fulcrum::test
