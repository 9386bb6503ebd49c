#pragma once
// Pump: moves bytes in one direction of a TCP relay, from src to dst.
// It holds at most one chunk in flight (a pipe for splice(2) or a 16 KiB buffer), so a
// slow reader stops the reading of the other side instead of growing memory: that is
// the whole back-pressure mechanism. The chunk is borrowed from the worker's pools and
// given back as soon as it is drained: an idle relay holds nothing.
//
// Copy or splice, per direction: small messages (Redis, PostgreSQL) cost one recv and one
// send through a buffer, where splice costs three calls (into the pipe, out of it, and one
// more that only learns the socket is empty). A direction starts copying and switches to
// splice after kFullReadsToSplice reads in a row that filled the buffer (data keeps coming
// in bulk); it goes back to copying when a splice brings less than one buffer's worth.
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
  // Consecutive reads that filled a buffer before a direction splices.
  static constexpr uint8_t kFullReadsToSplice = 2;

  Pump(core::BufferPool& buffers, core::PipePool& pipes) : buffers_(buffers), pipes_(pipes) {}
  ~Pump() { releaseAll(); }
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;

  // Bytes to send to dst before anything read from src (a PROXY protocol header).
  void preload(std::string_view bytes);

  // Runs until src has nothing more (src_readable cleared), dst pushes back
  // (dst_writable cleared), or the direction is finished. On Done, src's EOF has been
  // passed on as a shutdown(SHUT_WR) of dst. moved counts bytes written to dst.
  //
  // src_hup: the caller saw src's peer close or fail (EPOLLRDHUP, EPOLLHUP, EPOLLERR). Until
  // then a copy that reads less than it asked for has emptied src: src_readable is cleared
  // without another read, since under edge-triggered epoll new bytes raise a new edge. After
  // it, reads go on until EOF, because a FIN that is already there raises no further edge.
  // (A short splice proves nothing: it may stop when the pipe runs out of slots.)
  State run(net::Transport& src, bool& src_readable, bool src_hup, net::Transport& dst, bool& dst_writable,
            uint64_t& moved);
  // For callers that do not track src_hup: reads always go on until EAGAIN or EOF.
  State run(net::Transport& src, bool& src_readable, net::Transport& dst, bool& dst_writable, uint64_t& moved) {
    return run(src, src_readable, true, dst, dst_writable, moved);
  }

  bool done() const { return shut_; }
  int error() const { return error_; }
  bool errorOnRead() const { return error_on_read_; }
  bool idle() const { return !buffer_ && pipe_.read_fd < 0; }
  // The next read splices (bulk) rather than copies (small messages).
  bool splicing() const { return splicing_; }
  void releaseAll();

 private:
  State fail(int err, bool onRead);

  core::BufferPool& buffers_;
  core::PipePool& pipes_;
  std::unique_ptr<core::Buffer> buffer_;
  core::Pipe pipe_;
  size_t pipe_bytes_ = 0;
  uint8_t full_reads_ = 0;  // consecutive copies that filled the buffer
  bool splicing_ = false;
  bool eof_ = false;
  bool shut_ = false;
  int error_ = 0;
  bool error_on_read_ = false;
};

}  // namespace fulcrum::net
