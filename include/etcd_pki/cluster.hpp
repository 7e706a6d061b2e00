#pragma once
// A whole etcd cluster's PKI in one call: the CA, a server and a peer certificate per member
// (each with that member's own names and IPs), client certificates, and one folder per member
// ready to copy to its host (ca.pem, server/peer pairs, etcd.conf.yml, etcdctl.env, MANIFEST).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/request.hpp"

namespace etcd_pki {

struct MemberSpec {
  std::string name;                           // etcd member name; CN and a DNS SAN of both certs
  std::vector<std::string> ips;               // its addresses (IPv4/IPv6), in both certs
  std::vector<std::string> dns;               // its DNS names, in both certs
  std::vector<std::string> client_addresses;  // extra IPs or names clients use: server cert only
  int peer_port = 2380, client_port = 2379;
  std::string url_host() const;               // the address in its URLs: first IP, else first DNS name
};

struct ClientSpec {
  std::string name;  // file name: clients/NAME.pem
  std::string cn;    // certificate CN = the etcd user name; default: name
};

struct ClusterSpec {
  std::vector<MemberSpec> members;
  std::vector<ClientSpec> clients;
  KeySpec key{KeyAlgo::ecdsa, 256};
  Seconds expiry{8760LL * 3600};     // leaves
  Seconds ca_expiry{87600LL * 3600};
  Subject names;                     // C/ST/L/O/OU for every certificate
  std::optional<Request> ca_request; // the CA to generate (default: CN etcd-ca)
  std::string ca_cert_file, ca_key_file;  // or an existing CA to sign with
  std::string cluster_token = "etcd-cluster";

  // `--initial-cluster` as in etcd's config: "a=https://10.0.0.1:2380,b=https://[fd00::2]:2380".
  // A name may repeat to give a member several peer URLs. Errc::input naming `source`.
  static ClusterSpec from_initial_cluster(std::string_view text, const std::string& source = "--initial-cluster");
  // The JSON spec (schema in docs/cluster.md). Relative CA file paths are taken from `base_dir`.
  static ClusterSpec from_json(std::string_view text, const std::string& source = {}, const std::string& base_dir = ".");

  // Duplicate member names or IPs, a member without an address, invalid IPs, DNS names or
  // file names: Errc::input naming the member and field.
  void validate(const std::string& source = {}) const;
  std::string initial_cluster() const;  // "a=https://10.0.0.1:2380,..."
};

enum class Layout : int { cfssl, kubeadm };

// What the trust files (each member's ca.pem, clients/ca.pem) hold when the CA that signs is an
// intermediate: the root of its chain (default), or that intermediate itself.
enum class TrustAnchor { root, issuer };

struct ClusterOptions {
  std::string out_dir = "pki";
  Layout layout = Layout::cfssl;
  std::string install_dir;     // where the files go on the hosts; default /etc/etcd/pki (kubeadm: /etc/kubernetes/pki)
  bool force = false;          // re-issue everything, replacing existing keys and the CA
  unsigned threads = 0;        // key generation workers; 0 = all cores
  // Called from worker threads as each new key, then each new certificate, is made: `total` is
  // the number of new keys plus the number of new certificates.
  std::function<void(size_t done, size_t total)> progress;
  std::optional<TimePoint> now;  // the clock, for tests
  Passphrase ca_passphrase;      // decrypts an existing CA key; a new CA key is written encrypted with it
  // A new CA key is written encrypted even when ca_passphrase is none: its asker is asked (twice),
  // before any key is made; without one, Errc::usage.
  bool encrypt_ca_key = false;
  std::string data_dir = "/var/lib/etcd";  // each member's ETCD_DATA_DIR / data-dir
  // Every member's initial-cluster-state: "new" or "existing". Empty: a member new to an output
  // folder that has member folders joins a running cluster ("existing"); the others keep theirs.
  std::string initial_cluster_state;
  TrustAnchor trust = TrustAnchor::root;  // the trust files: the root of the signing CA's chain, or that CA
};

// A member that joins or leaves a running cluster in this run, and what to run on the cluster.
struct MemberChange {
  std::string name;
  std::string peer_urls;              // its peer URLs (added)
  std::string moved_to;               // where its folder went (removed): OUT/.removed/NAME-<time>
  std::vector<std::string> revoked;   // the serials revoked (removed), as OpenSSL prints them
  std::string etcdctl;                // "etcdctl member add NAME --peer-urls=..." / "etcdctl member remove ..."
};

struct ClusterResult {
  std::vector<std::string> issued;  // certificates made in this run ("etcd-1/server", "clients/root", "ca")
  std::vector<std::string> reused;  // existing, still valid and matching the spec
  std::vector<std::string> written; // every file written or replaced
  std::vector<std::string> warnings;
  std::vector<MemberChange> added, removed;
};

// Builds (or brings up to date) the cluster PKI under options.out_dir. Existing certificates that
// are valid, signed by the CA and match the spec are kept; missing ones are issued. An existing
// key or CA that would have to be replaced is an Errc::exists error unless options.force. All
// keys are generated (in parallel) and signed before the first file is written, and the files
// are written all or nothing, so a failed run leaves the previous output as it was.
// Every member folder gets the CA's CRL (ca.crl; an empty one is made for a new CA), and the
// membership follows the spec: a new member of an output folder that has members joins the running
// cluster (initial-cluster-state existing, ClusterResult::added says what to run first); a member
// folder the spec no longer names is removed: its certificates are revoked (cessationOfOperation),
// the CRL refreshed in every member folder in the same write, then its folder moved aside.
ClusterResult build_cluster(const ClusterSpec& spec, const ClusterOptions& options);

// The CA files of a folder: a cluster output folder's CA (DIR/ca/ca.pem, or the kubeadm layout's
// DIR/ca/ca.crt when only that exists) and its key; with an empty `dir`, init-ca's ./ca.pem and
// ./ca-key.pem. The files need not exist.
struct CaPaths {
  std::string cert, key;
};
CaPaths default_ca_files(const std::string& dir);
// The CA of a cluster output folder when it has one (a cluster signed by an existing CA has none).
std::optional<CaPaths> find_cluster_ca(const std::string& dir);

// Recomputes a member folder's MANIFEST (hashes, subjects, expiry) for the files it lists, after
// they changed (renew). Returns whether it changed; false when there is no MANIFEST.
bool refresh_manifest(const std::string& member_dir);

}  // namespace etcd_pki
