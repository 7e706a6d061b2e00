#pragma once
// Shared by the two cluster spec targets.
#include "etcd_pki/cluster.hpp"
#include "fuzz_common.hpp"

namespace fuzz {

// spec has passed validate(): its initial_cluster() must parse back to the same members (names
// and peer ports, in order) and validate again.
inline void check_initial_cluster_round_trip(const etcd_pki::ClusterSpec& spec) {
  std::string ic = spec.initial_cluster();
  must("initial_cluster() of a valid spec parses and validates", [&] {
    etcd_pki::ClusterSpec back = etcd_pki::ClusterSpec::from_initial_cluster(ic, "round trip");
    back.validate("round trip");
    if (back.members.size() != spec.members.size()) violated("initial_cluster() round trip: member count", ic);
    for (size_t i = 0; i < spec.members.size(); ++i)
      if (back.members[i].name != spec.members[i].name || back.members[i].peer_port != spec.members[i].peer_port)
        violated("initial_cluster() round trip: member name or peer port", ic);
  });
}

}  // namespace fuzz
