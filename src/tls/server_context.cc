#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "tls/acme_challenge_cert.h"
#include "tls/certificate_data.h"
#include "tls/ocsp.h"
#include "tls/client_verify.h"
#include "tls/kernel_tls.h"
#include "tls/openssl_util.h"
#include "tls/tls_transport.h"

namespace fulcrum::tls {

struct ServerContextData {
  struct Group {
    std::vector<std::string> names;
    std::unique_ptr<OcspStaples> staples;  // its certificates' OCSP responses; outlive ctx, which points at them
    SslCtxPtr ctx;
  };
  std::shared_ptr<TicketKeys> ticket_keys;  // shared with the next build; outlives the contexts pointing at it
  std::vector<Group> groups;  // [0]: the default; its SSL_CTX makes every connection
  std::string alpn_wire;      // the listener's protocols in ALPN wire format

  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onClientHello(SSL* ssl, int* alert, void* arg);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                    unsigned int inlen, void* arg);
};

namespace {

// The SSL ex_data slot marking a connection that answers a TLS-ALPN-01 challenge.
int challengeIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool isChallenge(SSL* ssl) { return SSL_get_ex_data(ssl, challengeIndex()) != nullptr; }

// The host_name of a server_name extension's body (RFC 6066), lower case; empty when absent
// or malformed.
std::string hostNameOf(const unsigned char* p, size_t n) {
  if (n < 2 || static_cast<size_t>((p[0] << 8) | p[1]) != n - 2) {
    return {};
  }
  p += 2;
  n -= 2;
  while (n >= 3) {
    size_t len = static_cast<size_t>((p[1] << 8) | p[2]);
    if (len > n - 3) {
      return {};
    }
    if (p[0] == 0) {
      std::string name(reinterpret_cast<const char*>(p + 3), len);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      return name;
    }
    p += 3 + len;
    n -= 3 + len;
  }
  return {};
}

// Whether an ALPN extension's body offers `protocol`.
bool offersProtocol(const unsigned char* p, size_t n, std::string_view protocol) {
  if (n < 2 || static_cast<size_t>((p[0] << 8) | p[1]) != n - 2) {
    return false;
  }
  p += 2;
  n -= 2;
  while (n >= 1) {
    size_t len = p[0];
    if (len > n - 1) {
      return false;
    }
    if (std::string_view(reinterpret_cast<const char*>(p + 1), len) == protocol) {
      return true;
    }
    p += 1 + len;
    n -= 1 + len;
  }
  return false;
}

int versionOf(uint16_t v) { return v == 0x0304 ? TLS1_3_VERSION : TLS1_2_VERSION; }

// What every SSL_CTX of the listener shares: after SNI picks a group, OpenSSL reads some of
// these (ALPN, versions) from the group's context, so all of them carry the same.
// `challenges`: the owner answers TLS-ALPN-01 challenges.
bool configure(SSL_CTX* ctx, const config::ListenerTls& tls, ServerContext* owner, ServerContextData& data,
               bool challenges, std::string& error) {
  SSL_CTX_set_min_proto_version(ctx, versionOf(tls.min_version));
  SSL_CTX_set_max_proto_version(ctx, versionOf(tls.max_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (tls.ktls && kernelTls().available) {
    SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);  // (without support: not even tried per connection)
  }
  // Partial writes and a moving buffer: the caller's buffers grow and move between retries;
  // released buffers: an idle connection holds no record buffers (memory per idle connection).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, tls.ciphers.c_str()) != 1) {
    error = tls.where + ".ciphers: no cipher OpenSSL knows in " + tls.ciphers + " (" + drainErrors() + ")";
    return false;
  }
  if (!tls.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, tls.ciphersuites.c_str()) != 1) {
    error = tls.where + ".ciphersuites: no TLS 1.3 suite OpenSSL knows in " + tls.ciphersuites + " (" +
            drainErrors() + ")";
    return false;
  }
  static const unsigned char kSessionContext[] = "fulcrum";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  data.ticket_keys->attach(ctx, tls.session_tickets);
  SSL_CTX_set_tlsext_servername_callback(ctx, &ServerContextData::onServerName);
  SSL_CTX_set_tlsext_servername_arg(ctx, owner);
  if (!data.alpn_wire.empty() || challenges) {
    SSL_CTX_set_alpn_select_cb(ctx, &ServerContextData::onAlpn, &data);
  }
  if (challenges) {
    SSL_CTX_set_client_hello_cb(ctx, &ServerContextData::onClientHello, owner);
  }
  return true;
}

