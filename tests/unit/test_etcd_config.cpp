// etcd_config.hpp (private): the etcd.conf.yml that cluster writes is read back by verify as it
// was written (to_yaml -> parse_etcd_yaml), and a config written by hand is read the way etcd-pki
// reads any etcd config (read_etcd_yaml); the hosts of etcd's URL lists (url_hosts).
#include <map>
#include <string>
#include <vector>

#include "etcd_config.hpp"
#include "support.hpp"

using namespace etcd_pki::detail;

namespace {

// Every field set, with what a quoted YAML scalar must carry through: quotes, backslashes,
// spaces (inside, leading and trailing), IPv6 URLs with their colons and brackets.
EtcdConfig full_config() {
  EtcdConfig c;
  c.name = "etcd \"one\"";
  c.listen_peer_urls = "https://[fd00::1]:2380,https://10.0.0.1:2380";
  c.initial_advertise_peer_urls = "https://[fd00::1]:2380";
  c.listen_client_urls = "https://[::]:2379";
  c.advertise_client_urls = "https://[fd00::1]:2379,https://etcd-1.example.com:2379";
  c.initial_cluster = "etcd \"one\"=https://[fd00::1]:2380,etcd-2=https://10.0.0.2:2380";
  c.initial_cluster_token = " token with  spaces ";
  c.initial_cluster_state = "new";
  c.client = EtcdTls{"C:\\pki\\server.pem", "/etc/etcd/pki/server key.pem", "/etc/etcd/pki/ca.pem", true};
  c.peer = EtcdTls{"/etc/etcd/pki/peer.pem", "ends with a backslash\\", "it's \"quoted\"", false};
  return c;
}

}  // namespace

TEST_CASE("etcd_config: to_yaml -> parse_etcd_yaml gives the same config", "[etcd_config]") {
  const EtcdConfig c = full_config();
  std::string yaml = to_yaml(c, {"etcd-1: written by etcd-pki cluster", "copy to /etc/etcd/etcd.conf.yml"});
  INFO(yaml);
  CHECK(yaml.rfind("# etcd-1: written by etcd-pki cluster\n# copy to /etc/etcd/etcd.conf.yml\n", 0) == 0);
  CHECK(parse_etcd_yaml(yaml) == c);

  // Empty values and the defaults round-trip too.
  CHECK(parse_etcd_yaml(to_yaml(EtcdConfig{})) == EtcdConfig{});
  EtcdConfig one_flag;
  one_flag.peer.client_cert_auth = true;
  CHECK(parse_etcd_yaml(to_yaml(one_flag)) == one_flag);

  // The flat keys and the section keys, as read_etcd_yaml names them.
  auto m = read_etcd_yaml(yaml);
  CHECK(m.at("name") == c.name);
  CHECK(m.at("client-transport-security.cert-file") == "C:\\pki\\server.pem");
  CHECK(m.at("client-transport-security.client-cert-auth") == "true");
  CHECK(m.at("peer-transport-security.client-cert-auth") == "false");
  CHECK(m.at("peer-transport-security.trusted-ca-file") == "it's \"quoted\"");
  CHECK(m.count("client-transport-security") == 0);  // a section is no key of its own

  // A '#' inside a quoted value is no comment; after it, it is.
  EtcdConfig hash;
  hash.name = "etcd #1";
  hash.initial_cluster_token = "a \"#\" b #c";
  CHECK(parse_etcd_yaml(to_yaml(hash)) == hash);
  CHECK(read_etcd_yaml("name: 'etcd #2' # the second\nx: plain # comment\ny: a#b\n") ==
        std::map<std::string, std::string>{{"name", "etcd #2"}, {"x", "plain"}, {"y", "a#b"}});
}

