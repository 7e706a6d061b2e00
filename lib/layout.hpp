#pragma once
// Private: where things are in the folders etcd-pki writes and reads. Every file name of a
// cluster output folder (ca/ca.pem, ca/ca.crt, server.pem, etcd/server.crt, clients/, MANIFEST,
// ...) is spelled here and nowhere else; cluster, verify, renew, expiry and the CLI ask this
// module. Two layouts:
//
//   cfssl                                   kubeadm
//   OUT/ca/ca.pem ca-key.pem ca.csr         OUT/ca/ca.crt ca.key ca.csr
//   OUT/NAME/ca.pem                         OUT/NAME/etcd/ca.crt
//   OUT/NAME/server.pem server-key.pem      OUT/NAME/etcd/server.crt server.key
//   OUT/NAME/peer.pem peer-key.pem          OUT/NAME/etcd/peer.crt peer.key
//                                           OUT/NAME/etcd/healthcheck-client.crt .key
//                                           OUT/NAME/apiserver-etcd-client.crt .key
//   OUT/NAME/ca.crl                         OUT/NAME/etcd/ca.crl   (the CA's CRL, DER)
//   OUT/NAME/etcd.env etcd.service etcd.conf.yml etcdctl.env MANIFEST (both layouts)
//   OUT/.removed/NAME-20261206T221500Z/     a member removed from the cluster, moved aside
//   OUT/clients/C.pem C-key.pem             OUT/clients/C.crt C.key
//   OUT/clients/ca.pem                      OUT/clients/ca.crt     (the clients' trust file)
//   OUT/ca.next/ (as ca/)                   the new CA while rotate-ca runs (begin .. finish)
//   OUT/.retired/ca-20261206T221500Z/       the CA rotate-ca finish replaced (never read again)
//   ca-chain.pem next to a CA signed by another (init-ca --ca): the CA, then its issuers up to the root
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/certificate.hpp"

namespace etcd_pki {
enum class Layout : int;  // cfssl (0) or kubeadm: etcd_pki/cluster.hpp
}

namespace etcd_pki::detail {

struct EtcdConfig;  // etcd_config.hpp

// What a certificate is for. Role::server_peer: a file whose name says nothing, with server auth
// (cfssl's single etcd.pem); Role::leaf: neither server nor client auth.
enum class Role { ca, server, peer, server_peer, client, leaf };
const char* to_string(Role role);  // "ca", "server", "peer", "server+peer", "client", "leaf"
bool serves(Role role);            // server or peer: must cover the member's addresses

// The role of a certificate file, from its name, its folder and its usages.
Role guess_role(const std::string& path, const Certificate& cert);

// The certificates of one member folder.
enum class MemberCert { server, peer, healthcheck_client, apiserver_etcd_client };
const char* to_string(MemberCert cert);  // "server", "peer", "healthcheck-client", "apiserver-etcd-client"
Role role_of(MemberCert cert);

// The files of a member folder that are not certificates or keys.
inline constexpr std::string_view etcd_config_file = "etcd.conf.yml";
inline constexpr std::string_view etcd_env_file = "etcd.env";
inline constexpr std::string_view etcd_service_file = "etcd.service";
inline constexpr std::string_view etcdctl_env_file = "etcdctl.env";
inline constexpr std::string_view manifest_file = "MANIFEST";
// The hidden folder of a certificate's folder where renew keeps each pair's generations.
inline constexpr std::string_view generations_dir = ".etcd-pki";
// The journal of a change of several files (transaction.hpp), in the folder the change is rooted at.
inline constexpr std::string_view journal_file = ".etcd-pki-journal";
// The hidden folder of a cluster output folder where the folders of removed members are moved.
inline constexpr std::string_view removed_dir = ".removed";
// The hidden folder of a cluster output folder where rotate-ca finish moves the replaced CA.
inline constexpr std::string_view retired_dir = ".retired";

struct ClusterLayout {
  Layout kind{};  // Layout::cfssl
  std::string out;      // the output folder
  std::string install;  // where a member's files go on its host

  // `install_dir` empty: /etc/etcd/pki (kubeadm: /etc/kubernetes/pki); a trailing '/' is dropped.
  static ClusterLayout make(Layout kind, const std::string& out_dir, const std::string& install_dir = {});

