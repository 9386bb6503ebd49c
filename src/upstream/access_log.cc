#include "upstream/access_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/log.h"

namespace fulcrum::upstream {

namespace {
constexpr size_t kHandOver = 64 * 1024;  // a worker hands its buffer over at this size
constexpr uint64_t kFlushMs = 100;

int openFile(const std::string& path) {
  if (path == "-") {
    return STDOUT_FILENO;
  }
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  // Most values need no escaping: copy them whole.
  bool plain = true;
  for (unsigned char c : s) {
    plain = plain && c != '"' && c != '\\' && c >= 0x20 && c < 0x7f;
  }
  if (plain) {
    out.append(s);
    out += '"';
    return;
  }
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      // Request text is ASCII after the parser; anything else is shown, not trusted.
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// Integers without snprintf or temporaries: this runs several times per logged request.
void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// Microseconds as milliseconds with three decimals ("12.345"); -1 when absent.
void appendMillis(std::string& out, int64_t us) {
  if (us < 0) {
    out += "-1";
    return;
  }
  appendUint(out, static_cast<uint64_t>(us) / 1000);
  char frac[4] = {'.', static_cast<char>('0' + us / 100 % 10), static_cast<char>('0' + us / 10 % 10),
                  static_cast<char>('0' + us % 10)};
  out.append(frac, 4);
}

// Appends field f of r, as JSON (strings quoted) or as template text ("-" for empty).
void appendField(std::string& out, config::LogField f, const AccessRecord& r, std::string_view time, bool json) {
  auto text = [&](std::string_view v) {
    if (json) {
      appendJsonString(out, v);
    } else if (v.empty()) {
      out += '-';
    } else {
      for (char c : v) {
        out += (c == '\n' || c == '\r') ? ' ' : c;
      }
    }
  };
  using config::LogField;
  switch (f) {
    case LogField::Time:
      return text(time);
    case LogField::Client:
      return text(r.client);
    case LogField::Listener:
      return text(r.listener);
    case LogField::Protocol:
      return text(r.protocol);
    case LogField::Route:
      return text(r.route);
    case LogField::Pool:
      return text(r.pool);
    case LogField::Server:
      return text(r.server);
    case LogField::Method:
      return text(r.method);
    case LogField::Path:
      return text(r.path);
    case LogField::Status:
      appendUint(out, r.status);
      return;
    case LogField::BytesIn:
      appendUint(out, r.bytes_in);
      return;
    case LogField::BytesOut:
      appendUint(out, r.bytes_out);
      return;
    case LogField::QueueMs:
      return appendMillis(out, r.queue_us);
    case LogField::ConnectMs:
      return appendMillis(out, r.connect_us);
    case LogField::ResponseMs:
      return appendMillis(out, r.response_us);
    case LogField::TotalMs:
      return appendMillis(out, r.total_us);
    case LogField::Retries:
      appendUint(out, r.retries);
      return;
    case LogField::Termination:
      return text(r.termination);
  }
}
}  // namespace

std::string formatText(const config::AccessLog& cfg) {
  if (cfg.json) {
    return "json";
  }
  std::string t;
  for (const auto& s : cfg.format) {
    for (char c : s.literal) {
      if (c == '$') t += '$';  // written back as $$
      t += c;
    }
    if (s.field >= 0) {
      t += "${";
      t += config::kLogFieldNames[s.field];
      t += '}';
    }
  }
  return t;
}

Result<std::shared_ptr<AccessLog>> AccessLog::open(const config::AccessLog& cfg, size_t workers) {
  int fd = openFile(cfg.path);
  if (fd < 0) {
    return Error{"cannot open access log " + cfg.path + ": " + std::strerror(errno)};
  }
  return std::shared_ptr<AccessLog>(new AccessLog(cfg, fd, workers, formatText(cfg)));
}

AccessLog::AccessLog(config::AccessLog cfg, int fd, size_t workers, std::string formatText)
    : cfg_(std::move(cfg)),
      format_text_(std::move(formatText)),
      fd_(fd),
      buffers_(new Buffer[workers ? workers : 1]),
      workers_(workers ? workers : 1) {
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  // Every worker has let go of this log: their buffers can be read from here.
  for (size_t w = 0; w < workers_; ++w) {
    if (!buffers_[w].data.empty()) {
      submit(std::move(buffers_[w].data));
    }
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  writer_.join();
  if (fd_ != STDOUT_FILENO && fd_ >= 0) {
    ::close(fd_);
  }
}

bool AccessLog::sameAs(const config::AccessLog& cfg) const {
  return cfg.enabled && cfg.path == cfg_.path && formatText(cfg) == format_text_;
}

void AccessLog::format(const config::AccessLog& cfg, const AccessRecord& r, std::string& out, std::string_view time) {
  if (cfg.json) {
    out += '{';
    for (size_t f = 0; f < std::size(config::kLogFieldNames); ++f) {
      if (f) out += ',';
      out += '"';
      out += config::kLogFieldNames[f];
      out += "\":";
      appendField(out, static_cast<config::LogField>(f), r, time, true);
    }
    out += "}\n";
    return;
  }
  for (const auto& s : cfg.format) {
    out += s.literal;
    if (s.field >= 0) {
      appendField(out, static_cast<config::LogField>(s.field), r, time, false);
    }
  }
  out += '\n';
}

void AccessLog::write(size_t worker, const AccessRecord& r) {
  Buffer& b = buffers_[worker < workers_ ? worker : workers_ - 1];
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != b.second) {
    // The date part is formatted once per second per worker.
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    strftime(b.time, sizeof b.time, "%Y-%m-%dT%H:%M:%S", &t);
    b.second = ts.tv_sec;
  }
  char stamp[40];
  size_t n = std::strlen(b.time);
  std::memcpy(stamp, b.time, n);
  long ms = ts.tv_nsec / 1000000;
  stamp[n] = '.';
  stamp[n + 1] = static_cast<char>('0' + ms / 100);
  stamp[n + 2] = static_cast<char>('0' + ms / 10 % 10);
  stamp[n + 3] = static_cast<char>('0' + ms % 10);
  stamp[n + 4] = 'Z';
  format(cfg_, r, b.data, std::string_view(stamp, n + 5));
  if (b.data.size() >= kHandOver) {
    flush(worker);
  }
}

void AccessLog::flush(size_t worker) {
  Buffer& b = buffers_[worker < workers_ ? worker : workers_ - 1];
  if (b.data.empty()) {
    return;
  }
  std::string chunk;
  chunk.swap(b.data);
  b.data.reserve(4096);
  submit(std::move(chunk));
}

void AccessLog::submit(std::string&& chunk) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(chunk));
  }
  cv_.notify_one();
}

