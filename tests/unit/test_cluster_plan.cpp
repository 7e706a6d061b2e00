// cluster_plan.hpp (private): plan_cluster decides what to keep, issue, re-issue or refuse, and
// why, from facts alone: no keys, no files, no clock.
#include <catch2/catch.hpp>

#include "cluster_plan.hpp"
#include "etcd_config.hpp"
#include "member_files.hpp"
#include "etcd_pki/etcd_pki.hpp"

using namespace etcd_pki;
using namespace etcd_pki::detail;

namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

ClusterSpec three_members() {
  return ClusterSpec::from_initial_cluster(
      "etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.2:2380,etcd-3=https://etcd-3.example.com:2380");
}

ClusterOptions options(bool force = false, Layout layout = Layout::cfssl) {
  ClusterOptions o;
  o.out_dir = "out";
  o.force = force;
  o.layout = layout;
  o.now = kNow;
  return o;
}

const CertPlan& find(const ClusterPlan& plan, const std::string& label) {
  for (const auto& c : plan.certs)
    if (c.label == label) return c;
  FAIL("no certificate " << label);
  throw;
}

// The facts of a pair that can be kept for `c`: as the plan would issue it, a year left.
ExistingCert good(const CertPlan& c) {
  ExistingCert e;
  e.cert_file = e.key_file = true;
  e.key_matches = e.signed_by_ca = true;
  e.not_after = kNow + std::chrono::hours(24 * 365);
  e.common_name = c.subject.common_name;
  e.sans = c.sans;
  e.ext_key_usage = Policy::builtin().profile(to_string(c.role)).usages.ext_key_usage;
  e.key = c.key;
  return e;
}

ExistingState all_good(const ClusterSpec& spec, const ClusterOptions& o) {
  ExistingState s;
  s.ca_files = true;
  for (const auto& c : cluster_certificates(spec, ClusterLayout::make(o.layout, o.out_dir))) s.certs[c.label] = good(c);
  return s;
}

}  // namespace

TEST_CASE("plan_cluster: a new folder issues everything with a new CA", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  spec.clients = {{"root", "root"}};
  ClusterPlan plan = plan_cluster(spec, options(), {});
  CHECK(plan.ca == CaSource::make);
  REQUIRE(plan.ca_request);
  CHECK(plan.ca_request->subject.common_name == "etcd-ca");
  REQUIRE(plan.certs.size() == 7);
  std::vector<std::string> labels;
  for (const auto& c : plan.certs) {
    labels.push_back(c.label);
    CHECK(c.action == Action::issue);
    CHECK(c.reason == "missing");
  }
  CHECK(labels == std::vector<std::string>{"etcd-1/server", "etcd-1/peer", "etcd-2/server", "etcd-2/peer", "etcd-3/server",
                                           "etcd-3/peer", "clients/root"});
  CHECK(find(plan, "etcd-1/server").cert_path == "out/etcd-1/server.pem");
  CHECK(find(plan, "etcd-1/server").key_path == "out/etcd-1/server-key.pem");
  CHECK(find(plan, "clients/root").cert_path == "out/clients/root.pem");
  CHECK(find(plan, "clients/root").role == Role::client);
}

TEST_CASE("plan_cluster: SANs from the member's typed names and addresses", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  spec.members[0].dns = {"etcd-1.example.com"};
  spec.members[0].client_addresses = {"192.168.1.1", "lb.example.com", "10.0.0.1"};
  ClusterPlan plan = plan_cluster(spec, options(), {});
  const CertPlan& server = find(plan, "etcd-1/server");
  const CertPlan& peer = find(plan, "etcd-1/peer");
  CHECK(peer.sans.dns == std::vector<std::string>{"etcd-1", "etcd-1.example.com"});
  CHECK(peer.sans.to_string() == "DNS:etcd-1, DNS:etcd-1.example.com, IP:10.0.0.1");
  // Client addresses and the loopback names on the server certificate only; 10.0.0.1 once.
  CHECK(server.sans.dns == std::vector<std::string>{"etcd-1", "etcd-1.example.com", "lb.example.com", "localhost"});
  CHECK(server.sans.ip.size() == 4);
  CHECK(server.sans.to_string() ==
        "DNS:etcd-1, DNS:etcd-1.example.com, DNS:lb.example.com, DNS:localhost, IP:10.0.0.1, IP:192.168.1.1, "
        "IP:127.0.0.1, IP:::1");
  CHECK(find(plan, "etcd-3/peer").sans.dns == std::vector<std::string>{"etcd-3", "etcd-3.example.com"});
  CHECK(find(plan, "etcd-3/peer").sans.ip.empty());
}

