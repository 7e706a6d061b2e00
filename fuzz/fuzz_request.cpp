// cfssl CSR JSON (Request::from_json), then what init-ca / issue do with a parsed request: SAN
// classification, the CA checks and profile, and a CSR with that subject and those SANs.
// Invariant: the CSR carries exactly the classified SANs and reads back (signature verified).
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  fuzz::attempt([&] {
    Request req = Request::from_json(fuzz::text(data, size), "fuzz-csr.json");
    Sans sans = classify_hosts(req.hosts);
    (void)sans.to_string();
    (void)req.key.to_string();
    fuzz::attempt([&] { req.validate_for_ca("fuzz-csr.json"); });
    if (req.ca) (void)ca_profile_for(req);
    fuzz::attempt([&] {
      Csr csr = Csr::create(req, key);
      if (!(csr.sans() == sans))
        fuzz::violated("the CSR's SANs differ from classify_hosts(hosts)", csr.sans().to_string() + " vs " + sans.to_string());
      (void)csr.subject();
      (void)csr.basic_constraints();
      fuzz::must("a CSR made by Csr::create reads back", [&] {
        Csr back = Csr::from_pem(csr.to_pem(), "round trip");
        if (!(back.sans() == sans)) fuzz::violated("CSR SANs change in a PEM round trip", back.sans().to_string());
        if (!(back.subject() == csr.subject())) fuzz::violated("CSR subject changes in a PEM round trip", csr.to_pem());
      });
    });
  });
  return 0;
}
