#include "tls/client_verify.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/openssl_util.h"

namespace fulcrum::tls {

struct ClientVerifyData {
  X509_STORE* store = nullptr;              // the CAs and CRLs; shared by the groups' contexts
  STACK_OF(X509_NAME)* names = nullptr;     // the CAs' subjects, sent in the CertificateRequest
  ~ClientVerifyData() {
    X509_STORE_free(store);
    sk_X509_NAME_pop_free(names, X509_NAME_free);
  }
};

namespace {

constexpr const char* kRefused = "client certificate refused: ";

// Header values: printable ASCII only (a certificate's strings may hold anything).
std::string printable(std::string s) {
  for (char& c : s) {
    if (c < 0x20 || c > 0x7e) {
      c = '?';
    }
  }
  return s;
}

std::string asn1Text(const ASN1_STRING* s) {
  return printable(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<size_t>(ASN1_STRING_length(s))));
}

}  // namespace

ClientVerify::ClientVerify() : data_(std::make_unique<ClientVerifyData>()) {}
ClientVerify::~ClientVerify() = default;

std::unique_ptr<ClientVerify> ClientVerify::load(const config::ClientCertificates& config, std::string& error) {
  std::unique_ptr<ClientVerify> self(new ClientVerify());
  self->required_ = config.mode == config::ClientCertificateMode::Required;
  auto& d = *self->data_;
  d.store = X509_STORE_new();
  d.names = sk_X509_NAME_new_null();
  if (!d.store || !d.names) {
    error = config.ca_where + ": " + drainErrors("out of memory");
    return nullptr;
  }
  ERR_clear_error();
  BioPtr bio(BIO_new_file(config.ca.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    error = config.ca_where + ": " + config.ca + ": cannot read the CA file";
    return nullptr;
  }
  size_t count = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509Ptr owned(ca);
    if (X509_STORE_add_cert(d.store, ca) != 1) {
      ERR_clear_error();  // (the same CA twice)
    }
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca));
    if (name) {
      sk_X509_NAME_push(d.names, name);
    }
    ++count;
  }
  ERR_clear_error();  // (the end of the file reads as an error)
  if (count == 0) {
    error = config.ca_where + ": " + config.ca + ": no PEM certificate in the file";
    return nullptr;
  }
  if (!config.crl.empty()) {
    BioPtr crlBio(BIO_new_file(config.crl.c_str(), "r"));
    if (!crlBio) {
      ERR_clear_error();
      error = config.crl_where + ": " + config.crl + ": cannot read the CRL file";
      return nullptr;
    }
    size_t crls = 0;
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(crlBio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_crl(d.store, crl);
      X509_CRL_free(crl);
      ++crls;
    }
    ERR_clear_error();
    if (crls == 0) {
      error = config.crl_where + ": " + config.crl + ": no PEM certificate revocation list (X509 CRL) in the file";
      return nullptr;
    }
    // The leaf's issuer must have a CRL in the file: a certificate that cannot be checked is refused.
    X509_STORE_set_flags(d.store, X509_V_FLAG_CRL_CHECK);
  }
  return self;
}

bool ClientVerify::apply(SSL_CTX* ctx, std::string& error) const {
  SSL_CTX_set1_cert_store(ctx, data_->store);
  STACK_OF(X509_NAME)* names = SSL_dup_CA_list(data_->names);
  if (!names) {
    error = drainErrors("out of memory");
    return false;
  }
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (required_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  return true;
}

std::unique_ptr<net::ClientCertificate> readClientCertificate(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) {
    return nullptr;
  }
  auto out = std::make_unique<net::ClientCertificate>();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio && X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    out->subject = printable(std::string(data, static_cast<size_t>(n)));
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    std::string item;
    if (g->type == GEN_DNS) {
      item = "DNS:" + asn1Text(g->d.dNSName);
    } else if (g->type == GEN_EMAIL) {
      item = "email:" + asn1Text(g->d.rfc822Name);
    } else if (g->type == GEN_URI) {
      item = "URI:" + asn1Text(g->d.uniformResourceIdentifier);
    } else if (g->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = "";
      int len = ASN1_STRING_length(g->d.iPAddress);
      const unsigned char* p = ASN1_STRING_get0_data(g->d.iPAddress);
      if ((len == 4 && inet_ntop(AF_INET, p, text, sizeof text)) || (len == 16 && inet_ntop(AF_INET6, p, text, sizeof text))) {
        item = std::string("IP:") + text;
      }
    }
    if (!item.empty()) {
      out->sans += (out->sans.empty() ? "" : ", ") + item;
    }
  }
  GENERAL_NAMES_free(sans);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static const char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      out->fingerprint += kHex[md[i] >> 4];
      out->fingerprint += kHex[md[i] & 15];
    }
  }
  ERR_clear_error();
  return out;
}

void noteClientCertificateFailure(SSL* ssl, unsigned long code, stats::Traffic* stats, std::string& failure) {
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) {
    return;
  }
  if (!SSL_is_server(ssl)) {
    return;  // a client's refusal of the server's certificate is TlsTransport's to say
  }
  int reason = ERR_GET_REASON(code);
  const char* why = nullptr;
  stats::Counter* counter = nullptr;
  std::string detail;
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    why = "missing";
    detail = "none was sent, and one is required";
    counter = stats ? &stats->client_cert_missing : nullptr;
  } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long v = SSL_get_verify_result(ssl);
    detail = X509_verify_cert_error_string(v);
    switch (v) {
      case X509_V_ERR_CERT_REVOKED:
        why = "revoked";
        counter = stats ? &stats->client_cert_revoked : nullptr;
        break;
      case X509_V_ERR_CERT_HAS_EXPIRED:
      case X509_V_ERR_CERT_NOT_YET_VALID:
        why = "expired";
        counter = stats ? &stats->client_cert_expired : nullptr;
        break;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        why = "untrusted";
        counter = stats ? &stats->client_cert_untrusted : nullptr;
        break;
      default:
        why = "invalid";  // (no CRL for its issuer, not for client authentication, ...)
        counter = stats ? &stats->client_cert_invalid : nullptr;
        break;
    }
  } else {
    return;
  }
  if (counter) {
    counter->add();
  }
  failure = std::string(kRefused) + why + " (" + detail + ")";
}

bool isClientCertificateRefusal(const std::string& failure) { return failure.starts_with(kRefused); }

}  // namespace fulcrum::tls
