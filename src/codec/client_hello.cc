#include "codec/client_hello.h"

#include <algorithm>

#include "common/ascii.h"

namespace fulcrum::codec {
namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecordPayload = 16384;  // RFC 8446 §5.1: 2^14
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtSupportedVersions = 43;

HelloResult invalid(std::string why) {
  HelloResult r;
  r.status = HelloStatus::Invalid;
  r.error = std::move(why);
  return r;
}

// Reads big-endian fields from a bounded view; every read checks the bound, so a truncated or
// lying length turns into `ok == false` instead of a read past the end.
struct Reader {
  std::span<const uint8_t> data;
  size_t pos = 0;
  bool ok = true;

  size_t left() const { return data.size() - pos; }
  uint32_t uint(size_t bytes) {
    if (!ok || left() < bytes) {
      ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) {
      v = (v << 8) | data[pos++];
    }
    return v;
  }
  // A length-prefixed block (prefix of `bytes` bytes).
  Reader block(size_t bytes) {
    size_t n = uint(bytes);
    if (!ok || left() < n) {
      ok = false;
      return Reader{{}, 0, false};
    }
    Reader sub{data.subspan(pos, n)};
    pos += n;
    return sub;
  }
};

// RFC 6066 §3: one host_name, ASCII, no trailing dot. Bytes outside printable ASCII are refused
// rather than passed on to a router or a log line.
bool readServerName(Reader ext, std::string& out, std::string& error) {
  Reader list = ext.block(2);
  if (!ext.ok || ext.left() != 0) {
    error = "malformed server_name extension";
    return false;
  }
  while (list.ok && list.left() > 0) {
    uint8_t type = static_cast<uint8_t>(list.uint(1));
    Reader name = list.block(2);
    if (!list.ok) {
      break;
    }
    if (type != 0) {
      continue;  // only host_name is defined; others are skipped
    }
    if (!out.empty() || name.left() == 0) {
      error = out.empty() ? "empty server name" : "more than one server name";
      return false;
    }
    for (uint8_t c : name.data) {
      if (c <= 0x20 || c >= 0x7f) {
        error = "server name is not printable ASCII";
        return false;
      }
      out.push_back(lowerAscii(static_cast<char>(c)));
    }
    if (out.back() == '.') {
      out.pop_back();
    }
  }
  if (!list.ok) {
    error = "malformed server_name extension";
    return false;
  }
  return true;
}

bool readAlpn(Reader ext, std::vector<std::string>& out) {
  Reader list = ext.block(2);
  if (!ext.ok || ext.left() != 0 || list.left() == 0) {
    return false;
  }
  while (list.ok && list.left() > 0) {
    Reader proto = list.block(1);
    if (!list.ok || proto.left() == 0) {
      return false;
    }
    out.emplace_back(proto.data.begin(), proto.data.end());
  }
  return list.ok;
}

bool readVersions(Reader ext, std::vector<uint16_t>& out) {
  Reader list = ext.block(1);
  if (!ext.ok || ext.left() != 0 || list.left() == 0 || list.left() % 2 != 0) {
    return false;
  }
  while (list.left() > 0) {
    out.push_back(static_cast<uint16_t>(list.uint(2)));
  }
  return true;
}

// The ClientHello body (after the 4-byte handshake header).
HelloResult parseBody(std::span<const uint8_t> body) {
  Reader r{body};
  HelloResult result;
  ClientHello& hello = result.hello;
  uint16_t legacyVersion = static_cast<uint16_t>(r.uint(2));
  r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4);  // random
  Reader session = r.block(1);
  Reader ciphers = r.block(2);
  Reader compression = r.block(1);
  if (!r.ok) {
    return invalid("ClientHello shorter than its fields");
  }
  if ((legacyVersion >> 8) != 3) {
    return invalid("ClientHello version is not TLS");
  }
  if (session.left() > 32 || ciphers.left() < 2 || ciphers.left() % 2 != 0 || compression.left() < 1) {
    return invalid("malformed ClientHello fields");
  }
  std::vector<uint16_t> seen;
  if (r.left() > 0) {  // TLS 1.2 allows a ClientHello without extensions
    Reader exts = r.block(2);
    if (!r.ok || r.left() != 0) {
      return invalid("extensions length does not match the ClientHello");
    }
    while (exts.left() > 0) {
      uint16_t type = static_cast<uint16_t>(exts.uint(2));
      Reader ext = exts.block(2);
      if (!exts.ok) {
        return invalid("malformed extension");
      }
      if (std::find(seen.begin(), seen.end(), type) != seen.end()) {
        return invalid("extension " + std::to_string(type) + " sent twice");
      }
      seen.push_back(type);
      if (type == kExtServerName) {
        if (!readServerName(ext, hello.server_name, result.error)) {
          return invalid(result.error);
        }
      } else if (type == kExtAlpn && !readAlpn(ext, hello.alpn)) {
        return invalid("malformed ALPN extension");
      } else if (type == kExtSupportedVersions && !readVersions(ext, hello.versions)) {
        return invalid("malformed supported_versions extension");
      }
    }
  }
  if (hello.versions.empty()) {
    hello.versions.push_back(legacyVersion);
  }
  result.status = HelloStatus::Done;
  return result;
}

}  // namespace