TEST_CASE("plan_cluster: what exists is kept, refused or re-issued, with the reason", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  ClusterOptions o = options();
  ExistingState s = all_good(spec, o);

  SECTION("valid and matching: kept, with the folder's CA") {
    ClusterPlan plan = plan_cluster(spec, o, s);
    CHECK(plan.ca == CaSource::existing);
    CHECK_FALSE(plan.ca_request);
    CHECK(plan.with(Action::keep).size() == 6);
  }
  SECTION("a member added to the spec: only its pair is issued") {
    spec.members.push_back(ClusterSpec::from_initial_cluster("etcd-4=https://10.0.0.4:2380").members[0]);
    ClusterPlan plan = plan_cluster(spec, o, s);
    auto issued = plan.with(Action::issue);
    REQUIRE(issued.size() == 2);
    CHECK(issued[0]->label == "etcd-4/server");
    CHECK(issued[1]->label == "etcd-4/peer");
    CHECK(plan.with(Action::keep).size() == 6);
  }
  struct Case {
    const char* what;
    void (*change)(ExistingCert&);
    const char* reason;
  };
  const Case cases[] = {
      {"key missing", [](ExistingCert& e) { e.key_file = false; }, "its key is missing"},
      {"cert missing", [](ExistingCert& e) { e.cert_file = false; }, "its certificate is missing"},
      {"unreadable", [](ExistingCert& e) { e.unreadable = "server.pem: no certificate"; }, "server.pem: no certificate"},
      {"key mismatch", [](ExistingCert& e) { e.key_matches = false; }, "the key does not match the certificate"},
      {"other CA", [](ExistingCert& e) { e.signed_by_ca = false; }, "not signed by the cluster CA"},
      {"expired", [](ExistingCert& e) { e.not_after = kNow; }, "expired on 2027-01-15T08:00:00Z"},
      {"CN", [](ExistingCert& e) { e.common_name = "old"; }, "CN is \"old\", the spec says \"etcd-2\""},
      {"SANs", [](ExistingCert& e) { e.sans.dns.pop_back(); }, "SANs are [DNS:etcd-2, IP:10.0.0.2, IP:127.0.0.1, IP:::1], the spec says [DNS:etcd-2, DNS:localhost"},
      {"EKU", [](ExistingCert& e) { e.ext_key_usage.pop_back(); }, "extended key usage differs from the profile"},
      {"key type", [](ExistingCert& e) { e.key = KeySpec{KeyAlgo::rsa, 2048}; }, "key is RSA-2048, the spec says"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      c.change(s.certs.at("etcd-2/server"));
      ClusterPlan plan = plan_cluster(spec, o, s);
      const CertPlan& cert = find(plan, "etcd-2/server");
      CHECK(cert.action == Action::refuse);
      CHECK_THAT(cert.reason, Catch::Matchers::StartsWith(c.reason));
      CHECK(plan.with(Action::refuse).size() == 1);
      // --force replaces it, and everything else, with a new CA.
      ClusterPlan forced = plan_cluster(spec, options(true), s);
      CHECK(forced.ca == CaSource::make);
      CHECK(forced.with(Action::reissue).size() == 6);
      CHECK(find(forced, "etcd-2/server").reason == "forced: everything is re-issued");
    }
  }
}

