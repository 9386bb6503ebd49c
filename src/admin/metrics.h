#pragma once
// /metrics (Prometheus text) and the figures shared with /stats and the API.
#include <string>

#include "admin/control.h"

namespace fulcrum::admin {

std::string renderMetrics(const View& v);

// Health of one server as the API reports it: "up", "down", "draining", "disabled",
// "ejected" (passive health) or "unchecked" (no active check, assumed up).
const char* serverState(const upstream::Cluster& c, const upstream::Host& h, uint64_t nowMs);
bool serverUsable(const upstream::Host& h, uint64_t nowMs);

}  // namespace fulcrum::admin
