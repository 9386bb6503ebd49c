#include "handover/inherited.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>

#include "net/address.h"

namespace fulcrum::handover {

namespace {
// sd_listen_fds(3): passed descriptors start here.
constexpr int kListenFdsStart = 3;

template <class T>
bool parseNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
}  // namespace

void InheritedSockets::add(SocketRecord record, core::Fd fd, std::string from) {
  sockets_.push_back(Entry{std::move(record), std::move(fd), std::move(from)});
}

void InheritedSockets::merge(InheritedSockets&& other) {
  for (auto& e : other.sockets_) {
    sockets_.push_back(std::move(e));
  }
  other.sockets_.clear();
}

bool InheritedSockets::has(const std::string& key) const {
  for (const auto& e : sockets_) {
    if (e.fd && socketKey(e.record) == key) {
      return true;
    }
  }
  return false;
}

core::Fd InheritedSockets::take(const std::string& key, size_t worker) {
  Entry* any = nullptr;
  for (auto& e : sockets_) {
    if (!e.fd || socketKey(e.record) != key) {
      continue;
    }
    if (e.record.worker == worker) {
      ++taken_;
      return std::move(e.fd);
    }
    if (any == nullptr) {
      any = &e;
    }
  }
  // Only when no socket is marked for a higher index would we rather keep it for its own
  // worker; a lower index wanting it first means the old process had fewer workers or
  // systemd numbered them: take it, so no inherited socket of an address stays unused.
  if (any != nullptr && any->record.worker < worker) {
    ++taken_;
    return std::move(any->fd);
  }
  return core::Fd();
}

std::vector<std::string> InheritedSockets::closeRest() {
  std::vector<std::string> out;
  for (auto& e : sockets_) {
    if (e.fd) {
      out.push_back(socketKey(e.record) + " (listener " + (e.record.listener.empty() ? "-" : e.record.listener) +
                    ", worker " + std::to_string(e.record.worker) + ", from " + e.from + ")");
      e.fd.reset();
    }
  }
  sockets_.clear();
  return out;
}

Result<SocketRecord> describeSocket(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    return Error{"fd " + std::to_string(fd) + ": " + std::strerror(errno)};
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error{"fd " + std::to_string(fd) + " is not a socket"};
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  int type = 0;
  socklen_t tlen = sizeof type;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0) {
    return Error{"fd " + std::to_string(fd) + ": " + std::strerror(errno)};
  }
  if (local.ss_family != AF_INET && local.ss_family != AF_INET6) {
    return Error{"fd " + std::to_string(fd) + " is not an IPv4 or IPv6 socket"};
  }
  SocketRecord r;
  r.address = net::formatAddress(reinterpret_cast<const sockaddr*>(&local));
  if (type == SOCK_DGRAM) {
    r.kind = SocketKind::Udp;
    return r;
  }
  if (type != SOCK_STREAM) {
    return Error{"fd " + std::to_string(fd) + " (" + r.address + ") is neither TCP nor UDP"};
  }
  int listening = 0;
  socklen_t llen = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || !listening) {
    return Error{"fd " + std::to_string(fd) + " (tcp " + r.address + ") is not listening"};
  }
  r.kind = SocketKind::Tcp;
  return r;
}

Status checkSocket(int fd, const SocketRecord& record) {
  auto actual = describeSocket(fd);
  if (!actual) {
    return Error{"the socket announced as " + socketKey(record) + " (listener " + record.listener + ", worker " +
                 std::to_string(record.worker) + "): " + actual.error().message};
  }
  if (socketKey(*actual) != socketKey(record)) {
    return Error{"the socket announced as " + socketKey(record) + " (listener " + record.listener + ", worker " +
                 std::to_string(record.worker) + ") is " + socketKey(*actual)};
  }
  return {};
}

Result<std::vector<ListenFd>> parseListenFds(const char* listenPid, const char* listenFds, const char* listenFdNames,
                                             pid_t self) {
  std::vector<ListenFd> out;
  if (listenPid == nullptr) {
    return out;
  }
  pid_t pid = 0;
  if (!parseNumber(std::string_view(listenPid), pid) || pid <= 0) {
    return Error{"LISTEN_PID=" + std::string(listenPid) + " is not a process id"};
  }
  if (pid != self) {
    return out;
  }
  int count = 0;
  if (listenFds == nullptr || !parseNumber(std::string_view(listenFds), count) || count < 0 || count > 4096) {
    return Error{"LISTEN_FDS=" + std::string(listenFds ? listenFds : "(unset)") + " is not a count of descriptors"};
  }
  std::vector<std::string> names;
  if (listenFdNames != nullptr) {
    std::string_view all(listenFdNames);
    size_t start = 0;
    for (;;) {
      size_t colon = all.find(':', start);
      names.emplace_back(all.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
      if (colon == std::string_view::npos) {
        break;
      }
      start = colon + 1;
    }
    if (static_cast<int>(names.size()) != count) {
      return Error{"LISTEN_FDNAMES has " + std::to_string(names.size()) + " names for LISTEN_FDS=" +
                   std::to_string(count) + " descriptors"};
    }
  }
  for (int i = 0; i < count; ++i) {
    out.push_back(ListenFd{kListenFdsStart + i, i < static_cast<int>(names.size()) ? names[i] : ""});
  }
  return out;
}

Status adoptSystemdSockets(InheritedSockets& out, std::vector<std::string>& warnings) {
  auto fds = parseListenFds(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"), std::getenv("LISTEN_FDNAMES"),
                            ::getpid());
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!fds) {
    return Error{"systemd socket activation: " + fds.error().message};
  }
  std::map<std::string, uint32_t> perKey;
  for (const auto& lf : *fds) {
    core::Fd fd(lf.fd);
    if (::fcntl(lf.fd, F_SETFD, FD_CLOEXEC) != 0) {
      warnings.push_back("systemd fd " + std::to_string(lf.fd) + ": " + std::strerror(errno));
      fd.release();  // not ours to close: it is not open
      continue;
    }
    auto record = describeSocket(lf.fd);
    if (!record) {
      warnings.push_back("systemd " + record.error().message + ": closed");
      continue;
    }
    int flags = ::fcntl(lf.fd, F_GETFL);
    ::fcntl(lf.fd, F_SETFL, flags | O_NONBLOCK);
    record->listener = lf.name;
    record->worker = perKey[socketKey(*record)]++;
    out.add(std::move(*record), std::move(fd), "systemd");
  }
  return {};
}

}  // namespace fulcrum::handover
