#pragma once
// AccessLog: one line per HTTP request or L4 connection, JSON or a template
// (config::AccessLog). Workers format into their own buffer (no lock per request) and hand
// a full buffer, or whatever they hold every 100 ms, to a writer thread that does the
// write(2)s, so a slow disk never stalls a worker. reopen() (SIGUSR1) makes the writer
// reopen the file, for log rotation. Absent from the config, there is no AccessLog and the
// request path pays one null check.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "config/model.h"

namespace fulcrum::upstream {

struct AccessRecord {
  std::string_view client, listener, protocol, route, pool, server, method, path, termination;
  uint16_t status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  // Microseconds; -1 = the phase did not happen (no queue, a reused connection, no response).
  int64_t queue_us = -1, connect_us = -1, response_us = -1, total_us = 0;
  uint32_t retries = 0;
};

class AccessLog {
 public:
  // Opens the file (appending) and starts the writer thread.
  static Result<std::shared_ptr<AccessLog>> open(const config::AccessLog& cfg, size_t workers);
  ~AccessLog();  // writes everything still buffered, then stops the writer

  // Worker `worker` only.
  void write(size_t worker, const AccessRecord& r);
  void flush(size_t worker);
  // Any thread: reopen the file before the next write (log rotation).
  void reopen();
  // The same file and format (a reload keeps this log).
  bool sameAs(const config::AccessLog& cfg) const;
  // Formats one record (exposed for tests).
  static void format(const config::AccessLog& cfg, const AccessRecord& r, std::string& out, std::string_view time);

 private:
  AccessLog(config::AccessLog cfg, int fd, size_t workers, std::string formatText);
  void run();
  void submit(std::string&& chunk);
  bool reopenFile();

  struct alignas(64) Buffer {
    std::string data;
    int64_t second = -1;  // the wall-clock second `time` was formatted for
    char time[32] = {};
    uint64_t last_flush_ms = 0;
  };
  config::AccessLog cfg_;
  std::string format_text_;
  int fd_;
  std::unique_ptr<Buffer[]> buffers_;
  size_t workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  bool reopen_ = false;
  std::thread writer_;
};

// The template text of a config (for comparing configs), "json" for JSON.
std::string formatText(const config::AccessLog& cfg);

}  // namespace fulcrum::upstream
