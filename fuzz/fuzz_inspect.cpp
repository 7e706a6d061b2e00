// What `etcd-pki inspect` reads: any file (certificates, CSRs, keys, CRLs; PEM or one DER
// object), described as text and as JSON, checked against a CA and a CRL.
// Invariant: the JSON output is valid JSON.
#include <nlohmann/json.hpp>

#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

namespace {

struct Fixture {
  TimePoint now = parse_rfc3339("2025-03-10T12:34:29Z");
  Signer signer = make_signer();
  Crl crl = make_crl();

  SignOptions at_now() const {
    SignOptions o;
    o.now = now;
    return o;
  }
  Signer make_signer() const {
    KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
    Request req = Request::default_ca();
    Csr csr = Csr::create(req, key);
    return Signer(Signer::self_sign(csr, key, ca_profile_for(req), at_now()).certificate, key);
  }
  Crl make_crl() const {
    CaIndex index = CaIndex::parse("R\t350101000000Z\t250101000000Z,keyCompromise\t01\tunknown\t/CN=x\n", "fixture");
    CrlOptions o;
    o.now = now;
    return Crl::make(signer, index, o);
  }
};

void check_json(const std::string& json) {
  try {
    if (nlohmann::json::parse(json).is_discarded()) fuzz::violated("the JSON rendering does not parse", json);
  } catch (const nlohmann::json::exception& e) {
    fuzz::violated("render_json output is not valid JSON", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  std::string in(reinterpret_cast<const char*>(data), size);
  fuzz::attempt([&] {
    InspectOptions plain;
    plain.now = fx.now;
    auto items = inspect_data(in, "fuzz.pem", plain);
    (void)render_text(items);
    check_json(render_json(items));
  });
  fuzz::attempt([&] {
    InspectOptions with_ca;
    with_ca.now = fx.now;
    with_ca.ca = fx.signer.ca_certificate();
    with_ca.crl = fx.crl;
    auto items = inspect_data(in, "fuzz.pem", with_ca);
    (void)render_text(items);
    check_json(render_json(items));
  });
  return 0;
}