bool sameNames(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

int ServerContextData::onServerName(SSL* ssl, int* alert, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (isChallenge(ssl)) {
    return SSL_TLSEXT_ERR_OK;  // the challenge certificate set in the ClientHello stays
  }
  if (!sni) {
    return SSL_TLSEXT_ERR_OK;  // no SNI (an IP address): the default certificate
  }
  std::string name(sni);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  int g = self->groupFor(name);
  if (g < 0) {
    if (self->refuse_unknown_) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
  }
  if (g > 0) {
    SSL_set_SSL_CTX(ssl, self->data_->groups[static_cast<size_t>(g)].ctx.get());
  }
  return SSL_TLSEXT_ERR_OK;
}

int ServerContextData::onClientHello(SSL* ssl, int* alert, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  const unsigned char* alpn = nullptr;
  size_t alpnLen = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &alpn, &alpnLen) != 1 ||
      !offersProtocol(alpn, alpnLen, kAcmeTlsAlpn)) {
    return SSL_CLIENT_HELLO_SUCCESS;  // an ordinary client
  }
  const unsigned char* sni = nullptr;
  size_t sniLen = 0;
  std::string name;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &sni, &sniLen) == 1) {
    name = hostNameOf(sni, sniLen);
  }
  auto cert = name.empty() ? nullptr : self->challenges_->alpnCertificate(name);
  // RFC 8737: acme-tls/1 for a name with no pending challenge is refused (never a real certificate).
  if (!cert || SSL_use_certificate(ssl, cert->cert.get()) != 1 || SSL_use_PrivateKey(ssl, cert->key.get()) != 1) {
    ERR_clear_error();
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_set_ex_data(ssl, challengeIndex(), const_cast<char*>("acme"));
  return SSL_CLIENT_HELLO_SUCCESS;
}

