#include "etcd_pki/verify.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "etcd_pki/files.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/cluster.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_config.hpp"
#include "go_x509.hpp"
#include "json_fields.hpp"
#include "layout.hpp"
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

std::string lower_hex(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string norm(const std::string& p) { return fs::path(p).lexically_normal().string(); }

// `p` as shown in findings: relative to `base`. Lexically: renewed files are symlinks, and the
// name to show is the link's, not its target's.
std::string show(const std::string& base, const std::string& p) {
  std::error_code ec;
  auto rel = fs::absolute(p, ec).lexically_normal().lexically_relative(fs::absolute(base, ec).lexically_normal());
  return ec || rel.empty() || rel.string().rfind("..", 0) == 0 ? p : rel.string();
}

// The findings of one step (listing the folder, loading the trust, checking one leaf), each
// into its own list: nothing is shared between the steps that run in parallel.
struct Findings {
  const std::string& base;  // shown paths are relative to it
  std::vector<Finding> list;

  void add(Severity s, const std::string& file, std::string rule, std::string message, std::string etcd_error = {}) {
    list.push_back({s, show(base, file), std::move(rule), std::move(message), std::move(etcd_error)});
  }
};

// ---- Step 1: the folder listing. What is checked, and each member's trust file.

// A certificate to check in the roles etcd uses it for.
struct Leaf {
  std::string cert_path, key_path;
  std::set<detail::Role> roles;        // Role::server, Role::peer, Role::client
  std::vector<std::string> addresses;  // the cert must cover these
  std::vector<Certificate> certs;      // the file's certificates, when already read to find the leaf
};

// "peer+server": the roles in the order the messages have always named them (alphabetical).
std::string role_names(const std::set<detail::Role>& roles) {
  std::string out;
  for (detail::Role r : {detail::Role::client, detail::Role::peer, detail::Role::server})
    if (roles.count(r)) out += (out.empty() ? "" : "+") + std::string(detail::to_string(r));
  return out;
}

// Certificates by file content: every member folder holds the same ca.pem, parsed once. Not
// thread-safe: used while the folder is listed and the trust loaded, before the parallel checks.
class CertCache {
 public:
  std::vector<Certificate> certs_in(const std::string& file, Errc category = Errc::input) {
    std::string data = read_text_file(file, category);
    auto it = parsed_.find(data);
    if (it == parsed_.end())
      it = parsed_.emplace(data, Certificate::all_from_pem(data, file, category, Certificate::KeyDecoding::when_needed)).first;
    return it->second;
  }

 private:
  std::map<std::string, std::vector<Certificate>> parsed_;
};

// What the listing found.
struct Folder {
  std::vector<Leaf> leaves;                                     // by path
  std::vector<std::pair<std::string, std::string>> member_cas;  // member folder, its trusted CA file ("" when none)
  std::string cluster_ca;                                       // a cluster output folder's CA certificate ("" when none)
  std::vector<std::string> member_crls;                         // each member folder's copy of the CRL, where it has one
};

// The leaves a member's etcd config names (client-transport-security -> server,
// peer-transport-security -> peer), with the addresses of its URLs; `conf_ca` gets its trust file.
std::vector<Leaf> config_leaves(const std::string& dir, const VerifyOptions& opt, std::string& conf_ca, Findings& out) {
  std::vector<Leaf> leaves;
  std::string conf_path = dir + "/" + std::string(detail::etcd_config_file);
  if (!exists(conf_path)) return leaves;
  auto conf = detail::read_etcd_yaml(read_text_file(conf_path, Errc::input));
  auto add = [&](const char* section, detail::Role role, std::vector<std::string> addrs) {
    std::string cert = conf[std::string(section) + ".cert-file"];
    if (cert.empty()) {
      out.add(Severity::error, conf_path, "config", std::string(section) + ": no cert-file", "");
      return;
    }
    std::string key = conf[std::string(section) + ".key-file"];
    std::string ca = conf[std::string(section) + ".trusted-ca-file"];
    if (!ca.empty() && conf_ca.empty()) conf_ca = detail::resolve_in(dir, ca);
    std::string cert_path = detail::resolve_in(dir, cert);
    Leaf l{cert_path, key.empty() ? detail::key_path_for_cert(cert_path) : detail::resolve_in(dir, key), {role}, std::move(addrs), {}};
    for (const auto& a : opt.addresses) l.addresses.push_back(a);
    if (!exists(l.cert_path)) {
      out.add(Severity::error, conf_path, "missing-file", std::string(section) + ".cert-file " + cert + " is not in the folder",
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
    leaves.push_back(std::move(l));
  };
  auto hosts = [&](std::initializer_list<const char*> keys) {
    std::vector<std::string> found;
    for (const char* k : keys)
      for (auto& h : detail::url_hosts(conf[k]))
        if (std::find(found.begin(), found.end(), h) == found.end()) found.push_back(h);
    return found;
  };
  if (conf.count("client-transport-security.cert-file"))
    add("client-transport-security", detail::Role::server, hosts({"advertise-client-urls", "listen-client-urls"}));
  if (conf.count("peer-transport-security.cert-file"))
    add("peer-transport-security", detail::Role::peer, hosts({"initial-advertise-peer-urls", "listen-peer-urls"}));
  return leaves;
}

// The certificate files of `dir` (not keys, not hidden), sorted.
std::vector<std::string> certificate_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (detail::is_certificate_name(e.path().filename().string())) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// Every other leaf certificate of a member folder (and its etcd/ subfolder), in the roles its
// name and usages say (detail::guess_role), appended to `leaves`.
void named_leaves(const std::string& dir, const VerifyOptions& opt, CertCache& cache, std::vector<Leaf>& leaves) {
  for (const std::string& d : detail::member_cert_dirs(dir)) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (const auto& f : certificate_files(d)) {
      if (std::any_of(leaves.begin(), leaves.end(), [&](const Leaf& l) { return norm(l.cert_path) == norm(f); })) continue;
      std::vector<Certificate> certs;
      try {
        certs = cache.certs_in(f);
      } catch (const Error&) {
        continue;  // not a certificate (a CRL in PEM, a key with another name)
      }
      if (certs.empty() || certs.front().is_ca()) continue;
      detail::Role role = detail::guess_role(f, certs.front());
      Leaf l{f, detail::key_path_for_cert(f), {role}, opt.addresses, certs};
      if (role == detail::Role::server_peer) l.roles = {detail::Role::server, detail::Role::peer};
      else if (role == detail::Role::leaf) l.roles = {detail::Role::client};
      leaves.push_back(std::move(l));
    }
  }
}

// A change that an interrupted run left (transaction.hpp) in the folder or its subfolders: the
// files may be half old, half new until it is completed.
void check_pending_changes(const std::string& path, Findings& out) {
  std::vector<std::string> dirs{path};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_directory(ec) && e.path().filename().string().front() != '.') dirs.push_back(e.path().string());
  for (const auto& d : dirs)
    if (std::string journal = d + "/" + std::string(detail::journal_file); exists(journal))
      out.add(Severity::error, journal, "interrupted-change",
              "an interrupted change is pending: some files may be old and others new until the next etcd-pki command on the "
              "folder (or repair) completes it",
              "");
}

// A cluster output folder (ca/ or member folders, as made with its own CA or an existing one):
// each member folder and the clients; anything else is one member's folder.
Folder list_folder(const std::string& path, const VerifyOptions& opt, CertCache& cache, Findings& out) {
  Folder folder;
  bool cluster = detail::is_cluster_dir(path);
  if (auto ca = find_cluster_ca(path)) folder.cluster_ca = ca->cert;
  for (const auto& d : cluster ? detail::member_dirs(path) : std::vector<std::string>{path}) {
    std::string conf_ca;
    std::vector<Leaf> leaves = config_leaves(d, opt, conf_ca, out);
    named_leaves(d, opt, cache, leaves);
    for (auto& l : leaves) folder.leaves.push_back(std::move(l));
    folder.member_cas.push_back({d, conf_ca.empty() ? detail::find_member_ca(d) : conf_ca});
    std::string crl = detail::member_crl_path(d);
    if (exists(crl)) folder.member_crls.push_back(crl);
    else if (exists(d + "/" + std::string(detail::etcd_env_file)))
      out.add(Severity::error, crl, "missing-file", "etcd.env names this CRL, but it is not in the folder",
              "etcd rejects every connection: open " + crl + ": no such file or directory");
  }
  if (cluster)
    for (const auto& f : certificate_files(detail::ClusterLayout::make(Layout{}, path).clients_dir())) {
      if (detail::is_clients_ca_file(f)) {  // the clients' trust file: must be the members' CA too
        folder.member_cas.push_back({fs::path(f).parent_path().string(), f});
        continue;
      }
      folder.leaves.push_back(Leaf{f, detail::key_path_for_cert(f), {detail::Role::client}, {}, {}});
    }
  std::sort(folder.leaves.begin(), folder.leaves.end(), [](auto& a, auto& b) { return a.cert_path < b.cert_path; });
  check_pending_changes(path, out);
  return folder;
}

// ---- Step 2: the trust every leaf is checked against: built once by load_trust, then const (the
// workers share it read-only).

struct TrustContext {
  std::string base;  // shown paths are relative to it
  TimePoint now;
  Seconds warn_within;
  std::string ca_file, crl_file;
  std::vector<Certificate> ca_certs;      // trusted roots and intermediates
  std::vector<Certificate> intermediates; // the CAs under them that the leaf files carry (find_intermediates)
  std::optional<Crl> crl;
  std::set<std::string> revoked_serials;  // of `crl`
};

void check_time(const TrustContext& t, const Certificate& c, const std::string& file, const std::string& what, Findings& out) {
  if (auto p = detail::time_problem(c, t.now, t.warn_within, what)) out.add(p->severity, file, p->rule, p->message, p->etcd_error);
}

// The trusted CA file: --ca, else the cluster's ca/ca.pem, else the (first) member's trust file.
std::string trust_file(const std::string& path, const VerifyOptions& opt, const Folder& folder) {
  if (!opt.ca_file.empty()) return opt.ca_file;
  if (!folder.cluster_ca.empty()) return folder.cluster_ca;
  for (const auto& [dir, file] : folder.member_cas)
    if (!file.empty()) return file;
  throw Error(Errc::usage, "no CA certificate found in the folder (" + detail::trust_file_names() + ")", path).with_hint(Hint::trust);
}

// Each member must trust that same CA (etcd reads it at start; a different one rejects its peers).
void check_member_cas(const TrustContext& t, const Folder& folder, CertCache& cache, Findings& out) {
  // As sets: during a CA rotation the members trust the new CA and the old one, in either order.
  std::set<std::string> ca_pem_set;
  for (const auto& c : t.ca_certs) ca_pem_set.insert(c.to_pem());
  for (const auto& [dir, file] : folder.member_cas) {
    if (file.empty() || norm(file) == norm(t.ca_file)) continue;
    try {
      std::set<std::string> theirs;
      for (const auto& c : cache.certs_in(file, Errc::ca)) theirs.insert(c.to_pem());
      if (theirs != ca_pem_set)
        out.add(Severity::error, file, "ca-mismatch", "this member trusts a different CA than " + show(t.base, t.ca_file),
                "x509: certificate signed by unknown authority (its peers log: remote error: tls: bad certificate)");
    } catch (const Error& e) {
      out.add(Severity::error, file, "ca-unreadable", e.message(), "etcd does not start");
    }
  }
}

// The intermediate CAs the leaves are issued under (a cluster signed by an intermediate): those
// in the first leaf file that holds any, each issued under the trusted CA. They sign the CRL and
// tell a leaf file that lacks them (chain-incomplete) from one signed by another CA. Only the
// first few leaf files are read (the others are read by their checks, in parallel): every leaf
// file of such a cluster carries them.
std::vector<Certificate> find_intermediates(const std::vector<Certificate>& anchors, const Folder& folder, CertCache& cache) {
  constexpr size_t kLeavesLooked = 8;
  std::vector<Certificate> found;
  for (size_t n = 0; n < folder.leaves.size() && n < kLeavesLooked; ++n) {
    const Leaf& leaf = folder.leaves[n];
    std::vector<Certificate> certs;
    try {
      certs = cache.certs_in(leaf.cert_path);
    } catch (const Error&) {
      continue;  // reported with the leaf
    }
    for (size_t i = 1; i < certs.size(); ++i)
      if (certs[i].is_ca() && !certs[i].self_signed() &&
          !detail::check_chain(anchors, certs[i], {certs.begin() + 1, certs.end()}).chain.empty())
        found.push_back(certs[i]);
    if (!found.empty()) break;
  }
  return found;
}

// The CRL: --crl, else the one next to the CA when there is one.
void load_crl(TrustContext& t, const VerifyOptions& opt, Findings& out) {
  CrlPaths next_to_ca = CrlPaths::for_ca(t.ca_file);
  t.crl_file = !opt.crl_file.empty()      ? opt.crl_file
               : exists(next_to_ca.der) ? next_to_ca.der
               : exists(next_to_ca.pem) ? next_to_ca.pem
                                        : "";
  if (t.crl_file.empty()) return;
  try {
    t.crl = Crl::from_bytes(read_text_file(t.crl_file, Errc::input), t.crl_file);
    for (const auto& r : t.crl->revoked()) t.revoked_serials.insert(r.serial);
    if (!std::any_of(t.ca_certs.begin(), t.ca_certs.end(), [&](const Certificate& c) { return t.crl->signed_by(c); }) &&
        !std::any_of(t.intermediates.begin(), t.intermediates.end(), [&](const Certificate& c) { return t.crl->signed_by(c); }))
      out.add(Severity::error, t.crl_file, "crl-signature", "the CRL is not signed by the trusted CA or an intermediate CA of the leaves", "");
    if (auto next = t.crl->next_update(); next && *next <= t.now)
      out.add(Severity::warning, t.crl_file, "crl-stale",
              "the CRL's next update was due " + format_rfc3339(*next) + " (" + format_time_left(*next, t.now) + "); run etcd-pki crl",
              "none: etcd checks neither nextUpdate nor the CRL's signature; other TLS clients may reject a stale CRL");
  } catch (const Error& e) {
    out.add(Severity::error, t.crl_file, "crl-unreadable", e.message(),
            "etcd started with this CRL rejects every client: rejected connection (error \"asn1: structure error: ...\")");
  }
}

// Each member folder's copy of the CRL: readable, and not older than the CA's (etcd checks what
// the member's copy says; a revocation it misses is not in effect on that member).
void check_member_crls(const TrustContext& t, const Folder& folder, Findings& out) {
  for (const auto& file : folder.member_crls) {
    if (norm(file) == norm(t.crl_file)) continue;
    try {
      Crl copy = Crl::from_bytes(read_text_file(file, Errc::input), file);
      if (!t.crl || copy.sha256_fingerprint() == t.crl->sha256_fingerprint()) continue;
      int missing = 0;
      for (const auto& r : t.revoked_serials) missing += !copy.is_revoked(r);
      if (copy.this_update() < t.crl->this_update() || missing > 0)
        out.add(Severity::warning, file, "crl-outdated",
                "older than " + show(t.base, t.crl_file) + " (this update " + format_rfc3339(copy.this_update()) + ", the CA's " +
                    format_rfc3339(t.crl->this_update()) + "): " + std::to_string(missing) +
                    " revocation(s) not in effect on this member; copy the CA's CRL here (etcd-pki revoke and crl do, with --dir)",
                missing ? "none: the member accepts the certificates revoked since" : "none");
    } catch (const Error& e) {
      out.add(Severity::error, file, "crl-unreadable", e.message(),
              "etcd started with this CRL rejects every client: rejected connection (error \"asn1: structure error: ...\")");
    }
  }
}

TrustContext load_trust(const std::string& path, const VerifyOptions& opt, const Folder& folder, CertCache& cache, Findings& out) {
  TrustContext t{path, now_or(opt.now), opt.warn_within, trust_file(path, opt, folder), {}, {}, {}, {}, {}};
  t.ca_certs = cache.certs_in(t.ca_file, Errc::ca);
  if (t.ca_certs.empty()) throw Error(Errc::ca, "no certificate in the CA file", t.ca_file);
  // A CA rotation under way (rotate.hpp): the new CA in ca.next/ is trusted too.
  if (opt.ca_file.empty() && !folder.cluster_ca.empty()) {
    std::string next = detail::ClusterLayout::make(Layout{}, path).next_ca_dir() + "/" + fs::path(folder.cluster_ca).filename().string();
    if (exists(next))
      for (auto& c : cache.certs_in(next, Errc::ca)) t.ca_certs.push_back(std::move(c));
  }
  for (const auto& c : t.ca_certs) {
    if (!c.is_ca())
      out.add(Severity::error, t.ca_file, "ca-not-ca",
              "the trusted CA file holds a certificate that is not a CA: " + c.subject_string(),
              "x509: certificate signed by unknown authority");
    check_time(t, c, t.ca_file, "CA certificate", out);
  }
  check_member_cas(t, folder, cache, out);
  t.intermediates = find_intermediates(t.ca_certs, folder, cache);
  load_crl(t, opt, out);
  check_member_crls(t, folder, out);
  return t;
}

// ---- Step 3: the checks of one leaf, pure functions of the trust and the leaf.

using detail::kIncompatibleKeyUsage;
using detail::has_eku;

void check_key_file(const TrustContext& t, const std::string& key_path, const Certificate& cert, Findings& out) {
  struct stat st;
  if (::stat(key_path.c_str(), &st) != 0) {
    out.add(Severity::error, key_path, "key-missing", "the private key of " + show(t.base, key_path) + "'s certificate is missing",
            "open " + key_path + ": no such file or directory (etcd does not start)");
    return;
  }
  mode_t m = st.st_mode & 0777;
  if (m & 0077) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
    out.add((m & 0004) ? Severity::error : Severity::warning, key_path, "key-permissions",
            std::string("private key mode is ") + buf + ((m & 0004) ? " (readable by every user)" : " (wider than 0600)") +
                "; chmod 600 it",
            "none: etcd starts, but other users on the host can read the key");
  }
  try {
    std::string pem = read_text_file(key_path, Errc::key);
    if (pem.find("ENCRYPTED") != std::string::npos) {
      out.add(Severity::error, key_path, "key-encrypted", "the private key is encrypted; etcd cannot read encrypted key files",
              "tls: failed to parse private key");
      return;
    }
    KeyPair key = KeyPair::from_pem(pem, key_path);
    // As DER: the leaf's key is never decoded (Certificate::KeyDecoding::when_needed).
    if (!detail::public_key_matches(X509_get_X509_PUBKEY(detail_certificate_fields(cert)), key.native_handle()))
      out.add(Severity::error, key_path, "key-mismatch", "the private key does not belong to the certificate next to it",
              "tls: private key does not match public key");
  } catch (const Error& e) {
    out.add(Severity::error, key_path, "key-unreadable", e.message(), "tls: failed to find any PEM data in key input");
  }
}

