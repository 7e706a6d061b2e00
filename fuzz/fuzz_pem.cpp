// PEM (and DER) loading: Certificate::from_pem / all_from_pem, Csr::from_pem, KeyPair::from_pem
// and Crl::from_bytes on the same input, then every accessor the CLI uses on what was read.
// Invariants: what was read is written back (to_pem) in a form that reads again, unchanged.
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

namespace {

void certificate_fields(const Certificate& c) {
  (void)c.subject();
  (void)c.subject_string();
  (void)c.issuer_string();
  (void)c.serial_hex();
  (void)c.sans().to_string();
  fuzz::attempt([&] { (void)c.not_before(); });
  fuzz::attempt([&] { (void)c.not_after(); });
  (void)c.is_ca();
  (void)c.path_len();
  (void)c.key_usage();
  (void)c.ext_key_usage();
  (void)c.subject_key_id();
  (void)c.authority_key_id();
  fuzz::attempt([&] { (void)c.public_key().spec(); });
  (void)c.self_signed();
  (void)c.signed_by(c);
  (void)c.sha256_fingerprint();
  fuzz::attempt([&] { (void)signature_algorithm_name(c); });
  std::string pem = c.to_pem();
  fuzz::must("a certificate read from the input reads again from to_pem()", [&] {
    Certificate back = Certificate::from_pem(pem, "round trip");
    if (back.sha256_fingerprint() != c.sha256_fingerprint()) fuzz::violated("certificate changes in a PEM round trip", pem);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::text(data, size);
  fuzz::attempt([&] { certificate_fields(Certificate::from_pem(in, "fuzz.pem")); });
  fuzz::attempt([&] {
    for (const Certificate& c : Certificate::all_from_pem(in, "fuzz.pem")) certificate_fields(c);
  });
  fuzz::attempt([&] {
    Csr csr = Csr::from_pem(in, "fuzz.csr");
    (void)csr.subject();
    fuzz::attempt([&] { (void)csr.sans(); });
    fuzz::attempt([&] { (void)csr.basic_constraints(); });
    fuzz::attempt([&] { (void)csr.key_spec(); });
    std::string pem = csr.to_pem();
    fuzz::must("a CSR read from the input reads again from to_pem()", [&] { (void)Csr::from_pem(pem, "round trip"); });
  });
  fuzz::attempt([&] {
    KeyPair key = KeyPair::from_pem(in, "fuzz-key.pem");
    KeySpec spec = key.spec();
    (void)spec.to_string();
    std::string der = key.public_key_der();
    std::string pem = key.to_pem();
    fuzz::must("a key read from the input reads again from to_pem()", [&] {
      KeyPair back = KeyPair::from_pem(pem, "round trip");
      if (!(back.spec() == spec) || back.public_key_der() != der || !back.same_public_key(key))
        fuzz::violated("key changes in a PEM round trip", spec.to_string());
    });
  });
  fuzz::attempt([&] {
    Crl crl = Crl::from_bytes(in, "fuzz.crl");
    (void)crl.issuer_string();
    fuzz::attempt([&] { (void)crl.this_update(); });
    fuzz::attempt([&] { (void)crl.next_update(); });
    (void)crl.crl_number();
    (void)crl.authority_key_id();
    fuzz::attempt([&] { (void)crl.revoked(); });
    fuzz::attempt([&] { (void)crl.is_revoked("01"); });
    (void)crl.sha256_fingerprint();
    (void)crl.to_der();
    (void)crl.to_pem();
  });
  return 0;
}
