#pragma once
// Connection: an HTTP/2 client connection, once HttpSession found it speaks HTTP/2 (`h2` by
// ALPN, or the prior-knowledge preface on a plain listener with http2 enabled). It owns the
// codec (h2/server_codec.h) and the streams (h2/stream.h), reads the client's bytes into the
// codec and writes the codec's frames to the client through the session's ClientConnection;
// the session keeps the socket, its timer and its place among the worker's sessions.
//
// Back-pressure toward the client: frames are made only while less than kMaxPendingOut waits
// for the socket, and the client is not read while that much is unsent (it then waits for
// its own WINDOW_UPDATEs and SETTINGS ACKs as well). docs/design/h2.md has the whole map.
#include <sys/socket.h>

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>

#include "http/client_connection.h"
#include "net/tls_peer.h"
#include "http/h2/server_codec.h"
#include "http/runtime.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {
class HttpFrontend;
}

namespace fulcrum::http::h2 {

class Stream;

// The HTTP/2 client preface (RFC 9113 §3.4).
inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Connection final : private ServerCodec::Handler {
 public:
  static constexpr size_t kMaxPendingOut = 64 * 1024;

  struct Env {
    upstream::WorkerContext& ctx;
    std::shared_ptr<HttpFrontend> frontend;
    ClientConnection& conn;
    const sockaddr* peer = nullptr;
    std::string client_ip;
    bool trusted_front = false;
    bool tls = false;
    const net::ClientCertificate* client_cert = nullptr;  // verified (mTLS); the connection's, outlives us
    std::function<void()> wake;                       // a pass of drive() on the next loop turn
    std::function<void(uint64_t in, uint64_t out)> count;  // bytes moved, for the listener
  };
  // How the connection ended: the session closes with this.
  struct End {
    const char* why = "";
    bool reset = false;
  };

  Connection(Env env, const config::Http2& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads, decodes, starts streams and writes as far as readiness allows. An End when the
  // connection is over.
  std::optional<End> drive();
  // Frames that streams submitted outside drive() (a server's answer) go out now.
  void flush();
  // Graceful close (reload, stop): the first GOAWAY at once, the final one after `graceMs`
  // (streams opened meanwhile are served), then the connection ends with its last stream.
  void drain();
  // No stream is open (the session's keep-alive timeout applies).
  bool idle() const { return streams_.empty(); }
  bool usesHost(const upstream::HostState* state) const;
  // The session closes: every stream ends now.
  void abortAll(const char* why);

  upstream::WorkerContext& ctx() { return env_.ctx; }
  const std::shared_ptr<HttpFrontend>& frontend() { return env_.frontend; }
  ServerCodec& codec() { return codec_; }
  const Env& env() const { return env_; }
  // A stream has something to move once the current pass is over (not from inside the codec).
  void markDirty(Stream& s);
  // Response bytes count as the client's bytes (the listener's figures).
  void countOut(uint64_t n) { out_payload_ += n; }

 private:
  // ServerCodec::Handler.
  void onStreamOpen(int32_t id) override;
  bool onField(int32_t id, std::string_view name, std::string_view value, bool trailer) override;
  void onRequestHead(int32_t id, bool endStream) override;
  void onData(int32_t id, std::span<const uint8_t> data) override;
  void onRequestEnd(int32_t id) override;
  void onStreamClose(int32_t id, uint32_t errorCode) override;
  ssize_t onReadBody(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) override;

  Stream* find(int32_t id);
  // Starts the streams whose heads came, and pumps the ones marked dirty.
  void runStreams();
  // Frames to the client while it takes them. False: the write failed.
  bool writeOut(bool& blocked);

  Env env_;
  ServerCodec codec_;
  std::unordered_map<int32_t, Stream*> streams_;  // open ones (closed ones wait for deferDelete)
  std::vector<int32_t> dirty_;
  std::string failed_why_;
  uint64_t out_payload_ = 0;
  bool failed_ = false;        // a connection error: the GOAWAY goes, then the close
  bool write_failed_ = false;
  bool in_drive_ = false;
  bool draining_ = false;
  core::Timer goaway_timer_;
};

}  // namespace fulcrum::http::h2