HelloResult parseClientHello(std::span<const uint8_t> data) {
  // The handshake message is gathered from the record payloads; only the first 4 + body bytes
  // are needed, so at most kMaxClientHello + 4 are copied.
  std::vector<uint8_t> message;
  size_t pos = 0;
  size_t need = 4;  // the handshake header, then header + body
  size_t end = 0;   // the input offset just after the last message byte taken
  while (message.size() < need) {
    if (pos < data.size() && data[pos] != kHandshakeRecord) {
      if (pos == 0 && (data[0] & 0x80) != 0) {
        return invalid("SSLv2-style ClientHello (not supported)");
      }
      return invalid(pos == 0 ? "not a TLS handshake record" : "ClientHello interrupted by another record type");
    }
    if (data.size() - pos < kRecordHeader) {
      if (data.size() - pos >= 2 && data[pos + 1] != 3) {
        return invalid("record version is not TLS");
      }
      break;
    }
    if (data[pos + 1] != 3) {
      return invalid("record version is not TLS");
    }
    size_t length = (size_t{data[pos + 3]} << 8) | data[pos + 4];
    if (length == 0 || length > kMaxRecordPayload) {
      return invalid("handshake record length " + std::to_string(length) + " out of range");
    }
    pos += kRecordHeader;
    size_t available = std::min(length, data.size() - pos);
    size_t take = std::min(available, need - message.size());
    message.insert(message.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
                   data.begin() + static_cast<std::ptrdiff_t>(pos + take));
    if (message.size() >= 4 && need == 4) {
      if (message[0] != kClientHelloType) {
        return invalid("first handshake message is not a ClientHello");
      }
      size_t body = (size_t{message[1]} << 16) | (size_t{message[2]} << 8) | message[3];
      if (body > kMaxClientHello) {
        return invalid("ClientHello longer than 16 KiB");
      }
      need = 4 + body;
      // The rest of this record may hold more of the message.
      size_t more = std::min(available - take, need - message.size());
      message.insert(message.end(), data.begin() + static_cast<std::ptrdiff_t>(pos + take),
                     data.begin() + static_cast<std::ptrdiff_t>(pos + take + more));
      take += more;
    }
    end = pos + take;
    if (available < length) {
      break;  // this record is not complete yet
    }
    pos += length;
  }
  // Judged on where the message ends, not on how much arrived, so that Invalid and Done stay
  // final whatever the reads were: a message ending past the limit is Invalid at every length.
  if (message.size() < need) {
    if (data.size() >= kMaxClientHelloInput) {
      return invalid("ClientHello spread over too many records");
    }
    return {};
  }
  if (end > kMaxClientHelloInput) {
    return invalid("ClientHello spread over too many records");
  }
  return parseBody(std::span<const uint8_t>(message).subspan(4));
}

}  // namespace fulcrum::codec
