// cluster.hpp: ClusterSpec from --initial-cluster and JSON, validate(), initial_cluster(), and
// build_cluster into a temporary folder with a fixed clock (issue, keep, add, refuse, force,
// threads, layouts, an existing CA). Self-contained: only the public headers.
#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_pki/etcd_pki.hpp"
#include "x509_util.hpp"
#include "support.hpp"

using namespace etcd_pki;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

using test::cert_at;
using test::slurp;
using test::spit;

namespace {

std::string errc_name(Errc c) { return to_string(c); }

class ClusterTempDir {
 public:
  ClusterTempDir() {
    std::string tmpl = (fs::temp_directory_path() / "etcd-pki-cluster-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~ClusterTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ClusterTempDir(const ClusterTempDir&) = delete;
  ClusterTempDir& operator=(const ClusterTempDir&) = delete;
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};



// Every file under dir (relative path -> content), and every entry's permission bits.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    auto perms = static_cast<unsigned>(e.symlink_status().permissions()) & 0777u;
    out[rel + " mode"] = std::to_string(perms);
    if (e.is_regular_file()) out[rel] = slurp(e.path().string());
  }
  return out;
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) out.insert(fs::relative(e.path(), dir).string());
  return out;
}

unsigned mode_of(const std::string& path) { return static_cast<unsigned>(fs::status(path).permissions()) & 0777u; }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}


bool signed_by(const Certificate& leaf, const Certificate& ca) {
  KeyPair pub = ca.public_key();
  int ok = X509_verify(leaf.native_handle(), pub.native_handle());
  ERR_clear_error();
  return ok == 1;
}

std::vector<std::string> ips(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

TimePoint fixed_now() { return parse_rfc3339("2025-03-10T12:34:29Z"); }

MemberSpec member(const std::string& name, std::vector<std::string> member_ips, std::vector<std::string> dns = {}) {
  MemberSpec m;
  m.name = name;
  m.ips = std::move(member_ips);
  m.dns = std::move(dns);
  return m;
}

// The seed topology: 3 members, ECDSA P-256 (the default), one client.
ClusterSpec three_members() {
  ClusterSpec s;
  s.members = {member("etcd-1", {"10.20.13.10"}), member("etcd-2", {"10.20.13.11"}), member("etcd-3", {"10.20.13.12"})};
  s.clients = {{"root", "root"}};
  return s;
}

ClusterOptions options_for(const std::string& out) {
  ClusterOptions o;
  o.out_dir = out;
  o.now = fixed_now();
  return o;
}

const std::vector<std::string> kAllLabels{"ca",          "clients/root", "etcd-1/peer", "etcd-1/server",
                                          "etcd-2/peer", "etcd-2/server", "etcd-3/peer", "etcd-3/server"};

}  // namespace

// ---------------------------------------------------------------------------------------------
// from_initial_cluster
// ---------------------------------------------------------------------------------------------

TEST_CASE("from_initial_cluster: hosts, ports and repeated names", "[cluster]") {
  struct Expect {
    std::string name;
    std::vector<std::string> ips, dns;
    int peer_port;
  };
  struct Case {
    const char* text;
    std::vector<Expect> members;
  };
  const Case cases[] = {
      {"etcd-1=https://10.20.13.10:2380", {{"etcd-1", {"10.20.13.10"}, {}, 2380}}},
      {"etcd-1=https://[fd00::1]:2380", {{"etcd-1", {"fd00::1"}, {}, 2380}}},
      {"etcd-1=https://[FD00:0:0::1]:2380", {{"etcd-1", {"fd00::1"}, {}, 2380}}},  // canonical form
      {"etcd-1=https://[::ffff:10.0.0.1]:2380", {{"etcd-1", {"10.0.0.1"}, {}, 2380}}},
      {"etcd-1=https://etcd-1.example.com:2380", {{"etcd-1", {}, {"etcd-1.example.com"}, 2380}}},
      {"etcd-1=https://10.0.0.1:12380", {{"etcd-1", {"10.0.0.1"}, {}, 12380}}},
      {"etcd-1=https://10.0.0.1:1", {{"etcd-1", {"10.0.0.1"}, {}, 1}}},
      {"etcd-1=https://10.0.0.1:65535", {{"etcd-1", {"10.0.0.1"}, {}, 65535}}},
      {"etcd-1=https://10.0.0.1", {{"etcd-1", {"10.0.0.1"}, {}, 2380}}},        // default port
      {"etcd-1=https://[fd00::1]", {{"etcd-1", {"fd00::1"}, {}, 2380}}},
      {"etcd-1=https://10.0.0.1:2380/", {{"etcd-1", {"10.0.0.1"}, {}, 2380}}},  // a bare "/" path
      {" a=https://10.0.0.1:2380 , b=https://10.0.0.2:2380 ,",
       {{"a", {"10.0.0.1"}, {}, 2380}, {"b", {"10.0.0.2"}, {}, 2380}}},
      {"a=https://10.0.0.1:2380,,b=https://10.0.0.2:2380", {{"a", {"10.0.0.1"}, {}, 2380}, {"b", {"10.0.0.2"}, {}, 2380}}},
      // A repeated name gives one member several addresses (deduplicated), in order.
      {"a=https://10.0.0.1:2380,b=https://10.0.0.2:2380,a=https://[fd00::1]:2380,a=https://a.example.com:2380,a=https://10.0.0.1:2380",
       {{"a", {"10.0.0.1", "fd00::1"}, {"a.example.com"}, 2380}, {"b", {"10.0.0.2"}, {}, 2380}}},
      {"a=https://10.0.0.1:2381,a=https://10.0.0.2:2381", {{"a", {"10.0.0.1", "10.0.0.2"}, {}, 2381}}},
      // Order of members is the order of first appearance.
      {"z=https://10.0.0.9:2380,a=https://10.0.0.1:2380", {{"z", {"10.0.0.9"}, {}, 2380}, {"a", {"10.0.0.1"}, {}, 2380}}},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.text);
    ClusterSpec s = ClusterSpec::from_initial_cluster(c.text);
    REQUIRE(s.members.size() == c.members.size());
    for (size_t i = 0; i < c.members.size(); ++i) {
      CHECK(s.members[i].name == c.members[i].name);
      CHECK(s.members[i].ips == c.members[i].ips);
      CHECK(s.members[i].dns == c.members[i].dns);
      CHECK(s.members[i].peer_port == c.members[i].peer_port);
      CHECK(s.members[i].client_port == 2379);
      CHECK(s.members[i].client_addresses.empty());
    }
    CHECK(s.clients.empty());
    CHECK(s.key == KeySpec{KeyAlgo::ecdsa, 256});
    CHECK_NOTHROW(s.validate());
  }
}

