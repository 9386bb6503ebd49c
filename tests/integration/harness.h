#pragma once
// Test harness for integration tests: real processes (fulcrum, fulcrum-testbackend),
// real sockets on loopback, temp dirs. Every wait is bounded.
#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <functional>
#include <memory>

namespace itest {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process; killed (SIGKILL) and reaped on destruction if still running.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& logPath);
  ~Process();
  Process(const Process&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Exit code (or 128+signal) if it exited within the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;  // stdout+stderr so far

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

struct Backend {
  std::string id;
  uint16_t tcp_port = 0;
  uint16_t udp_port = 0;
  std::unique_ptr<Process> proc;
};

// Starts fulcrum-testbackend on 127.0.0.1 with ephemeral ports and waits until ready.
Backend startBackend(const TempDir& dir, const std::string& id, bool tcp = true, bool udp = false,
                     const std::string& mode = "cmd", bool expectProxy = false, const std::string& host = "127.0.0.1");

// Starts fulcrum-testbackend with exactly these extra arguments (give --tcp/--udp and
// --mode yourself) and waits until ready.
Backend startBackendWith(const TempDir& dir, const std::string& id, const std::vector<std::string>& args);

uint16_t freePort(bool udp = false);
// A TCP port on 127.0.0.1 where nothing listens (bound then closed).
uint16_t deadPort();

// Writes config text to dir/name, starts `fulcrum run -c` and waits until tcpPort
// accepts (if nonzero) or the log says it started.
std::unique_ptr<Process> startFulcrum(const TempDir& dir, const std::string& config, uint16_t waitPort,
                                      int workers = 2, const std::string& name = "fulcrum.yaml");
// Runs a command to completion (bounded); returns exit code and output.
struct RunResult {
  int code;
  std::string output;
};
RunResult runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout = 20s);

// Blocking TCP client socket with send/receive timeouts; -1 on failure.
int connectTcp(uint16_t port, const char* host = "127.0.0.1", int timeoutSec = 10);
bool sendAll(int fd, const void* data, size_t len);
bool sendStr(int fd, const std::string& s);
// Reads up to '\n' (returned without it); nullopt on EOF/error/timeout.
std::optional<std::string> recvLine(int fd);
// Reads until EOF; returns bytes read, or -1 on error.
ssize_t drainToEof(int fd);
// True if the peer closed (EOF or reset) within the timeout.
bool closedWithin(int fd, std::chrono::milliseconds timeout);

// The deterministic stream of fulcrum-testbackend's SOURCE command (splitmix64 words).
class StreamGen {
 public:
  explicit StreamGen(uint64_t seed) : state_(seed) {}
  void fill(uint8_t* out, size_t len);  // len must be a multiple of 8 except for the last call

 private:
  uint64_t state_;
};

// tools/httpbackend/httpbackend.py (an HTTP/1.1 server, see its README) on 127.0.0.1.
struct HttpBackend {
  std::string id;
  uint16_t port = 0;  // 0 if it did not become ready within 10 s
  std::unique_ptr<Process> proc;
};

// Starts httpbackend.py (Debian's /usr/bin/python3) with --id, --port 0 and
// --ready-file in dir plus extraArgs (e.g. {"--status-file", dir.file("status")}),
// and waits (at most 10 s) until it listens. Its output goes to dir/httpbackend-<id>.log.
HttpBackend startHttpBackend(const TempDir& dir, const std::string& id, const std::vector<std::string>& extraArgs = {});

// n bytes of httpbackend's /source stream starting at offset: byte i is
// sha256("fulcrum")[i % 32] (the 1 MiB BLOCK of the README is that digest repeated).
std::string httpBlock(uint64_t offset, size_t n);

// Asks the cmd-mode backend behind port for its id over a new connection.
std::string who(uint16_t port);

std::string readFile(const std::string& path);
// The number on the "key N kB" line of /proc/PID/<file> (status, smaps_rollup...), or -1.
long procKiB(pid_t pid, const std::string& file, const std::string& key);
inline long rssKiB(pid_t pid) { return procKiB(pid, "status", "VmRSS:"); }
inline long privateDirtyKiB(pid_t pid) { return procKiB(pid, "smaps_rollup", "Private_Dirty:"); }
void writeFile(const std::string& path, const std::string& text);
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace itest
