#pragma once
// Private: etcd's own configuration formats, written and read in one place: the YAML of
// `etcd --config-file` and the ETCD_* variables of a systemd EnvironmentFile (written for each
// member by cluster, read back by cluster and verify), the systemd unit that runs etcd from those
// variables, and the member's etcdctl settings.
//
// Why both: etcd's YAML has no key for a CRL, and with --config-file etcd ignores every flag and
// ETCD_* variable, so only a member run from variables (or flags) honours revocation.
#include <map>
#include <string>
#include <vector>

namespace etcd_pki::detail {

// One of etcd's two TLS sections (client-transport-security, peer-transport-security).
struct EtcdTls {
  std::string cert_file, key_file, trusted_ca_file;
  bool client_cert_auth = false;
  std::string crl_file;  // ETCD_CLIENT_CRL_FILE / ETCD_PEER_CRL_FILE; YAML cannot carry it
  bool operator==(const EtcdTls&) const = default;
};

// The settings etcd-pki writes for a member; the names are etcd's YAML keys.
struct EtcdConfig {
  std::string name, data_dir;
  std::string listen_peer_urls, initial_advertise_peer_urls;
  std::string listen_client_urls, advertise_client_urls;
  std::string initial_cluster, initial_cluster_token, initial_cluster_state;
  EtcdTls client, peer;  // client-transport-security (the server certificate), peer-transport-security
  bool operator==(const EtcdConfig&) const = default;
};

// The YAML file, with `comment` (lines without their "# ") at the top. Strings are quoted.
std::string to_yaml(const EtcdConfig& config, const std::vector<std::string>& comment = {});

// Any etcd YAML config, as etcd-pki reads it: the flat keys, and the keys of one level of
// sections as "section.key" ("peer-transport-security.cert-file"); quotes and comments removed.
std::map<std::string, std::string> read_etcd_yaml(const std::string& text);
// The settings above from such a file (what is missing stays empty).
EtcdConfig parse_etcd_yaml(const std::string& text);

// The EnvironmentFile: `comment` at the top, then one unquoted ETCD_NAME=... line per setting (the
// values hold no spaces or quotes, so systemd and a shell read them alike).
std::string to_env(const EtcdConfig& config, const std::vector<std::string>& comment = {});
// KEY=VALUE lines as systemd reads an EnvironmentFile: '#' and ';' lines skipped, surrounding
// quotes removed.
std::map<std::string, std::string> read_env_file(const std::string& text);
// The settings of an etcd.env (what is missing stays empty).
EtcdConfig parse_etcd_env(const std::string& text);

// The systemd unit that runs one member from its EnvironmentFile and nothing else.
struct EtcdService {
  std::string member, env_file;
  std::string etcd_binary = "/usr/bin/etcd";  // Debian's etcd-server
};
std::string to_systemd_unit(const EtcdService& service, const std::vector<std::string>& comment = {});

// The items of one of etcd's comma-separated lists ("https://a:2379, https://b:2379"), each without
// surrounding blanks; empty items are left out.
std::vector<std::string> split_list(const std::string& list);

// The hosts of a comma-separated URL list ("https://10.0.0.1:2379,https://[::1]:2379"), IPs in
// canonical form, without duplicates and without wildcard listen addresses (0.0.0.0, ::).
std::vector<std::string> url_hosts(const std::string& urls);

// etcdctl's settings for a member: ETCDCTL_* lines for `set -a; . ./etcdctl.env; set +a`.
struct EtcdctlEnv {
  std::string endpoints, cacert, cert, key;
};
// `comment` (lines without their "# ") at the top.
std::string to_env(const EtcdctlEnv& env, const std::vector<std::string>& comment = {});
// Such a file read back (what is missing stays empty).
EtcdctlEnv parse_etcdctl_env(const std::string& text);

}  // namespace etcd_pki::detail
