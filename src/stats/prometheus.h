#pragma once
// Prometheus text exposition format (version 0.0.4). Samples may be added in any order;
// each family is written once, with its HELP and TYPE, and all its samples together.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stats/counters.h"

namespace fulcrum::stats {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class PromWriter {
 public:
  enum class Type { Counter, Gauge, Histogram };
  // Declares a family (again is fine); samples for it may follow.
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  // name_bucket/_sum/_count of a histogram family declared with Type::Histogram.
  void histogram(std::string_view name, const Labels& labels, const TrafficTotals::Hist& h);
  std::string str() const;

 private:
  struct Family {
    std::string name, help;
    Type type;
    std::string samples;
  };
  Family& find(std::string_view name);
  std::vector<Family> families_;
};

// Escapes a label value: backslash, double quote and newline.
std::string escapeLabel(std::string_view v);

}  // namespace fulcrum::stats
