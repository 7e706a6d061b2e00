// The CA's revocation index (OpenSSL's index.txt format, CaIndex::parse) and the serial and
// reason spellings of `etcd-pki revoke`.
// Invariant: an index that parses writes back (to_text) to text that parses to the same entries.
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

namespace {

bool same(const IndexEntry& a, const IndexEntry& b) {
  return a.status == b.status && a.not_after == b.not_after && a.revoked_at == b.revoked_at && a.reason == b.reason &&
         a.serial == b.serial && a.subject == b.subject;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::text(data, size);
  fuzz::attempt([&] {
    CaIndex index = CaIndex::parse(in, "fuzz-index.txt");
    std::string text = index.to_text();
    fuzz::must("CaIndex::to_text() parses again", [&] {
      CaIndex back = CaIndex::parse(text, "round trip");
      if (back.entries().size() != index.entries().size()) fuzz::violated("index round trip: entry count", text);
      for (size_t i = 0; i < back.entries().size(); ++i)
        if (!same(back.entries()[i], index.entries()[i])) fuzz::violated("index round trip: entry differs", text);
    });
    for (const auto& e : index.entries())
      if (index.find(e.serial) == nullptr) fuzz::violated("CaIndex::find misses a listed serial", e.serial);
  });
  fuzz::attempt([&] { (void)normalize_serial_hex(in); });
  fuzz::attempt([&] { (void)to_string(parse_revocation_reason(in)); });
  (void)decimal_to_serial_hex(in);
  return 0;
}
