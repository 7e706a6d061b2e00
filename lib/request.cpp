#include "etcd_pki/request.hpp"

#include <algorithm>
#include <cctype>

#include "etcd_pki/error.hpp"
#include "etcd_pki/hosts.hpp"
#include "json_fields.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

using detail::Fields;
using detail::Json;

bool Subject::empty() const {
  return country.empty() && province.empty() && locality.empty() && street.empty() && postal_code.empty() &&
         organization.empty() && org_unit.empty() && common_name.empty() && serial_number.empty() && extra.empty();
}

namespace {

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool valid_oid(std::string_view oid) {
  if (oid.empty() || oid.front() == '.' || oid.back() == '.' || oid.find("..") != std::string_view::npos) return false;
  return std::all_of(oid.begin(), oid.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
         std::count(oid.begin(), oid.end(), '.') >= 1;
}

// A subject value fit for a certificate (x509_util.hpp: UTF-8, no control characters, not huge);
// the same check encode_subject makes, here with the file and field in the message.
void check_subject_value(const std::string& value, const std::string& source, const std::string& field) {
  if (auto problem = detail::subject_value_problem(value)) throw Error(Errc::input, *problem, source, field);
}

void read_names(const Json& names, const std::string& source, Request& req) {
  if (!names.is_array())
    throw Error(Errc::input, "expected an array of objects, found " + detail::json_type_name(names), source, "names");
  for (size_t i = 0; i < names.size(); ++i) {
    // cfssl silently drops a CN put here (cfssl#884); say where it belongs instead of hinting "C".
    if (names[i].is_object())
      for (auto it = names[i].begin(); it != names[i].end(); ++it)
        if (it.key().size() == 2 && std::tolower(static_cast<unsigned char>(it.key()[0])) == 'c' &&
            std::tolower(static_cast<unsigned char>(it.key()[1])) == 'n')
          throw Error(Errc::input,
                      "unknown field \"" + it.key() + "\" (the CN goes at the top level of the request, not in names)",
                      source, "names[" + std::to_string(i) + "]." + it.key());
    Fields n(names[i], source, "names[" + std::to_string(i) + "]", Errc::input,
             {"C", "ST", "L", "O", "OU", "E", "SerialNumber", "OID"});
    auto add = [&](const char* key, std::vector<std::string>& to) {
      if (auto v = n.string(key); v && !v->empty()) {
        check_subject_value(*v, source, n.field(key));
        to.push_back(*v);
      }
    };
    add("C", req.subject.country);
    add("ST", req.subject.province);
    add("L", req.subject.locality);
    add("O", req.subject.organization);
    add("OU", req.subject.org_unit);
    if (auto c = n.string("C"); c && !c->empty() && c->size() != 2)
      req.warnings.push_back(n.field("C") + ": country \"" + *c + "\" is not a two-letter ISO 3166 code");
    if (const Json* oids = n.get("OID")) {
      if (!oids->is_object())
        throw n.error("OID", "expected an object mapping dotted OIDs to values, found " + detail::json_type_name(*oids));
      for (auto it = oids->begin(); it != oids->end(); ++it) {
        if (!valid_oid(it.key())) throw n.error("OID", "invalid OID \"" + it.key() + "\" (write it dotted, e.g. 1.2.3.4)");
        if (!it.value().is_string()) throw n.error("OID", "value of " + it.key() + " must be a string");
        check_subject_value(it.value().get<std::string>(), source, n.field("OID") + "." + it.key());
        req.subject.extra.push_back({it.key(), it.value().get<std::string>()});
      }
    }
    if (auto e = n.string("E"); e && !e->empty()) {
      check_subject_value(*e, source, n.field("E"));
      req.subject.extra.push_back({"1.2.840.113549.1.9.1", *e});
    }
    if (n.has("SerialNumber"))
      req.warnings.push_back(n.field("SerialNumber") +
                             ": ignored, as by cfssl; put the subject serial number in the top-level \"serialnumber\"");
  }
}

}  // namespace

Request Request::from_json(std::string_view text, const std::string& source) {
  Json j = detail::parse_json(text, source, Errc::input);
  Fields top(j, source, "", Errc::input,
             {"CN", "names", "hosts", "key", "ca", "serialnumber", "crl_url", "delegation_enabled", "extensions"});
  for (const char* unsupported : {"delegation_enabled", "extensions"})
    if (top.has(unsupported)) throw top.error(unsupported, "not supported by etcd-pki (remove it)");

  Request req;
  req.subject.common_name = top.string("CN").value_or("");
  req.subject.serial_number = top.string("serialnumber").value_or("");
  check_subject_value(req.subject.common_name, source, "CN");
  check_subject_value(req.subject.serial_number, source, "serialnumber");
  if (const Json* names = top.get("names")) read_names(*names, source, req);
  req.hosts = top.strings("hosts").value_or(std::vector<std::string>{});
  for (size_t i = 0; i < req.hosts.size(); ++i) {
    std::string field = "hosts[" + std::to_string(i) + "]";
    if (blank(req.hosts[i])) {
      req.warnings.push_back(field + ": empty entry dropped (cfssl would write an empty DNS name)");
      continue;
    }
    if (auto problem = host_problem(req.hosts[i]))
      throw Error(Errc::input, "invalid host \"" + req.hosts[i] + "\": " + *problem, source, field);
    if (looks_like_ip(req.hosts[i]))
      req.warnings.push_back(field + ": \"" + req.hosts[i] +
                             "\" is not a valid IP address; it is written as a DNS name (as cfssl does)");
  }

  if (auto key = top.object("key", {"algo", "size"})) {
    std::string algo = key->string("algo").value_or("ecdsa");
    int64_t size = key->integer("size").value_or(0);
    if (size < 0 || size > 65536) throw Error(Errc::key, "invalid key size " + std::to_string(size), source, "key.size");
    req.key = KeySpec::parse(algo, static_cast<int>(size), source, "key");
  }

  if (auto ca = top.object("ca", {"expiry", "pathlen", "pathlenzero", "backdate"})) {
    CaOptions opt;
    if (auto e = ca->string("expiry")) opt.expiry = parse_duration(*e, source, ca->field("expiry"), Errc::input);
    if (auto b = ca->string("backdate")) opt.backdate = parse_duration(*b, source, ca->field("backdate"), Errc::input);
    if (opt.expiry && opt.expiry->count() <= 0) throw ca->error("expiry", "must be positive");
    if (opt.backdate && opt.backdate->count() < 0) throw ca->error("backdate", "must not be negative");
    int64_t pathlen = ca->integer("pathlen").value_or(0);
    if (pathlen > 1000) throw ca->error("pathlen", "absurd path length " + std::to_string(pathlen));
    opt.pathlen = pathlen < 0 ? 0 : static_cast<int>(pathlen);
    opt.pathlenzero = ca->boolean("pathlenzero").value_or(false);
    if (opt.pathlen != 0 && opt.pathlenzero)
      req.warnings.push_back("ca.pathlenzero: ignored because ca.pathlen is " + std::to_string(opt.pathlen));
    req.ca = opt;
  }
  // The whole subject must encode (each value is checked above; this catches a names[] list too
  // large for a certificate), so the error names this file rather than surfacing later.
  if (!req.subject.empty()) {
    try {
      (void)detail::encode_subject(req.subject);
    } catch (const Error& e) {
      throw Error(e.category(), e.message(), source, top.has("names") ? "names" : "CN");
    }
  }
  req.crl_url = top.string("crl_url").value_or("");
  if (auto problem = san_problem(SanType::uri, req.crl_url)) throw top.error("crl_url", "invalid URL: " + *problem);
  return req;
}

Request Request::default_ca() {
  Request req;
  req.subject.common_name = "etcd-ca";
  req.key = KeySpec{KeyAlgo::ecdsa, 256};
  CaOptions ca;
  ca.expiry = Seconds(87600LL * 3600);
  req.ca = ca;
  return req;
}

void Request::validate_for_ca(const std::string& source) const {
  if (!blank(subject.common_name)) return;
  auto any = [](const std::vector<std::string>& v) { return std::any_of(v.begin(), v.end(), [](auto& s) { return !blank(s); }); };
  if (any(subject.country) || any(subject.province) || any(subject.locality) || any(subject.organization) ||
      any(subject.org_unit))
    return;
  throw Error(Errc::input, "missing subject information: a CA needs a CN or names with C, ST, L, O or OU", source, "CN");
}

}  // namespace etcd_pki
