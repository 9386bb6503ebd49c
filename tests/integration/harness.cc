#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace itest {

TempDir::TempDir() {
  char tmpl[] = "/tmp/fulcrum-test-XXXXXX";
  char* p = mkdtemp(tmpl);
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Process::Process(std::vector<std::string> argv, const std::string& logPath) : log_path_(logPath) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // Children must not inherit the test's blocked signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (auto& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &fa, &attr, args.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    wait(5s);
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) {
    return status_;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

bool Process::running() { return !wait(0ms).has_value(); }

std::string Process::log() const { return readFile(log_path_); }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

long procKiB(pid_t pid, const std::string& file, const std::string& key) {
  // Appended piece by piece (a + b + c chains trip GCC 12's -Wrestrict).
  std::string path = "/proc/";
  path.append(std::to_string(pid)).append("/").append(file);
  std::string text(1, '\n');
  text.append(readFile(path));
  std::string line(1, '\n');
  line.append(key);
  size_t at = text.find(line);
  return at == std::string::npos ? -1 : std::atol(text.c_str() + at + line.size());
}

void writeFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

Backend startBackend(const TempDir& dir, const std::string& id, bool tcp, bool udp, const std::string& mode,
                     bool expectProxy, const std::string& host) {
  Backend b;
  b.id = id;
  std::string ready = dir.file("ready-" + id);
  std::string hp = host.find(':') != std::string::npos ? "[" + host + "]:0" : host + ":0";
  std::vector<std::string> argv{BACKEND_BIN, "--id", id, "--mode", mode, "--ready-file", ready};
  if (tcp) {
    argv.insert(argv.end(), {"--tcp", hp});
  }
  if (udp) {
    argv.insert(argv.end(), {"--udp", hp});
  }
  if (expectProxy) {
    argv.push_back("--expect-proxy");
  }
  b.proc = std::make_unique<Process>(argv, dir.file("backend-" + id + ".log"));
  waitFor([&] { return std::filesystem::exists(ready); }, 10s);
  std::istringstream in(readFile(ready));
  std::string proto, addr;
  while (in >> proto >> addr) {
    auto port = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    (proto == "tcp" ? b.tcp_port : b.udp_port) = port;
  }
  return b;
}

Backend startBackendWith(const TempDir& dir, const std::string& id, const std::vector<std::string>& args) {
  Backend b;
  b.id = id;
  std::string ready = dir.file("ready-" + id);
  std::filesystem::remove(ready);
  std::vector<std::string> argv{BACKEND_BIN, "--id", id, "--ready-file", ready};
  argv.insert(argv.end(), args.begin(), args.end());
  b.proc = std::make_unique<Process>(argv, dir.file("backend-" + id + ".log"));
  waitFor([&] { return std::filesystem::exists(ready); }, 10s);
  std::istringstream in(readFile(ready));
  std::string proto, addr;
  while (in >> proto >> addr) {
    auto port = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    (proto == "tcp" ? b.tcp_port : b.udp_port) = port;
  }
  return b;
}

HttpBackend startHttpBackend(const TempDir& dir, const std::string& id, const std::vector<std::string>& extraArgs) {
  HttpBackend b;
  b.id = id;
  std::string ready = dir.file("http-ready-" + id);
  std::filesystem::remove(ready);
  std::vector<std::string> argv{"/usr/bin/python3", SOURCE_DIR "/tools/httpbackend/httpbackend.py",
                                "--id", id, "--port", "0", "--ready-file", ready};
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  b.proc = std::make_unique<Process>(argv, dir.file("httpbackend-" + id + ".log"));
  waitFor([&] { return std::filesystem::exists(ready) || !b.proc->running(); }, 10s);
  std::istringstream in(readFile(ready));
  unsigned port = 0;
  if (in >> port && port > 0 && port <= 65535) {
    b.port = static_cast<uint16_t>(port);
  }
  return b;
}

std::string httpBlock(uint64_t offset, size_t n) {
  // sha256("fulcrum") = f577060e ba024252 bcbd67f1 d9e7cfae a534b7cb b2763bfe 4b9dc854 53fba3b4
  static constexpr uint8_t kSeed[32] = {0xf5, 0x77, 0x06, 0x0e, 0xba, 0x02, 0x42, 0x52, 0xbc, 0xbd, 0x67,
                                        0xf1, 0xd9, 0xe7, 0xcf, 0xae, 0xa5, 0x34, 0xb7, 0xcb, 0xb2, 0x76,
                                        0x3b, 0xfe, 0x4b, 0x9d, 0xc8, 0x54, 0x53, 0xfb, 0xa3, 0xb4};
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<char>(kSeed[(offset + i) % sizeof kSeed]);
  }
  return out;
}

