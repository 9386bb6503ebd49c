#pragma once
// NGINX's smooth weighted round robin, unrolled once into a table at build time so that a
// pick is a cursor step instead of an O(n) pass over every host.
#include <cstdint>
#include <vector>

namespace fulcrum::balance {

// One period of the SWRR sequence as positions into `weights` (all non-zero). Weights are
// divided by their gcd first; for 5,1,1 the result is 0 0 1 0 2 0 0. Building costs
// O(n x period); when that would exceed ~2^26 steps the weights are scaled down
// proportionally (each stays >= 1), trading weight precision for bounded build time.
std::vector<uint32_t> smoothSchedule(const std::vector<uint32_t>& weights);

}  // namespace fulcrum::balance
