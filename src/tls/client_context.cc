#include "tls/client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>

#include "tls/certificate.h"
#include "tls/certificate_data.h"
#include "tls/openssl_util.h"

namespace fulcrum::tls {

struct ClientContextData {
  SslCtxPtr ctx;
  std::shared_ptr<const Certificate> client_certificate;

  // The SSL's SessionSlot (ex_data), for the new-session callback.
  static int slotIndex() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
  }
  // A server gave a session (TLS 1.2: at the handshake; TLS 1.3: each ticket, after it): a
  // copy is kept as the server's latest, replacing the one before. A copy, because OpenSSL
  // marks a connection's own session unresumable when the connection is freed without a
  // close_notify, which is how pooled connections to servers usually end.
  static int onNewSession(SSL* ssl, SSL_SESSION* session) {
    auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, slotIndex()));
    if (slot && SSL_SESSION_is_resumable(session) == 1) {
      if (SSL_SESSION* copy = SSL_SESSION_dup(session)) {
        slot->reset(copy);
      }
    }
    return 0;  // the reference stays OpenSSL's
  }
};

namespace {

int versionOf(uint16_t v) { return v == 0x0304 ? TLS1_3_VERSION : TLS1_2_VERSION; }

bool isIpAddress(const std::string& text) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, text.c_str(), &a4) == 1 || inet_pton(AF_INET6, text.c_str(), &a6) == 1;
}

std::atomic<uint64_t> nextContextId{1};

}  // namespace

SessionSlot::~SessionSlot() { reset(nullptr); }

void SessionSlot::reset(SSL_SESSION* session) {
  if (session_) {
    SSL_SESSION_free(session_);
  }
  session_ = session;
}

std::string hostOfAddress(const std::string& addressText, bool& isIp) {
  std::string host;
  if (!addressText.empty() && addressText[0] == '[') {
    size_t end = addressText.find(']');
    host = addressText.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  } else {
    size_t colon = addressText.rfind(':');
    host = addressText.substr(0, colon);
  }
  isIp = isIpAddress(host);
  return host;
}

ClientContext::ClientContext() : data_(std::make_unique<ClientContextData>()) {}
ClientContext::~ClientContext() = default;

std::shared_ptr<const ClientContext> ClientContext::build(const config::PoolTls& tls, int64_t nowSeconds,
                                                          std::string& error) {
  ERR_clear_error();
  std::shared_ptr<ClientContext> self(new ClientContext());
  self->server_name_ = tls.server_name;
  self->verify_ = tls.verify;
  self->reuse_ = tls.session_reuse;
  self->id_ = nextContextId.fetch_add(1, std::memory_order_relaxed);
  self->data_->ctx.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = self->data_->ctx.get();
  if (!ctx) {
    error = tls.where + ": cannot make a TLS context: " + drainErrors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, versionOf(tls.min_version));
  SSL_CTX_set_max_proto_version(ctx, versionOf(tls.max_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, tls.ciphers.c_str()) != 1) {
    error = tls.where + ".ciphers: no cipher OpenSSL knows in " + tls.ciphers + " (" + drainErrors() + ")";
    return nullptr;
  }
  if (!tls.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, tls.ciphersuites.c_str()) != 1) {
    error = tls.where + ".ciphersuites: no TLS 1.3 suite OpenSSL knows in " + tls.ciphersuites + " (" +
            drainErrors() + ")";
    return nullptr;
  }
  if (tls.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (tls.ca.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        error = tls.where + ".ca: cannot read the system's trusted CAs: " + drainErrors();
        return nullptr;
      }
    } else if (SSL_CTX_load_verify_file(ctx, tls.ca.c_str()) != 1) {
      error = tls.where + ".ca: " + tls.ca + ": no PEM CA certificate could be read from it (" + drainErrors() + ")";
      return nullptr;
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  const auto& files = tls.client_certificate;
  if (!files.cert.empty()) {
    std::string why;
    auto cert = Certificate::load(files.cert, files.key, nowSeconds, why);
    if (!cert) {
      error = files.where + ": " + why;
      return nullptr;
    }
    const CertificateData& d = cert->data();
    if (SSL_CTX_use_certificate(ctx, d.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, d.key.get()) != 1) {
      error = files.where + ": " + files.cert + ": " + drainErrors();
      return nullptr;
    }
    for (const auto& c : d.chain) {
      if (SSL_CTX_add1_chain_cert(ctx, c.get()) != 1) {
        error = files.where + ": " + files.cert + ": " + drainErrors();
        return nullptr;
      }
    }
    self->data_->client_certificate = std::move(cert);
  }
  if (!tls.alpn.empty()) {
    std::string wire;
    for (const auto& p : tls.alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    // (0 is success for this one)
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      error = tls.where + ".alpn: " + drainErrors();
      return nullptr;
    }
  }
  if (tls.session_reuse) {
    // Sessions go to the callback (kept per worker and server), never to OpenSSL's own cache,
    // which would be one locked table for every worker.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &ClientContextData::onNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  ClientContextData::slotIndex();  // made on the control thread, before any worker asks
  return self;
}

std::string ClientContext::nameFor(const config::Server& server, bool& isIp) const {
  if (!server_name_.empty()) {
    isIp = isIpAddress(server_name_);
    return server_name_;
  }
  return hostOfAddress(server.address.text, isIp);
}

std::unique_ptr<TlsTransport> ClientContext::connect(int fd, const config::Server& server, SessionSlot* slot,
                                                     stats::Traffic* stats) const {
  SslPtr ssl(SSL_new(data_->ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  bool isIp = false;
  std::string name = nameFor(server, isIp);
  bool ok = true;
  if (!isIp) {
    ok = SSL_set_tlsext_host_name(ssl.get(), name.c_str()) == 1;
    if (verify_) {
      ok = ok && SSL_set1_host(ssl.get(), name.c_str()) == 1;
      // "*.example.com" covers one label only (as common/host_name.h).
      SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
  } else if (verify_) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str()) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  if (reuse_ && slot) {
    if (slot->context_id_ != id_) {
      slot->reset(nullptr);  // made with another config's context: not offered
      slot->context_id_ = id_;
    }
    if (slot->session_) {
      SSL_set_session(ssl.get(), slot->session_);
    }
    SSL_set_ex_data(ssl.get(), ClientContextData::slotIndex(), slot);
  }
  SSL_set_connect_state(ssl.get());
  auto transport = std::make_unique<TlsTransport>(ssl.release(), fd, stats);
  transport->setPeerName(name);
  return transport;
}

}  // namespace fulcrum::tls
