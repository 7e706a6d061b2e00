// etcd's --initial-cluster syntax (ClusterSpec::from_initial_cluster), then validate() as the
// cluster command does. Invariant as in fuzz_cluster_json: a valid spec round-trips.
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"
#include "roundtrip.hpp"

using namespace etcd_pki;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::attempt([&] {
    ClusterSpec spec = ClusterSpec::from_initial_cluster(fuzz::text(data, size));
    for (const auto& m : spec.members) (void)m.url_host();
    spec.validate("--initial-cluster");
    fuzz::check_initial_cluster_round_trip(spec);
  });
  return 0;
}
