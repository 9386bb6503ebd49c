#include "watch/bird_control.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::watch {

Status BirdControl::connect() {
  close();
  sockaddr_un addr{};
  if (path_.size() >= sizeof addr.sun_path) {
    return Error{"BIRD control socket path too long: " + path_};
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  core::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.get() < 0) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error{"cannot connect to BIRD at " + path_ + ": " + std::strerror(errno)};
  }
  fd_ = std::move(s);
  reader_ = BirdReplyReader{};
  greeted_ = false;
  return {};
}

void BirdControl::close() {
  fd_ = core::Fd();
  greeted_ = false;
}

Status BirdControl::send(std::string_view line) {
  if (!connected()) {
    return Error{"not connected to BIRD"};
  }
  ssize_t n = ::send(fd_.get(), line.data(), line.size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(line.size())) {
    std::string why = n < 0 ? std::strerror(errno) : "short write";
    close();
    return Error{"BIRD control socket: " + why};
  }
  return {};
}

Status BirdControl::read(std::vector<BirdReply>& out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n == 0) {
      close();
      return Error{"BIRD closed its control socket"};
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return {};
      }
      std::string why = std::strerror(errno);
      close();
      return Error{"BIRD control socket: " + why};
    }
    std::vector<BirdReply> replies;
    if (Status s = reader_.feed(std::string_view(buf, static_cast<size_t>(n)), replies); !s) {
      close();
      return s;
    }
    for (auto& r : replies) {
      if (!greeted_) {
        if (r.code != kBirdWelcome) {
          close();
          return Error{"BIRD did not greet (\"" + std::to_string(r.code) + " " + r.text + "\"): is " + path_ +
                       " BIRD's control socket?"};
        }
        greeted_ = true;
        continue;
      }
      out.push_back(std::move(r));
    }
  }
}

}  // namespace fulcrum::watch
