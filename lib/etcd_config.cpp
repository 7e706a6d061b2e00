#include "etcd_config.hpp"

#include <algorithm>

#include "etcd_pki/hosts.hpp"

namespace etcd_pki::detail {

namespace {

std::string yaml_quote(const std::string& s) {
  // A member's initial-cluster names every member (40 KB for a thousand): copied whole when it
  // needs no escape, as it always does.
  if (s.find_first_of("\"\\") == std::string::npos) return "\"" + s + "\"";
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string tls_section(const char* section, const EtcdTls& tls) {
  return std::string(section) + ":\n  cert-file: " + yaml_quote(tls.cert_file) + "\n  key-file: " + yaml_quote(tls.key_file) +
         "\n  client-cert-auth: " + (tls.client_cert_auth ? "true" : "false") +
         "\n  trusted-ca-file: " + yaml_quote(tls.trusted_ca_file) + "\n";
}

// A YAML scalar as written by to_yaml or by hand: surrounding quotes removed, '\' escapes undone.
std::string unquote(std::string value) {
  if (value.size() < 2 || (value.front() != '"' && value.front() != '\'') || value.back() != value.front()) return value;
  value = value.substr(1, value.size() - 2);
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) ++i;
    out += value[i];
  }
  return out;
}

// The line up to its " #" comment; a '#' inside a quoted value ("etcd #1") is not one.
std::string without_comment(const std::string& line) {
  size_t from = 0;
  if (auto colon = line.find(':'); colon != std::string::npos) {
    size_t v = line.find_first_not_of(" \t", colon + 1);
    if (v != std::string::npos && (line[v] == '"' || line[v] == '\'')) {
      for (from = v + 1; from < line.size() && line[from] != line[v]; ++from)
        if (line[v] == '"' && line[from] == '\\') ++from;
    }
  }
  for (size_t i = std::max<size_t>(from, 1); i < line.size(); ++i)
    if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i - 1);
  return line;
}

// The ETCD_* variables of the settings, in the order etcd.env lists them; `C` is EtcdConfig or
// const EtcdConfig. The two CLIENT_CERT_AUTH switches are written and read separately.
template <class C>
auto env_settings(C& c) {
  using Field = decltype(&c.name);
  return std::vector<std::pair<const char*, Field>>{
      {"ETCD_NAME", &c.name},
      {"ETCD_DATA_DIR", &c.data_dir},
      {"ETCD_LISTEN_PEER_URLS", &c.listen_peer_urls},
      {"ETCD_INITIAL_ADVERTISE_PEER_URLS", &c.initial_advertise_peer_urls},
      {"ETCD_LISTEN_CLIENT_URLS", &c.listen_client_urls},
      {"ETCD_ADVERTISE_CLIENT_URLS", &c.advertise_client_urls},
      {"ETCD_INITIAL_CLUSTER", &c.initial_cluster},
      {"ETCD_INITIAL_CLUSTER_TOKEN", &c.initial_cluster_token},
      {"ETCD_INITIAL_CLUSTER_STATE", &c.initial_cluster_state},
      {"ETCD_CERT_FILE", &c.client.cert_file},
      {"ETCD_KEY_FILE", &c.client.key_file},
      {"ETCD_TRUSTED_CA_FILE", &c.client.trusted_ca_file},
      {"ETCD_CLIENT_CRL_FILE", &c.client.crl_file},
      {"ETCD_PEER_CERT_FILE", &c.peer.cert_file},
      {"ETCD_PEER_KEY_FILE", &c.peer.key_file},
      {"ETCD_PEER_TRUSTED_CA_FILE", &c.peer.trusted_ca_file},
      {"ETCD_PEER_CRL_FILE", &c.peer.crl_file},
  };
}
constexpr const char* client_cert_auth_var = "ETCD_CLIENT_CERT_AUTH";
constexpr const char* peer_client_cert_auth_var = "ETCD_PEER_CLIENT_CERT_AUTH";

