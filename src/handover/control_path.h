#pragma once
// Where the running fulcrum's control socket is: admin.control_socket, else next to the
// config file (as the state file is). `fulcrum run` and `fulcrum upgrade` must agree.
#include <string>

#include "config/model.h"

namespace fulcrum::handover {

inline std::string controlSocketPath(const config::Admin& admin, const std::string& configPath) {
  return admin.control_socket.empty() ? configPath + ".sock" : admin.control_socket;
}

}  // namespace fulcrum::handover
