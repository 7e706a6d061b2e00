#include "etcd_pki/verify.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "etcd_pki/bundle.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/expiry.hpp"
#include "etcd_pki/profile.hpp"
#include "json_fields.hpp"
#include "ossl.hpp"
#include "parallel.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const char* to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "?";
}

int VerifyReport::count(Severity s) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.severity == s; }));
}

int VerifyReport::exit_code() const { return count(Severity::error) ? 2 : count(Severity::warning) ? 1 : 0; }

namespace {

using ossl::StorePtr;
using ossl::StoreCtx;
using ossl::X509Stack;

std::string lower_hex(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// ---- etcd.conf.yml: the flat keys and one level of sections ("peer-transport-security.cert-file").
std::map<std::string, std::string> read_etcd_yaml(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string section;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (auto hash = line.find(" #"); hash != std::string::npos) line.resize(hash);
    if (line.empty() || line.front() == '#' || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool indented = line.front() == ' ' || line.front() == '\t';
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(line.find_first_not_of(" \t"), colon - line.find_first_not_of(" \t"));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r' || value.back() == '\t')) value.pop_back();
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
      std::string unescaped;
      for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        unescaped += value[i];
      }
      value = unescaped;
    }
    if (!indented) {
      section = value.empty() ? key : "";
      if (!value.empty()) out[key] = value;
    } else if (!section.empty()) {
      out[section + "." + key] = value;
    }
  }
  return out;
}

// Hosts of "https://10.0.0.1:2379,https://[::1]:2379" (wildcard listen addresses dropped).
std::vector<std::string> url_hosts(const std::string& urls) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= urls.size()) {
    size_t comma = urls.find(',', start);
    std::string u = urls.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? urls.size() + 1 : comma + 1;
    if (auto s = u.find("://"); s != std::string::npos) u = u.substr(s + 3);
    if (auto slash = u.find('/'); slash != std::string::npos) u.resize(slash);
    std::string host;
    if (!u.empty() && u.front() == '[') {
      host = u.substr(1, u.find(']') == std::string::npos ? std::string::npos : u.find(']') - 1);
    } else {
      host = u.substr(0, u.rfind(':'));
    }
    if (host.empty() || host == "0.0.0.0" || host == "::") continue;
    if (auto ip = parse_ip(host)) host = ip->to_string();
    if (std::find(out.begin(), out.end(), host) == out.end()) out.push_back(host);
  }
  return out;
}

// A path from a config written for the hosts ("/etc/etcd/pki/server.pem"), found in `dir`: the
// longest trailing part that exists there, else the path itself when it exists.
std::string resolve_in(const std::string& dir, const std::string& path) {
  fs::path p(path);
  std::vector<std::string> parts;
  for (const auto& part : p)
    if (part != "/" && !part.empty()) parts.push_back(part.string());
  for (size_t i = 0; i < parts.size(); ++i) {
    fs::path candidate(dir);
    for (size_t k = i; k < parts.size(); ++k) candidate /= parts[k];
    if (exists(candidate.string())) return candidate.string();
  }
  if (exists(path)) return path;
  return (fs::path(dir) / (parts.empty() ? path : parts.back())).string();
}

bool has_eku(const std::vector<std::string>& ekus, const char* oid) {
  return ekus.empty() || std::find(ekus.begin(), ekus.end(), oid) != ekus.end() ||
         std::find(ekus.begin(), ekus.end(), "2.5.29.37.0") != ekus.end();
}

bool dns_match(const std::string& pattern, const std::string& host) {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string p = lower(pattern), h = lower(host);
  if (p == h) return true;
  if (p.rfind("*.", 0) == 0) {
    auto dot = h.find('.');
    return dot != std::string::npos && dot > 0 && h.substr(dot) == p.substr(1);
  }
  return false;
}

struct Leaf {
  std::string cert_path, key_path;
  std::set<std::string> roles;         // "server", "peer", "client"
  std::vector<std::string> addresses;  // the cert must cover these
  std::vector<Certificate> certs;      // the file's certificates, when already read to find the leaf
};

