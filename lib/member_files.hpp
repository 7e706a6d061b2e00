#pragma once
// Private: the files of a member folder that are not certificates or keys, rendered from the
// spec and the layout (no I/O): etcd.conf.yml, etcdctl.env and the MANIFEST of every file with
// its hash; and the MANIFEST refreshed from the files on disk (after renew).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/cluster.hpp"
#include "layout.hpp"

namespace etcd_pki::detail {

// What every member's files share, computed once per cluster (a thousand members' initial
// cluster is 40 KB): the initial cluster, every member's client URL.
struct ClusterFacts {
  std::string initial_cluster, client_endpoints;
  static ClusterFacts of(const ClusterSpec& spec);
};

// etcd.conf.yml: the member's name, URLs, initial cluster and TLS settings at the install paths.
std::string render_etcd_config(const ClusterSpec& spec, const ClusterFacts& facts, const MemberSpec& member,
                               const ClusterLayout& layout);
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

}  // namespace etcd_pki::detail
