// The cluster spec JSON (ClusterSpec::from_json, which validates), then what the cluster command
// derives from it. Invariant: a valid spec's initial_cluster() is itself a valid --initial-cluster
// naming the same members with the same peer ports.
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"
#include "roundtrip.hpp"

using namespace etcd_pki;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::attempt([&] {
    ClusterSpec spec = ClusterSpec::from_json(fuzz::text(data, size), "fuzz-cluster.json", "/nonexistent");
    fuzz::check_initial_cluster_round_trip(spec);
  });
  return 0;
}
