#pragma once
// Pump: moves bytes in one direction of a TCP relay, from src to dst.
// It holds at most one chunk in flight (a pipe for splice(2) or a 16 KiB buffer), so a
// slow reader stops the reading of the other side instead of growing memory: that is
// the whole back-pressure mechanism. The chunk is borrowed from the worker's pools and
// given back as soon as it is drained: an idle relay holds nothing.
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/buffer_pool.h"
#include "net/transport.h"

namespace fulcrum::net {

class Pump {
 public:
  // Yield: the per-call budget is spent with more to move; call run() again soon (on a
  // later loop turn, so other connections on the worker get their turn).
  enum class State { Blocked, Done, Error, Yield };
  static constexpr uint64_t kBudgetPerRun = 512 * 1024;

  Pump(core::BufferPool& buffers, core::PipePool& pipes) : buffers_(buffers), pipes_(pipes) {}
  ~Pump() { releaseAll(); }
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;

  // Bytes to send to dst before anything read from src (a PROXY protocol header).
  void preload(std::string_view bytes);

  // Runs until src has nothing more (src_readable cleared), dst pushes back
  // (dst_writable cleared), or the direction is finished. On Done, src's EOF has been
  // passed on as a shutdown(SHUT_WR) of dst. moved counts bytes written to dst.
  State run(net::Transport& src, bool& src_readable, net::Transport& dst, bool& dst_writable, uint64_t& moved);

  bool done() const { return shut_; }
  int error() const { return error_; }
  bool errorOnRead() const { return error_on_read_; }
  bool idle() const { return !buffer_ && pipe_.read_fd < 0; }
  void releaseAll();

 private:
  State fail(int err, bool onRead);

  core::BufferPool& buffers_;
  core::PipePool& pipes_;
  std::unique_ptr<core::Buffer> buffer_;
  core::Pipe pipe_;
  size_t pipe_bytes_ = 0;
  bool eof_ = false;
  bool shut_ = false;
  int error_ = 0;
  bool error_on_read_ = false;
};

}  // namespace fulcrum::net
