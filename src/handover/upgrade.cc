#include "handover/upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "core/event_loop.h"
#include "handover/channel.h"
#include "handover/wire.h"

namespace fulcrum::handover {

namespace {

constexpr std::chrono::milliseconds kStatusTimeout{5000};
// After its deadline the new process gives up by itself; this is how long we let it.
constexpr std::chrono::milliseconds kGrace{3000};

std::string selfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string describeExit(int status) {
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 127) {
      return "could not be executed (exit code 127)";
    }
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended";
}

// waitpid, bounded: nullopt if the child is still there after timeout.
std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return status;
    }
    if (r < 0 && errno != EINTR) {
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= until) {
      return std::nullopt;
    }
    ::usleep(10'000);
  }
}

// The value of "key=value" among a line's words, or "?".
std::string field(const Message& m, const std::string& key) {
  for (const auto& a : m.args) {
    if (a.rfind(key + "=", 0) == 0) {
      return a.substr(key.size() + 1);
    }
  }
  return "?";
}

}  // namespace

int runUpgrade(const UpgradeOptions& o, std::ostream& out, std::ostream& err) {
  const char* me = "fulcrum upgrade: ";
  // main() blocked these for the server's signalfd; here Ctrl-C must end the wait. The new
  // process (its own session) then completes or abandons the handover on its own.
  sigset_t interrupt;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, SIGINT);
  sigaddset(&interrupt, SIGTERM);
  sigaddset(&interrupt, SIGHUP);
  // 1. A fulcrum must answer, and be serving (not stopping, not in another upgrade).
  auto channel = Channel::connect(o.control_socket);
  if (!channel) {
    err << me << channel.error().message << "\n";
    return 1;
  }
  std::string oldPid = "?";
  {
    if (auto st = channel->send(encodeStatusRequest()); !st) {
      err << me << "the running fulcrum (" << o.control_socket << "): " << st.message() << "\n";
      return 1;
    }
    auto reply = channel->receive(kStatusTimeout);
    if (!reply) {
      err << me << "the running fulcrum (" << o.control_socket << ") did not answer: " << reply.error().message << "\n";
      return 1;
    }
    auto m = parseMessage(reply->text);
    if (!m || m->verb != "running" || m->args.size() < 3) {
      err << me << o.control_socket << " answered something else than a fulcrum: \"" << reply->text.substr(0, 80)
          << "\"\n";
      return 1;
    }
    oldPid = m->args[0];
    if (m->args[2] != "serving") {
      err << me << "the running fulcrum (pid " << oldPid << ") is " << m->args[2] << ": not upgraded\n";
      return 1;
    }
    channel->close();
  }

  // 2. The new binary, with a pipe on which it reports "ready ..." (or closes it).
  std::string binary = o.binary.empty() ? selfExe() : o.binary;
  if (binary.empty() || ::access(binary.c_str(), X_OK) != 0) {
    err << me << "cannot run the new binary " << (binary.empty() ? "(this program)" : binary) << ": "
        << std::strerror(errno) << "; the running fulcrum (pid " << oldPid << ") serves on\n";
    return 1;
  }
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    err << me << "pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  core::Fd readEnd(pipeFds[0]);
  core::Fd writeEnd(pipeFds[1]);
  uint64_t deadline = core::EventLoop::monotonicMs() + static_cast<uint64_t>(o.timeout.count());
  std::vector<std::string> args = {binary,      "run",
                                   "-c",        o.config_path,
                                   "--takeover", o.control_socket,
                                   "--ready-fd", std::to_string(writeEnd.get()),
                                   "--takeover-deadline", std::to_string(deadline)};
  if (o.workers) {
    args.push_back("--workers");
    args.push_back(std::to_string(*o.workers));
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child > 0) {
    pthread_sigmask(SIG_UNBLOCK, &interrupt, nullptr);  // (the child keeps the server's mask)
  }
  if (child < 0) {
    err << me << "fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (child == 0) {
    // Only async-signal-safe calls here. Its own session: our terminal's Ctrl-C is not its.
    ::setsid();
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) {
      ::dup2(null, 0);
    }
    ::fcntl(pipeFds[1], F_SETFD, 0);  // the one descriptor it inherits on purpose
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  writeEnd.reset();

  // 3. Its report: a line, or the pipe closing (it failed), or nothing in time.
  std::string line;
  auto until = std::chrono::steady_clock::now() + o.timeout + kGrace;
  bool eof = false;
  while (line.find('\n') == std::string::npos && !eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd p{readEnd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      continue;
    }
    char buf[512];
    ssize_t r = ::read(readEnd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      eof = true;
    } else {
      line.append(buf, static_cast<size_t>(r));
    }
  }
  if (line.find('\n') != std::string::npos) {
    auto m = parseMessage(line.substr(0, line.find('\n')));
    if (m && m->verb == "ready" && !m->args.empty()) {
      out << "upgraded: the new fulcrum (pid " << m->args[0] << ") serves; the old one (pid " << oldPid
          << ") stopped accepting and drains for up to " << field(*m, "drain_ms") << " ms (sockets: "
          << field(*m, "adopted") << " taken over, " << field(*m, "bound") << " bound anew)\n";
      return 0;
    }
  }
  if (eof) {
    auto status = reap(child, kGrace);
    err << me << "the new fulcrum (pid " << child << ") "
        << (status ? describeExit(*status) : std::string("closed its report pipe")) << " before it served"
        << (status ? "; its log is above" : "") << "; the running fulcrum (pid " << oldPid << ") serves on\n";
    if (!status) {
      ::kill(child, SIGKILL);
      reap(child, kGrace);
    }
    return 1;
  }
  ::kill(child, SIGKILL);
  reap(child, kGrace);
  err << me << "the new fulcrum (pid " << child << ") did not serve within " << o.timeout.count()
      << " ms and was stopped; the running fulcrum (pid " << oldPid << ") serves on\n";
  return 1;
}

}  // namespace fulcrum::handover
