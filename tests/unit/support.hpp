#pragma once
// Shared helpers for the unit tests: catching an etcd_pki::Error, a fixed clock, small CAs made
// once per binary, OpenSSL chain verification, PEM/DER plumbing and a temporary folder.
#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_pki/etcd_pki.hpp"

namespace Catch {
template <>
struct StringMaker<etcd_pki::Errc> {
  static std::string convert(etcd_pki::Errc c) { return std::string("Errc::") + etcd_pki::to_string(c); }
};
template <>
struct StringMaker<etcd_pki::KeySpec> {
  static std::string convert(const etcd_pki::KeySpec& k) { return k.to_string(); }
};
template <>
struct StringMaker<etcd_pki::TimePoint> {
  static std::string convert(etcd_pki::TimePoint t) { return etcd_pki::format_rfc3339(t); }
};
template <>
struct StringMaker<etcd_pki::IpAddress> {
  static std::string convert(const etcd_pki::IpAddress& ip) {
    return ip.to_string() + " (" + std::to_string(ip.bytes.size()) + " bytes)";
  }
};
template <>
struct StringMaker<etcd_pki::Sans> {
  static std::string convert(const etcd_pki::Sans& s) { return "[" + s.to_string() + "]"; }
};
}  // namespace Catch

namespace test {

using namespace etcd_pki;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Catch::Matchers::EndsWith;

// Runs f, which must throw etcd_pki::Error, and returns that error.
template <class F>
Error catch_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL("expected etcd_pki::Error, got std::exception: " << e.what());
  }
  FAIL("expected etcd_pki::Error, nothing was thrown");
  throw std::logic_error("unreachable");
}

inline TimePoint at(const char* rfc3339) { return parse_rfc3339(rfc3339); }

// The fixed clock of the signing tests: 12:34:29 rounds down to 12:34.
inline TimePoint fixed_now() { return at("2025-03-10T12:34:29Z"); }

inline SignOptions at_time(TimePoint now) {
  SignOptions o;
  o.now = now;
  return o;
}

struct Ca {
  Certificate cert;
  KeyPair key;
  Signer signer() const { return Signer(cert, key); }
};

// A self-signed root through the library's own init-ca path.
inline Ca make_root(const KeySpec& spec, const std::string& cn = "test-root", TimePoint now = fixed_now(),
                    int pathlen = 0, bool pathlenzero = false, std::vector<std::string> hosts = {}) {
  Request req;
  req.subject.common_name = cn;
  req.subject.organization = {"etcd-pki tests"};
  req.key = spec;
  req.hosts = std::move(hosts);
  CaOptions ca;
  ca.expiry = Seconds(87600LL * 3600);
  ca.pathlen = pathlen;
  ca.pathlenzero = pathlenzero;
  req.ca = ca;
  KeyPair key = KeyPair::generate(spec);
  Csr csr = Csr::create(req, key);
  Issued issued = Signer::self_sign(csr, key, ca_profile_for(req), at_time(now));
  return {issued.certificate, key};
}

// One ECDSA P-256 root per test binary (keys are the slow part).
inline const Ca& shared_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "shared-test-root");
  return root;
}

inline const KeyPair& shared_leaf_key() {
  static const KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  return key;
}

inline const KeyPair& shared_rsa2048() {
  static const KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::rsa, 2048});
  return key;
}

inline Csr leaf_csr(const std::string& cn, std::vector<std::string> hosts = {}, const KeyPair& key = shared_leaf_key()) {
  Request req;
  req.subject.common_name = cn;
  req.hosts = std::move(hosts);
  return Csr::create(req, key);
}

inline Profile profile_with(std::vector<std::string> usages, Seconds expiry = Seconds(8760 * 3600),
                            std::string name = "test") {
  Profile p;
  p.name = std::move(name);
  p.usages = parse_usages(usages);
  p.expiry = expiry;
  return p;
}

struct VerifyResult {
  int ok = 0;
  int error = 0;
  int depth = -1;
  std::string text() const {
    return "ok=" + std::to_string(ok) + " error=" + std::to_string(error) + " (" +
           X509_verify_cert_error_string(error) + ") at depth " + std::to_string(depth);
  }
};

// X509_verify_cert of `leaf` against the trusted `root` (plus untrusted intermediates), at `when`,
// for `purpose` (X509_PURPOSE_SSL_SERVER, ...; 0 for none).
inline VerifyResult verify_chain(const Certificate& leaf, const Certificate& root, TimePoint when, int purpose,
                                 const std::vector<Certificate>& intermediates = {}) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  REQUIRE(X509_STORE_add_cert(store.get(), root.native_handle()) == 1);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(),
                                                                   [](STACK_OF(X509)* s) { sk_X509_free(s); });
  for (const auto& c : intermediates) sk_X509_push(chain.get(), c.native_handle());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native_handle(), chain.get()) == 1);
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(when.time_since_epoch().count()));
  if (purpose) REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), purpose) == 1);
  VerifyResult r;
  r.ok = X509_verify_cert(ctx.get());
  r.error = X509_STORE_CTX_get_error(ctx.get());
  r.depth = X509_STORE_CTX_get_error_depth(ctx.get());
  ERR_clear_error();
  return r;
}