TEST_CASE("from_initial_cluster: errors name the entry", "[cluster]") {
  struct Case {
    const char* text;
    const char* field;    // "" for none
    const char* message;  // a part of it
  };
  const Case cases[] = {
      {"", "", "no members"},
      {" , ", "", "no members"},
      {"etcd-1", "entry 1", "expected NAME=https://HOST:PORT"},
      {"=https://10.0.0.1:2380", "entry 1", "expected NAME=https://HOST:PORT"},
      {"a=https://10.0.0.1:2380,b", "entry 2", "expected NAME=https://HOST:PORT"},
      {"a=http://10.0.0.1:2380", "entry 1", "plain http URL"},
      {"a=https://10.0.0.1:2380,b=http://10.0.0.2:2380", "entry 2", "plain http URL"},
      {"a=10.0.0.1:2380", "entry 1", "expected an https:// URL"},
      {"a=unix://x", "entry 1", "expected an https:// URL"},
      {"a=https://[fd00::1", "entry 1", "missing ']'"},
      {"a=https://[fd00::1]2380", "entry 1", "expected ':PORT' after ']'"},
      {"a=https://[10.0.0.1]:2380", "entry 1", "invalid IPv6 address"},
      {"a=https://[zz::1]:2380", "entry 1", "invalid IPv6 address"},
      {"a=https://[fd00::1%eth0]:2380", "entry 1", "invalid IPv6 address"},
      {"a=https://fd00::1:2380", "entry 1", "needs brackets"},
      {"a=https://10.0.0.1:0", "entry 1", "invalid port"},
      {"a=https://10.0.0.1:65536", "entry 1", "invalid port"},
      {"a=https://10.0.0.1:123456", "entry 1", "invalid port"},
      {"a=https://10.0.0.1:23a", "entry 1", "invalid port"},
      {"a=https://10.0.0.1:-1", "entry 1", "invalid port"},
      {"a=https://[fd00::1]:99999", "entry 1", "invalid port"},
      {"a=https://:2380", "entry 1", "missing host"},
      {"a=https://", "entry 1", "missing host"},
      {"a=https://10.0.0.1:2380/peer", "entry 1", "unexpected path"},
      {"a=https://bad..example.com:2380", "entry 1", "invalid host name"},
      {"a=https://-x.example.com:2380", "entry 1", "invalid host name"},
      {"a=https://10.0.0.1:2380,a=https://10.0.0.2:2381", "entry 2", "same port"},
      {"a=https://10.0.0.1:2381,a=https://10.0.0.2", "entry 2", "same port"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.text);
    Error e = test::catch_error([&] { ClusterSpec::from_initial_cluster(c.text); });
    CHECK(errc_name(e.category()) == errc_name(Errc::input));
    CHECK(e.source() == "--initial-cluster");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  // The source given by the caller is the one named.
  Error e = test::catch_error([] { ClusterSpec::from_initial_cluster("a=http://x:1", "etcd.conf"); });
  CHECK(e.source() == "etcd.conf");
  CHECK_THAT(std::string(e.what()), Contains("etcd.conf: entry 1: "));
}

TEST_CASE("from_initial_cluster does not validate: duplicates and bad names are left to validate()", "[cluster]") {
  ClusterSpec s = ClusterSpec::from_initial_cluster("a=https://10.0.0.1:2380,b=https://10.0.0.1:2380");
  REQUIRE(s.members.size() == 2);
  Error e = test::catch_error([&] { s.validate("--initial-cluster"); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == "--initial-cluster");
  CHECK(e.field() == "members[1].ips");
  CHECK_THAT(e.message(), Contains("10.0.0.1") && Contains("\"a\"") && Contains("\"b\""));

  ClusterSpec bad_name = ClusterSpec::from_initial_cluster("a.b/c=https://10.0.0.1:2380");
  CHECK(test::catch_error([&] { bad_name.validate(); }).field() == "members[0].name");
}

// ---------------------------------------------------------------------------------------------
// initial_cluster() and url_host()
// ---------------------------------------------------------------------------------------------

TEST_CASE("initial_cluster: round trip of canonical strings", "[cluster]") {
  const char* canonical[] = {
      "etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380",
      "etcd-1=https://[fd00::1]:2380,etcd-2=https://etcd-2.example.com:2380",
      "a=https://10.0.0.1:12380,b=https://[2001:db8::2]:443,c=https://c.example.com:2380",
      "only=https://127.0.0.1:32380",
  };
  for (const char* text : canonical) {
    INFO(text);
    CHECK(ClusterSpec::from_initial_cluster(text).initial_cluster() == text);
  }
}

TEST_CASE("initial_cluster: normalises what it reads", "[cluster]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"a=https://[FD00:0::1]:2380", "a=https://[fd00::1]:2380"},
      {"a=https://10.0.0.1", "a=https://10.0.0.1:2380"},
      {"a=https://10.0.0.1:2380/", "a=https://10.0.0.1:2380"},
      {" a=https://10.0.0.1:2380 ,b=https://10.0.0.2:2380,", "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380"},
      // A member with several addresses is written with its first one (the one in its URLs).
      {"a=https://10.0.0.1:2380,a=https://10.0.0.5:2380", "a=https://10.0.0.1:2380"},
      {"a=https://a.example.com:2380,a=https://10.0.0.5:2380", "a=https://10.0.0.5:2380"},  // IPs first
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(ClusterSpec::from_initial_cluster(c.in).initial_cluster() == c.out);
  }
}

TEST_CASE("MemberSpec::url_host and initial_cluster of a built spec", "[cluster]") {
  CHECK(member("a", {"10.0.0.1", "10.0.0.2"}, {"a.example.com"}).url_host() == "10.0.0.1");
  CHECK(member("a", {"fd00::1"}).url_host() == "[fd00::1]");
  CHECK(member("a", {}, {"a.example.com", "b.example.com"}).url_host() == "a.example.com");
  CHECK(member("a", {}).url_host().empty());

  ClusterSpec s;
  s.members = {member("x", {"fd00::a"}, {"x.example.com"}), member("y", {}, {"y.example.com"})};
  s.members[1].peer_port = 7001;
  CHECK(s.initial_cluster() == "x=https://[fd00::a]:2380,y=https://y.example.com:7001");
  ClusterSpec back = ClusterSpec::from_initial_cluster(s.initial_cluster());
  REQUIRE(back.members.size() == 2);
  CHECK(back.members[0].ips == ips({"fd00::a"}));
  CHECK(back.members[1].dns == ips({"y.example.com"}));
  CHECK(back.members[1].peer_port == 7001);
  CHECK(ClusterSpec{}.initial_cluster().empty());
}

// ---------------------------------------------------------------------------------------------
// from_json
// ---------------------------------------------------------------------------------------------

TEST_CASE("from_json: the full spec", "[cluster]") {
  const char* json = R"({
    "members": [
      {"name": "etcd-a", "ips": ["10.1.0.1", "FD00::A"], "dns": ["a.example.com"],
       "client_addresses": ["10.1.0.100", "etcd.example.com"], "peer_port": 12380, "client_port": 12379},
      {"name": "etcd-b", "dns": ["b.example.com"]},
      {"name": "etcd-c", "ips": ["::ffff:10.1.0.3"]}
    ],
    "clients": [{"name": "admin", "cn": "root"}, {"name": "kube"}, {"name": "empty-cn", "cn": ""}],
    "key": {"algo": "rsa", "size": 3072},
    "expiry": "30d",
    "ca_expiry": "2y",
    "names": [{"C": "DE", "O": "Acme", "OU": "ops"}],
    "cluster_token": "tok-1",
    "ca": {"cert": "certs/ca.pem", "key": "/abs/ca-key.pem"}
  })";
  ClusterSpec s = ClusterSpec::from_json(json, "spec.json", "/base");
  REQUIRE(s.members.size() == 3);
  CHECK(s.members[0].name == "etcd-a");
  CHECK(s.members[0].ips == ips({"10.1.0.1", "fd00::a"}));
  CHECK(s.members[0].dns == ips({"a.example.com"}));
  CHECK(s.members[0].client_addresses == ips({"10.1.0.100", "etcd.example.com"}));
  CHECK(s.members[0].peer_port == 12380);
  CHECK(s.members[0].client_port == 12379);
  CHECK(s.members[1].ips.empty());
  CHECK(s.members[1].dns == ips({"b.example.com"}));
  CHECK(s.members[1].peer_port == 2380);
  CHECK(s.members[1].client_port == 2379);
  CHECK(s.members[2].ips == ips({"10.1.0.3"}));  // IPv4-mapped: the IPv4 address
  REQUIRE(s.clients.size() == 3);
  CHECK(s.clients[0].name == "admin");
  CHECK(s.clients[0].cn == "root");
  CHECK(s.clients[1].cn == "kube");  // default: the name
  CHECK(s.clients[2].cn.empty());    // given, even if empty
  CHECK(s.key == KeySpec{KeyAlgo::rsa, 3072});
  CHECK(s.expiry == Seconds(30 * 86400));
  CHECK(s.ca_expiry == Seconds(2 * 365 * 86400));
  CHECK(s.names.country == ips({"DE"}));
  CHECK(s.names.organization == ips({"Acme"}));
  CHECK(s.names.org_unit == ips({"ops"}));
  CHECK(s.names.common_name.empty());
  CHECK(s.cluster_token == "tok-1");
  CHECK(s.ca_cert_file == "/base/certs/ca.pem");  // relative to base_dir
  CHECK(s.ca_key_file == "/abs/ca-key.pem");      // absolute: as given
  CHECK_FALSE(s.ca_request);
  CHECK(s.initial_cluster() == "etcd-a=https://10.1.0.1:12380,etcd-b=https://b.example.com:2380,etcd-c=https://10.1.0.3:2380");
}

TEST_CASE("from_json: defaults, case-insensitive keys and a CA CSR", "[cluster]") {
  ClusterSpec s = ClusterSpec::from_json(R"({"MEMBERS": [{"Name": "a", "IPs": ["10.0.0.1"]}]})", "s.json");
  REQUIRE(s.members.size() == 1);
  CHECK(s.members[0].ips == ips({"10.0.0.1"}));
  CHECK(s.key == KeySpec{KeyAlgo::ecdsa, 256});
  CHECK(s.expiry == Seconds(8760LL * 3600));
  CHECK(s.ca_expiry == Seconds(87600LL * 3600));
  CHECK(s.cluster_token == "etcd-cluster");
  CHECK(s.clients.empty());
  CHECK(s.ca_cert_file.empty());
  CHECK(s.ca_key_file.empty());
  CHECK_FALSE(s.ca_request);

  ClusterSpec c = ClusterSpec::from_json(
      R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}], "ca": {"csr": {"CN": "my-ca", "key": {"algo": "ecdsa", "size": 384}}}})",
      "s.json");
  REQUIRE(c.ca_request);
  CHECK(c.ca_request->subject.common_name == "my-ca");
  CHECK(c.ca_request->key == KeySpec{KeyAlgo::ecdsa, 384});
  CHECK(c.ca_request->ca.has_value());  // always a CA request
}

