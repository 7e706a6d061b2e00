#include "etcd_pki/cluster.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "etcd_pki/bundle.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/pipeline.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_pki/signer.hpp"
#include "json_fields.hpp"
#include "parallel.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

using detail::Fields;
using detail::Json;

// ---------------------------------------------------------------------------------------------
// Spec
// ---------------------------------------------------------------------------------------------

std::string MemberSpec::url_host() const {
  if (!ips.empty()) return ips.front().find(':') != std::string::npos ? "[" + ips.front() + "]" : ips.front();
  return dns.empty() ? std::string() : dns.front();
}

namespace {

bool safe_file_name(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s != "ca" && s != "clients" &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; });
}

// "https://10.0.0.1:2380", "https://[fd00::1]:2380", "https://etcd-1.example.com:2380"
// `first`: the member's first URL sets its peer port; later URLs of the same member must use it.
void add_url(MemberSpec& m, std::string_view url, bool first, const std::string& source, const std::string& field) {
  auto fail = [&](const std::string& why) { return Error(Errc::input, why + " in \"" + std::string(url) + "\"", source, field); };
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) rest.remove_prefix(8);
  else if (rest.rfind("http://", 0) == 0) throw fail("plain http URL (etcd-pki sets up TLS: use https://)");
  else throw fail("expected an https:// URL");
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") throw fail("unexpected path");
    rest = rest.substr(0, slash);
  }
  std::string host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) throw fail("missing ']'");
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw fail("expected ':PORT' after ']'");
      port = rest.substr(1);
    }
    if (!parse_ip(host) || host.find(':') == std::string::npos) throw fail("invalid IPv6 address \"" + host + "\"");
  } else {
    auto colon = rest.rfind(':');
    host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    // "fd00::1:2380" is itself an IPv6 address: without brackets the port cannot be told apart.
    if (host.find(':') != std::string::npos) throw fail("an IPv6 address in a URL needs brackets (https://[fd00::1]:2380)");
  }
  if (host.empty()) throw fail("missing host");
  int p = 2380;
  if (!port.empty()) {
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) || port.size() > 5)
      throw fail("invalid port");
    p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) throw fail("invalid port");
  }
  if (first) m.peer_port = p;
  else if (p != m.peer_port)
    throw fail("member \"" + m.name + "\" already has peer port " + std::to_string(m.peer_port) +
               "; all peer URLs of one member must use the same port");
  if (auto ip = parse_ip(host)) {
    std::string canon = ip->to_string();
    if (std::find(m.ips.begin(), m.ips.end(), canon) == m.ips.end()) m.ips.push_back(canon);
  } else {
    if (auto problem = dns_name_problem(host)) throw fail("invalid host name: " + *problem);
    if (std::find(m.dns.begin(), m.dns.end(), host) == m.dns.end()) m.dns.push_back(host);
  }
}

std::vector<std::string> dedupe(std::vector<std::string> v) {
  std::vector<std::string> out;
  for (auto& s : v)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  return out;
}

}  // namespace

ClusterSpec ClusterSpec::from_initial_cluster(std::string_view text, const std::string& source) {
  ClusterSpec spec;
  size_t start = 0;
  size_t index = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    std::string field = "entry " + std::to_string(++index);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw Error(Errc::input, "expected NAME=https://HOST:PORT, got \"" + std::string(item) + "\"", source, field);
    std::string name(item.substr(0, eq));
    auto it = std::find_if(spec.members.begin(), spec.members.end(), [&](auto& m) { return m.name == name; });
    bool first = it == spec.members.end();
    if (first) {
      spec.members.push_back(MemberSpec{});
      spec.members.back().name = name;
      it = spec.members.end() - 1;
    }
    add_url(*it, item.substr(eq + 1), first, source, field);
  }
  if (spec.members.empty()) throw Error(Errc::input, "no members", source);
  return spec;
}

