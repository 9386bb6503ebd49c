#pragma once
// PRIVATE to src/config: the admin and access_log sections.
#include "config/model.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

// admin (e may be null: the defaults, 127.0.0.1:9900).
void readAdmin(YamlReader& reader, const Entry* e, Admin& out);
// access_log.
void readAccessLog(YamlReader& reader, const Entry& e, AccessLog& out);
// Parses a template such as "${client} ${status}"; false with `error` set on a bad one.
bool parseLogFormat(std::string_view text, std::vector<LogSegment>& out, std::string& error);

}  // namespace fulcrum::config::detail
