#pragma once
// Structured logging to stderr, one key=value line per event:
//   ts=2026-11-30T03:10:00.123Z level=info msg="reload applied" version=3
// Each line is written with a single write(2), so lines from threads never interleave.
// Per-request lines do not belong here (they go to the access log, later).
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace fulcrum::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level& out);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
  Field(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
  std::string_view key;
  std::string value;
};

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  if (level() <= Level::Debug) write(Level::Debug, msg, f);
}
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::Info, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::Warn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::Error, msg, f); }

// Formats a line without writing it (exposed for tests).
std::string format(Level level, std::string_view msg, std::initializer_list<Field> fields);

}  // namespace fulcrum::log