ClusterSpec ClusterSpec::from_json(std::string_view text, const std::string& source, const std::string& base_dir) {
  Json j = detail::parse_json(text, source, Errc::input);
  Fields top(j, source, "", Errc::input,
             {"members", "clients", "key", "expiry", "ca_expiry", "names", "ca", "cluster_token"});
  ClusterSpec spec;
  const Json* members = top.get("members");
  if (!members || !members->is_array() || members->empty())
    throw top.error("members", "expected a non-empty array of members");
  for (size_t i = 0; i < members->size(); ++i) {
    Fields m((*members)[i], source, "members[" + std::to_string(i) + "]", Errc::input,
             {"name", "ips", "dns", "client_addresses", "peer_port", "client_port"});
    MemberSpec ms;
    ms.name = m.string("name").value_or("");
    for (auto& ip : m.strings("ips").value_or(std::vector<std::string>{})) {
      auto parsed = parse_ip(ip);
      if (!parsed) throw m.error("ips", "invalid IP address \"" + ip + "\"");
      ms.ips.push_back(parsed->to_string());
    }
    ms.dns = m.strings("dns").value_or(std::vector<std::string>{});
    ms.client_addresses = m.strings("client_addresses").value_or(std::vector<std::string>{});
    auto port = [&](const char* f, int def) {
      int64_t p = m.integer(f).value_or(def);
      if (p < 1 || p > 65535) throw m.error(f, "invalid port " + std::to_string(p));
      return static_cast<int>(p);
    };
    ms.peer_port = port("peer_port", 2380);
    ms.client_port = port("client_port", 2379);
    spec.members.push_back(std::move(ms));
  }
  if (const Json* clients = top.get("clients")) {
    if (!clients->is_array()) throw top.error("clients", "expected an array of clients");
    for (size_t i = 0; i < clients->size(); ++i) {
      Fields c((*clients)[i], source, "clients[" + std::to_string(i) + "]", Errc::input, {"name", "cn"});
      ClientSpec cs{c.string("name").value_or(""), c.string("cn").value_or("")};
      if (!c.has("cn")) cs.cn = cs.name;
      spec.clients.push_back(cs);
    }
  }
  if (auto key = top.object("key", {"algo", "size"})) {
    int64_t size = key->integer("size").value_or(0);
    if (size < 0 || size > 65536) throw Error(Errc::key, "invalid key size", source, key->field("size"));
    spec.key = KeySpec::parse(key->string("algo").value_or("ecdsa"), static_cast<int>(size), source, "key");
  }
  auto duration = [&](const char* f, Seconds def) {
    auto s = top.string(f);
    if (!s) return def;
    Seconds d = parse_duration(*s, source, f, Errc::input);
    if (d.count() <= 0) throw top.error(f, "must be positive");
    return d;
  };
  spec.expiry = duration("expiry", spec.expiry);
  spec.ca_expiry = duration("ca_expiry", spec.ca_expiry);
  if (const Json* names = top.get("names")) {
    Json req = Json::object();
    req["names"] = *names;
    Request r = Request::from_json(req.dump(), source);
    spec.names = r.subject;
  }
  spec.cluster_token = top.string("cluster_token").value_or(spec.cluster_token);
  if (auto ca = top.object("ca", {"csr", "cert", "key"})) {
    if (const Json* csr = ca->get("csr")) {
      spec.ca_request = Request::from_json(csr->dump(), source + " (ca.csr)");
      if (!spec.ca_request->ca) spec.ca_request->ca = CaOptions{};
    }
    auto rel = [&](const std::string& p) { return p.empty() || p.front() == '/' ? p : base_dir + "/" + p; };
    spec.ca_cert_file = rel(ca->string("cert").value_or(""));
    spec.ca_key_file = rel(ca->string("key").value_or(""));
    if (spec.ca_cert_file.empty() != spec.ca_key_file.empty())
      throw ca->error("cert", "give both \"cert\" and \"key\" of the existing CA");
    if (!spec.ca_cert_file.empty() && spec.ca_request)
      throw ca->error("csr", "give either \"csr\" (a new CA) or \"cert\"/\"key\" (an existing one), not both");
  }
  spec.validate(source);
  return spec;
}

