#pragma once
// Sticky sessions. A server's id in the cookie is a hash of its pool and address: stable
// across workers, reloads and restarts, and it does not reveal the address.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/model.h"
#include "upstream/cluster.h"

namespace fulcrum::http {

std::string stickyId(const upstream::Cluster& cluster, size_t host);
// The host with this id, or -1.
int findStickyHost(const upstream::Cluster& cluster, std::string_view id);
// The Set-Cookie value that pins a client to `host`.
std::string stickyCookie(const config::Sticky& sticky, const std::string& id);
// Client-address affinity: the usable host with the highest score for this client (rendezvous
// hashing), so a client keeps its server while it is up and moves the least when one goes.
int affinityHost(const upstream::Cluster& cluster, uint64_t clientHash, const upstream::ClusterLoad& load);

}  // namespace fulcrum::http