// The chain of `cert` to the trusted CA, with the file's extra certificates as intermediates.
// Returns the verified chain (leaf first), empty on failure (a finding is added).
// Issued by `issuer`: its name and its signature.
bool issued_by(const Certificate& cert, const Certificate& issuer) {
  return cert.issuer_string() == issuer.subject_string() && cert.signed_by(issuer);
}

// The file's certificates in the order etcd sends them: leaf, then each one's issuer. Go takes
// them in any order; other TLS stacks (and humans) expect this one.
void check_chain_order(const std::vector<Certificate>& certs, const std::string& file, Findings& out) {
  for (size_t i = 1; i < certs.size(); ++i)
    if (!issued_by(certs[i - 1], certs[i])) {
      out.add(Severity::warning, file, "chain-order",
              "the file's certificates are not in chain order: certificate " + std::to_string(i + 1) + " (" +
                  certs[i].subject_string() + ") did not issue certificate " + std::to_string(i) + " (" +
                  certs[i - 1].subject_string() + "); write the leaf, then its issuer, then that one's",
              "none (Go builds the chain in any order); stricter TLS clients may reject it");
      return;
    }
}

// Where the way up from the leaf stops when neither the file nor the trust holds the next issuer:
// the certificate whose issuer is missing, or nullopt when every issuer up to an anchor is there.
std::optional<Certificate> missing_issuer_of(const TrustContext& t, const Certificate& cert, const std::vector<Certificate>& extra) {
  Certificate at = cert;
  for (size_t step = 0; step <= extra.size(); ++step) {
    if (std::any_of(t.ca_certs.begin(), t.ca_certs.end(), [&](const Certificate& a) { return issued_by(at, a); })) return std::nullopt;
    auto up = std::find_if(extra.begin(), extra.end(), [&](const Certificate& c) { return issued_by(at, c); });
    if (up == extra.end() || at.self_signed()) return at;
    at = *up;
  }
  return std::nullopt;  // a loop: the chain check reports it
}