TEST_CASE("from_json: errors name the field", "[cluster]") {
  const std::string m1 = R"("members": [{"name": "a", "ips": ["10.0.0.1"]}])";
  struct Case {
    std::string json;
    Errc category;
    std::string field;    // "" when the message has none
    std::string message;  // a part of the message
  };
  const std::vector<Case> cases = {
      {R"({"members": [)", Errc::input, "", "invalid JSON"},
      {"[]", Errc::input, "", "expected a JSON object"},
      {"{}", Errc::input, "members", "non-empty array"},
      {R"({"members": []})", Errc::input, "members", "non-empty array"},
      {R"({"members": {}})", Errc::input, "members", "non-empty array"},
      {R"({"member": [{"name": "a", "ips": ["10.0.0.1"]}]})", Errc::input, "member", "did you mean \"members\""},
      {R"({"members": [{"name": "a", "ip": ["10.0.0.1"]}]})", Errc::input, "members[0].ip", "unknown field \"ip\""},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.256"]}]})", Errc::input, "members[0].ips", "invalid IP address \"10.0.0.256\""},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1/24"]}]})", Errc::input, "members[0].ips", "invalid IP address"},
      {R"({"members": [{"name": "a", "ips": "10.0.0.1"}]})", Errc::input, "members[0].ips", "expected an array of strings"},
      {R"({"members": [{"name": "a", "ips": [1]}]})", Errc::input, "members[0].ips[0]", "expected a string"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"], "peer_port": 0}]})", Errc::input, "members[0].peer_port", "invalid port 0"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"], "client_port": 65536}]})", Errc::input, "members[0].client_port", "invalid port"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"], "peer_port": "2380"}]})", Errc::input, "members[0].peer_port", "expected an integer"},
      // validate(), run by from_json
      {R"({"members": [{"ips": ["10.0.0.1"]}]})", Errc::input, "members[0].name", "missing member name"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}, {"name": "a", "ips": ["10.0.0.2"]}]})", Errc::input,
       "members[1].name", "duplicate member name \"a\""},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}, {"name": "b", "ips": ["10.0.0.1"]}]})", Errc::input,
       "members[1].ips", "given to both \"a\" and \"b\""},
      {R"({"members": [{"name": "a", "ips": ["fd00::1"]}, {"name": "b", "ips": ["FD00:0::1"]}]})", Errc::input,
       "members[1].ips", "given to both"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}, {"name": "b"}]})", Errc::input, "members[1]", "has no address"},
      {R"({"members": [{"name": "a", "ips": [], "dns": []}]})", Errc::input, "members[0]", "has no address"},
      {R"({"members": [{"name": "a", "dns": ["bad..example.com"]}]})", Errc::input, "members[0].dns", "invalid DNS name"},
      {R"({"members": [{"name": "a", "dns": ["10.0.0.0/8"]}]})", Errc::input, "members[0].dns", "invalid DNS name"},
      {R"({"members": [{"name": "a", "ips": ["10.0.0.1"], "client_addresses": ["-vip"]}]})", Errc::input,
       "members[0].client_addresses", "invalid address"},
      {R"({"members": [{"name": "../a", "ips": ["10.0.0.1"]}]})", Errc::input, "members[0].name", "invalid member name"},
      {R"({"members": [{"name": "ca", "ips": ["10.0.0.1"]}]})", Errc::input, "members[0].name", "invalid member name"},
      {R"({"members": [{"name": "clients", "ips": ["10.0.0.1"]}]})", Errc::input, "members[0].name", "invalid member name"},
      {R"({"members": [{"name": "a b", "ips": ["10.0.0.1"]}]})", Errc::input, "members[0].name", "invalid member name"},
      // clients
      {"{" + m1 + R"(, "clients": {}})", Errc::input, "clients", "expected an array"},
      {"{" + m1 + R"(, "clients": [{"name": "x", "user": "y"}]})", Errc::input, "clients[0].user", "unknown field"},
      {"{" + m1 + R"(, "clients": [{"cn": "x"}]})", Errc::input, "clients[0].name", "invalid client name"},
      {"{" + m1 + R"(, "clients": [{"name": "x/y"}]})", Errc::input, "clients[0].name", "invalid client name"},
      {"{" + m1 + R"(, "clients": [{"name": "r"}, {"name": "r"}]})", Errc::input, "clients[1].name", "duplicate client \"r\""},
      {"{" + m1 + R"(, "clients": [{"name": "root-key"}, {"name": "root"}]})", Errc::input, "clients[0].name", "overwrite the key"},
      // key, durations, names, ca, token
      {"{" + m1 + R"(, "key": {"algo": "dsa"}})", Errc::key, "key.algo", "invalid algorithm"},
      {"{" + m1 + R"(, "key": {"algo": "rsa", "size": 1024}})", Errc::key, "key.size", "too weak"},
      {"{" + m1 + R"(, "key": {"algo": "ecdsa", "size": -1}})", Errc::key, "key.size", "invalid key size"},
      {"{" + m1 + R"(, "key": {"algo": "ecdsa", "bits": 256}})", Errc::input, "key.bits", "unknown field"},
      {"{" + m1 + R"(, "expiry": "soon"})", Errc::input, "expiry", "invalid duration"},
      {"{" + m1 + R"(, "expiry": "-1h"})", Errc::input, "expiry", "must be positive"},
      {"{" + m1 + R"(, "ca_expiry": "0s"})", Errc::input, "ca_expiry", "must be positive"},
      {"{" + m1 + R"(, "names": [{"X": "y"}]})", Errc::input, "names[0].X", "unknown field"},
      {"{" + m1 + R"(, "ca": {"cert": "c.pem"}})", Errc::input, "ca.cert", "both \"cert\" and \"key\""},
      {"{" + m1 + R"(, "ca": {"key": "k.pem"}})", Errc::input, "ca.cert", "both \"cert\" and \"key\""},
      {"{" + m1 + R"(, "ca": {"csr": {"CN": "x"}, "cert": "c", "key": "k"}})", Errc::input, "ca.csr", "not both"},
      {"{" + m1 + R"(, "ca": {"foo": 1}})", Errc::input, "ca.foo", "unknown field"},
      {"{" + m1 + R"(, "cluster_token": 5})", Errc::input, "cluster_token", "expected a string"},
  };
  for (const auto& c : cases) {
    INFO("spec: " << c.json);
    Error e = test::catch_error([&] { ClusterSpec::from_json(c.json, "spec.json"); });
    INFO("error: " << e.what());
    CHECK(errc_name(e.category()) == errc_name(c.category));
    CHECK(e.source() == "spec.json");
    if (!c.field.empty()) {
      CHECK(e.field() == c.field);
      CHECK_THAT(std::string(e.what()), Contains("spec.json: " + c.field + ": "));
    }
    CHECK_THAT(std::string(e.what()), Contains(c.message));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

TEST_CASE("validate: each rule on a built spec", "[cluster]") {
  CHECK_NOTHROW(three_members().validate());
  struct Case {
    const char* what;
    void (*mutate)(ClusterSpec&);
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      {"empty name", [](ClusterSpec& s) { s.members[1].name = ""; }, "members[1].name", "missing member name"},
      {"duplicate name", [](ClusterSpec& s) { s.members[2].name = "etcd-1"; }, "members[2].name", "duplicate member name"},
      {"slash in a name", [](ClusterSpec& s) { s.members[0].name = "a/b"; }, "members[0].name", "invalid member name"},
      {"dot-dot name", [](ClusterSpec& s) { s.members[0].name = ".."; }, "members[0].name", "invalid member name"},
      {"name not a DNS label", [](ClusterSpec& s) { s.members[0].name = "-etcd"; }, "members[0].name", "invalid member name"},
      {"no address", [](ClusterSpec& s) { s.members[2].ips.clear(); }, "members[2]", "has no address"},
      {"duplicate IP", [](ClusterSpec& s) { s.members[2].ips = {"10.20.13.10"}; }, "members[2].ips", "given to both \"etcd-1\" and \"etcd-3\""},
      {"bad DNS", [](ClusterSpec& s) { s.members[0].dns = {"a..b"}; }, "members[0].dns", "invalid DNS name"},
      {"bad client address", [](ClusterSpec& s) { s.members[1].client_addresses = {"x_-.."}; }, "members[1].client_addresses", "invalid address"},
      {"bad client name", [](ClusterSpec& s) { s.clients[0].name = ""; }, "clients[0].name", "invalid client name"},
      {"client name with a slash", [](ClusterSpec& s) { s.clients[0].name = "../x"; }, "clients[0].name", "invalid client name"},
      {"duplicate client", [](ClusterSpec& s) { s.clients.push_back({"root", "other"}); }, "clients[1].name", "duplicate client"},
      {"client colliding with a key file", [](ClusterSpec& s) { s.clients.push_back({"root-key", "x"}); }, "clients[1].name", "overwrite the key"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ClusterSpec s = three_members();
    c.mutate(s);
    Error e = test::catch_error([&] { s.validate("src"); });
    CHECK(errc_name(e.category()) == errc_name(Errc::input));
    CHECK(e.source() == "src");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
  }
  // Allowed: the same IP as a client address of two members (a shared VIP), an IP in a client
  // address, DNS names shared by nobody else, and a client whose name merely ends in "-key".
  ClusterSpec ok = three_members();
  ok.members[0].client_addresses = {"10.20.13.100", "etcd.example.com"};
  ok.members[1].client_addresses = {"10.20.13.100"};
  ok.clients.push_back({"monkey", "monkey"});
  ok.clients.push_back({"solo-key", "solo-key"});
  CHECK_NOTHROW(ok.validate());
}

// ---------------------------------------------------------------------------------------------
// build_cluster
// ---------------------------------------------------------------------------------------------

TEST_CASE("build_cluster: the seed topology, then kept, extended, refused and forced", "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterSpec spec = three_members();
  ClusterOptions opt = options_for(out);

  ClusterResult r = build_cluster(spec, opt);
  CHECK(sorted(r.issued) == kAllLabels);
  CHECK(r.reused.empty());
  CHECK(r.warnings.empty());
  // The CA (3 files, its index and its empty CRL in DER and PEM), 2 client files and the clients'
  // trust file, 11 per member.
  CHECK(r.written.size() == 3 + 3 + 2 + 1 + 3 * 11);
  for (const auto& w : r.written) CHECK_THAT(w, Catch::Matchers::StartsWith(out + "/"));

  std::set<std::string> want{"ca",       "ca/ca.pem",        "ca/ca-key.pem",       "ca/ca.csr", "ca/ca-index.txt", "ca/ca.crl",
                             "ca/ca-crl.pem", "clients", "clients/ca.pem", "clients/root.pem", "clients/root-key.pem"};
  for (const char* m : {"etcd-1", "etcd-2", "etcd-3"})
    for (const char* f : {"", "/ca.pem", "/ca.crl", "/server.pem", "/server-key.pem", "/peer.pem", "/peer-key.pem", "/etcd.conf.yml",
                          "/etcd.env", "/etcd.service", "/etcdctl.env", "/MANIFEST"})
      want.insert(std::string(m) + f);
  CHECK(entries(out) == want);
  CHECK(mode_of(out) == 0700u);
  CHECK(mode_of(out + "/etcd-2") == 0700u);
  CHECK(mode_of(out + "/ca/ca-key.pem") == 0600u);
  CHECK(mode_of(out + "/etcd-2/server-key.pem") == 0600u);
  CHECK(mode_of(out + "/etcd-2/server.pem") == 0644u);
  CHECK(mode_of(out + "/etcd-2/etcd.conf.yml") == 0644u);

  // The certificates, read back.
  Certificate ca = cert_at(out + "/ca/ca.pem");
  CHECK(ca.is_ca());
  CHECK(ca.subject().common_name == "etcd-ca");
  const TimePoint nb = parse_rfc3339("2025-03-10T12:29:00Z");  // 12:34:29 rounded to 12:34, minus 5 minutes
  CHECK(ca.not_after() - ca.not_before() == Seconds(87600LL * 3600));
  Certificate server = cert_at(out + "/etcd-2/server.pem");
  Certificate peer = cert_at(out + "/etcd-2/peer.pem");
  Certificate client = cert_at(out + "/clients/root.pem");
  for (const Certificate* c : {&server, &peer, &client}) {
    CHECK(signed_by(*c, ca));
    CHECK_FALSE(c->is_ca());
    CHECK(c->not_before() == nb);
    CHECK(c->not_after() == nb + Seconds(8760LL * 3600));
    CHECK(c->key_usage() == std::optional<uint32_t>(ku::digital_signature));
    CHECK(c->public_key().spec() == KeySpec{KeyAlgo::ecdsa, 256});
  }
  CHECK(server.subject().common_name == "etcd-2");
  CHECK(peer.subject().common_name == "etcd-2");
  CHECK(client.subject().common_name == "root");
  CHECK(server.sans().to_string() == "DNS:etcd-2, DNS:localhost, IP:10.20.13.11, IP:127.0.0.1, IP:::1");
  CHECK(peer.sans().to_string() == "DNS:etcd-2, IP:10.20.13.11");
  CHECK(client.sans().empty());
  CHECK(server.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
  CHECK(peer.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
  CHECK(client.ext_key_usage() == std::vector<std::string>{eku::client_auth});
  CHECK(KeyPair::from_pem(slurp(out + "/etcd-2/peer-key.pem")).same_public_key(peer.public_key()));
  CHECK(slurp(out + "/etcd-1/ca.pem") == slurp(out + "/ca/ca.pem"));
  const std::string conf = slurp(out + "/etcd-2/etcd.conf.yml");
  CHECK_THAT(conf, Contains("name: \"etcd-2\"\n"));
  CHECK_THAT(conf, Contains("initial-cluster: \"" + spec.initial_cluster() + "\"\n"));
  CHECK_THAT(conf, Contains("cert-file: \"/etc/etcd/pki/server.pem\""));
  CHECK_THAT(slurp(out + "/etcd-2/etcdctl.env"),
             Contains("ETCDCTL_ENDPOINTS=https://10.20.13.10:2379,https://10.20.13.11:2379,https://10.20.13.12:2379\n"));
  // etcd.env: the same settings plus the CRL; every member holds the CA's (empty) CRL.
  const std::string env = slurp(out + "/etcd-2/etcd.env");
  CHECK_THAT(env, Contains("\nETCD_NAME=etcd-2\n") && Contains("\nETCD_INITIAL_CLUSTER_STATE=new\n") &&
                      Contains("\nETCD_DATA_DIR=/var/lib/etcd\n") && Contains("\nETCD_CLIENT_CRL_FILE=/etc/etcd/pki/ca.crl\n") &&
                      Contains("\nETCD_PEER_CRL_FILE=/etc/etcd/pki/ca.crl\n") && Contains("\nETCD_PEER_CLIENT_CERT_AUTH=true\n"));
  CHECK_THAT(slurp(out + "/etcd-2/etcd.service"), Contains("\nEnvironmentFile=/etc/etcd/pki/etcd.env\n"));
  CHECK(slurp(out + "/etcd-2/ca.crl") == slurp(out + "/ca/ca.crl"));
  Crl crl = Crl::from_bytes(slurp(out + "/ca/ca.crl"));
  CHECK(crl.signed_by(ca));
  CHECK(crl.revoked().empty());
  CHECK(Crl::from_bytes(slurp(out + "/ca/ca-crl.pem")).sha256_fingerprint() == crl.sha256_fingerprint());
  CHECK_THAT(slurp(out + "/etcd-2/MANIFEST"), Contains("\nca.crl  sha256:") && Contains("\netcd.env  sha256:") &&
                                                 Contains("\netcd.service  sha256:"));

  // Again: everything kept, nothing written.
  auto before = snapshot(out);
  ClusterResult again = build_cluster(spec, opt);
  CHECK(again.issued.empty());
  CHECK(sorted(again.reused) == kAllLabels);
  CHECK(again.written.empty());
  CHECK(snapshot(out) == before);

  // A fourth member: only its two certificates; the others' derived files follow.
  ClusterSpec four = spec;
  four.members.push_back(member("etcd-4", {"10.20.13.13"}));
  ClusterResult added = build_cluster(four, opt);
  CHECK(sorted(added.issued) == std::vector<std::string>{"etcd-4/peer", "etcd-4/server"});
  // It joins a running cluster: what to run first, and "existing" in its settings only.
  REQUIRE(added.added.size() == 1);
  CHECK(added.added[0].name == "etcd-4");
  CHECK(added.added[0].etcdctl == "etcdctl member add etcd-4 --peer-urls=https://10.20.13.13:2380");
  CHECK(added.removed.empty());
  CHECK_THAT(slurp(out + "/etcd-4/etcd.env"), Contains("\nETCD_INITIAL_CLUSTER_STATE=existing\n") &&
                                                  Contains("\nETCD_INITIAL_CLUSTER=" + four.initial_cluster() + "\n"));
  CHECK_THAT(slurp(out + "/etcd-4/etcd.conf.yml"), Contains("initial-cluster-state: \"existing\""));
  CHECK_THAT(slurp(out + "/etcd-1/etcd.env"), Contains("\nETCD_INITIAL_CLUSTER_STATE=new\n"));
  CHECK(sorted(added.reused) == kAllLabels);
  std::set<std::string> written(added.written.begin(), added.written.end());
  CHECK(written.count(out + "/etcd-1/etcd.conf.yml") == 1);
  CHECK(written.count(out + "/etcd-1/etcdctl.env") == 1);
  CHECK(written.count(out + "/etcd-1/MANIFEST") == 1);
  CHECK(written.count(out + "/etcd-1/server.pem") == 0);
  CHECK(written.count(out + "/etcd-1/ca.pem") == 0);
  CHECK(written.count(out + "/ca/ca.pem") == 0);
  CHECK(written.count(out + "/etcd-4/server-key.pem") == 1);
  CHECK(written.size() == 11 + 3 * 4 + 1);
  auto after_add = snapshot(out);
  for (const auto& [path, data] : before) {
    bool derived = path.find("etcd.conf.yml") != std::string::npos || path.find("etcd.env") != std::string::npos ||
                   path.find("etcdctl.env") != std::string::npos ||
                   path.find("MANIFEST") != std::string::npos || path == "ca/ca-index.txt";
    INFO(path);
    if (derived && path.find(" mode") == std::string::npos) CHECK(after_add.at(path) != data);
    else CHECK(after_add.at(path) == data);
  }
  CHECK_THAT(after_add.at("etcd-1/etcd.conf.yml"), Contains(four.initial_cluster()));
  CHECK(signed_by(cert_at(out + "/etcd-4/server.pem"), ca));

  // A changed IP: refused, nothing written.
  ClusterSpec moved = four;
  moved.members[1].ips = {"10.20.13.99"};
  Error e = test::catch_error([&] { build_cluster(moved, opt); });
  CHECK(errc_name(e.category()) == errc_name(Errc::exists));
  CHECK(e.source() == out + "/etcd-2/server.pem");
  CHECK_THAT(e.message(), Contains("10.20.13.99") && !Contains("--force"));  // the CLI adds the flag for the hint
  CHECK(e.hint() == Hint::reissue);
  CHECK(snapshot(out) == after_add);

  // Another key type: refused too (the keys would be replaced).
  ClusterSpec ed = four;
  ed.key = KeySpec{KeyAlgo::ed25519, 0};
  CHECK(test::catch_error([&] { build_cluster(ed, opt); }).category() == Errc::exists);
  CHECK(snapshot(out) == after_add);

  // --force: everything new, a new CA.
  ClusterOptions force = opt;
  force.force = true;
  ClusterResult forced = build_cluster(moved, force);
  CHECK(forced.reused.empty());
  CHECK(forced.issued.size() == 1 + 4 * 2 + 1);
  CHECK(std::count(forced.issued.begin(), forced.issued.end(), "ca") == 1);
  Certificate new_ca = cert_at(out + "/ca/ca.pem");
  CHECK(new_ca.to_pem() != ca.to_pem());
  CHECK(cert_at(out + "/etcd-2/peer.pem").sans().to_string() == "DNS:etcd-2, IP:10.20.13.99");
  CHECK(signed_by(cert_at(out + "/etcd-1/server.pem"), new_ca));
  CHECK_FALSE(signed_by(cert_at(out + "/etcd-1/server.pem"), ca));
  CHECK(slurp(out + "/etcd-1/ca.pem") == new_ca.to_pem());
}

TEST_CASE("build_cluster: client_addresses, client CNs, names, ports and the MANIFEST", "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterSpec spec = ClusterSpec::from_json(R"({
    "members": [
      {"name": "etcd-a", "ips": ["10.1.0.1", "fd00::a"], "dns": ["a.example.com"],
       "client_addresses": ["10.1.0.100", "etcd.example.com"], "peer_port": 12380, "client_port": 12379},
      {"name": "etcd-b", "dns": ["b.example.com"]}
    ],
    "clients": [{"name": "admin", "cn": "root"}],
    "key": {"algo": "ed25519"},
    "expiry": "30d",
    "names": [{"C": "DE", "O": "Acme"}],
    "cluster_token": "tok-1"
  })", "spec.json");
  ClusterResult r = build_cluster(spec, options_for(out));
  CHECK(sorted(r.issued) == std::vector<std::string>{"ca", "clients/admin", "etcd-a/peer", "etcd-a/server", "etcd-b/peer", "etcd-b/server"});
  Certificate server = cert_at(out + "/etcd-a/server.pem");
  Certificate peer = cert_at(out + "/etcd-a/peer.pem");
  CHECK(server.sans().to_string() ==
        "DNS:etcd-a, DNS:a.example.com, DNS:etcd.example.com, DNS:localhost, IP:10.1.0.1, IP:fd00::a, IP:10.1.0.100, IP:127.0.0.1, IP:::1");
  CHECK(peer.sans().to_string() == "DNS:etcd-a, DNS:a.example.com, IP:10.1.0.1, IP:fd00::a");
  CHECK(cert_at(out + "/etcd-b/server.pem").sans().to_string() == "DNS:etcd-b, DNS:b.example.com, DNS:localhost, IP:127.0.0.1, IP:::1");
  Certificate admin = cert_at(out + "/clients/admin.pem");
  CHECK(admin.subject().common_name == "root");
  CHECK(admin.subject().organization == std::vector<std::string>{"Acme"});
  CHECK(admin.subject().country == std::vector<std::string>{"DE"});
  CHECK(cert_at(out + "/ca/ca.pem").subject().organization == std::vector<std::string>{"Acme"});
  CHECK(admin.public_key().spec() == KeySpec{KeyAlgo::ed25519, 0});
  CHECK(admin.key_usage() == std::optional<uint32_t>(ku::digital_signature));
  CHECK(admin.not_after() - admin.not_before() == Seconds(30 * 86400));

  const std::string conf = slurp(out + "/etcd-a/etcd.conf.yml");
  CHECK_THAT(conf, Contains("initial-advertise-peer-urls: \"https://10.1.0.1:12380\"\n"));
  CHECK_THAT(conf, Contains("listen-client-urls: \"https://10.1.0.1:12379,https://127.0.0.1:12379\"\n"));
  CHECK_THAT(conf, Contains("initial-cluster: \"etcd-a=https://10.1.0.1:12380,etcd-b=https://b.example.com:2380\"\n"));
  CHECK_THAT(conf, Contains("initial-cluster-token: \"tok-1\"\n"));
  CHECK_THAT(slurp(out + "/etcd-b/etcd.conf.yml"), Contains("listen-peer-urls: \"https://0.0.0.0:2380\"\n"));
  CHECK_THAT(slurp(out + "/etcd-b/etcdctl.env"), Contains("ETCDCTL_ENDPOINTS=https://10.1.0.1:12379,https://b.example.com:2379\n"));

  // MANIFEST: one line per other file of the folder, with its SHA-256 (upper-case hex).
  std::map<std::string, std::string> listed;
  std::istringstream manifest(slurp(out + "/etcd-a/MANIFEST"));
  for (std::string line; std::getline(manifest, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, hash;
    fields >> file >> hash;
    listed[file] = line;
    REQUIRE(hash.rfind("sha256:", 0) == 0);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    std::string data = slurp(out + "/etcd-a/" + file);
    REQUIRE(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) == 1);
    std::string hex;
    for (unsigned i = 0; i < n; ++i) {
      static const char* digits = "0123456789ABCDEF";
      hex += digits[md[i] >> 4];
      hex += digits[md[i] & 15];
    }
    INFO(line);
    CHECK(hash.substr(7) == hex);
    bool is_cert = file.ends_with(".pem") && !file.ends_with("-key.pem");
    CHECK((line.find("  expires: ") != std::string::npos) == is_cert);
  }
  std::set<std::string> names;
  for (auto& [f, line] : listed) names.insert(f);
  CHECK(names == std::set<std::string>{"ca.crl", "ca.pem", "etcd.conf.yml", "etcd.env", "etcd.service", "etcdctl.env", "peer-key.pem", "peer.pem", "server-key.pem", "server.pem"});
  CHECK_THAT(listed["server.pem"], Contains("  expires: " + format_rfc3339(server.not_after())));
}

TEST_CASE("build_cluster: the clock decides what is still valid", "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterSpec spec;
  spec.members = {member("solo", {"10.0.0.1"})};
  spec.expiry = Seconds(24 * 3600);
  spec.ca_expiry = Seconds(10 * 24 * 3600);
  ClusterOptions opt = options_for(out);
  build_cluster(spec, opt);
  auto first = snapshot(out);

  ClusterOptions later = opt;
  later.now = fixed_now() + Seconds(12 * 3600);  // leaves still valid
  CHECK(build_cluster(spec, later).issued.empty());

  later.now = fixed_now() + Seconds(2 * 24 * 3600);  // leaves expired, CA not
  Error expired = test::catch_error([&] { build_cluster(spec, later); });
  CHECK(expired.category() == Errc::exists);
  CHECK_THAT(expired.message(), Contains("expired"));
  CHECK(snapshot(out) == first);

  later.now = fixed_now() + Seconds(11 * 24 * 3600);  // the CA expired too
  Error ca_expired = test::catch_error([&] { build_cluster(spec, later); });
  CHECK(ca_expired.category() == Errc::exists);
  CHECK_THAT(ca_expired.message(), Contains("the existing CA expired"));
  CHECK(ca_expired.source() == out + "/ca/ca.pem");
  CHECK(snapshot(out) == first);

  later.force = true;
  ClusterResult renewed = build_cluster(spec, later);
  CHECK(sorted(renewed.issued) == std::vector<std::string>{"ca", "solo/peer", "solo/server"});
  CHECK(cert_at(out + "/solo/server.pem").not_after() > *later.now);
}

TEST_CASE("build_cluster: leaves are capped at the CA's notAfter, with a warning", "[cluster]") {
  ClusterTempDir tmp;
  ClusterSpec spec;
  spec.members = {member("solo", {"10.0.0.1"})};
  spec.ca_expiry = Seconds(3600);
  ClusterResult r = build_cluster(spec, options_for(tmp / "pki"));
  CHECK(r.warnings.size() == 2);
  for (const auto& w : r.warnings) CHECK_THAT(w, Contains("capped at the CA's notAfter"));
  CHECK(cert_at(tmp / "pki/solo/server.pem").not_after() == cert_at(tmp / "pki/ca/ca.pem").not_after());
}

TEST_CASE("build_cluster: a CA from the spec's CSR uses ca_expiry unless the CSR sets one", "[cluster]") {
  ClusterTempDir tmp;
  ClusterSpec spec = ClusterSpec::from_json(
      R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}], "ca_expiry": "2y", "ca": {"csr": {"CN": "my-ca"}}})", "s.json");
  build_cluster(spec, options_for(tmp / "one"));
  Certificate ca = cert_at(tmp / "one/ca/ca.pem");
  CHECK(ca.subject().common_name == "my-ca");
  CHECK(ca.not_after() - ca.not_before() == Seconds(2 * 365 * 86400));

  ClusterSpec own = ClusterSpec::from_json(
      R"({"members": [{"name": "a", "ips": ["10.0.0.1"]}], "ca_expiry": "2y", "ca": {"csr": {"CN": "my-ca", "ca": {"expiry": "100h"}}}})",
      "s.json");
  build_cluster(own, options_for(tmp / "two"));
  Certificate ca2 = cert_at(tmp / "two/ca/ca.pem");
  CHECK(ca2.not_after() - ca2.not_before() == Seconds(100 * 3600));
}

TEST_CASE("build_cluster: threads=1 and the default give the same layout", "[cluster]") {
  ClusterTempDir tmp;
  ClusterSpec spec = three_members();
  spec.clients.push_back({"kube-apiserver-etcd-client", "kube-apiserver-etcd-client"});

  ClusterOptions one = options_for(tmp / "one");
  one.threads = 1;
  std::vector<std::pair<size_t, size_t>> calls;
  one.progress = [&](size_t done, size_t total) { calls.emplace_back(done, total); };  // one thread: no lock needed
  ClusterResult r1 = build_cluster(spec, one);

  ClusterOptions many = options_for(tmp / "many");
  std::mutex mu;
  std::vector<size_t> done_values;
  std::atomic<size_t> total_seen{0};
  many.progress = [&](size_t done, size_t total) {
    std::lock_guard lock(mu);
    done_values.push_back(done);
    total_seen = total;
  };
  ClusterResult r2 = build_cluster(spec, many);

  CHECK(sorted(r1.issued) == sorted(r2.issued));
  // Progress counts the new keys (the CA's and the 8 leaves') and then the 8 certificates.
  const size_t leaves = 3 * 2 + 2, steps = (leaves + 1) + leaves;
  REQUIRE(calls.size() == steps);
  for (size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].first == i + 1);
    CHECK(calls[i].second == steps);
  }
  CHECK(r1.written.size() == r2.written.size());
  std::sort(done_values.begin(), done_values.end());
  REQUIRE(done_values.size() == steps);
  for (size_t i = 0; i < steps; ++i) CHECK(done_values[i] == i + 1);
  CHECK(total_seen == steps);

  // Same files, same modes; the deterministic files are byte-identical.
  auto a = snapshot(tmp / "one"), b = snapshot(tmp / "many");
  std::vector<std::string> keys_a, keys_b;
  for (auto& [k, v] : a) keys_a.push_back(k);
  for (auto& [k, v] : b) keys_b.push_back(k);
  CHECK(keys_a == keys_b);
  for (auto& [k, v] : a)
    if (k.find(" mode") != std::string::npos || k.ends_with("etcd.conf.yml") || k.ends_with("etcdctl.env")) {
      INFO(k);
      CHECK(b.at(k) == v);
    }
  // Each key went to its own certificate, whichever thread made it.
  for (const char* m : {"etcd-1", "etcd-2", "etcd-3"})
    for (const char* role : {"server", "peer"}) {
      std::string base = tmp / "many/" + std::string(m) + "/" + role;
      INFO(base);
      Certificate c = cert_at(base + ".pem");
      CHECK(c.subject().common_name == m);
      CHECK(KeyPair::from_pem(slurp(base + "-key.pem")).same_public_key(c.public_key()));
    }
}