uint16_t freePort(bool udp) {
  // Below the ephemeral range (32768-60999 by default): a port the kernel hands out for bind(0)
  // is also the local port of outgoing connections, so another test's client could be sitting on
  // it by the time fulcrum binds it (which fulcrum rightly refuses: the address is in use).
  static std::mt19937 rng(static_cast<uint32_t>(::getpid()) * 2654435761u ^
                          static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto port = static_cast<uint16_t>(10000 + rng() % 22000);
    int fd = ::socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (free) {
      return port;
    }
  }
  ADD_FAILURE() << "no free port below the ephemeral range";
  return 0;
}

uint16_t deadPort() { return freePort(false); }

std::unique_ptr<Process> startFulcrum(const TempDir& dir, const std::string& config, uint16_t waitPort, int workers,
                                      const std::string& name) {
  std::string cfg = dir.file(name);
  // Every instance gets its own admin port (the default 9900 would be shared by all tests).
  writeFile(cfg, config.find("\nadmin:") == std::string::npos && config.rfind("admin:", 0) != 0
                     ? config + "admin:\n  bind: 127.0.0.1:" + std::to_string(freePort()) + "\n"
                     : config);
  auto p = std::make_unique<Process>(
      std::vector<std::string>{FULCRUM_BIN, "run", "-c", cfg, "--workers", std::to_string(workers)},
      dir.file("fulcrum.log"));
  waitFor([&] { return p->log().find("fulcrum started") != std::string::npos || !p->running(); }, 10s);
  if (waitPort) {
    waitFor(
        [&] {
          int fd = connectTcp(waitPort, "127.0.0.1", 1);
          if (fd >= 0) {
            ::close(fd);
            return true;
          }
          return false;
        },
        5s);
  }
  return p;
}

RunResult runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  TempDir d;
  std::string log = d.file("out");
  Process p(std::move(argv), log);
  auto code = p.wait(timeout);
  return {code.value_or(-1), readFile(log)};
}

int connectTcp(uint16_t port, const char* host, int timeoutSec) {
  bool v6 = std::strchr(host, ':') != nullptr;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  timeval tv{timeoutSec, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, host, &a.sin6_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host, &a.sin_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const void* data, size_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool sendStr(int fd, const std::string& s) { return sendAll(fd, s.data(), s.size()); }

std::optional<std::string> recvLine(int fd) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return std::nullopt;
    }
    if (c == '\n') {
      return line;
    }
    line.push_back(c);
    if (line.size() > 65536) {
      return std::nullopt;
    }
  }
}

ssize_t drainToEof(int fd) {
  char buf[65536];
  ssize_t total = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      return total;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    total += n;
  }
}

bool closedWithin(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (::poll(&p, 1, std::max(left, 0)) <= 0) {
      return false;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      return true;
    }
  }
  return false;
}

std::string who(uint16_t port) {
  int fd = connectTcp(port);
  if (fd < 0) {
    return "connect failed";
  }
  sendStr(fd, "WHO\n");
  auto line = recvLine(fd);
  ::close(fd);
  return line.value_or("no answer");
}

void StreamGen::fill(uint8_t* out, size_t len) {
  size_t i = 0;
  while (i < len) {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    uint64_t w = z ^ (z >> 31);
    size_t n = std::min<size_t>(8, len - i);
    for (size_t k = 0; k < n; ++k) {
      out[i + k] = static_cast<uint8_t>(w >> (8 * k));
    }
    i += n;
  }
}

}  // namespace itest