int ServerContextData::onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                              unsigned int inlen, void* arg) {
  const auto* data = static_cast<const ServerContextData*>(arg);
  if (isChallenge(ssl)) {
    static const unsigned char kAcme[] = "\x0a" "acme-tls/1";
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, kAcme, sizeof kAcme - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  if (data->alpn_wire.empty()) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(data->alpn_wire.data()),
                            static_cast<unsigned int>(data->alpn_wire.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // nothing in common: go on without ALPN (HTTP/1.1)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

ServerContext::ServerContext() : data_(std::make_unique<ServerContextData>()) {}
ServerContext::~ServerContext() = default;

std::shared_ptr<const ServerContext> ServerContext::build(const config::ListenerTls& tls, int64_t nowSeconds,
                                                          std::string& error, const BuildExtras& extras) {
  std::shared_ptr<ServerContext> self(new ServerContext());
  self->refuse_unknown_ = tls.refuse_unknown_sni;
  self->challenges_ = extras.challenges;
  self->data_->ticket_keys =
      extras.ticket_keys ? extras.ticket_keys : TicketKeys::fromConfig(tls.session_tickets, error);
  if (!self->data_->ticket_keys) {
    return nullptr;
  }
  std::vector<config::TlsCertificateFiles> all = tls.certificates;
  all.insert(all.end(), extras.obtained.begin(), extras.obtained.end());
  for (const auto& p : tls.alpn) {
    self->data_->alpn_wire.push_back(static_cast<char>(p.size()));
    self->data_->alpn_wire += p;
  }
  std::unique_ptr<ClientVerify> verify;  // mTLS: every group's context verifies the same way
  if (tls.client_certificates.enabled() && !(verify = ClientVerify::load(tls.client_certificates, error))) {
    return nullptr;
  }
  for (const auto& files : all) {
    std::string why;
    auto cert = Certificate::load(files.cert, files.key, nowSeconds, why);
    if (!cert) {
      error = files.where + ": " + why;
      return nullptr;
    }
    if (cert->keyType() == KeyType::Other) {
      error = files.where + ": " + files.cert + ": the key is neither RSA nor ECDSA";
      return nullptr;
    }
    auto& groups = self->data_->groups;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return sameNames(x.names, cert->names()); });
    if (g == groups.end()) {
      ServerContextData::Group group;
      group.names = cert->names();
      group.ctx.reset(SSL_CTX_new(TLS_server_method()));
      if (!group.ctx || !configure(group.ctx.get(), tls, self.get(), *self->data_, self->challenges_ != nullptr, error) ||
          (verify && !verify->apply(group.ctx.get(), error))) {
        if (error.empty()) {
          error = tls.where + ": cannot make a TLS context: " + drainErrors();
        }
        return nullptr;
      }
      groups.push_back(std::move(group));
      g = groups.end() - 1;
    } else {
      // Same names: a second certificate of the group must be of the other key type.
      for (const auto& other : self->certificates_) {
        if (sameNames(other->names(), cert->names()) && other->keyType() == cert->keyType()) {
          error = files.where + ": " + files.cert + " serves the same names with the same key type as " +
                  other->certFile() + "; expected one RSA and one ECDSA certificate per set of names";
          return nullptr;
        }
      }
    }
    const CertificateData& d = cert->data();
    SSL_CTX* ctx = g->ctx.get();
    if (SSL_CTX_use_certificate(ctx, d.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, d.key.get()) != 1) {
      error = files.where + ": " + files.cert + ": " + drainErrors();
      return nullptr;
    }
    // The intermediates go with this certificate (OpenSSL keeps a chain per key type).
    for (const auto& c : d.chain) {
      if (SSL_CTX_add1_chain_cert(ctx, c.get()) != 1) {
        error = files.where + ": " + files.cert + ": " + drainErrors();
        return nullptr;
      }
    }
    if (!files.ocsp.empty()) {
      auto staple = OcspStaple::load(files.ocsp, d, nowSeconds, why);
      if (!staple) {
        error = files.where + ".ocsp: " + why;
        return nullptr;
      }
      if (!g->staples) {
        g->staples = std::make_unique<OcspStaples>();
      }
      g->staples->entries.push_back({d.leaf.get(), std::move(staple)});
    }
    self->certificates_.push_back(std::move(cert));
  }
  if (self->data_->groups.empty()) {
    if (tls.acme.empty()) {
      error = tls.where + ": no certificate";
      return nullptr;
    }
    // ACME has not obtained the names' certificate yet: a context without one, which fails
    // every handshake but a TLS-ALPN-01 challenge's.
    ServerContextData::Group group;
    group.ctx.reset(SSL_CTX_new(TLS_server_method()));
    if (!group.ctx || !configure(group.ctx.get(), tls, self.get(), *self->data_, self->challenges_ != nullptr, error) ||
        (verify && !verify->apply(group.ctx.get(), error))) {
      if (error.empty()) {
        error = tls.where + ": cannot make a TLS context: " + drainErrors();
      }
      return nullptr;
    }
    self->data_->groups.push_back(std::move(group));
  }
  for (auto& g : self->data_->groups) {
    if (g.staples) {
      enableStapling(g.ctx.get(), g.staples.get());
    }
  }
  return self;
}

int ServerContext::groupFor(const std::string& name) const {
  const auto& groups = data_->groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (std::find(groups[i].names.begin(), groups[i].names.end(), name) != groups[i].names.end()) {
      return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    for (const auto& pattern : groups[i].names) {
      if (pattern.starts_with("*.") && nameMatches(pattern, name)) {
        return static_cast<int>(i);
      }
    }
  }
  return -1;
}

std::vector<std::string> ServerContext::expireOcsp(int64_t nowSeconds) const {
  std::vector<std::string> expired;
  for (const auto& g : data_->groups) {
    if (!g.staples) {
      continue;
    }
    for (const auto& e : g.staples->entries) {
      if (e.staple->expireIfDue(nowSeconds)) {
        expired.push_back(e.staple->file());
      }
    }
  }
  return expired;
}

std::unique_ptr<net::Transport> ServerContext::accept(int fd, stats::Traffic* stats, const core::Clock* clock) const {
  SSL* ssl = SSL_new(data_->groups[0].ctx.get());
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_set_fd(ssl, fd) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsTransport>(ssl, fd, stats, clock);
}

}  // namespace fulcrum::tls