TEST_CASE("build_cluster: a member the spec no longer names is revoked, the CRL refreshed everywhere, its folder moved aside",
          "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterSpec four = three_members();
  four.members.push_back(member("etcd-4", {"10.20.13.13"}));
  ClusterOptions opt = options_for(out);
  opt.initial_cluster_state = "new";  // all four start together
  build_cluster(four, opt);
  opt.initial_cluster_state.clear();
  const Certificate ca = cert_at(out + "/ca/ca.pem");
  const std::string peer = normalize_serial_hex(cert_at(out + "/etcd-2/peer.pem").serial_hex()),
                    server = normalize_serial_hex(cert_at(out + "/etcd-2/server.pem").serial_hex());
  const std::string manifest_before = slurp(out + "/etcd-1/MANIFEST");

  ClusterSpec three = four;
  three.members.erase(three.members.begin() + 1);
  ClusterResult r = build_cluster(three, opt);
  REQUIRE(r.removed.size() == 1);
  CHECK(r.added.empty());
  const MemberChange& gone = r.removed[0];
  CHECK(gone.name == "etcd-2");
  CHECK(gone.revoked.size() == 2);
  CHECK(gone.etcdctl == "etcdctl member remove \"$(etcdctl member list | awk -F', ' '$3 == \"etcd-2\" { print $1 }')\"");
  CHECK(gone.moved_to == out + "/.removed/etcd-2-20250310T123429Z");
  CHECK_FALSE(fs::exists(out + "/etcd-2"));
  CHECK(slurp(gone.moved_to + "/peer-key.pem").find("PRIVATE KEY") != std::string::npos);
  CHECK(mode_of(out + "/.removed") == 0700u);
  // Both certificates revoked in the index and the CRL, for cessation of operation; the CRL is the
  // same in the CA's folder and every remaining member folder, and their MANIFESTs say so.
  CaIndex index = CaIndex::load(out + "/ca/ca-index.txt");
  for (const auto& serial : {peer, server}) {
    REQUIRE(index.find(serial));
    CHECK(index.find(serial)->status == 'R');
    CHECK(index.find(serial)->reason == RevocationReason::cessation_of_operation);
  }
  const std::string crl_der = slurp(out + "/ca/ca.crl");
  Crl crl = Crl::from_bytes(crl_der);
  CHECK(crl.signed_by(ca));
  CHECK(crl.is_revoked(peer));
  CHECK(crl.is_revoked(server));
  CHECK(crl.revoked().size() == 2);
  CHECK(crl.revoked()[0].reason == std::optional(RevocationReason::cessation_of_operation));
  for (const char* m : {"etcd-1", "etcd-3", "etcd-4"}) {
    INFO(m);
    CHECK(slurp(out + "/" + m + "/ca.crl") == crl_der);
    CHECK_THAT(slurp(out + "/" + m + "/etcd.env"), !Contains("etcd-2"));
  }
  CHECK(slurp(out + "/etcd-1/MANIFEST") != manifest_before);
  CHECK_THAT(slurp(out + "/etcd-1/MANIFEST"), Contains("ca.crl  sha256:" + detail::sha256_hex(crl_der, '\0')));
  // etcd-4 keeps the state its files say (it was started with the others).
  CHECK_THAT(slurp(out + "/etcd-4/etcd.env"), Contains("\nETCD_INITIAL_CLUSTER_STATE=new\n"));
  VerifyOptions vo;
  vo.now = fixed_now();
  CHECK(verify_path(out, vo).findings.empty());

  // Again: nothing left to do.
  ClusterResult again = build_cluster(three, opt);
  CHECK(again.removed.empty());
  CHECK(again.written.empty());
}