// PEM <-> DER for tampering and relabelling.
struct PemBlock {
  std::string label;
  std::string der;
};

inline PemBlock pem_decode(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  char *name = nullptr, *header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  REQUIRE(PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1);
  PemBlock b{name, std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len))};
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return b;
}

inline std::string pem_encode(const std::string& label, const std::string& der) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio(bio.get(), label.c_str(), "", reinterpret_cast<const unsigned char*>(der.data()),
                        static_cast<long>(der.size())) > 0);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

inline std::string read_fixture(const std::string& rel) {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/" + rel, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh folder under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "etcd-pki-unit-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Whole files in and out (binary).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes a file, making missing folders (an existing file is rewritten in place and keeps its mode).
inline void spit(const std::string& path, const std::string& data) {
  if (auto parent = std::filesystem::path(path).parent_path(); !parent.empty()) std::filesystem::create_directories(parent);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << data;
  out.close();
  REQUIRE(out.good());
}

inline Certificate cert_at(const std::string& path) { return Certificate::from_pem(slurp(path), path); }
inline KeyPair key_at(const std::string& path) { return KeyPair::from_pem(slurp(path), path); }

// The seed topology: three members on 10.20.13.10-12 and client "root", built by build_cluster at fixed_now().
struct SeedPki {
  TempDir tmp;
  std::string out;
  explicit SeedPki(Layout layout = Layout::cfssl) : out(tmp / "pki") {
    ClusterSpec s;
    for (int i = 1; i <= 3; ++i) {
      MemberSpec m;
      m.name = "etcd-" + std::to_string(i);
      m.ips = {"10.20.13." + std::to_string(9 + i)};
      s.members.push_back(m);
    }
    s.clients = {{"root", "root"}};
    ClusterOptions o;
    o.out_dir = out;
    o.now = fixed_now();
    o.layout = layout;
    build_cluster(s, o);
  }
  std::string operator/(const std::string& rel) const { return out + "/" + rel; }
  std::string ca_path() const { return out + "/ca/ca.pem"; }
  Signer signer() const { return Signer(cert_at(out + "/ca/ca.pem"), key_at(out + "/ca/ca-key.pem")); }
};

// A reader of the Prometheus text format 0.0.4, written for the tests from the format's description
// (not from lib/prometheus.cpp): it REQUIREs the shape node_exporter's textfile collector needs:
// each family's # HELP then # TYPE exactly once, before its samples, which come together; label
// values quoted with only \\, \" and \n escaped. Families by name; `order` gets the names in order.
struct ExpoSample {
  std::map<std::string, std::string> labels;  // unescaped
  std::vector<std::string> label_order;
  std::string value;
};
struct ExpoFamily {
  std::string help, type;
  std::vector<ExpoSample> samples;
};
inline ExpoSample parse_exposition_sample(const std::string& line, const std::string& family) {
  ExpoSample s;
  size_t i = line.find_first_of("{ ");
  REQUIRE(i != std::string::npos);
  INFO(line);
  REQUIRE(line.substr(0, i) == family);
  if (line[i] == '{') {
    ++i;
    while (line.at(i) != '}') {
      size_t eq = line.find('=', i);
      REQUIRE(eq != std::string::npos);
      std::string name = line.substr(i, eq - i);
      REQUIRE(line.at(eq + 1) == '"');
      std::string value;
      for (i = eq + 2; line.at(i) != '"'; ++i) {
        if (line[i] != '\\') {
          value += line[i];
          continue;
        }
        char c = line.at(++i);
        REQUIRE((c == '\\' || c == '"' || c == 'n'));
        value += c == 'n' ? '\n' : c;
      }
      REQUIRE(s.labels.emplace(name, value).second);  // each label once
      s.label_order.push_back(name);
      ++i;
      if (line.at(i) == ',') ++i;
    }
    ++i;
  }
  REQUIRE(line.at(i) == ' ');
  s.value = line.substr(i + 1);
  REQUIRE_FALSE(s.value.empty());
  return s;
}
inline std::map<std::string, ExpoFamily> parse_exposition(const std::string& text, std::vector<std::string>* order = nullptr) {
  std::map<std::string, ExpoFamily> out;
  std::string current;
  bool typed = false;
  REQUIRE((text.empty() || text.back() == '\n'));
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO(line);
    REQUIRE_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      std::string rest = line.substr(7);
      current = rest.substr(0, rest.find(' '));
      REQUIRE(out.count(current) == 0);  // HELP once per family, and a family's lines together
      out[current].help = rest.size() > current.size() ? rest.substr(current.size() + 1) : "";
      typed = false;
      if (order) order->push_back(current);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      REQUIRE(line.substr(7, current.size() + 1) == current + " ");
      REQUIRE_FALSE(typed);
      typed = true;
      out[current].type = line.substr(7 + current.size() + 1);
    } else {
      REQUIRE(line.front() != '#');
      REQUIRE(typed);  // after its family's HELP and TYPE
      out[current].samples.push_back(parse_exposition_sample(line, current));
    }
  }
  return out;
}

}  // namespace test