TEST_CASE("plan_cluster: where the CA comes from", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  CHECK(ca_source(spec, false, false) == CaSource::make);
  CHECK(ca_source(spec, false, true) == CaSource::existing);
  CHECK(ca_source(spec, true, true) == CaSource::make);
  spec.ca_cert_file = "ext/ca.pem";
  spec.ca_key_file = "ext/ca-key.pem";
  for (bool force : {false, true})
    for (bool files : {false, true}) CHECK(ca_source(spec, force, files) == CaSource::external);
  ClusterPlan plan = plan_cluster(spec, options(), {});
  CHECK(plan.ca == CaSource::external);
  CHECK_FALSE(plan.ca_request);

  SECTION("the default CA takes the spec's names, key and ca_expiry") {
    ClusterSpec s = three_members();
    s.names.organization = {"Example"};
    s.key = KeySpec{KeyAlgo::rsa, 3072};
    s.ca_expiry = Seconds(3600);
    Request r = ca_request(s);
    CHECK(r.subject.common_name == "etcd-ca");
    CHECK(r.subject.organization == std::vector<std::string>{"Example"});
    CHECK(r.key == s.key);
    CHECK(r.ca->expiry == Seconds(3600));
  }
  SECTION("the spec's CA CSR keeps its own expiry, else ca_expiry") {
    ClusterSpec s = three_members();
    s.ca_expiry = Seconds(7200);
    s.ca_request = Request::from_json(R"({"CN":"my-ca","ca":{"expiry":"10h"}})");
    CHECK(ca_request(s).ca->expiry == Seconds(36000));
    s.ca_request = Request::from_json(R"({"CN":"my-ca"})");
    CHECK(ca_request(s).ca->expiry == Seconds(7200));
  }
}

TEST_CASE("plan_cluster: the kubeadm layout", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  ClusterPlan plan = plan_cluster(spec, options(false, Layout::kubeadm), {});
  REQUIRE(plan.certs.size() == 12);
  CHECK(find(plan, "etcd-1/server").cert_path == "out/etcd-1/etcd/server.crt");
  CHECK(find(plan, "etcd-1/server").key_path == "out/etcd-1/etcd/server.key");
  const CertPlan& hc = find(plan, "etcd-1/healthcheck-client");
  CHECK(hc.cert_path == "out/etcd-1/etcd/healthcheck-client.crt");
  CHECK(hc.subject.common_name == "kube-etcd-healthcheck-client");
  CHECK(hc.role == Role::client);
  CHECK(hc.sans.empty());
  const CertPlan& api = find(plan, "etcd-1/apiserver-etcd-client");
  CHECK(api.cert_path == "out/etcd-1/apiserver-etcd-client.crt");
  CHECK(api.subject.common_name == "kube-apiserver-etcd-client");
  CHECK(plan.layout.ca_cert() == "out/ca/ca.crt");
  CHECK(plan.layout.ca_key() == "out/ca/ca.key");
  CHECK(plan.layout.install == "/etc/kubernetes/pki");
}

