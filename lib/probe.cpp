#include "etcd_pki/probe.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "etcd_pki/files.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_config.hpp"
#include "go_x509.hpp"
#include "json_fields.hpp"
#include "layout.hpp"
#include "ossl.hpp"
#include "parallel.hpp"
#include "prometheus.hpp"
#include "tls_dial.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const char* to_string(EndpointRole role) { return role == EndpointRole::peer ? "peer" : "client"; }

const char* to_string(Acceptance a) {
  switch (a) {
    case Acceptance::unknown: return "unknown";
    case Acceptance::accepted: return "accepted";
    case Acceptance::refused: return "refused";
  }
  return "?";
}

namespace {

int count_in(const std::vector<Finding>& list, Severity s) {
  return static_cast<int>(std::count_if(list.begin(), list.end(), [&](const Finding& f) { return f.severity == s; }));
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

}  // namespace

int EndpointReport::count(Severity s) const { return count_in(findings, s); }

int ProbeReport::count(Severity s) const {
  int n = count_in(findings, s);
  for (const auto& e : endpoints) n += e.count(s);
  return n;
}

int ProbeReport::exit_code() const { return count(Severity::error) ? 2 : count(Severity::warning) ? 1 : 0; }

namespace {

// ---- Step 1: the endpoints. URLs as given, or from the member folders' etcd settings.

struct Url {
  std::string scheme, host;
  int port = 0;
};

// "https://10.0.0.1:2379", "https://[fd00::1]:2379/": nullopt when it is not SCHEME://HOST:PORT.
std::optional<Url> parse_url(const std::string& text) {
  auto sep = text.find("://");
  if (sep == std::string::npos || sep == 0) return std::nullopt;
  Url u{text.substr(0, sep), {}, 0};
  std::string rest = text.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  size_t colon;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = rest.substr(1, close - 1);
    colon = close + 1 < rest.size() && rest[close + 1] == ':' ? close + 1 : std::string::npos;
  } else {
    colon = rest.rfind(':');
    u.host = rest.substr(0, colon);
  }
  if (u.host.empty() || colon == std::string::npos) return std::nullopt;
  std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  u.port = std::stoi(port);
  if (u.port < 1 || u.port > 65535) return std::nullopt;
  if (auto ip = parse_ip(u.host)) u.host = ip->to_string();
  return u;
}

std::optional<ProbeIdentity> given_identity(const ProbeOptions& opt) {
  if (opt.cert_file.empty()) return std::nullopt;
  return ProbeIdentity{opt.cert_file, opt.key_file.empty() ? detail::key_path_for_cert(opt.cert_file) : opt.key_file};
}

// What one member folder says: its name, URLs, trusted CAs and certificates (paths in the folder).
struct MemberSettings {
  std::string dir, name, source;  // source: the settings file read
  std::string client_urls, peer_urls;
  std::string client_ca, peer_ca;
  ProbeIdentity server, peer, etcdctl;
};

ProbeIdentity pair_in(const std::string& dir, const std::string& cert, const std::string& key) {
  if (cert.empty()) return {};
  std::string c = detail::resolve_in(dir, cert);
  return {c, key.empty() ? detail::key_path_for_cert(c) : detail::resolve_in(dir, key)};
}

// A member folder's etcd.env, else its etcd.conf.yml; nullopt (and a finding) when it has neither.
std::optional<MemberSettings> member_settings(const std::string& dir, std::vector<Finding>& findings) {
  std::string env = dir + "/" + std::string(detail::etcd_env_file), yml = dir + "/" + std::string(detail::etcd_config_file);
  std::string source = exists(env) ? env : exists(yml) ? yml : "";
  if (source.empty()) {
    findings.push_back({Severity::error, dir, "config",
                        "neither " + std::string(detail::etcd_env_file) + " nor " + std::string(detail::etcd_config_file) +
                            ": the member's URLs are unknown",
                        ""});
    return std::nullopt;
  }
  std::string text = read_text_file(source, Errc::input);
  detail::EtcdConfig c = source == env ? detail::parse_etcd_env(text) : detail::parse_etcd_yaml(text);
  MemberSettings m{dir, c.name.empty() ? fs::path(dir).filename().string() : c.name, source, c.advertise_client_urls,
                   c.initial_advertise_peer_urls, {}, {}, {}, {}, {}};
  std::string own_ca = detail::find_member_ca(dir);
  m.client_ca = c.client.trusted_ca_file.empty() ? own_ca : detail::resolve_in(dir, c.client.trusted_ca_file);
  m.peer_ca = c.peer.trusted_ca_file.empty() ? own_ca : detail::resolve_in(dir, c.peer.trusted_ca_file);
  m.server = pair_in(dir, c.client.cert_file, c.client.key_file);
  m.peer = pair_in(dir, c.peer.cert_file, c.peer.key_file);
  m.etcdctl = m.server;  // what etcdctl.env presents, when it says so
  std::string ctl = dir + "/" + std::string(detail::etcdctl_env_file);
  if (exists(ctl))
    if (auto e = detail::parse_etcdctl_env(read_text_file(ctl, Errc::input)); !e.cert.empty()) m.etcdctl = pair_in(dir, e.cert, e.key);
  if (m.client_urls.empty() && m.peer_urls.empty())
    findings.push_back({Severity::error, source, "config", "no advertise-client-urls or initial-advertise-peer-urls", ""});
  return m;
}

// The endpoints of one member: each advertised client URL, then each peer URL.
void member_targets(const MemberSettings& m, const std::vector<MemberSettings>& all, const ProbeOptions& opt,
                    std::vector<ProbeTarget>& out, std::vector<Finding>& findings) {
  auto given = given_identity(opt);
  auto add = [&](const std::string& urls, EndpointRole role) {
    for (const auto& text : detail::split_list(urls)) {
      auto u = parse_url(text);
      if (!u || u->scheme != "https") {
        findings.push_back({u ? Severity::warning : Severity::error, m.source, u ? "plain-http" : "config",
                            u ? text + " is not TLS: nothing to probe there" : "not a URL with a host and a port: " + text, ""});
        continue;
      }
      ProbeTarget t{text, u->host, u->port, m.name, role, {}, {}, {}};
      t.ca_file = !opt.ca_file.empty() ? opt.ca_file : role == EndpointRole::client ? m.client_ca : m.peer_ca;
      t.disk_cert = role == EndpointRole::client ? m.server.cert_file : m.peer.cert_file;
      if (given) t.identities = {*given};
      else if (role == EndpointRole::client && !m.etcdctl.cert_file.empty()) t.identities = {m.etcdctl};
      else if (role == EndpointRole::peer) {
        if (!m.peer.cert_file.empty()) t.identities.push_back(m.peer);
        for (const auto& other : all)
          if (other.dir != m.dir && !other.peer.cert_file.empty()) t.identities.push_back(other.peer);
      }
      out.push_back(std::move(t));
    }
  };
  add(m.client_urls, EndpointRole::client);
  add(m.peer_urls, EndpointRole::peer);
}

void folder_targets(const std::string& dir, const ProbeOptions& opt, std::vector<ProbeTarget>& out, std::vector<Finding>& findings) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error(Errc::input, "no such file or folder", dir);
  std::vector<std::string> dirs = detail::member_dirs(dir);
  if (dirs.empty() && detail::is_member_dir(dir)) dirs = {dir};
  if (dirs.empty()) throw Error(Errc::usage, "neither a cluster output folder nor a member folder (nor an https:// URL)", dir);
  std::vector<MemberSettings> members;
  for (const auto& d : dirs)
    if (auto m = member_settings(d, findings)) members.push_back(std::move(*m));
  for (const auto& m : members) member_targets(m, members, opt, out, findings);
}

}  // namespace

