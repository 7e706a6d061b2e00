#pragma once
// Private: the files of a member folder that are not certificates or keys, rendered from the
// spec and the layout (no I/O): etcd.env, etcd.service, etcd.conf.yml, etcdctl.env and the
// MANIFEST of every file with its hash; the MANIFEST refreshed from the files on disk (after
// renew); and the CRL copies of every member folder (after revoke).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/cluster.hpp"
#include "etcd_config.hpp"
#include "etcd_pki/files.hpp"
#include "layout.hpp"

namespace etcd_pki::detail {

// What every member's files share, computed once per cluster (a thousand members' initial
// cluster is 40 KB): the initial cluster, every member's client URL.
struct ClusterFacts {
  std::string initial_cluster, client_endpoints, data_dir;
  static ClusterFacts of(const ClusterSpec& spec, const std::string& data_dir = ClusterOptions{}.data_dir);
};

// The member's etcd settings: name, data dir, URLs, initial cluster, `state` ("new" or
// "existing") and TLS with the CRL, every file at its install path.
EtcdConfig member_etcd_config(const ClusterSpec& spec, const ClusterFacts& facts, const MemberSpec& member,
                              const ClusterLayout& layout, const std::string& state);
// etcd.conf.yml: those settings but the CRL, which etcd's YAML cannot carry (the comment says so).
std::string render_etcd_config(const EtcdConfig& config);
// etcd.env: all of them as ETCD_* variables, for a systemd EnvironmentFile.
std::string render_etcd_env(const EtcdConfig& config);
// etcd.service: runs etcd from the member's installed etcd.env.
std::string render_etcd_service(const std::string& member, const ClusterLayout& layout);
// etcdctl.env: every member's client URL, the member's own trust file and etcdctl certificate.
std::string render_etcdctl_env(const ClusterFacts& facts, const MemberSpec& member, const ClusterLayout& layout);

// One file of a member folder for its MANIFEST: its path in the folder, its content and, for a
// certificate, the certificate (parsed from `data` when null).
struct ManifestEntry {
  std::string rel;
  const std::string* data;
  const Certificate* cert = nullptr;
};
// "# NAME: files to copy to INSTALL/ ..." and a line per file, sorted by path:
// "REL  sha256:HEX[  subject: ...  sans: ...  expires: ...]".
std::string render_manifest(const std::string& member, const ClusterLayout& layout, std::vector<ManifestEntry> entries);

// Recomputes DIR/MANIFEST's lines from the files it lists; false when there is none or nothing
// changed. Errc::input for a MANIFEST naming a path outside the folder.
bool refresh_manifest(const std::string& member_dir);
// The MANIFEST's new text when files change: `new_content` by path (lexically normal, as
// MEMBER_DIR/REL), the other files read from disk; nullopt when there is no MANIFEST or it stays.
std::optional<std::string> refreshed_manifest(const std::string& member_dir, const std::map<std::string, std::string>& new_content);

// The CRL (DER) written into every member folder of a cluster output folder, next to its trust
// file, with the MANIFEST refreshed where it lists the CRL: the files of that change. The paths
// alone (member_crl_paths) are known before the CRL is made, for the write's journal and locks.
std::vector<std::string> member_crl_paths(const std::string& cluster_dir);
std::vector<OutputFile> member_crl_files(const std::string& cluster_dir, const std::string& crl_der);

}  // namespace etcd_pki::detail
