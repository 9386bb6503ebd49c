#include "tls/admin_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/openssl_util.h"
#include "tls/tls_transport.h"

namespace fulcrum::tls {

namespace {

bool isIpLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

std::unique_ptr<net::Transport> connectAdminClient(int fd, const AdminClientOptions& options, std::string& error) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = drainErrors("cannot make a TLS context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A FIN without close_notify reads as the end: the caller checks the answer is whole
  // (Content-Length), which is what truncation protection is for.
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  bool checkName = true;
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1) {
      error = options.ca_file + ": cannot read CA certificates (" + drainErrors() + ")";
      return nullptr;
    }
  } else if (!options.pinned.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const auto& file : options.pinned) {
      BioPtr bio(BIO_new_file(file.c_str(), "r"));
      X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
      if (!cert) {
        ERR_clear_error();
        error = file + ": cannot read the admin certificate to trust";
        return nullptr;
      }
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
    }
    // The certificate itself is the anchor: its issuers need not be known here.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    checkName = false;
  } else {
    SSL_CTX_set_default_verify_paths(ctx.get());
  }
  SSL* ssl = SSL_new(ctx.get());  // (holds its own reference to the context)
  if (!ssl || SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    error = drainErrors("cannot make a TLS connection");
    return nullptr;
  }
  if (checkName && !options.name.empty()) {
    if (isIpLiteral(options.name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), options.name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, options.name.c_str());
      SSL_set1_host(ssl, options.name.c_str());
    }
  }
  SSL_set_connect_state(ssl);
  auto transport = std::make_unique<TlsTransport>(ssl, fd);
  transport->setPeerName(options.name);
  return transport;
}

}  // namespace fulcrum::tls
