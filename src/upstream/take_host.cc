#include "upstream/take_host.h"

namespace fulcrum::upstream {

TakenHost takeHost(const Cluster& cluster, balance::Picker& picker, const ClusterLoad& load, balance::PickRequest req,
                   std::vector<bool>& tried) {
  const auto& hosts = cluster.hosts;
  TakenHost out;
  req.load = &load;
  // Built only when a server fills up between the pick and taking its slot.
  std::vector<bool> skip;
  for (int pass = 0; pass < 2; ++pass) {
    req.exclude = tried.empty() ? nullptr : &tried;
    for (size_t k = 0; k <= hosts.size(); ++k) {
      auto p = picker.pick(req);
      if (!p) {
        break;
      }
      if (hosts[*p].tryAcquire()) {
        out.host = static_cast<int>(*p);
        return out;
      }
      out.full = true;
      if (req.exclude != &skip) {
        skip = tried.empty() ? std::vector<bool>(hosts.size(), false) : tried;
        req.exclude = &skip;
      }
      skip[*p] = true;
    }
    if (tried.empty()) {
      break;
    }
    tried.clear();  // every usable server was tried once: go round again
  }
  out.full = out.full || load.anyFull();
  return out;
}

}  // namespace fulcrum::upstream