std::vector<Certificate> check_chain(const TrustContext& t, const Certificate& cert, const std::vector<Certificate>& extra,
                                     const std::string& file, Findings& out) {
  detail::ChainCheck got = detail::check_chain(t.ca_certs, cert, extra);
  // Incomplete rather than signed by another CA: the file holds part of the chain, or the missing
  // issuer is an intermediate other leaf files carry.
  auto missing = got.chain.empty() ? missing_issuer_of(t, cert, extra) : std::nullopt;
  if (missing && !missing->self_signed() &&
      (missing->sha256_fingerprint() != cert.sha256_fingerprint() ||
       std::any_of(t.intermediates.begin(), t.intermediates.end(), [&](const Certificate& c) { return issued_by(*missing, c); })))
    out.add(Severity::error, file, "chain-incomplete",
            "the chain to the trusted CA " + (t.ca_certs.empty() ? std::string() : t.ca_certs.front().subject_string()) +
                " is incomplete: the issuer of " + (missing->is_ca() ? "intermediate " : "") + missing->subject_string() + " (" +
                missing->issuer_string() + ") is neither in the file nor trusted; append the intermediate CA certificates after "
                "the leaf (the CA's chain file without its root)",
            detail::kUnknownAuthority + " (the other side logs: remote error: tls: bad certificate)");
  else if (got.chain.empty())
    out.add(Severity::error, file, "chain",
            std::string("not signed by the trusted CA ") + (t.ca_certs.empty() ? "" : t.ca_certs.front().subject_string()) + " (" +
                got.failure + "; issuer is " + cert.issuer_string() + ")",
            detail::kUnknownAuthority + " (the other side logs: remote error: tls: bad certificate)");
  return got.chain;
}