struct Checker {
  const VerifyOptions& opt;
  VerifyReport& report;
  TimePoint now;
  std::vector<Certificate> ca_certs;  // trusted roots and intermediates
  std::optional<Crl> crl;
  std::shared_ptr<std::set<std::string>> revoked_serials = std::make_shared<std::set<std::string>>();  // of `crl`, read once
  // Certificates by file content: every member folder holds the same ca.pem, parsed once.
  std::shared_ptr<std::map<std::string, std::vector<Certificate>>> parsed =
      std::make_shared<std::map<std::string, std::vector<Certificate>>>();

  // Not thread-safe (the cache); used while the folders are listed, before the parallel checks.
  std::vector<Certificate> certs_in(const std::string& file, Errc category = Errc::input) {
    std::string data = read_text_file(file, category);
    auto it = parsed->find(data);
    if (it == parsed->end())
      it = parsed->emplace(data, Certificate::all_from_pem(data, file, category, Certificate::KeyDecoding::when_needed)).first;
    return it->second;
  }
  std::string base;  // shown paths are relative to it

  std::string show(const std::string& p) const {
    // Lexically: renewed files are symlinks, and the name to show is the link's, not its target's.
    std::error_code ec;
    auto rel = fs::absolute(p, ec).lexically_normal().lexically_relative(fs::absolute(base, ec).lexically_normal());
    return ec || rel.empty() || rel.string().rfind("..", 0) == 0 ? p : rel.string();
  }

  void add(Severity s, const std::string& file, std::string rule, std::string message, std::string etcd_error = {}) {
    report.findings.push_back({s, show(file), std::move(rule), std::move(message), std::move(etcd_error)});
  }

  void check_time(const Certificate& c, const std::string& file, const std::string& what) {
    if (c.not_before() > now)
      add(Severity::error, file, "not-yet-valid",
          what + " is not valid until " + format_rfc3339(c.not_before()) + " (" + format_time_left(c.not_before(), now) +
              "; clock skew?)",
          "x509: certificate has expired or is not yet valid: current time " + format_rfc3339(now) + " is before " +
              format_rfc3339(c.not_before()));
    else if (c.not_after() < now)  // notAfter itself is still valid (RFC 5280, Go)
      add(Severity::error, file, "expired", what + " expired on " + format_rfc3339(c.not_after()) + " (" + format_time_left(c.not_after(), now) + ")",
          "x509: certificate has expired or is not yet valid: current time " + format_rfc3339(now) + " is after " +
              format_rfc3339(c.not_after()));
    else if (c.not_after() <= now + opt.warn_within)
      add(Severity::warning, file, "expiring", what + " expires on " + format_rfc3339(c.not_after()) + " (" + format_time_left(c.not_after(), now) + ")",
          "none yet; after that: x509: certificate has expired or is not yet valid");
  }