// member_files.hpp: one member's settings, rendered as etcd.conf.yml and etcd.env and read back
// by the readers cluster and verify use.
TEST_CASE("member_etcd_config: rendered as YAML and env, read back", "[cluster][plan]") {
  ClusterSpec spec = ClusterSpec::from_initial_cluster("a=https://10.0.0.1:2380,b=https://[fd00::2]:2390,c=https://c.example.com:2380");
  spec.cluster_token = "tok \"x\"";
  ClusterLayout cfssl = ClusterLayout::make(Layout::cfssl, "out", "/opt/pki/");
  ClusterFacts facts = ClusterFacts::of(spec, "/data/etcd");
  EtcdConfig a = member_etcd_config(spec, facts, spec.members[0], cfssl, "new");
  CHECK(a == EtcdConfig{"a", "/data/etcd", "https://10.0.0.1:2380", "https://10.0.0.1:2380",
                        "https://10.0.0.1:2379,https://127.0.0.1:2379", "https://10.0.0.1:2379", spec.initial_cluster(), "tok \"x\"",
                        "new", EtcdTls{"/opt/pki/server.pem", "/opt/pki/server-key.pem", "/opt/pki/ca.pem", true, "/opt/pki/ca.crl"},
                        EtcdTls{"/opt/pki/peer.pem", "/opt/pki/peer-key.pem", "/opt/pki/ca.pem", true, "/opt/pki/ca.crl"}});
  CHECK(parse_etcd_env(render_etcd_env(a)) == a);
  // The YAML carries everything but the CRL, and says so where a reader looks.
  std::string yaml = render_etcd_config(a);
  EtcdConfig no_crl = a;
  no_crl.client.crl_file = no_crl.peer.crl_file = "";
  CHECK(parse_etcd_yaml(yaml) == no_crl);
  CHECK_THAT(yaml.substr(0, yaml.find("\nname:")), Catch::Matchers::Contains("cannot enforce revocation") &&
                                                     Catch::Matchers::Contains("etcd.env"));
  CHECK(member_etcd_config(spec, facts, spec.members[0], cfssl, "existing").initial_cluster_state == "existing");

  EtcdConfig b = member_etcd_config(spec, facts, spec.members[1], cfssl, "new");
  CHECK(b.listen_peer_urls == "https://[fd00::2]:2390");
  CHECK(b.advertise_client_urls == "https://[fd00::2]:2379");
  // A member known by name only listens on every address.
  EtcdConfig c = member_etcd_config(spec, facts, spec.members[2], cfssl, "new");
  CHECK(c.listen_peer_urls == "https://0.0.0.0:2380");
  CHECK(c.initial_advertise_peer_urls == "https://c.example.com:2380");
  CHECK(url_hosts(c.listen_client_urls) == std::vector<std::string>{"127.0.0.1"});

  ClusterLayout kubeadm = ClusterLayout::make(Layout::kubeadm, "out");
  EtcdConfig k = member_etcd_config(spec, facts, spec.members[0], kubeadm, "new");
  CHECK(k.client == EtcdTls{"/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/server.key",
                            "/etc/kubernetes/pki/etcd/ca.crt", true, "/etc/kubernetes/pki/etcd/ca.crl"});
  CHECK(k.peer.cert_file == "/etc/kubernetes/pki/etcd/peer.crt");
  CHECK(k.peer.crl_file == "/etc/kubernetes/pki/etcd/ca.crl");
  CHECK_THAT(render_etcd_service("a", kubeadm), Catch::Matchers::Contains("\nEnvironmentFile=/etc/kubernetes/pki/etcd.env\n"));
  CHECK_THAT(render_etcd_service("a", cfssl), Catch::Matchers::Contains("\nEnvironmentFile=/opt/pki/etcd.env\n"));
  std::string env = render_etcdctl_env(ClusterFacts::of(spec), spec.members[0], kubeadm);
  CHECK_THAT(env, Catch::Matchers::Contains(
                      "ETCDCTL_ENDPOINTS=https://10.0.0.1:2379,https://[fd00::2]:2379,https://c.example.com:2379\n"));
  CHECK_THAT(env, Catch::Matchers::Contains("ETCDCTL_CERT=/etc/kubernetes/pki/etcd/healthcheck-client.crt\n"));
  CHECK_THAT(env, Catch::Matchers::Contains("ETCDCTL_KEY=/etc/kubernetes/pki/etcd/healthcheck-client.key\n"));
}