std::vector<ProbeTarget> probe_targets(const std::vector<std::string>& args, const ProbeOptions& opt, std::vector<Finding>& findings) {
  std::vector<ProbeTarget> out;
  for (const auto& a : args) {
    if (a.find("://") == std::string::npos) {
      folder_targets(a, opt, out, findings);
      continue;
    }
    auto u = parse_url(a);
    if (!u) throw Error(Errc::usage, "not a URL with a host and a port (https://HOST:PORT)", a);
    if (u->scheme != "https") throw Error(Errc::usage, "not an https:// URL: there is no TLS to probe", a);
    ProbeTarget t{a, u->host, u->port, "", EndpointRole::client, opt.ca_file, {}, {}};
    if (auto id = given_identity(opt)) t.identities = {*id};
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

// ---- Step 2: one endpoint, dialled, then judged.

// The identity whose certificate's IP SANs hold `local_ip`, else the first.
std::optional<detail::TlsIdentity> choose_identity(const std::vector<ProbeIdentity>& ids, const std::string& local_ip) {
  if (ids.empty()) return std::nullopt;
  auto local = parse_ip(local_ip);
  for (const auto& id : ids) {
    try {
      auto certs = Certificate::all_from_pem(read_text_file(id.cert_file, Errc::input), id.cert_file, Errc::input,
                                             Certificate::KeyDecoding::when_needed);
      if (local && !certs.empty())
        for (const auto& ip : certs.front().sans().ip)
          if (ip == *local) return detail::TlsIdentity{id.cert_file, id.key_file};
    } catch (const Error&) {
      // unreadable: not this one (the first is still tried, and says why it cannot be used)
    }
  }
  return detail::TlsIdentity{ids.front().cert_file, ids.front().key_file};
}

ServedCertificate served(const Certificate& c) {
  ServedCertificate s{c.subject_string(), c.issuer_string(), c.subject().common_name, c.issuer().common_name, c.serial_hex(),
                      c.serial_decimal(), {}, c.not_before(), c.not_after()};
  Sans sans = c.sans();
  for (const auto& d : sans.dns) s.sans.push_back("DNS:" + d);
  for (const auto& e : sans.email) s.sans.push_back("email:" + e);
  for (const auto& ip : sans.ip) s.sans.push_back("IP:" + ip.to_string());
  for (const auto& u : sans.uri) s.sans.push_back("URI:" + u);
  return s;
}

struct Judge {
  const ProbeTarget& target;
  const ProbeOptions& opt;
  EndpointReport& rep;
  void add(Severity s, std::string rule, std::string message, std::string etcd_error = {}) {
    rep.findings.push_back({s, target.url, std::move(rule), std::move(message), std::move(etcd_error)});
  }
};

std::string seconds_text(std::chrono::milliseconds t) {
  auto ms = t.count();
  return ms % 1000 ? std::to_string(ms) + "ms" : std::to_string(ms / 1000) + "s";
}

// An alert about the client certificate (bad, unsupported, revoked, expired, unknown, unknown CA,
// required): the other side refused what was presented, or wanted one.
bool certificate_alert(int alert) { return alert == 42 || (alert >= 43 && alert <= 46) || alert == 48 || alert == 116; }

void judge_refusal(Judge& j, const detail::Dialled& d, const char* when) {
  j.rep.client_cert = Acceptance::refused;
  if (d.presented.empty()) {
    j.add(Severity::info, "client-cert-required",
          std::string("the ") + to_string(j.target.role) + " port wants a client certificate and none was presented (" + when + ")",
          d.error);
    return;
  }
  bool peer = j.target.role == EndpointRole::peer;
  j.add(Severity::error, "client-cert-refused",
        std::string("the member refused the ") + (peer ? "peer" : "client") + " certificate " + d.presented + " (" + when + ")" +
            (peer ? ": members dialling from here with it are refused the same way" : ""),
        d.error + " (the member logs: rejected connection from \"" + d.local_address +
            "\" (error \"tls: failed to verify client certificate: ...\"))");
}

// No connection, no handshake, or no response: what happened, in etcd's terms.
void judge_failure(Judge& j, const detail::Dialled& d) {
  const std::string limit = seconds_text(j.opt.timeout);
  switch (d.reached) {
    case detail::DialStage::connect:
      j.add(Severity::error, d.timed_out ? "connect-timeout" : "unreachable",
            d.timed_out ? "no TCP connection to " + d.address + " within " + limit
                        : "cannot connect to " + (d.address.empty() ? j.target.host : d.address) + ": is the member running?",
            d.error);
      return;
    case detail::DialStage::handshake:
      if (d.timed_out)
        j.add(Severity::error, "tls-timeout",
              "the port accepts connections but the TLS handshake did not complete within " + limit +
                  " (not a TLS port, or a member that is stuck)",
              "context deadline exceeded");
      else if (d.alert >= 0 && certificate_alert(d.alert))
        judge_refusal(j, d, "during the handshake");
      else
        j.add(Severity::error, "tls-handshake", "the TLS handshake failed: " + d.error, d.error);
      return;
    case detail::DialStage::request:
      if (d.alert >= 0 && certificate_alert(d.alert)) judge_refusal(j, d, "after the handshake, instead of a response");
      else
        j.add(Severity::error, "no-response",
              "no HTTP response to GET /version" + (d.timed_out ? " within " + limit : " (" + d.error + ")") +
                  ": whether the client certificate is accepted is unknown",
              d.timed_out ? "context deadline exceeded" : d.error);
      return;
    case detail::DialStage::done: return;
  }
}

std::vector<Certificate> load_ca(Judge& j) {
  if (j.target.ca_file.empty()) {
    j.add(Severity::warning, "no-ca", "no trusted CA for this endpoint: the served chain is shown, not checked");
    return {};
  }
  try {
    auto certs = Certificate::all_from_pem(read_text_file(j.target.ca_file, Errc::ca), j.target.ca_file, Errc::ca);
    if (certs.empty()) j.add(Severity::error, "ca-unreadable", j.target.ca_file + ": no certificate in the CA file");
    return certs;
  } catch (const Error& e) {
    j.add(Severity::error, "ca-unreadable", e.what());
    return {};
  }
}

// The served chain as etcd's clients (client port) and peers (peer port) check it.
void judge_chain(Judge& j, const std::vector<Certificate>& chain) {
  if (chain.empty()) {
    j.add(Severity::error, "no-certificate", "the endpoint served no certificate", detail::kUnknownAuthority);
    return;
  }
  const Certificate& leaf = chain.front();
  const std::string what = std::string("the served ") + (j.target.role == EndpointRole::peer ? "peer" : "server") + " certificate";
  int errors = j.rep.count(Severity::error);
  auto anchors = load_ca(j);
  if (!anchors.empty()) {
    auto got = detail::check_chain(anchors, leaf, std::vector<Certificate>(chain.begin() + 1, chain.end()));
    if (got.chain.empty())
      j.add(Severity::error, "chain",
            what + " (" + leaf.subject_string() + ") is not signed by the trusted CA " + anchors.front().subject_string() + " of " +
                j.target.ca_file + " (" + got.failure + "; issuer is " + leaf.issuer_string() + ")",
            detail::kUnknownAuthority + " (the member logs: remote error: tls: bad certificate)");
  }
  if (auto go = detail::hostname_error(leaf.sans(), j.target.host))
    j.add(Severity::error, "san-missing",
          what + " does not cover " + (parse_ip(j.target.host) ? "IP " : "host name ") + j.target.host + ", the address dialled", *go);
  if (!detail::has_eku(leaf.ext_key_usage(), eku::server_auth))
    j.add(Severity::error, j.target.role == EndpointRole::peer ? "peer-eku" : "server-eku", what + " lacks \"server auth\"",
          detail::kIncompatibleKeyUsage);
  if (auto p = detail::time_problem(leaf, now_or(j.opt.now), j.opt.warn_within, what)) j.add(p->severity, p->rule, p->message, p->etcd_error);
  j.rep.verified = !anchors.empty() && j.rep.count(Severity::error) == errors;
}

std::string spki_der(const Certificate& c) {
  return ossl::der_or_empty<i2d_X509_PUBKEY>(X509_get_X509_PUBKEY(detail_certificate_fields(c)));
}

// The served leaf against the member's file: the same serial and public key.
void judge_disk(Judge& j, const Certificate& leaf) {
  const std::string& file = j.target.disk_cert;
  if (file.empty()) return;
  std::vector<Certificate> certs;
  try {
    certs = Certificate::all_from_pem(read_text_file(file, Errc::input), file, Errc::input, Certificate::KeyDecoding::when_needed);
  } catch (const Error& e) {
    j.add(Severity::warning, "not-on-disk", "cannot compare with the member's file: " + std::string(e.what()));
    return;
  }
  if (certs.empty()) return;
  j.rep.same_as_disk = certs.front().serial_hex() == leaf.serial_hex() && spki_der(certs.front()) == spki_der(leaf);
  if (!*j.rep.same_as_disk)
    j.add(Severity::warning, "not-on-disk",
          "serves serial " + leaf.serial_hex() + " (" + leaf.subject_string() + ", until " + format_rfc3339(leaf.not_after()) +
              "), not serial " + certs.front().serial_hex() + " of " + file +
              ": the host's copy differs from this folder (not deployed yet?) or the member runs from other files",
          "none: the member serves what its host has; etcd re-reads its certificate files on each new connection");
}

// /version's {"etcdserver": "3.4.23", ...}.
std::string etcd_version(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("etcdserver") && j["etcdserver"].is_string()) return j["etcdserver"].get<std::string>();
  return {};
}

}  // namespace

