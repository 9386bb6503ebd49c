#pragma once
// Helpers shared by the config unit tests.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "config/loader.h"

namespace fulcrum::config::testing {

inline std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) {
    out += "  " + d.str() + "\n";
  }
  return out.empty() ? "  (no errors)\n" : out;
}

// Passes when `r` holds an error at line:column whose message contains `substring`.
inline ::testing::AssertionResult hasError(const LoadResult& r, int line, int column,
                                           std::string_view substring) {
  for (const auto& d : r.errors) {
    if (d.line == line && d.column == column && d.message.find(substring) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no error at " << line << ":" << column << " containing \"" << substring << "\"; got:\n"
         << dump(r);
}

// Passes when `r` holds exactly one error, at line:column, containing `substring`.
inline ::testing::AssertionResult onlyError(const LoadResult& r, int line, int column,
                                            std::string_view substring) {
  if (r.errors.size() != 1 || r.config != nullptr) {
    return ::testing::AssertionFailure() << "expected exactly one error and no config; got:\n" << dump(r);
  }
  return hasError(r, line, column, substring);
}

inline LoadResult load(std::string_view yaml) { return loadString(yaml, "test.yaml"); }

}  // namespace fulcrum::config::testing
