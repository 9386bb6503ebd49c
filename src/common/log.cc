#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace fulcrum::log {
namespace {

std::atomic<Level> g_level{Level::Info};

const char* levelName(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

// Quote a value when it holds spaces, quotes, '=' or control characters.
void appendValue(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.append("\\x");
          const char* hex = "0123456789abcdef";
          out.push_back(hex[(c >> 4) & 0xf]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void setLevel(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

bool parseLevel(std::string_view t, Level& out) {
  if (t == "debug") out = Level::Debug;
  else if (t == "info") out = Level::Info;
  else if (t == "warn") out = Level::Warn;
  else if (t == "error") out = Level::Error;
  else return false;
  return true;
}

std::string format(Level l, std::string_view msg, std::initializer_list<Field> fields) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[40];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out;
  out.reserve(128);
  out.append("ts=").append(ts);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  out.append(frac);
  out.append(" level=").append(levelName(l));
  out.append(" msg=");
  appendValue(out, msg);
  for (const auto& f : fields) {
    out.push_back(' ');
    out.append(f.key);
    out.push_back('=');
    appendValue(out, f.value);
  }
  out.push_back('\n');
  return out;
}

void write(Level l, std::string_view msg, std::initializer_list<Field> fields) {
  if (l < level()) return;
  std::string line = format(l, msg, fields);
  // One write per line keeps lines whole across threads; a short write is retried.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace fulcrum::log
