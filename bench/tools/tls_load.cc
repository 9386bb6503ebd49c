// tls_load: the TLS benchmark's client for handshakes and idle connections (bench/tls). One
// thread, epoll, OpenSSL, no certificate verification (the client's ECDSA verify would cost
// more than the server's signature: one load core could not keep one proxy core busy).
//
//   tls_load handshakes --port P [--conns N] [--seconds S] [--resume] [--path /]
//     N connections at a time, each: connect, TLS 1.3 handshake (X25519), one GET, the whole
//     response (Content-Length), close (RST: no TIME_WAIT, so ports last a long run); again
//     until S seconds. --resume: every handshake offers the last ticket received.
//     Prints {"handshakes": ..., "resumed": ..., "errors": ..., "seconds": ...}.
//   tls_load idle --port P --conns N
//     Opens N connections (50 at a time), one GET each, then prints "ready N" and holds them
//     until a line on stdin; then one GET on every 50th, prints "checked K errors E", exits.
//
// Why not h2load: it cannot resume sessions, and makes each client's connection once (a
// handshake rate needs connections made again and again); h2load --h1 is used for keep-alive.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string mode;
  int port = 0;
  int conns = 50;
  double seconds = 5;
  bool resume = false;
  std::string path = "/";
};

SSL_SESSION* g_last = nullptr;  // the newest ticket (resumption)

int onNewSession(SSL*, SSL_SESSION* s) {
  if (g_last) {
    SSL_SESSION_free(g_last);
  }
  g_last = s;
  return 1;  // kept
}

enum class Phase { Connecting, Handshake, Sending, Reading, Idle };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  Phase phase = Phase::Connecting;
  std::string in;
  size_t sent = 0;
};

