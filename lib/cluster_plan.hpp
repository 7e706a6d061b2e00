#pragma once
// Private: what `cluster` will do, decided without keys or files. build_cluster (cluster.cpp)
// reads what is on disk into ExistingState, asks plan_cluster what to keep, issue or re-issue
// and why, makes the keys and certificates the plan names, renders the member files
// (member_files.hpp) and writes everything at once.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/cluster.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/request.hpp"
#include "layout.hpp"

namespace etcd_pki::detail {

// What is on disk for one certificate of the cluster, as facts (read by build_cluster).
struct ExistingCert {
  bool cert_file = false, key_file = false;
  std::string unreadable;     // why the pair cannot be read or parsed ("" when it was)
  bool key_matches = false;   // the key belongs to the certificate
  bool signed_by_ca = false;  // by the CA this run signs with (false when a new CA is made)
  TimePoint not_after{};
  std::string common_name;
  Sans sans;
  std::vector<std::string> ext_key_usage;
  KeySpec key{};
};

struct ExistingState {
  bool ca_files = false;  // the output folder's CA certificate or key exists
  std::map<std::string, ExistingCert> certs;  // by CertPlan::label
};

enum class CaSource {
  external,  // the spec's "ca": {"cert", "key"}
  existing,  // the output folder's ca/, kept
  make,      // a new CA (none yet, or --force)
};

enum class Action {
  keep,     // exists, valid, signed by the CA and as the spec says
  issue,    // does not exist yet
  reissue,  // exists and --force replaces it
  refuse,   // exists but cannot be kept, and replacing it needs --force
};
const char* to_string(Action action);

// One certificate of the cluster and what to do with it.
struct CertPlan {
  std::string label;  // "etcd-1/server", "clients/root"
  std::string member;  // "" for a client
  std::optional<MemberCert> member_cert;
  Role role = Role::client;  // server, peer or client: which built-in profile signs it
  std::string cert_path, key_path;
  Subject subject;
  Sans sans;
  KeySpec key{};
  Action action = Action::issue;
  std::string reason;  // why, in words ("expired on ...", "missing", "--force")
};

struct ClusterPlan {
  ClusterLayout layout;
  CaSource ca = CaSource::make;
  std::optional<Request> ca_request;  // for CaSource::make
  std::vector<CertPlan> certs;        // members in spec order (server, peer, ...), then clients

  std::vector<const CertPlan*> with(Action action) const;
  std::vector<const CertPlan*> to_make() const;  // issue and reissue, in plan order
};

// Where the CA comes from: the spec's, the one in the folder (unless `force`), or a new one.
CaSource ca_source(const ClusterSpec& spec, bool force, bool ca_files);
// The request of a new cluster CA: the spec's "ca.csr" (its expiry, else ca_expiry), or CN
// etcd-ca with the spec's names, key and ca_expiry.
Request ca_request(const ClusterSpec& spec);
// Every certificate the spec asks for, with its subject, SANs and key, action not yet decided.
// Server certificates also cover the member's client addresses and localhost, 127.0.0.1 and ::1
// (etcdctl on the host, etcd's gRPC gateway); peer certificates the member's own names and IPs.
std::vector<CertPlan> cluster_certificates(const ClusterSpec& spec, const ClusterLayout& layout);
// Why an existing pair cannot be kept ("" when it can).
std::string stale_reason(const CertPlan& cert, const ExistingCert& existing, TimePoint now,
                         const std::vector<std::string>& ext_key_usage);
// The whole plan. Pure: the same spec, options and facts give the same plan.
ClusterPlan plan_cluster(const ClusterSpec& spec, const ClusterOptions& options, const ExistingState& existing);

}  // namespace etcd_pki::detail