TEST_CASE("build_cluster: a membership change etcd cannot make writes nothing", "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterSpec spec = three_members();
  ClusterOptions opt = options_for(out);
  build_cluster(spec, opt);
  const auto before = snapshot(out);
  // Renamed: etcd-3's address under a new name.
  ClusterSpec renamed = spec;
  renamed.members[2].name = "etcd-3b";
  Error e = test::catch_error([&] { build_cluster(renamed, opt); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == out);
  CHECK_THAT(e.message(), Contains("cannot rename a member"));
  CHECK(snapshot(out) == before);
  // An unknown state.
  ClusterOptions bad = opt;
  bad.initial_cluster_state = "running";
  CHECK(test::catch_error([&] { build_cluster(spec, bad); }).category() == Errc::usage);
  CHECK(snapshot(out) == before);
}

TEST_CASE("build_cluster: kubeadm layout", "[cluster]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "k";
  ClusterSpec spec;
  spec.members = {member("etcd-1", {"10.80.0.1"}), member("etcd-2", {"10.80.0.2"})};
  spec.clients = {{"root", "root"}};
  ClusterOptions opt = options_for(out);
  opt.layout = Layout::kubeadm;
  ClusterResult r = build_cluster(spec, opt);
  CHECK(sorted(r.issued) == std::vector<std::string>{"ca", "clients/root", "etcd-1/apiserver-etcd-client",
                                                     "etcd-1/healthcheck-client", "etcd-1/peer", "etcd-1/server",
                                                     "etcd-2/apiserver-etcd-client", "etcd-2/healthcheck-client",
                                                     "etcd-2/peer", "etcd-2/server"});
  std::set<std::string> want{"ca",      "ca/ca.crt", "ca/ca.key",        "ca/ca.csr",       "ca/ca-index.txt",
                             "ca/ca.crl", "ca/ca-crl.pem", "clients", "clients/ca.crt", "clients/root.crt", "clients/root.key"};
  for (const char* m : {"etcd-1", "etcd-2"})
    for (const char* f : {"", "/etcd", "/etcd/ca.crt", "/etcd/ca.crl", "/etcd.env", "/etcd.service", "/etcd/server.crt", "/etcd/server.key", "/etcd/peer.crt",
                          "/etcd/peer.key", "/etcd/healthcheck-client.crt", "/etcd/healthcheck-client.key",
                          "/apiserver-etcd-client.crt", "/apiserver-etcd-client.key", "/etcd.conf.yml", "/etcdctl.env",
                          "/MANIFEST"})
      want.insert(std::string(m) + f);
  CHECK(entries(out) == want);
  CHECK(mode_of(out + "/etcd-1/etcd") == 0700u);
  CHECK(mode_of(out + "/etcd-1/etcd/server.key") == 0600u);
  CHECK(mode_of(out + "/etcd-1/apiserver-etcd-client.key") == 0600u);
  Certificate ca = cert_at(out + "/ca/ca.crt");
  Certificate hc = cert_at(out + "/etcd-1/etcd/healthcheck-client.crt");
  Certificate api = cert_at(out + "/etcd-2/apiserver-etcd-client.crt");
  CHECK(hc.subject().common_name == "kube-etcd-healthcheck-client");
  CHECK(api.subject().common_name == "kube-apiserver-etcd-client");
  CHECK(hc.ext_key_usage() == std::vector<std::string>{eku::client_auth});
  CHECK(api.ext_key_usage() == std::vector<std::string>{eku::client_auth});
  CHECK(hc.sans().empty());
  CHECK(signed_by(hc, ca));
  CHECK(signed_by(api, ca));
  CHECK(cert_at(out + "/etcd-2/etcd/peer.crt").sans().to_string() == "DNS:etcd-2, IP:10.80.0.2");
  CHECK(slurp(out + "/etcd-1/etcd/ca.crt") == ca.to_pem());
  const std::string conf = slurp(out + "/etcd-1/etcd.conf.yml");
  CHECK_THAT(conf, Contains("cert-file: \"/etc/kubernetes/pki/etcd/server.crt\""));
  CHECK_THAT(conf, Contains("key-file: \"/etc/kubernetes/pki/etcd/peer.key\""));
  CHECK_THAT(conf, Contains("trusted-ca-file: \"/etc/kubernetes/pki/etcd/ca.crt\""));
  CHECK_THAT(slurp(out + "/etcd-1/etcdctl.env"), Contains("ETCDCTL_CERT=/etc/kubernetes/pki/etcd/healthcheck-client.crt\n"));
  CHECK_THAT(slurp(out + "/etcd-1/etcd.env"), Contains("\nETCD_PEER_CRL_FILE=/etc/kubernetes/pki/etcd/ca.crl\n") &&
                                                  Contains("\nETCD_PEER_TRUSTED_CA_FILE=/etc/kubernetes/pki/etcd/ca.crt\n"));
  CHECK_THAT(slurp(out + "/etcd-1/etcd.service"), Contains("\nEnvironmentFile=/etc/kubernetes/pki/etcd.env\n"));
  CHECK(slurp(out + "/etcd-2/etcd/ca.crl") == slurp(out + "/ca/ca.crl"));

  ClusterResult again = build_cluster(spec, opt);
  CHECK(again.issued.empty());
  CHECK(again.reused.size() == r.issued.size());
  CHECK(again.written.empty());
}

TEST_CASE("build_cluster: install_dir goes into the configs", "[cluster]") {
  ClusterTempDir tmp;
  ClusterSpec spec;
  spec.members = {member("a", {"10.0.0.1"})};
  ClusterOptions opt = options_for(tmp / "p");
  opt.install_dir = "/opt/etcd/tls//";
  build_cluster(spec, opt);
  const std::string conf = slurp(tmp / "p/a/etcd.conf.yml");
  CHECK_THAT(conf, Contains("cert-file: \"/opt/etcd/tls/server.pem\""));
  CHECK_THAT(conf, Contains("trusted-ca-file: \"/opt/etcd/tls/ca.pem\""));
  CHECK(conf.find("/etc/etcd") == std::string::npos);
  CHECK(conf.find("tls//") == std::string::npos);
  CHECK_THAT(slurp(tmp / "p/a/etcdctl.env"), Contains("ETCDCTL_KEY=/opt/etcd/tls/server-key.pem\n"));
}

TEST_CASE("build_cluster: an existing CA signs, and is not copied", "[cluster]") {
  ClusterTempDir tmp;
  Request req = Request::default_ca();
  req.subject.common_name = "external-ca";
  SignOptions so;
  so.now = fixed_now() - Seconds(3600);
  CfsslOutput ca = to_pem(make_ca(req, so));
  fs::create_directories(tmp / "ext");
  spit(tmp / "ext/ca.pem", *ca.cert);
  spit(tmp / "ext/ca-key.pem", *ca.key);

  ClusterSpec spec = three_members();
  spec.ca_cert_file = tmp / "ext/ca.pem";
  spec.ca_key_file = tmp / "ext/ca-key.pem";
  const std::string out = tmp / "pki";
  ClusterResult r = build_cluster(spec, options_for(out));
  std::vector<std::string> leaves(kAllLabels.begin() + 1, kAllLabels.end());
  CHECK(sorted(r.issued) == leaves);  // no "ca"
  CHECK(r.reused.empty());
  CHECK_FALSE(fs::exists(out + "/ca"));
  Certificate ext = Certificate::from_pem(*ca.cert);
  CHECK(signed_by(cert_at(out + "/etcd-1/server.pem"), ext));
  CHECK(signed_by(cert_at(out + "/clients/root.pem"), ext));
  CHECK(slurp(out + "/etcd-3/ca.pem") == *ca.cert);
  for (auto& [path, data] : snapshot(out)) {
    INFO(path);
    CHECK(data != *ca.key);
  }
  ClusterResult again = build_cluster(spec, options_for(out));
  CHECK(again.issued.empty());
  CHECK(sorted(again.reused) == leaves);

  // Certificates of another CA in the folder cannot be kept.
  ClusterSpec own = three_members();
  Error e = test::catch_error([&] { build_cluster(own, options_for(out)); });
  CHECK(e.category() == Errc::exists);
  CHECK_THAT(e.message(), Contains("not signed by the cluster CA"));
}

TEST_CASE("build_cluster: ca_passphrase encrypts a new CA key and is needed to re-use it", "[cluster][encrypted]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterOptions o = options_for(out);
  o.ca_passphrase = Passphrase("cluster ca passphrase");
  ClusterResult r = build_cluster(three_members(), o);
  CHECK(sorted(r.issued) == std::vector<std::string>(kAllLabels.begin(), kAllLabels.end()));
  std::string key_pem = slurp(out + "/ca/ca-key.pem");
  CHECK(test::first_line(key_pem) == "-----BEGIN ENCRYPTED PRIVATE KEY-----");
  CHECK((fs::status(out + "/ca/ca-key.pem").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  KeyPair ca_key = KeyPair::from_pem(key_pem, "ca-key.pem", o.ca_passphrase);
  CHECK(ca_key.same_public_key(cert_at(out + "/ca/ca.pem").public_key()));
  CHECK(signed_by(cert_at(out + "/etcd-2/peer.pem"), cert_at(out + "/ca/ca.pem")));

  // A re-run with the passphrase keeps the CA and adds a member.
  ClusterSpec four = three_members();
  MemberSpec m4;
  m4.name = "etcd-4";
  m4.ips = {"10.20.13.13"};
  four.members.push_back(m4);
  ClusterResult again = build_cluster(four, o);
  CHECK(sorted(again.issued) == std::vector<std::string>{"etcd-4/peer", "etcd-4/server"});
  CHECK(slurp(out + "/ca/ca-key.pem") == key_pem);
  CHECK(signed_by(cert_at(out + "/etcd-4/server.pem"), cert_at(out + "/ca/ca.pem")));

  // Without it (or with a wrong one) the run stops on the key: no advice to replace the CA, nothing written.
  auto before = snapshot(out);
  MemberSpec m5;
  m5.name = "etcd-5";
  m5.ips = {"10.20.13.14"};
  four.members.push_back(m5);
  for (const Passphrase& given : {Passphrase(), Passphrase("wrong")}) {
    ClusterOptions no = options_for(out);
    no.ca_passphrase = given;
    Error e = test::catch_error([&] { build_cluster(four, no); });
    CHECK(e.category() == Errc::key);
    CHECK_THAT(e.message(), !Contains("--force"));
    CHECK(snapshot(out) == before);
  }
}

TEST_CASE("build_cluster: encrypt_ca_key asks for a new CA key's passphrase (confirmed) before any key is made", "[cluster][encrypted]") {
  ClusterTempDir tmp;
  const std::string out = tmp / "pki";
  ClusterOptions o = options_for(out);
  o.encrypt_ca_key = true;
  std::vector<std::pair<std::string, bool>> asked;
  size_t progress_when_asked = 99;
  size_t progress = 0;
  o.progress = [&](size_t done, size_t) { progress = done; };
  o.ca_passphrase = Passphrase::asking([&](const std::string& source, bool confirm) {
    asked.emplace_back(source, confirm);
    progress_when_asked = progress;
    return std::string("typed");
  });
  build_cluster(three_members(), o);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] == std::pair<std::string, bool>{out + "/ca/ca-key.pem", true});
  CHECK(progress_when_asked == 0);
  KeyPair ca_key = KeyPair::from_pem(slurp(out + "/ca/ca-key.pem"), "ca-key.pem", Passphrase("typed"));
  CHECK(ca_key.same_public_key(cert_at(out + "/ca/ca.pem").public_key()));

  // A re-run (a new command, so a new asker) decrypts the existing CA key: asked once, not twice.
  asked.clear();
  o.ca_passphrase = Passphrase::asking([&](const std::string& source, bool confirm) {
    asked.emplace_back(source, confirm);
    return std::string("typed");
  });
  ClusterSpec four = three_members();
  MemberSpec m4;
  m4.name = "etcd-4";
  m4.ips = {"10.20.13.13"};
  four.members.push_back(m4);
  build_cluster(four, o);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] == std::pair<std::string, bool>{out + "/ca/ca-key.pem", false});

  // encrypt_ca_key with no passphrase and no asker: Errc::usage, nothing written.
  ClusterTempDir tmp2;
  ClusterOptions none = options_for(tmp2 / "pki");
  none.encrypt_ca_key = true;
  Error e = test::catch_error([&] { build_cluster(three_members(), none); });
  CHECK(e.category() == Errc::usage);
  CHECK(e.hint() == Hint::passphrase);
  CHECK_FALSE(fs::exists(tmp2 / "pki/ca/ca-key.pem"));
}

