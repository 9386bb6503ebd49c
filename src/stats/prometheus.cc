#include "stats/prometheus.h"

#include <cmath>
#include <cstdio>

namespace fulcrum::stats {

namespace {
const char* typeName(PromWriter::Type t) {
  switch (t) {
    case PromWriter::Type::Counter:
      return "counter";
    case PromWriter::Type::Gauge:
      return "gauge";
    case PromWriter::Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

void appendNumber(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  // Integers exactly (counters beyond 2^53 are not expected); others with 9 digits.
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (std::fabs(v) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3f", v);  // timestamps: milliseconds
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  out += buf;
}

void appendLabels(std::string& out, const Labels& labels, std::string_view extraName = {},
                  std::string_view extraValue = {}) {
  if (labels.empty() && extraName.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out.append(k);
    out += "=\"";
    out += escapeLabel(v);
    out += '"';
  };
  for (const auto& [k, v] : labels) {
    one(k, v);
  }
  if (!extraName.empty()) {
    one(extraName, extraValue);
  }
  out += '}';
}
}  // namespace

std::string escapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

PromWriter::Family& PromWriter::find(std::string_view name) {
  for (auto& f : families_) {
    if (f.name == name) return f;
  }
  families_.push_back(Family{std::string(name), "", Type::Gauge, ""});
  return families_.back();
}

void PromWriter::family(std::string_view name, Type type, std::string_view help) {
  Family& f = find(name);
  f.type = type;
  f.help = std::string(help);
}

void PromWriter::sample(std::string_view name, const Labels& labels, double value) {
  Family& f = find(name);
  f.samples.append(name);
  appendLabels(f.samples, labels);
  f.samples += ' ';
  appendNumber(f.samples, value);
  f.samples += '\n';
}

void PromWriter::histogram(std::string_view name, const Labels& labels, const TrafficTotals::Hist& h) {
  Family& f = find(name);
  std::string base(name);
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i <= Histogram::kBounds; ++i) {
    cumulative += h.buckets[i];
    if (i < Histogram::kBounds) {
      std::snprintf(le, sizeof le, "%g", Histogram::kBoundSeconds[i]);
    } else {
      std::snprintf(le, sizeof le, "+Inf");
    }
    f.samples += base + "_bucket";
    appendLabels(f.samples, labels, "le", le);
    f.samples += ' ';
    appendNumber(f.samples, static_cast<double>(cumulative));
    f.samples += '\n';
  }
  f.samples += base + "_sum";
  appendLabels(f.samples, labels);
  f.samples += ' ';
  appendNumber(f.samples, static_cast<double>(h.sum_us) / 1e6);
  f.samples += '\n';
  f.samples += base + "_count";
  appendLabels(f.samples, labels);
  f.samples += ' ';
  appendNumber(f.samples, static_cast<double>(cumulative));
  f.samples += '\n';
}

std::string PromWriter::str() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.samples.empty()) {
      continue;
    }
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " + typeName(f.type) + "\n";
    out += f.samples;
  }
  return out;
}

}  // namespace fulcrum::stats