TEST_CASE("etcd_config: read_etcd_yaml on a hand-written etcd config", "[etcd_config]") {
  const std::string text =
      "# etcd configuration, written by hand\n"
      "name: infra1   # a trailing comment\n"
      "data-dir: /var/lib/etcd\n"
      "\n"
      "listen-peer-urls: https://10.0.0.1:2380\n"
      "initial-advertise-peer-urls: 'https://[fd00::1]:2380'\r\n"
      "initial-cluster: 'infra1=https://[fd00::1]:2380,infra2=https://10.0.0.2:2380'\n"
      "advertise-client-urls: \"https://10.0.0.1:2379\"\n"
      "client-transport-security:\n"
      "  # the server certificate\n"
      "  cert-file: /etc/etcd/pki/server.pem\n"
      "  key-file: '/etc/etcd/pki/server-key.pem'\n"
      "  client-cert-auth: true\n"
      "\ttrusted-ca-file: \"/etc/etcd/pki/ca.pem\"\n"
      "peer-transport-security:\n"
      "    cert-file: /etc/etcd/pki/peer.pem\n"
      "    auto-tls: false\n"
      "log-level: info\n"
      "  orphan: an indented key after a flat one belongs to no section\n"
      "not a key\n";
  INFO(text);
  const std::map<std::string, std::string> want{
      {"name", "infra1"},
      {"data-dir", "/var/lib/etcd"},
      {"listen-peer-urls", "https://10.0.0.1:2380"},
      {"initial-advertise-peer-urls", "https://[fd00::1]:2380"},
      {"initial-cluster", "infra1=https://[fd00::1]:2380,infra2=https://10.0.0.2:2380"},
      {"advertise-client-urls", "https://10.0.0.1:2379"},
      {"client-transport-security.cert-file", "/etc/etcd/pki/server.pem"},
      {"client-transport-security.key-file", "/etc/etcd/pki/server-key.pem"},
      {"client-transport-security.client-cert-auth", "true"},
      {"client-transport-security.trusted-ca-file", "/etc/etcd/pki/ca.pem"},
      {"peer-transport-security.cert-file", "/etc/etcd/pki/peer.pem"},
      {"peer-transport-security.auto-tls", "false"},
      {"log-level", "info"},
  };
  CHECK(read_etcd_yaml(text) == want);

  EtcdConfig c = parse_etcd_yaml(text);
  CHECK(c.name == "infra1");
  CHECK(c.initial_advertise_peer_urls == "https://[fd00::1]:2380");
  CHECK(c.listen_client_urls.empty());  // missing stays empty
  CHECK(c.client == EtcdTls{"/etc/etcd/pki/server.pem", "/etc/etcd/pki/server-key.pem", "/etc/etcd/pki/ca.pem", true});
  CHECK(c.peer == EtcdTls{"/etc/etcd/pki/peer.pem", "", "", false});
}

TEST_CASE("etcd_config: url_hosts", "[etcd_config]") {
  using V = std::vector<std::string>;
  CHECK(url_hosts("") == V{});
  CHECK(url_hosts("https://10.0.0.1:2379") == V{"10.0.0.1"});
  // IPv6 in canonical form, names as written, wildcard listen addresses and duplicates dropped.
  CHECK(url_hosts("https://10.0.0.1:2379,https://[FD00:0::1]:2379,http://0.0.0.0:2379,https://[::]:2380,"
                  "https://etcd-1.example.com:2379/,https://10.0.0.1:2380,https://[fd00::1]:2380") ==
        V{"10.0.0.1", "fd00::1", "etcd-1.example.com"});
  CHECK(url_hosts("unix://localhost:0,https://[::1]:2379") == V{"localhost", "::1"});
}