  void check_key_file(const std::string& key_path, const Certificate& cert) {
    struct stat st;
    if (::stat(key_path.c_str(), &st) != 0) {
      add(Severity::error, key_path, "key-missing", "the private key of " + show(key_path) + "'s certificate is missing",
          "open " + key_path + ": no such file or directory (etcd does not start)");
      return;
    }
    mode_t m = st.st_mode & 0777;
    if (m & 0077) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
      add((m & 0004) ? Severity::error : Severity::warning, key_path, "key-permissions",
          std::string("private key mode is ") + buf + ((m & 0004) ? " (readable by every user)" : " (wider than 0600)") + "; chmod 600 it",
          "none: etcd starts, but other users on the host can read the key");
    }
    try {
      std::string pem = read_text_file(key_path, Errc::key);
      if (pem.find("ENCRYPTED") != std::string::npos) {
        add(Severity::error, key_path, "key-encrypted", "the private key is encrypted; etcd cannot read encrypted key files",
            "tls: failed to parse private key");
        return;
      }
      KeyPair key = KeyPair::from_pem(pem, key_path);
      // As DER: the leaf's key is never decoded (Certificate::KeyDecoding::when_needed).
      if (!detail::public_key_matches(X509_get_X509_PUBKEY(detail_certificate_fields(cert)), key.native_handle()))
        add(Severity::error, key_path, "key-mismatch", "the private key does not belong to the certificate next to it",
            "tls: private key does not match public key");
    } catch (const Error& e) {
      add(Severity::error, key_path, "key-unreadable", e.message(), "tls: failed to find any PEM data in key input");
    }
  }

  // The chain of `cert` to the trusted CA, with the file's extra certificates as intermediates.
  // Returns the verified chain (leaf first), empty on failure (a finding is added).
  std::vector<Certificate> check_chain(const Certificate& cert, const std::vector<Certificate>& extra, const std::string& file) {
    StorePtr store = ossl::check<StorePtr>(X509_STORE_new(), "X509_STORE_new");
    X509Stack untrusted = ossl::check<X509Stack>(sk_X509_new_null(), "sk_X509_new_null");
    // As Go (etcd) does, every certificate of the trusted CA file is a trust anchor.
    for (const auto& c : ca_certs) X509_STORE_add_cert(store.get(), c.native_handle());
    for (const auto& c : extra) {
      X509_up_ref(c.native_handle());
      sk_X509_push(untrusted.get(), c.native_handle());
    }
    StoreCtx ctx = ossl::check<StoreCtx>(X509_STORE_CTX_new(), "X509_STORE_CTX_new");
    // native_handle(): the leaf read with its key (X509_verify_cert fails on an undecoded one); for
    // one listed with KeyDecoding::when_needed that happens here, on the worker threads.
    ossl::check(X509_STORE_CTX_init(ctx.get(), store.get(), cert.native_handle(), untrusted.get()), "X509_STORE_CTX_init");
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
    std::vector<Certificate> chain;
    if (X509_verify_cert(ctx.get()) == 1) {
      STACK_OF(X509)* got = X509_STORE_CTX_get0_chain(ctx.get());
      for (int i = 0; i < sk_X509_num(got); ++i) chain.push_back(Certificate::from_native(sk_X509_value(got, i)));
    } else {
      int err = X509_STORE_CTX_get_error(ctx.get());
      add(Severity::error, file, "chain",
          std::string("not signed by the trusted CA ") + (ca_certs.empty() ? "" : ca_certs.front().subject_string()) + " (" +
              X509_verify_cert_error_string(err) + "; issuer is " + cert.issuer_string() + ")",
          "x509: certificate signed by unknown authority (the other side logs: remote error: tls: bad certificate)");
    }
    ERR_clear_error();
    return chain;
  }

  // Go's x509.HostnameError texts: an IP is compared with the IP SANs, a name with the DNS SANs.
  void check_sans(const Certificate& c, const std::vector<std::string>& addresses, const std::string& file, const std::string& role) {
    Sans sans = c.sans();
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
      return out;
    };
    std::vector<std::string> ips;
    for (const auto& ip : sans.ip) ips.push_back(ip.to_string());
    for (const auto& a : addresses) {
      if (auto ip = parse_ip(a)) {
        if (std::any_of(sans.ip.begin(), sans.ip.end(), [&](const IpAddress& x) { return x == *ip; })) continue;
        add(Severity::error, file, "san-missing", role + " certificate does not cover IP " + a,
            ips.empty() ? "x509: cannot validate certificate for " + a + " because it doesn't contain any IP SANs"
                        : "x509: certificate is valid for " + join(ips) + ", not " + a);
      } else {
        if (std::any_of(sans.dns.begin(), sans.dns.end(), [&](const std::string& d) { return dns_match(d, a); })) continue;
        add(Severity::error, file, "san-missing", role + " certificate does not cover host name " + a,
            sans.dns.empty() ? "x509: certificate is not valid for any names, but wanted to match " + a
                             : "x509: certificate is valid for " + join(sans.dns) + ", not " + a);
      }
    }
  }

  void check_leaf(const Leaf& leaf) {
    const std::string& file = leaf.cert_path;
    report.checked.push_back(show(file));
    std::vector<Certificate> certs = leaf.certs;
    if (certs.empty()) try {
        certs = Certificate::all_from_pem(read_text_file(file, Errc::input), file, Errc::input, Certificate::KeyDecoding::when_needed);
      } catch (const Error& e) {
        add(Severity::error, file, "unreadable", e.message(), "open " + file + ": " + e.message());
        return;
      }
    if (certs.empty()) {
      add(Severity::error, file, "unreadable", "no certificate in the file", "tls: failed to find any PEM data in certificate input");
      return;
    }
    const Certificate& cert = certs.front();
    std::vector<Certificate> extra(certs.begin() + 1, certs.end());
    std::string roles;
    for (const auto& r : leaf.roles) roles += (roles.empty() ? "" : "+") + r;
    if (cert.is_ca())
      add(Severity::error, file, "leaf-is-ca", "a CA certificate is used as the " + roles + " certificate",
          "x509: certificate specifies an incompatible key usage");
    auto chain = check_chain(cert, extra, file);
    check_key_file(leaf.key_path, cert);
    check_time(cert, file, roles + " certificate");

    // Usages by role.
    auto ekus = cert.ext_key_usage();
    bool server_auth = has_eku(ekus, eku::server_auth), client_auth = has_eku(ekus, eku::client_auth);
    const std::string incompatible = "x509: certificate specifies an incompatible key usage";
    if (leaf.roles.count("server")) {
      if (!server_auth)
        add(Severity::error, file, "server-eku", "server certificate lacks \"server auth\"", incompatible + " (on every client)");
      if (!client_auth)
        add(Severity::error, file, "server-eku",
            "server certificate lacks \"client auth\": etcd's gRPC gateway dials its own member with it",
            incompatible + " (in the member's log; clients then see: remote error: tls: bad certificate)");
    }
    if (leaf.roles.count("peer")) {
      if (!server_auth) add(Severity::error, file, "peer-eku", "peer certificate lacks \"server auth\"", incompatible + " (on the dialing member)");
      if (!client_auth)
        add(Severity::error, file, "peer-eku", "peer certificate lacks \"client auth\": members present it when dialing each other",
            "rejected connection from ...: tls: failed to verify client certificate: " + incompatible +
                " (the dialing member logs: remote error: tls: bad certificate)");
    }
    if (leaf.roles.count("client") && !client_auth)
      add(Severity::error, file, "client-eku", "client certificate lacks \"client auth\"",
          "remote error: tls: bad certificate (the member logs: " + incompatible + ")");
    if (auto kuse = cert.key_usage(); kuse && (*kuse & ku::key_encipherment)) {
      KeySpec spec{};
      try {
        spec = cert.public_key().spec();
      } catch (const Error&) {
      }
      if (spec.algo != KeyAlgo::rsa)
        add(Severity::warning, file, "ec-key-encipherment",
            "\"key encipherment\" on a " + spec.to_string() + " key: it only applies to RSA",
            "none (Go ignores it); stricter TLS stacks may refuse the certificate");
    }
    if (leaf.roles.count("server") || leaf.roles.count("peer")) check_sans(cert, leaf.addresses, file, roles);

    // The issuer: a leaf outliving its CA, an intermediate whose EKU does not cover the leaf's.
    for (size_t i = 1; i < chain.size(); ++i) {
      const Certificate& ca = chain[i];
      if (i == 1 && cert.not_after() > ca.not_after())
        add(Severity::warning, file, "outlives-ca",
            "valid until " + format_rfc3339(cert.not_after()) + ", after its CA expires (" + format_rfc3339(ca.not_after()) + ")",
            "from " + format_rfc3339(ca.not_after()) + ": x509: certificate has expired or is not yet valid (the CA)");
      auto ca_ekus = ca.ext_key_usage();
      if (ca_ekus.empty() || ca.self_signed()) continue;
      for (const char* need : {eku::server_auth, eku::client_auth}) {
        bool leaf_has = std::find(ekus.begin(), ekus.end(), need) != ekus.end();
        if (leaf_has && !has_eku(ca_ekus, need))
          add(Severity::error, file, "intermediate-eku",
              "intermediate CA " + ca.subject_string() + " does not allow \"" + (need == eku::server_auth ? "server auth" : "client auth") +
                  "\", which this certificate needs (a CA's EKU must be a superset of its leaves')",
              incompatible);
      }
    }
    if (revoked_serials->count(normalize_serial_hex(cert.serial_hex())))
      add(Severity::error, file, "revoked", "revoked in " + show(report.crl_file) + " (serial " + cert.serial_hex() + ")",
          "with --client-crl-file/--peer-crl-file the member logs: rejected connection (error \"transport: certificate serial " +
              lower_hex(normalize_serial_hex(cert.serial_hex())) + " revoked\"); etcdctl only says: context deadline exceeded");
  }
};