// plan_membership: who joins, who leaves, and the steps etcd cannot take at once.
TEST_CASE("plan_membership: grow, shrink and each member's initial-cluster-state", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  auto folder = [](std::initializer_list<std::pair<const char*, const char*>> members) {
    std::map<std::string, ExistingMember> m;
    for (auto [name, state] : members) m[name] = ExistingMember{state, {}};
    return m;
  };
  // A new output folder: everyone starts a new cluster.
  Membership fresh = plan_membership(spec, "", {}, "out");
  CHECK(fresh.added.empty());
  CHECK(fresh.removed.empty());
  CHECK(fresh.state == std::map<std::string, std::string>{{"etcd-1", "new"}, {"etcd-2", "new"}, {"etcd-3", "new"}});
  // Grow: the member without a folder joins; the others keep what their files say.
  Membership grow = plan_membership(spec, "", folder({{"etcd-1", "new"}, {"etcd-2", "existing"}}), "out");
  CHECK(grow.added == std::vector<std::string>{"etcd-3"});
  CHECK(grow.removed.empty());
  CHECK(grow.state == std::map<std::string, std::string>{{"etcd-1", "new"}, {"etcd-2", "existing"}, {"etcd-3", "existing"}});
  // An unknown state (unreadable files) is "new"; an override applies to everyone.
  CHECK(plan_membership(spec, "", folder({{"etcd-1", ""}, {"etcd-2", "new"}, {"etcd-3", "new"}}), "out").state.at("etcd-1") == "new");
  Membership never_started = plan_membership(spec, "new", folder({{"etcd-1", "new"}, {"etcd-2", "new"}}), "out");
  CHECK(never_started.added == std::vector<std::string>{"etcd-3"});
  CHECK(never_started.state.at("etcd-3") == "new");
  // Shrink: a folder the spec no longer names.
  Membership shrink = plan_membership(spec, "", folder({{"etcd-1", "new"}, {"etcd-2", "new"}, {"etcd-3", "new"}, {"etcd-4", "existing"}}), "out");
  CHECK(shrink.removed == std::vector<std::string>{"etcd-4"});
  CHECK(shrink.added.empty());
}

TEST_CASE("plan_membership: what etcd cannot do in one step is an error naming the folder", "[cluster][plan]") {
  ClusterSpec spec = three_members();
  auto err = [&](const ClusterSpec& s, const std::map<std::string, ExistingMember>& existing, const std::string& state = "") {
    try {
      plan_membership(s, state, existing, "out");
    } catch (const Error& e) {
      return std::string(to_string(e.category())) + ": " + e.what();
    }
    return std::string("no error");
  };
  // Renamed: etcd-3 gone, etcd-4 new with its address.
  ClusterSpec renamed = ClusterSpec::from_initial_cluster("etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.2:2380,etcd-4=https://10.0.0.3:2380");
  std::map<std::string, ExistingMember> three{{"etcd-1", {"new", {"10.0.0.1"}}}, {"etcd-2", {"new", {"10.0.0.2"}}}, {"etcd-3", {"new", {"10.0.0.3"}}}};
  CHECK_THAT(err(renamed, three), Catch::Matchers::StartsWith("input: out: members: member \"etcd-4\" is new but has the address 10.0.0.3 of member \"etcd-3\"") &&
                                   Catch::Matchers::Contains("cannot rename"));
  // Added and removed at once (different addresses).
  ClusterSpec swapped = ClusterSpec::from_initial_cluster("etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.2:2380,etcd-5=https://10.0.0.5:2380");
  CHECK_THAT(err(swapped, three), Catch::Matchers::Contains("adds etcd-5 and removes etcd-3") && Catch::Matchers::Contains("one member at a time"));
  // Every existing member removed.
  ClusterSpec other = ClusterSpec::from_initial_cluster("x=https://10.0.1.1:2380");
  CHECK_THAT(err(other, three), Catch::Matchers::Contains("keeps none of the cluster's members (etcd-1, etcd-2, etcd-3)"));
  // An unknown state.
  CHECK_THAT(err(spec, {}, "running"), Catch::Matchers::StartsWith("usage: ") && Catch::Matchers::Contains("\"running\""));
  CHECK(err(spec, three) == "no error");
}
