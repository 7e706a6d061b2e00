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

// A member folder that is there before the run.
struct ExistingMember {
  std::string state;                    // initial-cluster-state in its etcd.env or etcd.conf.yml ("" unknown)
  std::vector<std::string> peer_hosts;  // the hosts of its peer URLs
};

struct ExistingState {
  bool ca_files = false;  // the output folder's CA certificate or key exists
  std::map<std::string, ExistingCert> certs;  // by CertPlan::label
  std::map<std::string, ExistingMember> members;  // by member name (its folder's name)
};

// How the run changes a running cluster's membership: a spec member without a folder in an
// output folder that has member folders joins a running cluster (initial-cluster-state existing);
// a member folder the spec no longer names is removed.
struct Membership {
  std::vector<std::string> added, removed;
  std::map<std::string, std::string> state;  // initial-cluster-state of each spec member
};
// `state_override`: "" (as above; a member keeps the state its files say), "new" or "existing" for
// every member. Errc::input naming `out_dir` for a change etcd cannot make in one step: a member
// renamed (added with a removed member's address), added and removed members at once, or every
// member removed; Errc::usage for another override.
Membership plan_membership(const ClusterSpec& spec, const std::string& state_override,
                           const std::map<std::string, ExistingMember>& existing, const std::string& out_dir);

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
  Membership membership;

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