std::string first_existing(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (exists(c)) return c;
  return {};
}

std::string norm(const std::string& p) { return fs::path(p).lexically_normal().string(); }

// The leaves of one member folder: from etcd.conf.yml, else by file name.
std::vector<Leaf> member_leaves(const std::string& dir, const VerifyOptions& opt, std::string& conf_ca, Checker& ck) {
  std::vector<Leaf> leaves;
  std::string conf_path = dir + "/etcd.conf.yml";
  std::set<std::string> seen;
  if (exists(conf_path)) {
    auto conf = read_etcd_yaml(read_text_file(conf_path, Errc::input));
    auto add = [&](const char* section, const char* role, std::vector<std::string> addrs) {
      std::string cert = conf[std::string(section) + ".cert-file"];
      if (cert.empty()) {
        ck.add(Severity::error, conf_path, "config", std::string(section) + ": no cert-file", "");
        return;
      }
      std::string key = conf[std::string(section) + ".key-file"];
      std::string ca = conf[std::string(section) + ".trusted-ca-file"];
      if (!ca.empty() && conf_ca.empty()) conf_ca = resolve_in(dir, ca);
      std::string cert_path = resolve_in(dir, cert);
      Leaf l{cert_path, key.empty() ? key_path_for_cert(cert_path) : resolve_in(dir, key), {role}, std::move(addrs), {}};
      for (const auto& a : opt.addresses) l.addresses.push_back(a);
      if (!exists(l.cert_path)) {
        ck.add(Severity::error, conf_path, "missing-file", std::string(section) + ".cert-file " + cert + " is not in the folder",
               "open " + cert + ": no such file or directory");
        return;
      }
      // One file in both sections (cfssl's single etcd.pem): one leaf with both roles.
      for (auto& other : leaves)
        if (norm(other.cert_path) == norm(l.cert_path)) {
          other.roles.insert(role);
          for (const auto& a : l.addresses)
            if (std::find(other.addresses.begin(), other.addresses.end(), a) == other.addresses.end()) other.addresses.push_back(a);
          return;
        }
      seen.insert(norm(l.cert_path));
      leaves.push_back(std::move(l));
    };
    auto hosts = [&](std::initializer_list<const char*> keys) {
      std::vector<std::string> out;
      for (const char* k : keys)
        for (auto& h : url_hosts(conf[k]))
          if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
      return out;
    };
    if (conf.count("client-transport-security.cert-file"))
      add("client-transport-security", "server", hosts({"advertise-client-urls", "listen-client-urls"}));
    if (conf.count("peer-transport-security.cert-file"))
      add("peer-transport-security", "peer", hosts({"initial-advertise-peer-urls", "listen-peer-urls"}));
  }
  // Every other certificate in the folder (and its etcd/ subfolder): roles by name.
  for (const std::string& d : {dir, dir + "/etcd"}) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      std::string name = e.path().filename().string();
      if (name.front() == '.' || !(name.ends_with(".pem") || name.ends_with(".crt")) || name.ends_with("-key.pem")) continue;
      files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (seen.count(norm(f))) continue;
      std::vector<Certificate> certs;
      try {
        certs = ck.certs_in(f);
      } catch (const Error&) {
        continue;  // not a certificate (a CRL in PEM, a key with another name)
      }
      if (certs.empty() || certs.front().is_ca()) continue;
      if (std::any_of(leaves.begin(), leaves.end(), [&](const Leaf& l) { return norm(l.cert_path) == norm(f); })) continue;
      std::string role = guess_role(f, certs.front());
      Leaf l{f, key_path_for_cert(f), {}, opt.addresses, certs};
      if (role == "server+peer") l.roles = {"server", "peer"};
      else if (role == "leaf") l.roles = {"client"};
      else l.roles = {role};
      leaves.push_back(std::move(l));
    }
  }
  return leaves;
}

