#include "config/duration.h"

#include <cstdint>

#include "config/loader.h"

namespace fulcrum::config {
namespace {

using Int128 = __int128;

constexpr int64_t kNanosPerMilli = 1'000'000;
// Far beyond any timeout anyone means (~114 years); keeps every sum inside int64 milliseconds.
constexpr Int128 kMaxNanos = static_cast<Int128>(1'000'000) * 3600 * 1'000'000'000;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

const char* const kExpected = "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h";

}  // namespace

bool parseDuration(std::string_view text, Millis& out, std::string& error) {
  if (text.empty()) {
    error = kExpected;
    return false;
  }
  Int128 total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!isDigit(text[i])) {
      error = std::string(kExpected) + ", got \"" + std::string(text) + "\"";
      return false;
    }
    Int128 whole = 0;
    for (; i < text.size() && isDigit(text[i]); ++i) {
      whole = whole * 10 + (text[i] - '0');
      if (whole > kMaxNanos) {
        error = "duration \"" + std::string(text) + "\" is too large";
        return false;
      }
    }
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      size_t start = ++i;
      while (i < text.size() && isDigit(text[i])) {
        ++i;
      }
      fraction = text.substr(start, i - start);
      if (fraction.empty()) {
        error = std::string(kExpected) + " (a digit must follow the decimal point), got \"" +
                std::string(text) + "\"";
        return false;
      }
    }
    size_t unitStart = i;
    while (i < text.size() && !isDigit(text[i]) && text[i] != '.') {
      ++i;
    }
    std::string_view unit = text.substr(unitStart, i - unitStart);
    int64_t nanosPerUnit = 0;
    if (unit == "ms") {
      nanosPerUnit = kNanosPerMilli;
    } else if (unit == "s") {
      nanosPerUnit = 1000 * kNanosPerMilli;
    } else if (unit == "m") {
      nanosPerUnit = 60'000 * kNanosPerMilli;
    } else if (unit == "h") {
      nanosPerUnit = 3'600'000 * kNanosPerMilli;
    } else if (unit == "d") {
      nanosPerUnit = 86'400'000 * kNanosPerMilli;
    } else if (unit.empty()) {
      if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
        // A bare number: seconds or milliseconds? Make the writer say which.
        error = "a unit is required (ms, s, m, h or d), e.g. \"" + std::string(text) + "s\" or \"" +
                std::string(text) + "ms\"";
      } else {
        error = "every number needs a unit (ms, s, m, h or d) in \"" + std::string(text) + "\"";
      }
      return false;
    } else {
      error = "unknown duration unit \"" + std::string(unit) + "\" in \"" + std::string(text) +
              "\"; expected ms, s, m, h or d";
      return false;
    }
    total += whole * nanosPerUnit;
    // Trailing zeros do not change the value; dropping them bounds the arithmetic below.
    while (!fraction.empty() && fraction.back() == '0') {
      fraction.remove_suffix(1);
    }
    if (fraction.size() > 18) {
      error = "duration \"" + std::string(text) + "\" is finer than the 1ms resolution";
      return false;
    }
    Int128 numerator = 0;
    Int128 denominator = 1;
    for (char c : fraction) {
      numerator = numerator * 10 + (c - '0');
      denominator *= 10;
    }
    numerator *= nanosPerUnit;
    if (numerator % denominator != 0) {
      error = "duration \"" + std::string(text) + "\" is finer than the 1ms resolution";
      return false;
    }
    total += numerator / denominator;
    if (total > kMaxNanos) {
      error = "duration \"" + std::string(text) + "\" is too large";
      return false;
    }
  }
  if (total % kNanosPerMilli != 0) {
    error = "duration \"" + std::string(text) + "\" is finer than the 1ms resolution";
    return false;
  }
  out = Millis(static_cast<int64_t>(total / kNanosPerMilli));
  return true;
}

bool parseDuration(std::string_view text, Millis& out) {
  std::string ignored;
  return parseDuration(text, out, ignored);
}

std::string formatDuration(Millis value) {
  int64_t ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms != 0 && ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

}  // namespace fulcrum::config