// A value as systemd's EnvironmentFile reads it: bare when it is plain (every value etcd-pki
// makes from a valid spec), else in double quotes with '"', '\\', '$' and '`' escaped.
std::string env_quote(const std::string& v) {
  if (v.find_first_of(" \t\"'\\$`#;") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

std::string to_yaml(const EtcdConfig& c, const std::vector<std::string>& comment) {
  std::string out;
  for (const auto& line : comment) out += "# " + line + "\n";
  auto key = [&](const char* k, const std::string& v) { out += std::string(k) + ": " + yaml_quote(v) + "\n"; };
  key("name", c.name);
  if (!c.data_dir.empty()) key("data-dir", c.data_dir);
  key("listen-peer-urls", c.listen_peer_urls);
  key("initial-advertise-peer-urls", c.initial_advertise_peer_urls);
  key("listen-client-urls", c.listen_client_urls);
  key("advertise-client-urls", c.advertise_client_urls);
  key("initial-cluster", c.initial_cluster);
  key("initial-cluster-token", c.initial_cluster_token);
  key("initial-cluster-state", c.initial_cluster_state);
  return out + tls_section("client-transport-security", c.client) + tls_section("peer-transport-security", c.peer);
}

std::map<std::string, std::string> read_etcd_yaml(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string section;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    line = without_comment(line);
    if (line.empty() || line.front() == '#' || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool indented = line.front() == ' ' || line.front() == '\t';
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = trim(line.substr(0, colon));
    std::string value = unquote(trim(line.substr(colon + 1)));
    if (!indented) {
      section = value.empty() ? key : "";
      if (!value.empty()) out[key] = value;
    } else if (!section.empty()) {
      out[section + "." + key] = value;
    }
  }
  return out;
}

EtcdConfig parse_etcd_yaml(const std::string& text) {
  auto m = read_etcd_yaml(text);
  auto tls = [&](const std::string& s) {
    return EtcdTls{m[s + ".cert-file"], m[s + ".key-file"], m[s + ".trusted-ca-file"], m[s + ".client-cert-auth"] == "true", {}};
  };
  return EtcdConfig{m["name"],
                    m["data-dir"],
                    m["listen-peer-urls"],
                    m["initial-advertise-peer-urls"],
                    m["listen-client-urls"],
                    m["advertise-client-urls"],
                    m["initial-cluster"],
                    m["initial-cluster-token"],
                    m["initial-cluster-state"],
                    tls("client-transport-security"),
                    tls("peer-transport-security")};
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
  }
  return out;
}

std::vector<std::string> url_hosts(const std::string& urls) {
  std::vector<std::string> out;
  for (std::string u : split_list(urls)) {
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

std::string to_env(const EtcdctlEnv& e, const std::vector<std::string>& comment) {
  std::string out;
  for (const auto& line : comment) out += "# " + line + "\n";
  return out + "ETCDCTL_API=3\nETCDCTL_ENDPOINTS=" + e.endpoints + "\nETCDCTL_CACERT=" + e.cacert + "\nETCDCTL_CERT=" + e.cert +
         "\nETCDCTL_KEY=" + e.key + "\n";
}

}  // namespace etcd_pki::detail

namespace etcd_pki::detail {

std::string to_env(const EtcdConfig& c, const std::vector<std::string>& comment) {
  std::string out;
  for (const auto& line : comment) out += "# " + line + "\n";
  for (const auto& [name, field] : env_settings(c)) {
    if (field->empty()) continue;
    out += std::string(name) + "=" + env_quote(*field) + "\n";
    // Each section's switch right after its trust file, as etcd --help lists them.
    if (field == &c.client.trusted_ca_file) out += std::string(client_cert_auth_var) + (c.client.client_cert_auth ? "=true\n" : "=false\n");
    if (field == &c.peer.trusted_ca_file) out += std::string(peer_client_cert_auth_var) + (c.peer.client_cert_auth ? "=true\n" : "=false\n");
  }
  return out;
}

std::map<std::string, std::string> read_env_file(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = trim(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    pos = nl == std::string::npos ? text.size() : nl + 1;
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[trim(line.substr(0, eq))] = unquote(trim(line.substr(eq + 1)));
  }
  return out;
}

EtcdctlEnv parse_etcdctl_env(const std::string& text) {
  auto vars = read_env_file(text);
  return EtcdctlEnv{vars["ETCDCTL_ENDPOINTS"], vars["ETCDCTL_CACERT"], vars["ETCDCTL_CERT"], vars["ETCDCTL_KEY"]};
}

EtcdConfig parse_etcd_env(const std::string& text) {
  auto vars = read_env_file(text);
  EtcdConfig c;
  for (const auto& [name, field] : env_settings(c)) *field = vars[name];
  c.client.client_cert_auth = vars[client_cert_auth_var] == "true";
  c.peer.client_cert_auth = vars[peer_client_cert_auth_var] == "true";
  return c;
}

std::string to_systemd_unit(const EtcdService& s, const std::vector<std::string>& comment) {
  std::string out;
  for (const auto& line : comment) out += "# " + line + "\n";
  return out + "[Unit]\nDescription=etcd member " + s.member +
         "\nDocumentation=https://etcd.io/docs man:etcd\nAfter=network-online.target\nWants=network-online.target\n\n"
         "[Service]\nType=notify\nUser=etcd\nEnvironmentFile=" + s.env_file + "\nExecStart=" + s.etcd_binary +
         "\nRestart=on-failure\nRestartSec=5s\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n";
}

}  // namespace etcd_pki::detail
