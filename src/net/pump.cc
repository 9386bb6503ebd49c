#include "net/pump.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::net {

void Pump::preload(std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  if (!buffer_) {
    buffer_ = buffers_.acquire();
  }
  size_t n = std::min(bytes.size(), buffer_->room());
  std::memcpy(buffer_->data + buffer_->end, bytes.data(), n);
  buffer_->end += n;
}

void Pump::releaseAll() {
  if (buffer_) {
    buffers_.release(std::move(buffer_));
  }
  pipes_.release(pipe_, pipe_bytes_ == 0);
  pipe_bytes_ = 0;
}

Pump::State Pump::fail(int err, bool onRead) {
  error_ = err;
  error_on_read_ = onRead;
  releaseAll();
  return State::Error;
}

Pump::State Pump::run(net::Transport& src, bool& src_readable, bool src_hup, net::Transport& dst,
                      bool& dst_writable, uint64_t& moved) {
  if (shut_) {
    return State::Done;
  }
  const uint64_t start = moved;
  for (;;) {
    // 1. Flush what is in flight.
    if (buffer_ && !buffer_->empty()) {
      if (!dst_writable) {
        return State::Blocked;
      }
      auto r = dst.write(buffer_->data + buffer_->begin, buffer_->size());
      if (r.status == net::IoStatus::Ok) {
        buffer_->begin += r.bytes;
        moved += r.bytes;
        continue;
      }
      if (r.status == net::IoStatus::WouldBlock) {
        dst_writable = false;
        return State::Blocked;
      }
      return fail(r.error, false);
    }
    if (pipe_bytes_ > 0) {
      if (!dst_writable) {
        return State::Blocked;
      }
      ssize_t n = splice(pipe_.read_fd, nullptr, dst.fd(), nullptr, pipe_bytes_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        pipe_bytes_ -= static_cast<size_t>(n);
        moved += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        dst_writable = false;
        return State::Blocked;
      }
      return fail(n < 0 ? errno : EPIPE, false);
    }
    // Nothing in flight: give the chunk back so an idle relay holds nothing.
    if (buffer_) {
      buffers_.release(std::move(buffer_));
    }
    if (pipe_.read_fd >= 0) {
      pipes_.release(pipe_, true);
    }
    // 2. Pass EOF on once everything before it is out.
    if (eof_) {
      dst.shutdownWrite();
      shut_ = true;
      return State::Done;
    }
    if (!src_readable) {
      return State::Blocked;
    }
    if (moved - start >= kBudgetPerRun) {
      return State::Yield;
    }
    // 3. Fill one chunk: splice when the direction carries bulk, both ends are plain sockets
    // and a pipe is free; copy otherwise.
    if (splicing_ && src.spliceable() && dst.spliceable() && pipes_.acquire(pipe_)) {
      ssize_t n = splice(src.fd(), nullptr, pipe_.write_fd, nullptr, pipe_.capacity, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        pipe_bytes_ = static_cast<size_t>(n);
        if (pipe_bytes_ < core::Buffer::kCapacity) {
          splicing_ = false;  // one buffer would have held it: the bulk is over
          full_reads_ = 0;
        }
        continue;
      }
      if (n == 0) {
        eof_ = true;
        continue;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        src_readable = false;
        pipes_.release(pipe_, true);
        return State::Blocked;
      }
      return fail(errno, true);
    }
    buffer_ = buffers_.acquire();
    auto r = src.read(buffer_->data, core::Buffer::kCapacity);
    if (r.status == net::IoStatus::Ok) {
      buffer_->end = r.bytes;
      if (r.bytes == core::Buffer::kCapacity) {
        if (full_reads_ < kFullReadsToSplice) {
          ++full_reads_;
        }
        splicing_ = full_reads_ >= kFullReadsToSplice;
      } else {
        full_reads_ = 0;
        if (!src_hup && src.shortReadMeansEmpty() && !src.hasBufferedInput()) {
          src_readable = false;  // a short read emptied src; new bytes raise a new edge
        }
      }
      continue;
    }
    if (r.status == net::IoStatus::Eof) {
      eof_ = true;
      continue;
    }
    if (r.status == net::IoStatus::WouldBlock) {
      src_readable = false;
      buffers_.release(std::move(buffer_));
      return State::Blocked;
    }
    return fail(r.error, true);
  }
}

}  // namespace fulcrum::net