// Go's x509.HostnameError texts: an IP is compared with the IP SANs, a name with the DNS SANs.
void check_sans(const Certificate& c, const std::vector<std::string>& addresses, const std::string& file, const std::string& role,
                Findings& out) {
  Sans sans = c.sans();
  for (const auto& a : addresses)
    if (auto go = detail::hostname_error(sans, a))
      out.add(Severity::error, file, "san-missing", role + " certificate does not cover " + (parse_ip(a) ? "IP " : "host name ") + a, *go);
}

// The extended key usages each role needs, and key encipherment on a key that is not RSA.
void check_usages(const Certificate& cert, const std::set<detail::Role>& roles, const std::string& file, Findings& out) {
  auto ekus = cert.ext_key_usage();
  bool server_auth = has_eku(ekus, eku::server_auth), client_auth = has_eku(ekus, eku::client_auth);
  if (roles.count(detail::Role::server)) {
    if (!server_auth)
      out.add(Severity::error, file, "server-eku", "server certificate lacks \"server auth\"", kIncompatibleKeyUsage + " (on every client)");
    if (!client_auth)
      out.add(Severity::error, file, "server-eku",
              "server certificate lacks \"client auth\": etcd's gRPC gateway dials its own member with it",
              kIncompatibleKeyUsage + " (in the member's log; clients then see: remote error: tls: bad certificate)");
  }
  if (roles.count(detail::Role::peer)) {
    if (!server_auth)
      out.add(Severity::error, file, "peer-eku", "peer certificate lacks \"server auth\"", kIncompatibleKeyUsage + " (on the dialing member)");
    if (!client_auth)
      out.add(Severity::error, file, "peer-eku", "peer certificate lacks \"client auth\": members present it when dialing each other",
              "rejected connection from ...: tls: failed to verify client certificate: " + kIncompatibleKeyUsage +
                  " (the dialing member logs: remote error: tls: bad certificate)");
  }
  if (roles.count(detail::Role::client) && !client_auth)
    out.add(Severity::error, file, "client-eku", "client certificate lacks \"client auth\"",
            "remote error: tls: bad certificate (the member logs: " + kIncompatibleKeyUsage + ")");
  if (auto kuse = cert.key_usage(); kuse && (*kuse & ku::key_encipherment)) {
    KeySpec spec{};
    try {
      spec = cert.public_key().spec();
    } catch (const Error&) {
    }
    if (spec.algo != KeyAlgo::rsa)
      out.add(Severity::warning, file, "ec-key-encipherment",
              "\"key encipherment\" on a " + spec.to_string() + " key: it only applies to RSA",
              "none (Go ignores it); stricter TLS stacks may refuse the certificate");
  }
}

