// probe.hpp: real TLS connections to `openssl s_server` (started by the test on a free loopback
// port, -Verify 1 so it demands a client certificate as etcd does, -www so it answers GET) that
// serves certificates from a real build_cluster output, and to listeners that never answer TLS or
// do not exist. Each case asserts the rule, the severity and etcd's (Go's) text. No case depends
// on how fast anything is: a time-out case asserts the finding, and that the call came back
// within a generous bound (it must not hang).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

extern char** environ;

using namespace test;
namespace fs = std::filesystem;

namespace {

// A loopback port nothing listens on right now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts_tcp(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// `openssl s_server` on HOST:PORT (a loopback address) with `cert`/`key`, refusing any connection
// without a client certificate signed by `client_ca` (-Verify 1 -verify_return_error, as etcd with
// client-cert-auth); stopped (SIGTERM, then waited for) when the object goes.
class TlsServer {
 public:
  TlsServer(const std::string& cert, const std::string& key, const std::string& client_ca, std::string host = "127.0.0.1")
      : host_(std::move(host)), port_(free_port()) {
    std::vector<std::string> args{"openssl", "s_server", "-accept", host_ + ":" + std::to_string(port_), "-cert", cert, "-key", key,
                                  "-CAfile", client_ca, "-Verify", "1", "-verify_return_error", "-www", "-quiet"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "openssl", &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    REQUIRE(rc == 0);
    // Ready when it accepts a connection: retried up to a generous bound (a slow machine is fine).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!accepts_tcp(host_, port_) && std::chrono::steady_clock::now() < deadline && alive())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(accepts_tcp(host_, port_));
  }
  ~TlsServer() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  int port() const { return port_; }
  // https://HOST:PORT, HOST the address it listens on unless another name for it is given.
  std::string url(const std::string& host = {}) const { return "https://" + (host.empty() ? host_ : host) + ":" + std::to_string(port_); }

 private:
  bool alive() { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string host_;
  int port_;
  pid_t pid_ = -1;
};

// A TCP listener that never accepts or answers: the kernel completes the TCP handshake (backlog),
// nothing ever speaks TLS.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1, port_ = 0;
};

// Two members on 127.0.0.1 and 127.0.0.2 (client port `client_port`, peer port `peer_port`) and the
// client root, made now (s_server checks the client certificate against the real clock).
struct LoopbackPki {
  TempDir tmp;
  std::string out;
  LoopbackPki(int client_port = 2379, int peer_port = 2380, const std::string& dir = "pki") : out(tmp / dir) {
    ClusterSpec s;
    for (int i = 1; i <= 2; ++i) {
      MemberSpec m;
      m.name = "m" + std::to_string(i);
      m.ips = {"127.0.0." + std::to_string(i)};
      m.client_port = client_port;
      m.peer_port = peer_port;
      s.members.push_back(m);
    }
    s.clients = {{"root", "root"}};
    ClusterOptions o;
    o.out_dir = out;
    build_cluster(s, o);
  }
  std::string operator/(const std::string& rel) const { return out + "/" + rel; }
};

ProbeOptions with(const std::string& ca, const std::string& cert = {}, const std::string& key = {}) {
  ProbeOptions o;
  o.ca_file = ca;
  o.cert_file = cert;
  o.key_file = key;
  o.timeout = std::chrono::seconds(10);  // generous: nothing here waits for it unless it is the point
  return o;
}

std::vector<std::string> rules(const EndpointReport& e) {
  std::vector<std::string> out;
  for (const auto& f : e.findings) out.push_back(f.rule);
  return out;
}

const Finding* find_rule(const EndpointReport& e, const std::string& rule) {
  for (const auto& f : e.findings)
    if (f.rule == rule) return &f;
  return nullptr;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("probe: a server with the member's certificate, and a client certificate it accepts, is clean", "[probe]") {
  LoopbackPki pki;
  TlsServer server(pki / "m1/server.pem", pki / "m1/server-key.pem", pki / "ca/ca.pem");
  ProbeReport r = probe({server.url()}, with(pki / "ca/ca.pem", pki / "clients/root.pem"));
  REQUIRE(r.endpoints.size() == 1);
  const EndpointReport& e = r.endpoints[0];
  INFO(render_text(r));
  CHECK(e.findings.empty());
  CHECK(r.exit_code() == 0);
  CHECK(e.connected);
  CHECK(e.handshake);
  CHECK(e.verified);
  CHECK(e.presented == pki / "clients/root.pem");
  CHECK(e.client_cert == Acceptance::accepted);
  CHECK(e.http_status == 200);
  CHECK(e.address == "127.0.0.1:" + std::to_string(server.port()));
  REQUIRE(e.leaf());
  Certificate file = cert_at(pki / "m1/server.pem");
  CHECK(e.leaf()->serial == file.serial_hex());
  CHECK(e.leaf()->subject_cn == "m1");
  CHECK(e.leaf()->issuer_cn == "etcd-ca");
  CHECK(e.leaf()->not_after == file.not_after());
  CHECK(e.leaf()->sans == Strings{"DNS:m1", "DNS:localhost", "IP:127.0.0.1", "IP:::1"});
  CHECK_FALSE(e.same_as_disk.has_value());  // a URL: no file to compare with
}

TEST_CASE("probe: no client certificate where one is required is said, not an error", "[probe]") {
  LoopbackPki pki;
  TlsServer server(pki / "m1/server.pem", pki / "m1/server-key.pem", pki / "ca/ca.pem");
  ProbeReport r = probe({server.url()}, with(pki / "ca/ca.pem"));
  const EndpointReport& e = r.endpoints.at(0);
  INFO(render_text(r));
  CHECK(e.verified);  // the served chain is fine
  CHECK(e.client_cert == Acceptance::refused);
  CHECK(rules(e) == Strings{"client-cert-required"});
  CHECK(e.findings.at(0).severity == Severity::info);
  CHECK_THAT(e.findings.at(0).etcd_error, StartsWith("remote error: tls: "));
  CHECK(r.exit_code() == 0);
}

TEST_CASE("probe: a client certificate of another CA is refused after the TLS 1.3 handshake", "[probe]") {
  LoopbackPki pki, other;
  TlsServer server(pki / "m1/server.pem", pki / "m1/server-key.pem", pki / "ca/ca.pem");
  ProbeReport r = probe({server.url()}, with(pki / "ca/ca.pem", other / "clients/root.pem", other / "clients/root-key.pem"));
  const EndpointReport& e = r.endpoints.at(0);
  INFO(render_text(r));
  CHECK(e.handshake);  // the client's side of the handshake completed: only the request shows the refusal
  CHECK(e.tls_version == "TLSv1.3");
  CHECK(e.verified);
  CHECK(e.client_cert == Acceptance::refused);
  CHECK(e.http_status == 0);
  CHECK(rules(e) == Strings{"client-cert-refused"});
  CHECK(e.findings.at(0).severity == Severity::error);
  CHECK_THAT(e.findings.at(0).message, Contains(other / "clients/root.pem"));
  // OpenSSL's server says unknown CA (48) where Go's says bad certificate (42): the alert as Go names it.
  CHECK_THAT(e.findings.at(0).etcd_error, StartsWith("remote error: tls: unknown certificate authority"));
  CHECK(r.exit_code() == 2);
}

TEST_CASE("probe: a served certificate without the dialled IP, or name, is san-missing in Go's words", "[probe]") {
  LoopbackPki pki;
  auto opt = with(pki / "ca/ca.pem", pki / "clients/root.pem");
  SECTION("m2's peer certificate (127.0.0.2) served at 127.0.0.1, dialled by IP and by the name localhost") {
    TlsServer server(pki / "m2/peer.pem", pki / "m2/peer-key.pem", pki / "ca/ca.pem");
    ProbeReport r = probe({server.url(), server.url("localhost")}, opt);
    INFO(render_text(r));
    REQUIRE(r.endpoints.size() == 2);
    const EndpointReport& by_ip = r.endpoints[0];
    CHECK(rules(by_ip) == Strings{"san-missing"});
    CHECK(by_ip.findings.at(0).severity == Severity::error);
    CHECK(by_ip.findings.at(0).message == "the served server certificate does not cover IP 127.0.0.1, the address dialled");
    CHECK(by_ip.findings.at(0).etcd_error == "x509: certificate is valid for 127.0.0.2, not 127.0.0.1");
    CHECK_FALSE(by_ip.verified);
    CHECK(by_ip.client_cert == Acceptance::accepted);  // the chain is the CA's: only the name is wrong
    const EndpointReport& by_name = r.endpoints[1];
    CHECK(rules(by_name) == Strings{"san-missing"});
    CHECK(by_name.findings.at(0).etcd_error == "x509: certificate is valid for m2, not localhost");
    CHECK(r.exit_code() == 2);
  }
  SECTION("m2's server certificate (127.0.0.2 and loopback) served at 127.0.0.3") {
    TlsServer server(pki / "m2/server.pem", pki / "m2/server-key.pem", pki / "ca/ca.pem", "127.0.0.3");
    ProbeReport r = probe({server.url()}, opt);
    INFO(render_text(r));
    const EndpointReport& e = r.endpoints.at(0);
    CHECK(rules(e) == Strings{"san-missing"});
    CHECK(e.findings.at(0).etcd_error == "x509: certificate is valid for 127.0.0.2, 127.0.0.1, ::1, not 127.0.0.3");
  }
}

TEST_CASE("probe: a certificate of another CA is signed by an unknown authority", "[probe]") {
  LoopbackPki pki, other;
  TlsServer server(other / "m1/server.pem", other / "m1/server-key.pem", pki / "ca/ca.pem");
  ProbeReport r = probe({server.url()}, with(pki / "ca/ca.pem", pki / "clients/root.pem"));
  const EndpointReport& e = r.endpoints.at(0);
  INFO(render_text(r));
  CHECK(rules(e) == Strings{"chain"});
  CHECK_THAT(e.findings.at(0).etcd_error, StartsWith("x509: certificate signed by unknown authority"));
  CHECK_THAT(e.findings.at(0).message, Contains(pki / "ca/ca.pem"));
  CHECK_FALSE(e.verified);
  CHECK(r.exit_code() == 2);
}

TEST_CASE("probe: a listener that never answers TLS is a time-out error, not a hang", "[probe]") {
  LoopbackPki pki;
  SilentListener silent;
  auto opt = with(pki / "ca/ca.pem", pki / "clients/root.pem");
  opt.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  ProbeReport r = probe({silent.url()}, opt);
  // Generous: the point is that it returns at all (three time-outs at most would be 0.9 s).
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
  const EndpointReport& e = r.endpoints.at(0);
  INFO(render_text(r));
  CHECK(e.connected);
  CHECK_FALSE(e.handshake);
  CHECK(rules(e) == Strings{"tls-timeout"});
  CHECK_THAT(e.findings.at(0).message, Contains("did not complete within 300ms"));
  CHECK(e.findings.at(0).etcd_error == "context deadline exceeded");
  CHECK(r.exit_code() == 2);
}

TEST_CASE("probe: a port nobody listens on is unreachable: connection refused", "[probe]") {
  LoopbackPki pki;
  int port = free_port();
  ProbeReport r = probe({"https://127.0.0.1:" + std::to_string(port)}, with(pki / "ca/ca.pem"));
  const EndpointReport& e = r.endpoints.at(0);
  INFO(render_text(r));
  CHECK_FALSE(e.connected);
  CHECK(rules(e) == Strings{"unreachable"});
  CHECK(e.findings.at(0).etcd_error == "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
  CHECK(r.exit_code() == 2);
}

TEST_CASE("probe_targets: a cluster folder's members, each with its client and peer URLs, CA and certificates", "[probe]") {
  LoopbackPki pki(12379, 12380);
  std::vector<Finding> findings;
  auto targets = probe_targets({pki.out}, ProbeOptions{}, findings);
  CHECK(findings.empty());
  REQUIRE(targets.size() == 4);
  const ProbeTarget& c1 = targets[0];
  CHECK(c1.url == "https://127.0.0.1:12379");
  CHECK(c1.host == "127.0.0.1");
  CHECK(c1.port == 12379);
  CHECK(c1.member == "m1");
  CHECK(c1.role == EndpointRole::client);
  CHECK(c1.ca_file == pki / "m1/ca.pem");
  CHECK(c1.disk_cert == pki / "m1/server.pem");
  REQUIRE(c1.identities.size() == 1);  // etcdctl.env's: the member's server certificate
  CHECK(c1.identities[0].cert_file == pki / "m1/server.pem");
  CHECK(c1.identities[0].key_file == pki / "m1/server-key.pem");
  const ProbeTarget& p1 = targets[1];
  CHECK(p1.url == "https://127.0.0.1:12380");
  CHECK(p1.role == EndpointRole::peer);
  CHECK(p1.disk_cert == pki / "m1/peer.pem");
  REQUIRE(p1.identities.size() == 2);  // its own peer certificate first, then the other member's
  CHECK(p1.identities[0].cert_file == pki / "m1/peer.pem");
  CHECK(p1.identities[1].cert_file == pki / "m2/peer.pem");
  CHECK(targets[2].member == "m2");
  CHECK(targets[2].url == "https://127.0.0.2:12379");
  CHECK(targets[3].identities.at(0).cert_file == pki / "m2/peer.pem");

  // One member folder; --ca and --cert replace the folder's own.
  ProbeOptions given;
  given.ca_file = "/x/ca.pem";
  given.cert_file = "/x/c.pem";
  auto one = probe_targets({pki / "m2"}, given, findings);
  REQUIRE(one.size() == 2);
  CHECK(one[0].member == "m2");
  CHECK(one[0].ca_file == "/x/ca.pem");
  REQUIRE(one[1].identities.size() == 1);
  CHECK(one[1].identities[0].key_file == "/x/c-key.pem");
}

TEST_CASE("probe: a folder compares what is served with the member's file", "[probe]") {
  int client_port = free_port(), peer_port = free_port();
  LoopbackPki pki(client_port, peer_port);
  SECTION("the member's own certificate: the same as on disk") {
    TlsServer server(pki / "m1/server.pem", pki / "m1/server-key.pem", pki / "ca/ca.pem");
    // The folder's URLs name the configured port; a URL target with the folder's files stands in.
    std::vector<Finding> findings;
    auto targets = probe_targets({pki / "m1"}, ProbeOptions{}, findings);
    ProbeTarget t = targets.at(0);
    t.url = server.url();
    t.port = server.port();
    EndpointReport e = probe_endpoint(t, with(""));
    INFO(rules(e).size());
    CHECK(e.findings.empty());
    CHECK(e.presented == pki / "m1/server.pem");  // etcdctl.env's certificate on the client port
    CHECK(e.client_cert == Acceptance::accepted);
    REQUIRE(e.same_as_disk.has_value());
    CHECK(*e.same_as_disk);
  }
  SECTION("another certificate for the same member, from the same CA: served, valid, but not the file") {
    Certificate old = cert_at(pki / "m1/server.pem");
    Signer ca(cert_at(pki / "ca/ca.pem"), key_at(pki / "ca/ca-key.pem"));
    Request req;
    req.subject.common_name = "m1";
    req.hosts = {"m1", "127.0.0.1"};
    KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
    Policy policy = Policy::builtin();
    Issued fresh = ca.sign(Csr::create(req, key), policy.profile("server"));
    TempDir elsewhere;
    spit(elsewhere / "server.pem", fresh.certificate.to_pem());
    spit(elsewhere / "server-key.pem", key.to_pem());
    TlsServer server(elsewhere / "server.pem", elsewhere / "server-key.pem", pki / "ca/ca.pem");
    std::vector<Finding> findings;
    ProbeTarget t = probe_targets({pki.out}, ProbeOptions{}, findings).at(0);
    t.url = server.url();
    t.port = server.port();
    EndpointReport e = probe_endpoint(t, with(""));
    CHECK(e.verified);
    CHECK(rules(e) == Strings{"not-on-disk"});
    const Finding* f = find_rule(e, "not-on-disk");
    REQUIRE(f);
    CHECK(f->severity == Severity::warning);
    CHECK_THAT(f->message, Contains(fresh.certificate.serial_hex()) && Contains(old.serial_hex()) && Contains(pki / "m1/server.pem"));
    CHECK(e.same_as_disk == std::optional<bool>(false));
  }
  SECTION("nothing listens on the folder's ports: every endpoint is an error, the exit code 2") {
    ProbeReport r = probe({pki.out}, with(""));
    REQUIRE(r.endpoints.size() == 4);
    for (const auto& e : r.endpoints) CHECK(rules(e) == Strings{"unreachable"});
    CHECK(r.exit_code() == 2);
    auto j = nlohmann::json::parse(render_json(r));
    REQUIRE(j["endpoints"].size() == 4);
    CHECK(j["endpoints"][1]["role"] == "peer");
    CHECK(j["endpoints"][1]["member"] == "m1");
    CHECK(j["endpoints"][1]["leaf"].is_null());
    CHECK(j["errors"] == 4);
    CHECK(j["findings"].size() == 4);
    CHECK(j["findings"][0]["endpoint"] == "https://127.0.0.1:" + std::to_string(client_port));
  }
}

TEST_CASE("probe: JSON and text reports carry each endpoint's served leaf", "[probe]") {
  LoopbackPki pki;
  TlsServer server(pki / "m1/server.pem", pki / "m1/server-key.pem", pki / "ca/ca.pem");
  ProbeReport r = probe({server.url()}, with(pki / "ca/ca.pem", pki / "clients/root.pem"));
  auto j = nlohmann::json::parse(render_json(r));
  REQUIRE(j["endpoints"].size() == 1);
  auto e = j["endpoints"][0];
  Certificate file = cert_at(pki / "m1/server.pem");
  CHECK(e["url"] == server.url());
  CHECK(e["role"] == "client");
  CHECK(e["verified"] == true);
  CHECK(e["client_cert"] == "accepted");
  CHECK(e["leaf"]["subject_cn"] == "m1");
  CHECK(e["leaf"]["issuer_cn"] == "etcd-ca");
  CHECK(e["leaf"]["serial"] == file.serial_hex());
  CHECK(e["leaf"]["not_after"] == format_rfc3339(file.not_after()));
  CHECK(e["leaf"]["not_before"] == format_rfc3339(file.not_before()));
  CHECK(j["errors"] == 0);
  CHECK(j["warnings"] == 0);
  std::string text = render_text(r);
  CHECK_THAT(text, Contains("served: CN=m1, serial " + file.serial_hex()));
  CHECK_THAT(text, Contains("accepted (GET /version: HTTP 200)"));
  CHECK_THAT(text, EndsWith("1 endpoint(s) probed: 0 error(s), 0 warning(s)\n"));
}

TEST_CASE("probe: arguments that are not endpoints, and a client certificate that cannot be used", "[probe]") {
  LoopbackPki pki;
  CHECK(catch_error([&] { probe({"http://127.0.0.1:2379"}); }).category() == Errc::usage);
  CHECK(catch_error([&] { probe({"https://127.0.0.1"}); }).category() == Errc::usage);
  CHECK(catch_error([&] { probe({"https://127.0.0.1:99999"}); }).category() == Errc::usage);
  CHECK(catch_error([&] { probe({pki / "no-such-folder"}); }).category() == Errc::input);
  CHECK(catch_error([&] { probe({pki / "ca"}); }).category() == Errc::usage);
  CHECK(catch_error([&] { probe({}); }).category() == Errc::usage);
  auto mismatched = with("", pki / "m1/server.pem", pki / "m2/server-key.pem");
  Error e = catch_error([&] { probe({"https://127.0.0.1:1"}, mismatched); });
  CHECK(e.category() == Errc::key);
  CHECK(e.source() == pki / "m2/server-key.pem");
  CHECK(catch_error([&] { probe({"https://127.0.0.1:1"}, with("", pki / "m1/missing.pem")); }).category() == Errc::input);
}

TEST_CASE("probe: an IPv6 URL is dialled at its address", "[probe]") {
  std::vector<Finding> findings;
  auto t = probe_targets({"https://[::1]:2379"}, ProbeOptions{}, findings);
  REQUIRE(t.size() == 1);
  CHECK(t[0].host == "::1");
  CHECK(t[0].port == 2379);
}

TEST_CASE("probe: render_prometheus labels each served leaf like expiry's series, and says which probes failed", "[probe]") {
  ProbeReport r;
  r.now = at("2026-01-01T00:00:00Z");
  EndpointReport ok;
  ok.target.url = "https://10.0.0.1:2379";
  ok.target.member = "m1";
  ok.target.role = EndpointRole::client;
  ok.handshake = true;
  ServedCertificate leaf;
  leaf.subject_cn = "m1";
  leaf.issuer_cn = "etcd-ca";
  leaf.serial_decimal = "123456789";
  leaf.not_before = at("2025-01-01T00:00:00Z");
  leaf.not_after = at("2025-12-31T00:00:00Z");  // expired at r.now
  ok.chain = {leaf};
  ok.same_as_disk = false;
  EndpointReport dead;
  dead.target.url = "https://10.0.0.2:2380";
  dead.target.member = "m2";
  dead.target.role = EndpointRole::peer;
  dead.findings.push_back(Finding{Severity::error, dead.target.url, "unreachable", "connection refused", ""});
  r.endpoints = {ok, dead};
  const std::string labels = R"({subject_CN="m1",issuer_CN="etcd-ca",serial_number="123456789",endpoint="https://10.0.0.1:2379",member="m1",role="server"})";
  CHECK(render_prometheus(r) ==
        "# HELP x509_cert_not_after The served certificate's notAfter, Unix seconds\n"
        "# TYPE x509_cert_not_after gauge\n"
        "x509_cert_not_after" + labels + " " + std::to_string(leaf.not_after.time_since_epoch().count()) + "\n"
        "# HELP x509_cert_not_before The served certificate's notBefore, Unix seconds\n"
        "# TYPE x509_cert_not_before gauge\n"
        "x509_cert_not_before" + labels + " " + std::to_string(leaf.not_before.time_since_epoch().count()) + "\n"
        "# HELP x509_cert_expired 1 when the served certificate had expired when etcd-pki probed it, else 0\n"
        "# TYPE x509_cert_expired gauge\n"
        "x509_cert_expired" + labels + " 1\n"
        "# HELP etcd_pki_probe_success 1 when the endpoint was reached and its certificate passed every check (no error finding), else 0\n"
        "# TYPE etcd_pki_probe_success gauge\n"
        "etcd_pki_probe_success{endpoint=\"https://10.0.0.1:2379\",member=\"m1\",role=\"client\"} 1\n"
        "etcd_pki_probe_success{endpoint=\"https://10.0.0.2:2380\",member=\"m2\",role=\"peer\"} 0\n"
        "# HELP etcd_pki_probe_served_is_on_disk 1 when the served certificate is the member's file (serial and key), 0 when not; absent when not compared\n"
        "# TYPE etcd_pki_probe_served_is_on_disk gauge\n"
        "etcd_pki_probe_served_is_on_disk{endpoint=\"https://10.0.0.1:2379\",member=\"m1\",role=\"client\"} 0\n");
}