class Client {
 public:
  explicit Client(const Options& o) : o_(o), req_("GET " + o.path + " HTTP/1.1\r\nHost: bench.test\r\n\r\n") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
    SSL_CTX_set1_groups_list(ctx_, "X25519");
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx_, onNewSession);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(o.port));
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  // Starts a connection in slot c. False: the socket could not be made.
  bool start(Conn& c) {
    c = Conn{};
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      return false;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) != 0 && errno != EINPROGRESS) {
      ::close(c.fd);
      c.fd = -1;
      return false;
    }
    c.ssl = SSL_new(ctx_);
    SSL_set_fd(c.ssl, c.fd);
    SSL_set_tlsext_host_name(c.ssl, "bench.test");
    if (o_.resume && g_last) {
      SSL_set_session(c.ssl, g_last);
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  }

  void finish(Conn& c, bool ok, bool rst = true) {
    if (ok) {
      ++done_;
      resumed_ += SSL_session_reused(c.ssl) == 1;
    } else {
      ++errors_;
    }
    if (rst) {
      linger l{1, 0};
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    // Marked shut down, or OpenSSL would think the session bad and make it unresumable (it is
    // shared by every connection that resumes it).
    SSL_set_shutdown(c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c.ssl);
    ::close(c.fd);
    c.ssl = nullptr;
    c.fd = -1;
  }

  void want(Conn& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Advances c. Returns true when its exchange is complete (response read).
  bool step(Conn& c, bool& failed) {
    failed = false;
    for (;;) {
      switch (c.phase) {
        case Phase::Connecting:
        case Phase::Handshake: {
          c.phase = Phase::Handshake;
          int r = SSL_connect(c.ssl);
          if (r == 1) {
            c.phase = Phase::Sending;
            continue;
          }
          return wait(c, r, failed);
        }
        case Phase::Sending: {
          size_t n = 0;
          int r = SSL_write_ex(c.ssl, req_.data() + c.sent, req_.size() - c.sent, &n);
          if (r != 1) {
            return wait(c, r, failed);
          }
          c.sent += n;
          if (c.sent == req_.size()) {
            c.phase = Phase::Reading;
            c.in.clear();
          }
          continue;
        }
        case Phase::Reading: {
          char buf[65536];
          size_t n = 0;
          int r = SSL_read_ex(c.ssl, buf, sizeof buf, &n);
          if (r != 1) {
            return wait(c, r, failed);
          }
          c.in.append(buf, n);
          size_t end = c.in.find("\r\n\r\n");
          if (end != std::string::npos) {
            const char* cl = strcasestr(c.in.c_str(), "content-length:");
            size_t len = cl ? std::strtoul(cl + 15, nullptr, 10) : 0;
            if (c.in.size() >= end + 4 + len) {
              if (c.in.compare(0, 12, "HTTP/1.1 200") != 0) {
                failed = true;
                return false;
              }
              c.phase = Phase::Idle;
              return true;
            }
          }
          continue;
        }
        case Phase::Idle:
          return true;
      }
    }
  }

  bool wait(Conn& c, int r, bool& failed) {
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
      want(c, EPOLLIN);
    } else if (e == SSL_ERROR_WANT_WRITE) {
      want(c, EPOLLOUT);
    } else {
      ERR_clear_error();
      failed = true;
    }
    return false;
  }

  int handshakes() {
    if (o_.resume) {  // a first session to resume
      std::vector<Conn> one(1);
      start(one[0]);
      run(one, std::chrono::steady_clock::now() + std::chrono::seconds(10), false, 1);
      if (!g_last) {
        std::fprintf(stderr, "tls_load: no session ticket from the server\n");
        return 1;
      }
      done_ = resumed_ = errors_ = 0;
    }
    std::vector<Conn> conns(static_cast<size_t>(o_.conns));
    auto t0 = std::chrono::steady_clock::now();
    for (auto& c : conns) {
      start(c);
    }
    run(conns, t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o_.seconds)), true, 0);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto& c : conns) {
      if (c.fd >= 0) {
        finish(c, false);
        --errors_;  // (cut off by the end of the run, not failed)
      }
    }
    std::printf("{\"handshakes\": %llu, \"resumed\": %llu, \"errors\": %llu, \"seconds\": %.3f}\n",
                static_cast<unsigned long long>(done_), static_cast<unsigned long long>(resumed_),
                static_cast<unsigned long long>(errors_), dt);
    return 0;
  }

  // Runs until the deadline (again: restart each finished slot) or until `stopAfter` exchanges.
  void run(std::vector<Conn>& conns, std::chrono::steady_clock::time_point deadline, bool again, uint64_t stopAfter) {
    epoll_event evs[256];
    while (std::chrono::steady_clock::now() < deadline && (stopAfter == 0 || done_ + errors_ < stopAfter)) {
      int n = epoll_wait(ep_, evs, 256, 100);
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
        if (c.fd < 0) {
          continue;
        }
        bool failed = false;
        bool complete = step(c, failed);
        if (complete || failed) {
          finish(c, complete);
          if (again) {
            start(c);
          }
        }
      }
    }
  }

  int idle() {
    std::vector<Conn> conns(static_cast<size_t>(o_.conns));
    size_t next = 0, active = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    epoll_event evs[256];
    size_t ready = 0;
    while (ready < conns.size() && std::chrono::steady_clock::now() < deadline) {
      while (active < 50 && next < conns.size()) {
        if (!start(conns[next++])) {
          std::fprintf(stderr, "tls_load: socket: %s\n", std::strerror(errno));
          return 1;
        }
        ++active;
      }
      int n = epoll_wait(ep_, evs, 256, 100);
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
        bool failed = false;
        if (step(c, failed)) {
          epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
          --active;
          ++ready;
        } else if (failed) {
          std::fprintf(stderr, "tls_load: connection %zu failed\n", static_cast<size_t>(&c - conns.data()));
          return 1;
        }
      }
    }
    std::printf("ready %zu\n", ready);
    std::fflush(stdout);
    std::string line;
    std::getline(std::cin, line);
    uint64_t checked = 0, errors = 0;
    for (size_t i = 0; i < conns.size(); i += 50) {
      Conn& c = conns[i];
      c.phase = Phase::Sending;
      c.sent = 0;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT;
      ev.data.ptr = &c;
      epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      bool failed = false, ok = false;
      while (!ok && !failed && std::chrono::steady_clock::now() < until) {
        ok = step(c, failed);
        if (!ok && !failed) {
          epoll_wait(ep_, evs, 256, 100);
        }
      }
      ++checked;
      errors += ok ? 0 : 1;
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    }
    std::printf("checked %llu errors %llu\n", static_cast<unsigned long long>(checked),
                static_cast<unsigned long long>(errors));
    return errors == 0 ? 0 : 1;
  }

 private:
  Options o_;
  std::string req_;
  SSL_CTX* ctx_;
  int ep_;
  sockaddr_in addr_{};
  uint64_t done_ = 0, resumed_ = 0, errors_ = 0;
};

int usage() {
  std::fprintf(stderr,
               "usage: tls_load handshakes --port P [--conns N] [--seconds S] [--resume] [--path /]\n"
               "       tls_load idle --port P --conns N\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    return usage();
  }
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") {
      o.port = std::atoi(value());
    } else if (a == "--conns") {
      o.conns = std::atoi(value());
    } else if (a == "--seconds") {
      o.seconds = std::atof(value());
    } else if (a == "--resume") {
      o.resume = true;
    } else if (a == "--path") {
      o.path = value();
    } else {
      return usage();
    }
  }
  if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.seconds <= 0 || (o.mode != "handshakes" && o.mode != "idle")) {
    return usage();
  }
  signal(SIGPIPE, SIG_IGN);
  Client c(o);
  return o.mode == "handshakes" ? c.handshakes() : c.idle();
}