EndpointReport probe_endpoint(const ProbeTarget& target, const ProbeOptions& opt) {
  EndpointReport rep;
  rep.target = target;
  Judge j{rep.target, opt, rep};
  detail::DialRequest req{target.host, target.port, opt.timeout, "/version",
                          [&](const std::string& local_ip) { return choose_identity(target.identities, local_ip); }};
  detail::Dialled d = detail::dial_tls(req);
  rep.address = d.address;
  rep.local_address = d.local_address;
  rep.connected = d.reached != detail::DialStage::connect;
  rep.handshake = d.reached == detail::DialStage::request || d.reached == detail::DialStage::done;
  rep.tls_version = d.tls_version;
  rep.cipher = d.cipher;
  rep.presented = d.presented;
  for (const auto& c : d.chain) rep.chain.push_back(served(c));
  if (!d.identity_error.empty())
    j.add(Severity::error, "client-cert-unreadable", d.identity_error + "; tried without a client certificate", "");
  judge_failure(j, d);
  if (rep.handshake) {
    judge_chain(j, d.chain);
    if (!d.chain.empty()) judge_disk(j, d.chain.front());
  }
  if (d.reached == detail::DialStage::done) {
    rep.client_cert = Acceptance::accepted;
    rep.http_status = d.http_status;
    rep.etcd_version = etcd_version(d.http_body);
  }
  std::stable_sort(rep.findings.begin(), rep.findings.end(), [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return rep;
}

namespace {

// --cert/--key: readable, and a pair, before anything is dialled.
void check_given_identity(const ProbeOptions& opt) {
  auto id = given_identity(opt);
  if (!id) {
    if (!opt.key_file.empty()) throw Error(Errc::usage, "a client key without its certificate", opt.key_file);
    return;
  }
  auto certs = Certificate::all_from_pem(read_text_file(id->cert_file, Errc::input), id->cert_file, Errc::input);
  if (certs.empty()) throw Error(Errc::input, "no certificate in the file", id->cert_file);
  KeyPair key = KeyPair::from_pem(read_text_file(id->key_file, Errc::key), id->key_file);
  if (!detail::public_key_matches(X509_get_X509_PUBKEY(detail_certificate_fields(certs.front())), key.native_handle()))
    throw Error(Errc::key, "the private key does not belong to " + id->cert_file, id->key_file);
}

}  // namespace

ProbeReport probe(const std::vector<std::string>& args, const ProbeOptions& opt) {
  if (args.empty()) throw Error(Errc::usage, "give the endpoints (https://HOST:PORT) or folders to probe");
  if (opt.timeout.count() <= 0) throw Error(Errc::usage, "the time-out must be positive");
  check_given_identity(opt);
  ProbeReport report;
  report.now = now_or(opt.now);
  std::vector<ProbeTarget> targets = probe_targets(args, opt, report.findings);
  report.endpoints.resize(targets.size());
  unsigned threads = std::max(1u, std::min<unsigned>(opt.max_parallel, static_cast<unsigned>(targets.size())));
  detail::parallel_for(targets.size(), threads, [&](size_t i) { report.endpoints[i] = probe_endpoint(targets[i], opt); });
  return report;
}

namespace {

// ---- Step 3: the report.

std::string title(const ProbeTarget& t) { return (t.member.empty() ? "" : t.member + " " + to_string(t.role) + " ") + t.url; }

std::string describe(const ServedCertificate& c, TimePoint now) {
  std::string sans;
  for (const auto& s : c.sans) sans += (sans.empty() ? "" : ", ") + s;
  return "CN=" + c.subject_cn + ", serial " + c.serial + ", issuer CN=" + c.issuer_cn + ", until " + format_rfc3339(c.not_after) +
         " (" + format_time_left(c.not_after, now) + ")" + (sans.empty() ? "" : "; " + sans);
}

void finding_lines(const Finding& f, const std::string& indent, bool with_file, std::string& out) {
  out += indent + to_string(f.severity) + ": " + (with_file ? f.file + ": " : "") + f.rule + ": " + f.message + "\n";
  if (!f.etcd_error.empty()) out += indent + "    etcd: " + f.etcd_error + "\n";
}

std::string endpoint_text(const EndpointReport& e, TimePoint now) {
  std::string out = title(e.target) + "\n";
  if (e.connected) out += "  connected to " + e.address + " from " + e.local_address + (e.handshake ? ", " + e.tls_version + " " + e.cipher : "") + "\n";
  for (size_t i = 0; i < e.chain.size(); ++i) out += (i ? "  then:   " : "  served: ") + describe(e.chain[i], now) + "\n";
  if (e.handshake) {
    out += e.verified ? "  verified against " + e.target.ca_file + " for " + e.target.host + "\n" : "  not verified\n";
    if (e.same_as_disk) out += std::string(*e.same_as_disk ? "  same as " : "  differs from ") + e.target.disk_cert + "\n";
    out += "  presented " + (e.presented.empty() ? std::string("no client certificate") : e.presented) + ": " + to_string(e.client_cert);
    if (e.http_status) out += " (GET /version: HTTP " + std::to_string(e.http_status) + (e.etcd_version.empty() ? "" : ", etcd " + e.etcd_version) + ")";
    out += "\n";
  }
  for (const auto& f : e.findings) finding_lines(f, "  ", false, out);
  return out;
}

Json certificate_json(const ServedCertificate& c) {
  return {{"subject_cn", c.subject_cn}, {"issuer_cn", c.issuer_cn}, {"serial", c.serial},
          {"not_before", format_rfc3339(c.not_before)}, {"not_after", format_rfc3339(c.not_after)},
          {"subject", c.subject}, {"issuer", c.issuer}, {"sans", c.sans}};
}

Json finding_json(const Finding& f, bool with_endpoint) {
  Json j = {{"severity", to_string(f.severity)}};
  if (with_endpoint) j["endpoint"] = f.file;
  j["rule"] = f.rule;
  j["message"] = f.message;
  j["etcd_error"] = f.etcd_error;
  return j;
}

Json endpoint_json(const EndpointReport& e) {
  const ProbeTarget& t = e.target;
  Json j = {{"url", t.url}, {"member", t.member}, {"role", to_string(t.role)}, {"host", t.host}, {"port", t.port},
            {"address", e.address}, {"local_address", e.local_address}, {"connected", e.connected}, {"handshake", e.handshake},
            {"tls_version", e.tls_version}, {"cipher", e.cipher}, {"ca_file", t.ca_file}, {"verified", e.verified},
            {"presented", e.presented}, {"client_cert", to_string(e.client_cert)}, {"http_status", e.http_status},
            {"etcd_version", e.etcd_version}, {"disk_cert", t.disk_cert}};
  j["same_as_disk"] = e.same_as_disk ? Json(*e.same_as_disk) : Json(nullptr);
  j["leaf"] = e.leaf() ? certificate_json(*e.leaf()) : Json(nullptr);
  j["chain"] = Json::array();
  for (const auto& c : e.chain) j["chain"].push_back(certificate_json(c));
  j["findings"] = Json::array();
  for (const auto& f : e.findings) j["findings"].push_back(finding_json(f, false));
  return j;
}

}  // namespace

std::string render_text(const ProbeReport& r) {
  std::string out;
  for (const auto& f : r.findings) finding_lines(f, "", true, out);
  for (const auto& e : r.endpoints) out += endpoint_text(e, r.now);
  out += std::to_string(r.endpoints.size()) + " endpoint(s) probed: " + std::to_string(r.count(Severity::error)) + " error(s), " +
         std::to_string(r.count(Severity::warning)) + " warning(s)\n";
  return out;
}

std::string render_json(const ProbeReport& r) {
  Json j;
  j["endpoints"] = Json::array();
  for (const auto& e : r.endpoints) j["endpoints"].push_back(endpoint_json(e));
  j["errors"] = r.count(Severity::error);
  j["warnings"] = r.count(Severity::warning);
  Json all = Json::array();
  for (const auto& f : r.findings) all.push_back(finding_json(f, true));
  for (const auto& e : r.endpoints)
    for (const auto& f : e.findings) all.push_back(finding_json(f, true));
  j["findings"] = all;
  return detail::json_text(j) + "\n";
}

std::string render_prometheus(const ProbeReport& r) {
  // The served leaf of each endpoint, labelled as expiry's series (the x509-certificate-exporter's
  // names, member, role) with the endpoint in place of a file: the client port serves the
  // member's server certificate, the peer port its peer certificate.
  auto labels = [](const EndpointReport& e) {
    const ServedCertificate& c = *e.leaf();
    return detail::MetricLabels{{"subject_CN", c.subject_cn}, {"issuer_CN", c.issuer_cn},  {"serial_number", c.serial_decimal},
                                {"endpoint", e.target.url},  {"member", e.target.member}, {"role", e.target.role == EndpointRole::client ? "server" : "peer"}};
  };
  auto status = [](const EndpointReport& e) {
    return detail::MetricLabels{{"endpoint", e.target.url}, {"member", e.target.member}, {"role", to_string(e.target.role)}};
  };
  std::vector<const EndpointReport*> served;
  for (const auto& e : r.endpoints)
    if (e.leaf()) served.push_back(&e);
  detail::Metrics m;
  m.family("x509_cert_not_after", "The served certificate's notAfter, Unix seconds");
  for (auto* e : served) m.sample(labels(*e), static_cast<double>(e->leaf()->not_after.time_since_epoch().count()));
  m.family("x509_cert_not_before", "The served certificate's notBefore, Unix seconds");
  for (auto* e : served) m.sample(labels(*e), static_cast<double>(e->leaf()->not_before.time_since_epoch().count()));
  m.family("x509_cert_expired", "1 when the served certificate had expired when etcd-pki probed it, else 0");
  for (auto* e : served) m.sample(labels(*e), r.now > e->leaf()->not_after ? 1 : 0);
  m.family("etcd_pki_probe_success", "1 when the endpoint was reached and its certificate passed every check (no error finding), else 0");
  for (const auto& e : r.endpoints) m.sample(status(e), e.handshake && e.count(Severity::error) == 0 ? 1 : 0);
  m.family("etcd_pki_probe_served_is_on_disk", "1 when the served certificate is the member's file (serial and key), 0 when not; absent when not compared");
  for (const auto& e : r.endpoints)
    if (e.same_as_disk) m.sample(status(e), *e.same_as_disk ? 1 : 0);
  return m.text();
}

}  // namespace etcd_pki
