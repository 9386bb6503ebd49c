#pragma once
// PRIVATE to src/config (it includes yaml_reader.h, hence yaml-cpp): the HTTP parts of the
// schema, listeners[].http and pools[].http, read into config/model.h. loader.cc calls these
// and does the cross-checks that need the whole file (pool references, hash keys).
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

// A pool named by a route, checked once every pool has been read.
struct PoolRef {
  std::string name;
  std::string path;  // e.g. "listeners[0].http.routes[1].pools[0].pool"
  Pos pos;
};

// What the loader needs from a listener's http section besides the model.
struct HttpListenerRefs {
  std::vector<PoolRef> pools;  // every pool named by the routes, in file order
  // A routes list was given that is not empty (or could not be read, which is already reported):
  // such a listener does not need a default pool.
  bool hasRoutes = false;
};

// listeners[].http. Read whatever the listener's protocol (the caller reports the section on a
// tcp or udp listener), so that every mistake in it is reported.
HttpListenerRefs readHttpListener(YamlReader& reader, const Entry& e, HttpListener& out);

// pools[].http.
void readPoolHttp(YamlReader& reader, const Entry& e, PoolHttp& out);

}  // namespace fulcrum::config::detail