TEST_CASE("build_cluster: an invalid spec writes nothing", "[cluster]") {
  ClusterTempDir tmp;
  ClusterSpec spec = three_members();
  spec.members[1].ips = {"10.20.13.10"};
  Error e = test::catch_error([&] { build_cluster(spec, options_for(tmp / "pki")); });
  CHECK(e.category() == Errc::input);
  CHECK(e.field() == "members[1].ips");
  CHECK_FALSE(fs::exists(tmp / "pki"));

  // A damaged existing CA: an Errc::exists error, nothing touched.
  ClusterSpec good = three_members();
  build_cluster(good, options_for(tmp / "pki"));
  spit(tmp / "pki/ca/ca-key.pem", slurp(tmp / "pki/etcd-1/server-key.pem"));  // not the CA's key
  auto before = snapshot(tmp / "pki");
  Error bad_ca = test::catch_error([&] { build_cluster(good, options_for(tmp / "pki")); });
  CHECK(bad_ca.category() == Errc::exists);
  CHECK_THAT(bad_ca.message(), Contains("the existing CA cannot be used"));
  CHECK(snapshot(tmp / "pki") == before);
}

TEST_CASE("ClusterSpec::from_json: deeply nested JSON is an error, not a stack overflow", "[cluster]") {
  // "names" and "ca.csr" are copied and dumped, which recursed once per level: 100000 levels
  // crashed the cluster command (SIGSEGV).
  const std::string m1 = R"("members": [{"name": "a", "ips": ["10.0.0.1"]}])";
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& json : {"{" + m1 + R"(, "names": )" + deep + "}", "{" + m1 + R"(, "ca": {"csr": )" + deep + "}}",
                                  R"({"members": )" + deep + "}"}) {
    Error e = test::catch_error([&] { ClusterSpec::from_json(json, "spec.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "spec.json");
    CHECK_THAT(e.message(), Contains("invalid JSON: nested more than 100 levels deep at line 1, column "));
  }
}

TEST_CASE("ClusterSpec: a mistyped IP in a peer URL or dns list is an error, not a DNS name", "[cluster]") {
  // "https://256.1.1.1:2380" used to give the DNS SAN 256.1.1.1 while "ips": ["256.1.1.1"] was refused.
  for (const char* url : {"m=https://256.1.1.1:2380", "m=https://1.2.3.04:2380", "m=https://10.0.0:2380"}) {
    INFO(url);
    Error e = test::catch_error([&] { ClusterSpec::from_initial_cluster(url); });
    CHECK(e.category() == Errc::input);
    CHECK_THAT(e.message(), Contains("looks like an IP address but is not a valid one"));
  }
  Error dns = test::catch_error(
      [&] { ClusterSpec::from_json(R"({"members": [{"name": "m", "dns": ["1.2.3.4.5"]}]})", "spec.json"); });
  CHECK(dns.field() == "members[0].dns");
  CHECK_THAT(dns.message(), Contains("looks like an IP address"));
}
