#pragma once
// Maglev lookup table (Eisenbud et al., NSDI 2016), weighted as in Envoy.
#include <cstdint>
#include <vector>

#include "balance/balancer.h"
#include "balance/host_tiers.h"

namespace fulcrum::balance {

// Smallest prime >= max(requested or 65537, 100 x hosts).
uint64_t maglevTableSize(size_t hosts, uint32_t requested);

// Entries are positions in `group`. Each host's preference list is offset + j x skip (mod size),
// with offset and skip from XXH64 of its id under fixed seeds: the table depends only on the
// ids and weights, never on the process, so every instance builds the same one.
std::vector<uint32_t> buildMaglevTable(const HostGroup& group, const std::vector<HostSpec>& hosts,
                                       uint64_t size);

}  // namespace fulcrum::balance