TEST_CASE("etcd_config: to_env -> parse_etcd_env gives the same config, CRLs included", "[etcd_config]") {
  EtcdConfig c = full_config();
  c.data_dir = "/var/lib/etcd";
  c.client.crl_file = "/etc/etcd/pki/ca.crl";
  c.peer.crl_file = "/etc/etcd/pki/ca.crl";
  std::string env = to_env(c, {"etcd-1: written by etcd-pki cluster"});
  INFO(env);
  CHECK(env.rfind("# etcd-1: written by etcd-pki cluster\n", 0) == 0);
  CHECK(parse_etcd_env(env) == c);
  // Plain values are written bare (systemd and a shell read them alike), the others quoted.
  CHECK_THAT(env, Catch::Matchers::Contains("\nETCD_DATA_DIR=/var/lib/etcd\n"));
  CHECK_THAT(env, Catch::Matchers::Contains("\nETCD_CLIENT_CRL_FILE=/etc/etcd/pki/ca.crl\n"));
  CHECK_THAT(env, Catch::Matchers::Contains("\nETCD_INITIAL_CLUSTER_TOKEN=\" token with  spaces \"\n"));
  // Each section's switch after its trust file; the YAML has no CRL and the env no YAML-only key.
  CHECK_THAT(env, Catch::Matchers::Contains("ETCD_TRUSTED_CA_FILE=/etc/etcd/pki/ca.pem\nETCD_CLIENT_CERT_AUTH=true\n"));
  CHECK_THAT(env, Catch::Matchers::Contains("\nETCD_PEER_CLIENT_CERT_AUTH=false\n"));
  CHECK_THAT(to_yaml(c), !Catch::Matchers::Contains("crl"));
  EtcdConfig without_crl = c;
  without_crl.client.crl_file = without_crl.peer.crl_file = "";
  CHECK(parse_etcd_yaml(to_yaml(c)) == without_crl);
  // Empty settings are left out, and read back empty.
  CHECK(parse_etcd_env(to_env(EtcdConfig{})) == EtcdConfig{});
}

TEST_CASE("etcd_config: to_env -> parse_etcdctl_env gives the same etcdctl settings", "[etcd_config]") {
  EtcdctlEnv e{"https://10.0.0.1:2379,https://[fd00::2]:2379", "/etc/etcd/pki/ca.pem", "/etc/etcd/pki/server.pem",
               "/etc/etcd/pki/server-key.pem"};
  EtcdctlEnv back = parse_etcdctl_env(to_env(e, {"a comment"}));
  CHECK(back.endpoints == e.endpoints);
  CHECK(back.cacert == e.cacert);
  CHECK(back.cert == e.cert);
  CHECK(back.key == e.key);
  CHECK(parse_etcdctl_env("# nothing\n").cert.empty());
}

TEST_CASE("etcd_config: read_env_file reads an EnvironmentFile as systemd does", "[etcd_config]") {
  auto vars = read_env_file("# comment\n; also a comment\n\nETCD_NAME=infra1\n  ETCD_DATA_DIR = \"/var/lib/etcd x\"\n"
                            "ETCD_INITIAL_CLUSTER=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380\r\nnot a setting\n");
  CHECK(vars == std::map<std::string, std::string>{{"ETCD_NAME", "infra1"},
                                                    {"ETCD_DATA_DIR", "/var/lib/etcd x"},
                                                    {"ETCD_INITIAL_CLUSTER", "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380"}});
  EtcdConfig c = parse_etcd_env("ETCD_NAME=m1\nETCD_CLIENT_CERT_AUTH=true\nETCD_PEER_CRL_FILE=/pki/ca.crl\n");
  CHECK(c.name == "m1");
  CHECK(c.client.client_cert_auth);
  CHECK_FALSE(c.peer.client_cert_auth);
  CHECK(c.peer.crl_file == "/pki/ca.crl");
}

TEST_CASE("etcd_config: the systemd unit runs etcd from its EnvironmentFile only", "[etcd_config]") {
  std::string unit = to_systemd_unit({"etcd-1", "/etc/etcd/pki/etcd.env"}, {"first line"});
  INFO(unit);
  CHECK(unit.rfind("# first line\n[Unit]\n", 0) == 0);
  for (const char* line : {"\nType=notify\n", "\nUser=etcd\n", "\nEnvironmentFile=/etc/etcd/pki/etcd.env\n",
                           "\nExecStart=/usr/bin/etcd\n", "\nRestart=on-failure\n", "\nLimitNOFILE=65536\n",
                           "\nWantedBy=multi-user.target\n", "\nDescription=etcd member etcd-1\n"})
    CHECK_THAT(unit, Catch::Matchers::Contains(line));
  CHECK_THAT(unit, !Catch::Matchers::Contains("--config-file"));
  CHECK(unit.find("[Service]") > unit.find("[Unit]"));
  CHECK(unit.find("[Install]") > unit.find("[Service]"));
}
