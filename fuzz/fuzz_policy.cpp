// cfssl ca-config.json (Policy::from_json), then what issue/sign do with it: every profile looked
// up by name, its usages named, and a certificate planned and signed under the first profiles
// (URLs go through OpenSSL's extension syntax, name_whitelist through std::regex).
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

namespace {

struct Fixture {
  TimePoint now = parse_rfc3339("2025-03-10T12:34:29Z");
  KeyPair ca_key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  Signer signer = make_signer();
  Csr leaf = make_leaf();

  SignOptions at_now() const {
    SignOptions o;
    o.now = now;
    return o;
  }
  Signer make_signer() const {
    Request req = Request::default_ca();
    Csr csr = Csr::create(req, ca_key);
    return Signer(Signer::self_sign(csr, ca_key, ca_profile_for(req), at_now()).certificate, ca_key);
  }
  Csr make_leaf() const {
    Request req;
    req.subject.common_name = "etcd-1";
    req.hosts = {"etcd-1", "etcd-1.example.com", "10.0.0.1", "admin@example.com", "spiffe://etcd/1"};
    return Csr::create(req, KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256}));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  fuzz::attempt([&] {
    Policy policy = Policy::from_json(fuzz::text(data, size), "fuzz-ca-config.json");
    (void)policy.warnings();
    int signed_count = 0;
    for (const std::string& name : policy.profile_names()) {
      const Profile* p = nullptr;
      fuzz::must("Policy::profile(name) for a name from profile_names()", [&] { p = &policy.profile(name); });
      (void)usage_names(p->usages);
      (void)key_usage_string(p->usages.key_usage);
      (void)ext_key_usage_string(p->usages.ext_key_usage);
      (void)format_duration(p->expiry);
      fuzz::attempt([&] {
        IssuerInfo issuer{fx.signer.ca_certificate().not_after(), fx.signer.ca_certificate().path_len(), false};
        (void)plan_certificate(fx.leaf, *p, issuer, fx.at_now());
      });
      // Signing costs a signature; the first few profiles are enough to reach the encoder.
      if (signed_count++ < 3) fuzz::attempt([&] { (void)fx.signer.sign(fx.leaf, *p, fx.at_now()); });
    }
  });
  return 0;
}
