#include "net/transport.h"

#include <sys/socket.h>

#include <cerrno>

namespace fulcrum::net {

IoResult RawTransport::read(uint8_t* data, size_t len) {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), data, len, 0);
    if (n > 0) {
      return {IoStatus::Ok, static_cast<size_t>(n)};
    }
    if (n == 0) {
      return {IoStatus::Eof};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {IoStatus::WouldBlock};
    }
    return {IoStatus::Error, 0, errno};
  }
}

namespace {

// One send call, again on EINTR: what every write of a plain socket shares.
template <class Send>
IoResult sendRetrying(Send send) {
  for (;;) {
    ssize_t n = send();
    if (n >= 0) {
      return {IoStatus::Ok, static_cast<size_t>(n)};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {IoStatus::WouldBlock};
    }
    return {IoStatus::Error, 0, errno};
  }
}

}  // namespace

IoResult RawTransport::write(const uint8_t* data, size_t len) {
  // send(2), not sendmsg(2): one buffer needs no msghdr or iovec for the kernel to copy in.
  return sendRetrying([&] { return ::send(fd_.get(), data, len, MSG_NOSIGNAL); });
}

IoResult RawTransport::write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) {
  iovec iov[2] = {{const_cast<uint8_t*>(a), alen}, {const_cast<uint8_t*>(b), blen}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = blen > 0 ? 2 : 1;
  return sendRetrying([&] { return ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL); });
}

void RawTransport::shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

}  // namespace fulcrum::net
