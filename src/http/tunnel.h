#pragma once
// Tunnel: a client connection and a server connection relayed as raw bytes both ways, after
// a 101 Switching Protocols (WebSocket, h2c upgrade). Each direction is a Pump (splice when
// both transports allow it, else copies) that stops reading while its writer is full, and
// passes an end of stream on as a write shutdown. Done when both directions are.
#include <cstdint>
#include <memory>
#include <string_view>

#include "http/client_connection.h"
#include "http/upstream_conn.h"
#include "net/pump.h"
#include "upstream/cluster.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class Tunnel {
 public:
  enum class State : uint8_t {
    Waiting,     // both directions wait for readiness
    Yield,       // a direction spent its budget: run again on the next loop turn
    Done,        // both sides ended their streams
    ClientReset,  // a read or write on the client side failed
    ServerReset,
  };

  // `server`: the exchange's connection after the 101; `host`: its server, for its traffic
  // figures (its cluster outlives the tunnel). What the server sent behind the 101 and what
  // the client sent behind its request are relayed first (`toClient`, `toServer`).
  Tunnel(upstream::WorkerContext& ctx, std::unique_ptr<UpstreamConn> server, const upstream::Host* host,
         std::string_view toClient, std::string_view toServer);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // The server connection's readiness.
  void onServerEvents(uint32_t events);
  // Moves what can move both ways. `moved`: bytes relayed by this call (either way).
  State run(ClientConnection& client, uint64_t& moved, stats::Traffic& listener);
  // Closes the server side (reset: RST) and gives the pumps' buffers back.
  void close(bool reset);

 private:
  upstream::WorkerContext& ctx_;
  std::unique_ptr<UpstreamConn> server_;
  const upstream::Host* host_;
  net::Pump up_;    // client → server
  net::Pump down_;  // server → client
};

}  // namespace fulcrum::http