  std::string ca_dir() const;   // OUT/ca
  std::string ca_cert() const;  // OUT/ca/ca.pem (kubeadm: ca.crt)
  std::string ca_key() const;
  std::string ca_csr() const;
  std::string clients_dir() const;
  std::string clients_ca() const;  // OUT/clients/ca.pem (kubeadm: ca.crt): the clients' trust file
  // The new CA while a rotation runs (rotate.hpp): OUT/ca.next with ca/'s file names.
  std::string next_ca_dir() const;
  std::string next_ca_cert() const;
  std::string next_ca_key() const;
  std::string next_ca_csr() const;
  std::string retired_ca_dir(TimePoint when) const;  // OUT/.retired/ca-20261206T221500Z
  std::string client_cert(const std::string& name, bool key) const;  // OUT/clients/NAME.pem ...
  std::string client_rel(const std::string& name, bool key) const;   // clients/NAME.pem ...
  static std::string client_label(const std::string& name);          // clients/NAME

  std::string member_dir(const std::string& member) const;  // OUT/NAME
  std::vector<MemberCert> member_certs() const;             // server, peer (+ kubeadm's clients)
  std::string member_rel(MemberCert cert, bool key) const;  // "server.pem", "etcd/server.crt", ...
  std::string member_ca_rel() const;                        // "ca.pem", "etcd/ca.crt"
  std::string member_crl_rel() const;                       // "ca.crl", "etcd/ca.crl": next to the trust file
  std::string removed_member_dir(const std::string& member, TimePoint when) const;  // OUT/.removed/NAME-20261206T221500Z
  MemberCert etcdctl_cert() const;                          // what etcdctl.env presents
  std::string installed(const std::string& rel) const;      // INSTALL/rel
};

// The key next to a certificate: NAME.pem -> NAME-key.pem, NAME.crt -> NAME.key.
std::string key_path_for_cert(const std::string& cert_path);
// The chain file next to a CA certificate: DIR/NAME.pem -> DIR/NAME-chain.pem (.crt -> -chain.crt).
// It holds that CA, then its issuers up to the root (init-ca --ca writes it; load_signer reads it).
std::string chain_path_for_ca(const std::string& ca_cert_path);
// A client name the clients/ folder keeps for itself: "ca" (clients/ca.pem is the trust file).
bool is_reserved_client_name(std::string_view name);
// The clients' trust file of a cluster output folder, in either layout (clients/ca.pem, clients/ca.crt).
bool is_clients_ca_file(const std::string& path);
// A file name that can hold certificates: *.pem or *.crt, not a key (*-key.pem), not hidden.
bool is_certificate_name(std::string_view file_name);
// A file name that can hold a key: *-key.pem or *.key.
bool is_key_name(std::string_view file_name);
// Folders of a cluster output folder that hold no member: ca/, clients/, ca.next/.
bool is_reserved_dir_name(std::string_view name);

// (find_cluster_ca and default_ca_files, public in cluster.hpp, are defined in layout.cpp.)
// The trusted CA file of a member folder (ca.pem, etcd/ca.crt, ca.crt); "" when it has none.
std::string find_member_ca(const std::string& member_dir);
// Where a member folder keeps its copy of the CA's CRL: ca.crl next to its trust file.
std::string member_crl_path(const std::string& member_dir);
// A member folder: it has an etcd config or a server or peer certificate in either layout.
bool is_member_dir(const std::string& dir);
// The member folders of a cluster output folder, sorted; empty when `dir` is not one.
std::vector<std::string> member_dirs(const std::string& dir);
// A cluster output folder: it has a CA folder, or member folders (a cluster signed by an
// existing CA has no ca/: each member folder holds the CA certificate).
bool is_cluster_dir(const std::string& dir);
// The folders of a member folder that hold its certificates: DIR and DIR/etcd (kubeadm).
std::vector<std::string> member_cert_dirs(const std::string& member_dir);
// The trust files verify looks for, as named in its messages: "ca.pem, ca/ca.pem, etcd/ca.crt".
std::string trust_file_names();
// The member folder a certificate folder belongs to (DIR/etcd -> DIR).
std::string member_dir_of(const std::string& cert_dir);
// A member folder's etcd settings: its etcd.env, else its etcd.conf.yml (what is missing stays
// empty; a file that cannot be read is Errc::io).
EtcdConfig read_member_config(const std::string& member_dir);
// The member whose folder holds `file` (in it, or in its etcd/ folder): the name (ETCD_NAME) in that
// folder's etcd config, which is the folder's name in a cluster output folder and still the
// member's name once the folder is installed on its host (/etc/etcd/pki). "" for a file in no
// member folder (ca/, clients/) or in one without a config.
std::string member_name_of(const std::string& file);
// A path from a config written for the hosts ("/etc/etcd/pki/server.pem") found in a member
// folder `dir`: the longest trailing part that exists there, else the path itself when it exists,
// else DIR/its file name.
std::string resolve_in(const std::string& dir, const std::string& path);

}  // namespace etcd_pki::detail