void ClusterSpec::validate(const std::string& source) const {
  std::map<std::string, std::string> ip_owner;
  std::set<std::string> names_seen;
  for (size_t i = 0; i < members.size(); ++i) {
    const MemberSpec& m = members[i];
    std::string where = "members[" + std::to_string(i) + "]";
    if (m.name.empty()) throw Error(Errc::input, "missing member name", source, where + ".name");
    if (!safe_file_name(m.name) || dns_name_problem(m.name))
      throw Error(Errc::input, "invalid member name \"" + m.name + "\" (letters, digits, '-' and '_'; it becomes a folder and a DNS SAN)",
                  source, where + ".name");
    if (!names_seen.insert(m.name).second) throw Error(Errc::input, "duplicate member name \"" + m.name + "\"", source, where + ".name");
    if (m.ips.empty() && m.dns.empty())
      throw Error(Errc::input, "member \"" + m.name + "\" has no address (give ips or dns)", source, where);
    for (const auto& ip : m.ips) {
      auto [it, fresh] = ip_owner.emplace(ip, m.name);
      if (!fresh) throw Error(Errc::input, "IP " + ip + " given to both \"" + it->second + "\" and \"" + m.name + "\"", source, where + ".ips");
    }
    for (const auto& d : m.dns)
      if (auto problem = dns_name_problem(d)) throw Error(Errc::input, "invalid DNS name \"" + d + "\": " + *problem, source, where + ".dns");
    for (const auto& a : m.client_addresses)
      if (!parse_ip(a))
        if (auto problem = dns_name_problem(a))
          throw Error(Errc::input, "invalid address \"" + a + "\": " + *problem, source, where + ".client_addresses");
  }
  std::set<std::string> clients_seen;
  for (size_t i = 0; i < clients.size(); ++i) {
    std::string where = "clients[" + std::to_string(i) + "].name";
    if (!safe_file_name(clients[i].name))
      throw Error(Errc::input, "invalid client name \"" + clients[i].name + "\" (letters, digits, '-', '_', '.')", source, where);
    if (!clients_seen.insert(clients[i].name).second)
      throw Error(Errc::input, "duplicate client \"" + clients[i].name + "\"", source, where);
  }
  // clients/NAME-key.pem is the key of client NAME: a client called "NAME-key" would collide with it.
  for (size_t i = 0; i < clients.size(); ++i) {
    const std::string& n = clients[i].name;
    if (n.size() > 4 && n.ends_with("-key") && clients_seen.count(n.substr(0, n.size() - 4)))
      throw Error(Errc::input,
                  "client \"" + n + "\" would overwrite the key of client \"" + n.substr(0, n.size() - 4) + "\" (clients/" + n + ".pem)",
                  source, "clients[" + std::to_string(i) + "].name");
  }
}