// The issuers of the verified chain: an intermediate out of its validity, a leaf outliving its CA,
// an intermediate whose EKU does not cover the leaf's.
void check_issuers(const TrustContext& t, const Certificate& cert, const std::vector<Certificate>& chain, const std::string& file,
                   Findings& out) {
  auto ekus = cert.ext_key_usage();
  for (size_t i = 1; i < chain.size(); ++i) {
    const Certificate& ca = chain[i];
    if (i + 1 < chain.size()) check_time(t, ca, file, "intermediate CA " + ca.subject_string(), out);  // the anchor: load_trust
    if (i == 1 && cert.not_after() > ca.not_after())
      out.add(Severity::warning, file, "outlives-ca",
              "valid until " + format_rfc3339(cert.not_after()) + ", after its CA expires (" + format_rfc3339(ca.not_after()) + ")",
              "from " + format_rfc3339(ca.not_after()) + ": x509: certificate has expired or is not yet valid (the CA)");
    auto ca_ekus = ca.ext_key_usage();
    if (ca_ekus.empty() || ca.self_signed()) continue;
    for (const char* need : {eku::server_auth, eku::client_auth}) {
      bool leaf_has = std::find(ekus.begin(), ekus.end(), need) != ekus.end();
      if (leaf_has && !has_eku(ca_ekus, need))
        out.add(Severity::error, file, "intermediate-eku",
                "intermediate CA " + ca.subject_string() + " does not allow \"" +
                    (need == eku::server_auth ? "server auth" : "client auth") +
                    "\", which this certificate needs (a CA's EKU must be a superset of its leaves')",
                kIncompatibleKeyUsage);
    }
  }
}