void AccessLog::reopen() {
  {
    std::lock_guard lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

bool AccessLog::reopenFile() {
  if (cfg_.path == "-") {
    return true;
  }
  int fd = openFile(cfg_.path);
  if (fd < 0) {
    log::error("cannot reopen the access log: still writing to the old file",
               {{"path", cfg_.path}, {"error", std::strerror(errno)}});
    return false;
  }
  ::close(fd_);
  fd_ = fd;
  log::info("access log reopened", {{"path", cfg_.path}});
  return true;
}

void AccessLog::run() {
  bool warned = false;
  for (;;) {
    std::deque<std::string> batch;
    bool reopen = false;
    bool stop = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty(); });
      batch.swap(queue_);
      reopen = reopen_;
      reopen_ = false;
      stop = stop_;
    }
    // Lines handed over before the signal go to the old file, the rest to the new one.
    for (auto& chunk : batch) {
      size_t off = 0;
      while (off < chunk.size()) {
        ssize_t n = ::write(fd_, chunk.data() + off, chunk.size() - off);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          if (!warned) {
            log::error("access log write failed: lines are dropped", {{"path", cfg_.path}, {"error", std::strerror(errno)}});
            warned = true;
          }
          break;
        }
        off += static_cast<size_t>(n);
      }
    }
    if (reopen) {
      reopenFile();
      warned = false;
    }
    if (stop) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        return;
      }
    }
  }
}

}  // namespace fulcrum::upstream