std::string ClusterSpec::initial_cluster() const {
  std::string out;
  for (const auto& m : members)
    out += (out.empty() ? "" : ",") + m.name + "=https://" + m.url_host() + ":" + std::to_string(m.peer_port);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------

namespace {

struct Paths {
  Layout layout;
  std::string out, install;
  std::string ca_cert() const { return out + (layout == Layout::kubeadm ? "/ca/ca.crt" : "/ca/ca.pem"); }
  std::string ca_key() const { return out + (layout == Layout::kubeadm ? "/ca/ca.key" : "/ca/ca-key.pem"); }
  std::string ca_csr() const { return out + "/ca/ca.csr"; }
  // A member file by role: "ca", "server", "peer", "healthcheck-client", "apiserver-etcd-client".
  std::string member_rel(const std::string& role, bool key) const {
    if (layout == Layout::cfssl) return role + (key ? "-key.pem" : ".pem");
    std::string dir = role == "apiserver-etcd-client" ? "" : "etcd/";
    return dir + role + (key ? ".key" : ".crt");
  }
  std::string client(const std::string& name, bool key) const {
    if (layout == Layout::cfssl) return out + "/clients/" + name + (key ? "-key.pem" : ".pem");
    return out + "/clients/" + name + (key ? ".key" : ".crt");
  }
};

struct Artifact {
  std::string label;  // "etcd-1/server", "clients/root"
  std::string cert_path, key_path;
  Request request;
  const Profile* profile;
  // results
  bool reuse = false;
  std::string cert_pem, key_pem;
  std::optional<Certificate> cert;  // cert_pem parsed (issued here, or kept)
  std::vector<std::string> warnings;
};

std::string sorted_sans(Sans s) {
  for (auto* v : {&s.dns, &s.email, &s.uri}) std::sort(v->begin(), v->end());
  std::sort(s.ip.begin(), s.ip.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  return s.to_string();
}

bool exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(p, ec));
}

// Why an existing pair cannot be kept ("" when it can).
// `signer` is null when the cluster CA is about to be made: nothing existing is signed by it.
std::string stale_reason(Artifact& a, const Signer* signer, TimePoint now) {
  try {
    a.cert_pem = read_text_file(a.cert_path);
    a.key_pem = read_text_file(a.key_path);
    Certificate cert = Certificate::from_pem(a.cert_pem, a.cert_path);
    a.cert = cert;
    KeyPair key = KeyPair::from_pem(a.key_pem, a.key_path);
    if (!key.same_public_key(cert.public_key())) return "the key does not match the certificate";
    if (!signer || !cert.signed_by(signer->ca_certificate())) return "not signed by the cluster CA";
    if (cert.not_after() <= now) return "expired on " + format_rfc3339(cert.not_after());
    if (std::string cn = cert.subject().common_name; cn != a.request.subject.common_name)
      return "CN is \"" + cn + "\", the spec says \"" + a.request.subject.common_name + "\"";
    Sans have = cert.sans(), want = classify_hosts(a.request.hosts);
    if (sorted_sans(have) != sorted_sans(want))
      return "SANs are [" + have.to_string() + "], the spec says [" + want.to_string() + "]";
    if (cert.ext_key_usage() != a.profile->usages.ext_key_usage) return "extended key usage differs from the profile";
    if (!(key.spec() == a.request.key)) return "key is " + key.spec().to_string() + ", the spec says " + a.request.key.to_string();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::string manifest_header(const std::string& member, const std::string& install) {
  return "# " + member + ": files to copy to " + install + "/ on the member's host (etcd-pki)\n";
}

// "REL  sha256:HEX[  subject: ...  sans: ...  expires: ...]\n"; `cert` is `data` already parsed,
// when the caller has it.
std::string manifest_line(const std::string& rel, const std::string& data, const Certificate* cert = nullptr) {
  std::string line = rel + "  sha256:" + detail::sha256_hex(data, '\0');
  if ((rel.ends_with(".pem") && !rel.ends_with("-key.pem")) || rel.ends_with(".crt")) {
    Certificate c = cert ? *cert : Certificate::from_pem(data, rel);
    line += "  subject: " + c.subject_string();
    if (auto s = c.sans(); !s.empty()) line += "  sans: " + s.to_string();
    line += "  expires: " + format_rfc3339(c.not_after());
  }
  return line + "\n";
}

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_loopback(const std::string& ip) { return ip.rfind("127.", 0) == 0 || ip == "::1"; }

}  // namespace

ClusterResult build_cluster(const ClusterSpec& spec, const ClusterOptions& opt) {
  spec.validate();
  ClusterResult result;
  Paths paths{opt.layout, opt.out_dir.empty() ? "." : opt.out_dir, opt.install_dir};
  if (paths.install.empty()) paths.install = opt.layout == Layout::kubeadm ? "/etc/kubernetes/pki" : "/etc/etcd/pki";
  while (paths.install.size() > 1 && paths.install.back() == '/') paths.install.pop_back();
  TimePoint now = now_or(opt.now);
  std::vector<OutputFile> files;
  // From reading what is there to the last write, another etcd-pki run on this folder waits. A
  // missing folder is made for the lock (0700, as write_files would) and removed if the run fails.
  FolderLocks lock({paths.out}, mode_t{0700});

  // 1. The CA: an existing one from the spec, the one already in out/ca, or a new one (its key is
  //    made with the others, in step 4).
  std::optional<Signer> signer;
  std::optional<Request> new_ca;
  std::string ca_pem;
  if (!spec.ca_cert_file.empty()) {
    signer.emplace(load_signer(spec.ca_cert_file, spec.ca_key_file, opt.ca_passphrase));
    ca_pem = signer->ca_certificate().to_pem();
  } else if (!opt.force && (exists(paths.ca_cert()) || exists(paths.ca_key()))) {
    try {
      signer.emplace(load_signer(paths.ca_cert(), paths.ca_key(), opt.ca_passphrase));
    } catch (const Error& e) {
      // A missing or wrong passphrase is not a reason to replace the CA.
      if (e.category() == Errc::key && exists(paths.ca_key()) && KeyPair::is_encrypted_pem(read_text_file(paths.ca_key())))
        throw;
      throw Error(Errc::exists, std::string("the existing CA cannot be used (") + e.what() + ")", paths.ca_cert())
          .with_hint(Hint::new_ca);
    }
    if (signer->ca_certificate().not_after() <= now)
      throw Error(Errc::exists, "the existing CA expired on " + format_rfc3339(signer->ca_certificate().not_after()),
                  paths.ca_cert()).with_hint(Hint::new_ca);
    ca_pem = signer->ca_certificate().to_pem();
    result.reused.push_back("ca");
  } else {
    Request ca_req = spec.ca_request ? *spec.ca_request : Request::default_ca();
    if (!spec.ca_request) {
      ca_req.key = spec.key;
      ca_req.subject.country = spec.names.country;
      ca_req.subject.province = spec.names.province;
      ca_req.subject.locality = spec.names.locality;
      ca_req.subject.organization = spec.names.organization;
      ca_req.subject.org_unit = spec.names.org_unit;
      ca_req.ca->expiry = spec.ca_expiry;
    } else {
      // The spec's CSR: its own "ca" block's expiry wins, else ca_expiry (not cfssl's 43800h).
      if (!ca_req.ca) ca_req.ca = CaOptions{};
      if (!ca_req.ca->expiry) ca_req.ca->expiry = spec.ca_expiry;
    }
    ca_req.validate_for_ca("ca");
    new_ca = std::move(ca_req);
  }

  // 2. The certificates the spec asks for.
  Policy policy = Policy::builtin();
  Profile server = policy.profile("server"), peer = policy.profile("peer"), client = policy.profile("client");
  for (Profile* p : {&server, &peer, &client}) p->expiry = spec.expiry;
  auto make_request = [&](const std::string& cn, std::vector<std::string> hosts) {
    Request r;
    r.subject = spec.names;
    r.subject.common_name = cn;
    r.hosts = dedupe(std::move(hosts));
    r.key = spec.key;
    return r;
  };
  std::vector<Artifact> artifacts;
  artifacts.reserve(spec.members.size() * 4 + spec.clients.size());
  for (const auto& m : spec.members) {
    std::string dir = paths.out + "/" + m.name + "/";
    std::vector<std::string> peer_hosts{m.name};
    peer_hosts.insert(peer_hosts.end(), m.dns.begin(), m.dns.end());
    peer_hosts.insert(peer_hosts.end(), m.ips.begin(), m.ips.end());
    std::vector<std::string> server_hosts = peer_hosts;
    server_hosts.insert(server_hosts.end(), m.client_addresses.begin(), m.client_addresses.end());
    for (const char* h : {"localhost", "127.0.0.1", "::1"}) server_hosts.emplace_back(h);
    auto add = [&](const std::string& role, Request req, const Profile* prof) {
      artifacts.push_back(Artifact{m.name + "/" + role, dir + paths.member_rel(role, false), dir + paths.member_rel(role, true),
                                   std::move(req), prof, false, {}, {}, {}, {}});
    };
    add("server", make_request(m.name, server_hosts), &server);
    add("peer", make_request(m.name, peer_hosts), &peer);
    if (opt.layout == Layout::kubeadm) {
      add("healthcheck-client", make_request("kube-etcd-healthcheck-client", {}), &client);
      add("apiserver-etcd-client", make_request("kube-apiserver-etcd-client", {}), &client);
    }
  }
  for (const auto& c : spec.clients)
    artifacts.push_back(Artifact{"clients/" + c.name, paths.client(c.name, false), paths.client(c.name, true),
                                 make_request(c.cn, {}), &client, false, {}, {}, {}, {}});

  // 3. Keep what is valid and matches; refuse to replace keys without --force; issue the rest.
  std::vector<Artifact*> to_issue;
  for (auto& a : artifacts) {
    bool have_cert = exists(a.cert_path), have_key = exists(a.key_path);
    if (!opt.force && (have_cert || have_key)) {
      std::string reason = have_cert && have_key ? stale_reason(a, signer ? &*signer : nullptr, now)
                                                 : std::string(have_cert ? "its key is missing" : "its certificate is missing");
      if (!reason.empty())
        throw Error(Errc::exists, "exists but cannot be kept: " + reason, have_cert ? a.cert_path : a.key_path)
            .with_hint(Hint::reissue);
      a.reuse = true;
      result.reused.push_back(a.label);
    } else {
      to_issue.push_back(&a);
    }
  }
  // 4. All the new keys at once, the CA's too, on all cores (an RSA key is two jobs, one per
  //    prime); then the CA; then the certificates.
  std::vector<KeySpec> specs;
  if (new_ca) specs.push_back(new_ca->key);
  for (const Artifact* a : to_issue) specs.push_back(a->request.key);
  const size_t total = specs.size() + to_issue.size();
  std::function<void(size_t, size_t)> key_progress, cert_progress;
  if (opt.progress) {
    key_progress = [&](size_t done, size_t) { opt.progress(done, total); };
    cert_progress = [&](size_t done, size_t) { opt.progress(specs.size() + done, total); };
  }
  std::vector<KeyPair> keys = KeyPair::generate_many(specs, opt.threads, key_progress);
  const size_t first_leaf_key = new_ca ? 1 : 0;
  SignOptions so;
  so.now = now;
  if (new_ca) {
    Bundle ca = make_ca(*new_ca, keys[0], so, "ca");
    signer.emplace(*ca.certificate, keys[0]);
    ca_pem = ca.certificate->to_pem();
    files.push_back({paths.ca_cert(), ca_pem, 0644});
    files.push_back({paths.ca_key(), opt.ca_passphrase.empty() ? ca.key->to_pem() : keys[0].to_pem_encrypted(opt.ca_passphrase),
                     0600});
    files.push_back({paths.ca_csr(), ca.csr->to_pem(), 0644});
    result.issued.push_back("ca");
    for (auto& w : ca.warnings) result.warnings.push_back(w);
  }
  detail::parallel_for(
      to_issue.size(), opt.threads,
      [&](size_t i) {
        Artifact& a = *to_issue[i];
        Bundle b = issue(a.request, keys[first_leaf_key + i], *signer, *a.profile, so, a.label);
        a.cert_pem = b.certificate->to_pem();
        a.key_pem = b.key->to_pem();
        a.cert = std::move(b.certificate);
        a.warnings = std::move(b.warnings);
      },
      cert_progress);
  for (Artifact* a : to_issue) {
    files.push_back({a->cert_path, a->cert_pem, 0644});
    files.push_back({a->key_path, a->key_pem, 0600});
    result.issued.push_back(a->label);
    for (auto& w : a->warnings) result.warnings.push_back(w);
  }

  // 4. Per member: the CA certificate, etcd.conf.yml, etcdctl.env and MANIFEST (derived files,
  //    rewritten when their content changes).
  std::string endpoints;
  for (const auto& m : spec.members)
    endpoints += (endpoints.empty() ? "" : ",") + std::string("https://") + m.url_host() + ":" + std::to_string(m.client_port);
  std::unordered_map<std::string, const Artifact*> by_label;
  for (const auto& a : artifacts) by_label.emplace(a.label, &a);
  const Certificate ca_cert = signer->ca_certificate();
  const std::string initial_cluster = yaml_quote(spec.initial_cluster());
  for (const auto& m : spec.members) {
    std::string dir = paths.out + "/" + m.name + "/";
    std::string inst = paths.install + "/";
    std::string ca_rel = opt.layout == Layout::kubeadm ? "etcd/ca.crt" : "ca.pem";
    std::string host = m.url_host();
    std::string listen_host = m.ips.empty() ? "0.0.0.0" : host;
    std::string client_url = "https://" + host + ":" + std::to_string(m.client_port);
    std::string peer_url = "https://" + host + ":" + std::to_string(m.peer_port);
    std::string listen_client = "https://" + listen_host + ":" + std::to_string(m.client_port);
    if (m.ips.empty() || !is_loopback(m.ips.front())) listen_client += ",https://127.0.0.1:" + std::to_string(m.client_port);
    auto tls = [&](const char* section, const std::string& role) {
      return std::string(section) + ":\n  cert-file: " + yaml_quote(inst + paths.member_rel(role, false)) +
             "\n  key-file: " + yaml_quote(inst + paths.member_rel(role, true)) +
             "\n  client-cert-auth: true\n  trusted-ca-file: " + yaml_quote(inst + ca_rel) + "\n";
    };
    std::string conf = "# etcd configuration for member " + m.name + ", written by etcd-pki.\n"
                       "# Add data-dir (and anything else) before starting: etcd --config-file etcd.conf.yml\n"
                       "name: " + yaml_quote(m.name) + "\n" +
                       "listen-peer-urls: " + yaml_quote("https://" + listen_host + ":" + std::to_string(m.peer_port)) + "\n" +
                       "initial-advertise-peer-urls: " + yaml_quote(peer_url) + "\n" +
                       "listen-client-urls: " + yaml_quote(listen_client) + "\n" +
                       "advertise-client-urls: " + yaml_quote(client_url) + "\n" +
                       "initial-cluster: " + initial_cluster + "\n" +
                       "initial-cluster-token: " + yaml_quote(spec.cluster_token) + "\n" +
                       "initial-cluster-state: \"new\"\n" + tls("client-transport-security", "server") +
                       tls("peer-transport-security", "peer");
    std::string ctl_role = opt.layout == Layout::kubeadm ? "healthcheck-client" : "server";
    std::string env = "# etcdctl settings for member " + m.name + ": set -a; . ./etcdctl.env; set +a\n"
                      "ETCDCTL_API=3\nETCDCTL_ENDPOINTS=" + endpoints + "\nETCDCTL_CACERT=" + inst + ca_rel +
                      "\nETCDCTL_CERT=" + inst + paths.member_rel(ctl_role, false) +
                      "\nETCDCTL_KEY=" + inst + paths.member_rel(ctl_role, true) + "\n";

    struct Entry {
      std::string rel;
      const std::string* data;
      const Certificate* cert;
      bool operator<(const Entry& o) const { return rel < o.rel; }
    };
    std::vector<Entry> content{{ca_rel, &ca_pem, &ca_cert}};
    std::vector<std::string> roles{"server", "peer"};
    if (opt.layout == Layout::kubeadm) roles.insert(roles.end(), {"healthcheck-client", "apiserver-etcd-client"});
    for (const auto& role : roles) {
      const Artifact& a = *by_label.at(m.name + "/" + role);
      content.push_back({paths.member_rel(role, false), &a.cert_pem, a.cert ? &*a.cert : nullptr});
      content.push_back({paths.member_rel(role, true), &a.key_pem, nullptr});
    }
    content.push_back({"etcd.conf.yml", &conf, nullptr});
    content.push_back({"etcdctl.env", &env, nullptr});
    std::sort(content.begin(), content.end());
    std::string manifest = manifest_header(m.name, paths.install);
    for (const auto& e : content) manifest += manifest_line(e.rel, *e.data, e.cert);
    auto derived = [&](const std::string& rel, const std::string& data, mode_t mode) {
      std::string path = dir + rel;
      std::optional<std::string> old;  // unreadable counts as different: it is rewritten
      try {
        if (exists(path)) old = read_text_file(path);
      } catch (const Error&) {
      }
      if (old != data) files.push_back({path, data, mode, true});
    };
    derived(ca_rel, ca_pem, 0644);
    derived("etcd.conf.yml", conf, 0644);
    derived("etcdctl.env", env, 0644);
    derived("MANIFEST", manifest, 0644);
  }

  // 5. Write everything or nothing; folders 0700 (they hold private keys). The CA's issued index
  //    (for revoke by serial) goes in the same write; failing that is a warning.
  std::vector<Certificate> made;
  for (const Artifact* a : to_issue) made.push_back(*a->cert);
  std::string ca_path = spec.ca_cert_file.empty() ? paths.ca_cert() : spec.ca_cert_file;
  std::string not_recorded = write_files_and_record(files, opt.force, ca_path, made, 0700);
  for (const auto& f : files) result.written.push_back(f.path);
  if (!not_recorded.empty())
    result.warnings.push_back("the certificates are written, but not recorded in the CA index: " + not_recorded);
  return result;
}

bool refresh_manifest(const std::string& member_dir) {
  std::string path = member_dir + "/MANIFEST";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  std::string old = read_text_file(path, Errc::input), fresh;
  size_t pos = 0;
  while (pos < old.size()) {
    size_t nl = old.find('\n', pos);
    std::string line = old.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? old.size() : nl + 1;
    if (line.empty() || line.front() == '#') {
      fresh += line + "\n";
      continue;
    }
    std::string rel = line.substr(0, line.find("  "));
    if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos)
      throw Error(Errc::input, "unexpected file name \"" + rel + "\"", path);
    fresh += manifest_line(rel, read_text_file(member_dir + "/" + rel, Errc::io));
  }
  if (fresh == old) return false;
  write_files({OutputFile{path, fresh, 0644, true}}, false);
  return true;
}

}  // namespace etcd_pki
