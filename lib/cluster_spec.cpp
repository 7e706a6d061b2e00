#include "etcd_pki/cluster.hpp"

// The cluster spec: --initial-cluster, the JSON spec, and their checks.
#include <algorithm>
#include <map>
#include <set>

#include "etcd_pki/hosts.hpp"
#include "json_fields.hpp"
#include "layout.hpp"

namespace etcd_pki {

using detail::Fields;
using detail::Json;

std::string MemberSpec::url_host() const {
  if (!ips.empty()) return ips.front().find(':') != std::string::npos ? "[" + ips.front() + "]" : ips.front();
  return dns.empty() ? std::string() : dns.front();
}

namespace {

bool safe_file_name(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && !detail::is_reserved_dir_name(s) &&
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
    if (detail::is_reserved_client_name(clients[i].name))
      throw Error(Errc::input, "a client cannot be named \"" + clients[i].name + "\": " +
                                   detail::ClusterLayout::client_label(clients[i].name) + " is the clients' trust file (the CA certificate)",
                  source, where);
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
                  "client \"" + n + "\" would overwrite the key of client \"" + n.substr(0, n.size() - 4) + "\" (" + detail::ClusterLayout{}.client_rel(n, false) + ")",
                  source, "clients[" + std::to_string(i) + "].name");
  }
}

std::string ClusterSpec::initial_cluster() const {
  std::string out;
  for (const auto& m : members)
    out += (out.empty() ? "" : ",") + m.name + "=https://" + m.url_host() + ":" + std::to_string(m.peer_port);
  return out;
}

}  // namespace etcd_pki