// A serial as etcd prints it: fmt's %x of the serial's big-endian bytes, two digits per byte, so
// the first byte keeps its leading zero ("0a1b2c", where normalize_serial_hex says "A1B2C").
std::string etcd_serial(const Certificate& cert) { return lower_hex(openssl_serial_hex(normalize_serial_hex(cert.serial_hex()))); }

void check_revoked(const TrustContext& t, const Certificate& cert, const std::string& file, Findings& out) {
  if (!t.revoked_serials.count(normalize_serial_hex(cert.serial_hex()))) return;
  out.add(Severity::error, file, "revoked", "revoked in " + show(t.base, t.crl_file) + " (serial " + cert.serial_hex() + ")",
          "with --client-crl-file/--peer-crl-file the member logs: rejected connection (error \"transport: certificate serial " +
              etcd_serial(cert) + " revoked\"); etcdctl only says: context deadline exceeded");
}

// The leaf's certificates: those read while listing, else from its file (nullopt: a finding says why).
std::optional<std::vector<Certificate>> leaf_certs(const Leaf& leaf, Findings& out) {
  const std::string& file = leaf.cert_path;
  std::vector<Certificate> certs = leaf.certs;
  if (certs.empty()) try {
      certs = Certificate::all_from_pem(read_text_file(file, Errc::input), file, Errc::input, Certificate::KeyDecoding::when_needed);
    } catch (const Error& e) {
      out.add(Severity::error, file, "unreadable", e.message(), "open " + file + ": " + e.message());
      return std::nullopt;
    }
  if (certs.empty()) {
    out.add(Severity::error, file, "unreadable", "no certificate in the file",
            "tls: failed to find any PEM data in certificate input");
    return std::nullopt;
  }
  return certs;
}

