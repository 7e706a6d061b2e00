#pragma once
// Stage 4 of the pipeline: what a certificate may be. Profiles come from cfssl's
// ca-config.json ("signing.default" and "signing.profiles") or are built in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/duration.hpp"

namespace etcd_pki {

// KeyUsage bits, with OpenSSL's X509v3 KU_* values.
namespace ku {
inline constexpr uint32_t digital_signature = 0x0080;
inline constexpr uint32_t content_commitment = 0x0040;
inline constexpr uint32_t key_encipherment = 0x0020;
inline constexpr uint32_t data_encipherment = 0x0010;
inline constexpr uint32_t key_agreement = 0x0008;
inline constexpr uint32_t cert_sign = 0x0004;
inline constexpr uint32_t crl_sign = 0x0002;
inline constexpr uint32_t encipher_only = 0x0001;
inline constexpr uint32_t decipher_only = 0x8000;
}  // namespace ku

// ExtendedKeyUsage OIDs.
namespace eku {
inline constexpr const char* server_auth = "1.3.6.1.5.5.7.3.1";
inline constexpr const char* client_auth = "1.3.6.1.5.5.7.3.2";
}  // namespace eku

struct Usages {
  uint32_t key_usage = 0;                  // ku:: bits
  std::vector<std::string> ext_key_usage;  // dotted OIDs, in list order (duplicates kept, as cfssl)
  bool operator==(const Usages&) const = default;
};

// cfssl's usage strings ("signing", "key encipherment", "server auth", ... see docs/profiles.md).
// Unlike cfssl, an unknown string is an error naming it (Errc::config).
Usages parse_usages(const std::vector<std::string>& names, const std::string& source = {},
                    const std::string& field = "usages");
// The cfssl usage strings for usages ("digital signature", "key encipherment", "server auth", ...;
// the first spelling of each in cfssl's table), key usages first; unknown OIDs as themselves.
std::vector<std::string> usage_names(const Usages& usages);
// "Digital Signature, Key Encipherment" and "TLS Web Server Authentication" as openssl prints them.
std::string key_usage_string(uint32_t bits);
std::string ext_key_usage_string(const std::vector<std::string>& oids);

struct CaConstraint {
  bool is_ca = false;
  int max_path_len = 0;          // 0 means unlimited unless max_path_len_zero
  bool max_path_len_zero = false;
  bool operator==(const CaConstraint&) const = default;
};

struct Profile {
  std::string name;
  Usages usages;
  Seconds expiry{8760 * 3600};
  std::optional<Seconds> backdate;  // default 5 min
  std::optional<TimePoint> not_before, not_after;
  CaConstraint ca;
  std::string ocsp_url, crl_url;
  std::vector<std::string> issuer_urls;
  bool ocsp_no_check = false;
  std::string name_whitelist;  // a regular expression every CN and SAN must contain a match of
  bool builtin = false;        // built-in etcd profile: key encipherment is only meant for RSA keys
  std::string source;          // the ca-config.json it was read from, for messages ("" when built in or made in code)
  std::string path;            // its place in that file: "signing.profiles.NAME" or "signing.default"
};

class Policy {
 public:
  // Parses a cfssl ca-config.json. Keys match case-insensitively; unknown keys, unknown usages, bad
  // durations, a profile without "expiry" or "usages", not_after before not_before are
  // Errc::config errors naming `source` and the field. Remote/auth settings that do not change
  // the certificate are ignored with a warning.
  static Policy from_json(std::string_view text, const std::string& source = {});

  // The etcd profiles used when no config is given: "server", "peer" (server auth + client auth),
  // "client" (client auth), "ca" (cert sign + crl sign, CA:TRUE), all 8760h except "ca" (43800h),
  // and a default equal to cfssl's built-in default (signing, key encipherment, server auth,
  // client auth; 8760h).
  static Policy builtin();

  // The named profile; "" or "default" gives the default profile. An unknown name is an
  // Errc::config error listing the profiles (cfssl would silently use the default).
  const Profile& profile(std::string_view name) const;
  const Profile& default_profile() const { return default_; }
  std::vector<std::string> profile_names() const;
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& source() const { return source_; }

 private:
  Profile default_;
  std::vector<Profile> profiles_;
  std::vector<std::string> warnings_;
  std::string source_;
};

}  // namespace etcd_pki
