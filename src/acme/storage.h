#pragma once
// Where ACME's results live (acme.storage): the account key, and per certificate (its names,
// in config order) the chain and its key. Every file is written 0600 through a temp file,
// fsync and rename, so a reader (fulcrum after a restart, the TLS contexts at a reload) sees
// the old pair or the new one, never half a file; the directories are 0700.
//
//   STORAGE/account.key
//   STORAGE/certificates/NAME/cert.pem   (leaf, then the CA's intermediates)
//   STORAGE/certificates/NAME/key.pem
//   STORAGE/certificates/NAME/names      (the names it was ordered for, one a line)
//
// NAME is the first name of the set; the `names` file tells a set that changed (an order is
// due then).
#include <optional>
#include <string>
#include <vector>

namespace fulcrum::acme {

class Storage {
 public:
  explicit Storage(std::string root) : root_(std::move(root)) {}

  std::string accountKeyPath() const { return root_ + "/account.key"; }
  std::string certDir(const std::vector<std::string>& names) const;
  std::string certPath(const std::vector<std::string>& names) const { return certDir(names) + "/cert.pem"; }
  std::string keyPath(const std::vector<std::string>& names) const { return certDir(names) + "/key.pem"; }

  // Whether a certificate for exactly these names is stored (cert, key and the same names).
  bool hasCertificate(const std::vector<std::string>& names) const;
  // Writes the key first, then the chain, then the names (each atomic); false with `error`.
  bool saveCertificate(const std::vector<std::string>& names, const std::string& chainPem, const std::string& keyPem,
                       std::string& error) const;

  // The file's contents, or nullopt when it does not exist (`error` set on other failures).
  static std::optional<std::string> readFile(const std::string& path, std::string& error);
  // Creates `path` 0600 via a temp file in the same directory, fsync, rename; creates the
  // directories above it (0700) as needed.
  static bool writeFileAtomic(const std::string& path, const std::string& data, std::string& error);

 private:
  std::string root_;
};

}  // namespace fulcrum::acme