bool is_member_dir(const std::string& d) {
  return exists(d + "/etcd.conf.yml") || exists(d + "/server.pem") || exists(d + "/peer.pem") || exists(d + "/etcd/server.crt");
}

}  // namespace

VerifyReport verify_path(const std::string& path, const VerifyOptions& opt) {
  ossl::ClearErrors clear;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(Errc::input, "no such folder", path);
  if (!fs::is_directory(path, ec)) throw Error(Errc::usage, "not a folder (give a member bundle folder or a cluster output folder)", path);
  VerifyReport report;
  report.path = path;
  Checker ck{opt, report, now_or(opt.now), {}, {}, std::make_shared<std::set<std::string>>(),
             std::make_shared<std::map<std::string, std::vector<Certificate>>>(), path};

  // What is it: a cluster output folder (ca/ + member folders) or one member's folder.
  std::string cluster_ca = first_existing({path + "/ca/ca.pem", path + "/ca/ca.crt"});
  std::vector<std::string> member_dirs;
  if (!cluster_ca.empty()) {
    std::vector<std::string> subdirs;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      std::string name = e.path().filename().string();
      if (e.is_directory() && name != "ca" && name != "clients" && name.front() != '.' && is_member_dir(e.path().string()))
        subdirs.push_back(e.path().string());
    }
    std::sort(subdirs.begin(), subdirs.end());
    member_dirs = subdirs;
  } else {
    member_dirs.push_back(path);
  }

  // Leaves (and each member's own trusted CA file).
  std::vector<Leaf> leaves;
  std::vector<std::pair<std::string, std::string>> member_ca_files;  // member dir, its trusted CA file
  for (const auto& d : member_dirs) {
    std::string conf_ca;
    auto l = member_leaves(d, opt, conf_ca, ck);
    leaves.insert(leaves.end(), l.begin(), l.end());
    if (conf_ca.empty()) conf_ca = first_existing({d + "/ca.pem", d + "/etcd/ca.crt", d + "/ca.crt"});
    member_ca_files.push_back({d, conf_ca});
  }
  if (!cluster_ca.empty() && exists(path + "/clients"))
    for (const auto& e : fs::directory_iterator(path + "/clients", ec)) {
      std::string name = e.path().filename().string();
      if (name.front() == '.' || !(name.ends_with(".pem") || name.ends_with(".crt")) || name.ends_with("-key.pem")) continue;
      leaves.push_back(Leaf{e.path().string(), key_path_for_cert(e.path().string()), {"client"}, {}, {}});
    }
  std::sort(leaves.begin(), leaves.end(), [](auto& a, auto& b) { return a.cert_path < b.cert_path; });

  // The trusted CA.
  report.ca_file = !opt.ca_file.empty() ? opt.ca_file : !cluster_ca.empty() ? cluster_ca : member_ca_files.front().second;
  if (report.ca_file.empty()) throw Error(Errc::usage, "no CA certificate found in the folder (ca.pem, ca/ca.pem, etcd/ca.crt); give --ca", path);
  ck.ca_certs = ck.certs_in(report.ca_file, Errc::ca);
  if (ck.ca_certs.empty()) throw Error(Errc::ca, "no certificate in the CA file", report.ca_file);
  for (const auto& c : ck.ca_certs) {
    if (!c.is_ca())
      ck.add(Severity::error, report.ca_file, "ca-not-ca", "the trusted CA file holds a certificate that is not a CA: " + c.subject_string(),
             "x509: certificate signed by unknown authority");
    ck.check_time(c, report.ca_file, "CA certificate");
  }
  // Each member must trust that same CA (etcd reads it at start; a different one rejects its peers).
  std::string ca_pem_set;
  for (const auto& c : ck.ca_certs) ca_pem_set += c.to_pem();
  for (const auto& [dir, file] : member_ca_files) {
    if (file.empty() || norm(file) == norm(report.ca_file)) continue;
    try {
      std::string theirs;
      for (const auto& c : ck.certs_in(file, Errc::ca)) theirs += c.to_pem();
      if (theirs != ca_pem_set)
        ck.add(Severity::error, file, "ca-mismatch", "this member trusts a different CA than " + ck.show(report.ca_file),
               "x509: certificate signed by unknown authority (its peers log: remote error: tls: bad certificate)");
    } catch (const Error& e) {
      ck.add(Severity::error, file, "ca-unreadable", e.message(), "etcd does not start");
    }
  }

  // The CRL.
  report.crl_file = !opt.crl_file.empty() ? opt.crl_file : [&] {
    CrlPaths p = CrlPaths::for_ca(report.ca_file);
    return first_existing({p.der, p.pem});
  }();
  if (!report.crl_file.empty()) {
    try {
      ck.crl = Crl::from_bytes(read_text_file(report.crl_file, Errc::input), report.crl_file);
      for (const auto& r : ck.crl->revoked()) ck.revoked_serials->insert(r.serial);
      bool signed_ok = std::any_of(ck.ca_certs.begin(), ck.ca_certs.end(), [&](const Certificate& c) { return ck.crl->signed_by(c); });
      if (!signed_ok)
        ck.add(Severity::error, report.crl_file, "crl-signature", "the CRL is not signed by the trusted CA", "");
      if (auto next = ck.crl->next_update(); next && *next <= ck.now)
        ck.add(Severity::warning, report.crl_file, "crl-stale",
               "the CRL's next update was due " + format_rfc3339(*next) + " (" + format_time_left(*next, ck.now) + "); run etcd-pki crl",
               "none: etcd checks neither nextUpdate nor the CRL's signature; other TLS clients may reject a stale CRL");
    } catch (const Error& e) {
      ck.add(Severity::error, report.crl_file, "crl-unreadable", e.message(),
             "etcd started with this CRL rejects every client: rejected connection (error \"asn1: structure error: ...\")");
    }
  }

  if (leaves.empty()) ck.add(Severity::warning, path, "no-certificates", "no server, peer or client certificate found", "");
  // The leaves on all cores, each into its own report; merged in order.
  std::vector<VerifyReport> parts(leaves.size(), VerifyReport{report.path, report.ca_file, report.crl_file, {}, {}});
  detail::parallel_for(leaves.size(), opt.threads, [&](size_t i) {
    Checker leaf_ck{opt, parts[i], ck.now, ck.ca_certs, ck.crl, ck.revoked_serials, ck.parsed, ck.base};
    leaf_ck.check_leaf(leaves[i]);
  });
  for (auto& part : parts) {
    for (auto& c : part.checked) report.checked.push_back(std::move(c));
    for (auto& f : part.findings) report.findings.push_back(std::move(f));
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return report;
}

