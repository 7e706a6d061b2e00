#pragma once
// Stage 1 of the pipeline: a certificate request read from cfssl CSR JSON.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/key.hpp"

namespace etcd_pki {

// A subject in cfssl's model. Encoded in cfssl's fixed order C, ST, L, street, postalCode, O,
// OU, CN, serialNumber, then `extra` in order; all values of one type form one (multi-valued) RDN,
// every extra attribute its own RDN.
struct Subject {
  std::vector<std::string> country, province, locality, street, postal_code, organization, org_unit;
  std::string common_name, serial_number;
  struct Attribute {
    std::string oid;  // dotted, e.g. "1.2.840.113549.1.9.1" for emailAddress
    std::string value;
    bool operator==(const Attribute&) const = default;
  };
  std::vector<Attribute> extra;

  bool empty() const;
  bool operator==(const Subject&) const = default;
};

struct CaOptions {
  std::optional<Seconds> expiry;    // default 43800h (cfssl)
  int pathlen = 0;                  // written when > 0, or when 0 and pathlenzero
  bool pathlenzero = false;
  std::optional<Seconds> backdate;  // default 5 min
};

struct Request {
  Subject subject;
  std::vector<std::string> hosts;  // as written; see hosts.hpp for how they become SANs
  KeySpec key;                     // ECDSA P-256 when "key" is absent
  std::optional<CaOptions> ca;     // only for init-ca
  std::string crl_url;             // init-ca only: CRL distribution point on the root
  std::vector<std::string> warnings;

  // Parses cfssl CSR JSON. Keys match case-insensitively like cfssl; unlike cfssl an unknown key
  // (top level or in names[]) is an error naming it. Errors are Errc::input, durations included
  // (Errc::key for a bad key algorithm or size), with `source` and the field in the message.
  static Request from_json(std::string_view text, const std::string& source = {});

  // The built-in etcd CA request used by init-ca without a CSR file:
  // CN "etcd-ca", ECDSA P-256, 87600h (10 years).
  static Request default_ca();

  // cfssl's init-ca check: a CN, or names whose every entry has one of C/ST/L/O/OU.
  void validate_for_ca(const std::string& source = {}) const;
};

}  // namespace etcd_pki