std::vector<Finding> check_leaf(const TrustContext& t, const Leaf& leaf) {
  Findings out{t.base, {}};
  const std::string& file = leaf.cert_path;
  auto certs = leaf_certs(leaf, out);
  if (!certs) return std::move(out.list);
  const Certificate& cert = certs->front();
  std::vector<Certificate> extra(certs->begin() + 1, certs->end());
  std::string roles = role_names(leaf.roles);
  if (cert.is_ca())
    out.add(Severity::error, file, "leaf-is-ca", "a CA certificate is used as the " + roles + " certificate", kIncompatibleKeyUsage);
  auto chain = check_chain(t, cert, extra, file, out);
  check_key_file(t, leaf.key_path, cert, out);
  check_time(t, cert, file, roles + " certificate", out);
  check_usages(cert, leaf.roles, file, out);
  if (leaf.roles.count(detail::Role::server) || leaf.roles.count(detail::Role::peer))
    check_sans(cert, leaf.addresses, file, roles, out);
  check_issuers(t, cert, chain, file, out);
  check_chain_order(*certs, file, out);
  check_revoked(t, cert, file, out);
  return std::move(out.list);
}

}  // namespace

VerifyReport verify_path(const std::string& path, const VerifyOptions& opt) {
  ossl::ClearErrors clear;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(Errc::input, "no such folder", path);
  if (!fs::is_directory(path, ec)) throw Error(Errc::usage, "not a folder (give a member bundle folder or a cluster output folder)", path);
  Findings found{path, {}};
  CertCache cache;
  const Folder folder = list_folder(path, opt, cache, found);
  const TrustContext trust = load_trust(path, opt, folder, cache, found);
  if (folder.leaves.empty()) found.add(Severity::warning, path, "no-certificates", "no server, peer or client certificate found", "");

  // The leaves on all cores, each into its own list; concatenated in leaf order.
  std::vector<std::vector<Finding>> parts(folder.leaves.size());
  detail::parallel_for(folder.leaves.size(), opt.threads, [&](size_t i) { parts[i] = check_leaf(trust, folder.leaves[i]); });
  VerifyReport report{path, trust.ca_file, trust.crl_file, {}, std::move(found.list)};
  for (size_t i = 0; i < parts.size(); ++i) {
    report.checked.push_back(show(trust.base, folder.leaves[i].cert_path));
    for (auto& f : parts[i]) report.findings.push_back(std::move(f));
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