std::string render_text(const VerifyReport& r) {
  std::string out;
  for (const auto& f : r.findings) {
    out += std::string(to_string(f.severity)) + ": " + f.file + ": " + f.rule + ": " + f.message + "\n";
    if (!f.etcd_error.empty()) out += "    etcd: " + f.etcd_error + "\n";
  }
  out += std::to_string(r.checked.size()) + " certificate(s) checked against " + r.ca_file +
         (r.crl_file.empty() ? "" : " and " + r.crl_file) + ": " + std::to_string(r.count(Severity::error)) + " error(s), " +
         std::to_string(r.count(Severity::warning)) + " warning(s)\n";
  return out;
}

std::string render_json(const VerifyReport& r) {
  Json j;
  j["path"] = r.path;
  j["ca_file"] = r.ca_file;
  j["crl_file"] = r.crl_file;
  j["checked"] = r.checked;
  j["errors"] = r.count(Severity::error);
  j["warnings"] = r.count(Severity::warning);
  Json list = Json::array();
  for (const auto& f : r.findings)
    list.push_back({{"severity", to_string(f.severity)}, {"file", f.file}, {"rule", f.rule}, {"message", f.message}, {"etcd_error", f.etcd_error}});
  j["findings"] = list;
  return detail::json_text(j) + "\n";
}

}  // namespace etcd_pki
