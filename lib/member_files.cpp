#include "member_files.hpp"

#include <algorithm>
#include <filesystem>

#include "etcd_config.hpp"
#include "etcd_pki/files.hpp"
#include "x509_util.hpp"

namespace etcd_pki::detail {

namespace {

bool is_loopback(const std::string& ip) { return ip.rfind("127.", 0) == 0 || ip == "::1"; }

std::string url(const std::string& host, int port) { return "https://" + host + ":" + std::to_string(port); }

EtcdTls tls(const ClusterLayout& layout, MemberCert cert) {
  return EtcdTls{layout.installed(layout.member_rel(cert, false)), layout.installed(layout.member_rel(cert, true)),
                 layout.installed(layout.member_ca_rel()), true, layout.installed(layout.member_crl_rel())};
}

std::string manifest_header(const std::string& member, const std::string& install) {
  return "# " + member + ": files to copy to " + install + "/ on the member's host (etcd-pki)\n";
}

// "REL  sha256:HEX[  subject: ...  sans: ...  expires: ...]\n"
std::string manifest_line(const std::string& rel, const std::string& data, const Certificate* cert = nullptr) {
  std::string line = rel + "  sha256:" + detail::sha256_hex(data, '\0');
  if (is_certificate_name(rel)) {
    Certificate c = cert ? *cert : first_certificate(data, rel, Errc::ca);
    line += "  subject: " + c.subject_string();
    if (auto s = c.sans(); !s.empty()) line += "  sans: " + s.to_string();
    line += "  expires: " + format_rfc3339(c.not_after());
  }
  return line + "\n";
}

}  // namespace

ClusterFacts ClusterFacts::of(const ClusterSpec& spec, const std::string& data_dir) {
  ClusterFacts f{spec.initial_cluster(), {}, data_dir};
  for (const auto& m : spec.members) f.client_endpoints += (f.client_endpoints.empty() ? "" : ",") + url(m.url_host(), m.client_port);
  return f;
}

EtcdConfig member_etcd_config(const ClusterSpec& spec, const ClusterFacts& facts, const MemberSpec& m, const ClusterLayout& layout,
                              const std::string& state) {
  std::string host = m.url_host();
  std::string listen_host = m.ips.empty() ? "0.0.0.0" : host;
  std::string listen_client = url(listen_host, m.client_port);
  // etcdctl on the host dials 127.0.0.1 (its server certificate covers it).
  if (m.ips.empty() || !is_loopback(m.ips.front())) listen_client += "," + url("127.0.0.1", m.client_port);
  return EtcdConfig{m.name,
                    facts.data_dir,
                    url(listen_host, m.peer_port),
                    url(host, m.peer_port),
                    listen_client,
                    url(host, m.client_port),
                    facts.initial_cluster,
                    spec.cluster_token,
                    state,
                    tls(layout, MemberCert::server),
                    tls(layout, MemberCert::peer)};
}

std::string render_etcd_config(const EtcdConfig& c) {
  EtcdConfig yaml = c;
  yaml.client.crl_file.clear();
  yaml.peer.crl_file.clear();
  return to_yaml(yaml, {"etcd configuration for member " + c.name + ", written by etcd-pki: etcd --config-file " + std::string(etcd_config_file),
                        "It cannot enforce revocation: etcd's YAML has no key for a CRL, and with --config-file etcd",
                        "ignores every flag and ETCD_* variable. To honour the CRL, run etcd from " + std::string(etcd_env_file) +
                            " instead",
                        "(" + std::string(etcd_service_file) + " does: EnvironmentFile=, no --config-file)."});
}

std::string render_etcd_env(const EtcdConfig& c) {
  return to_env(c, {"etcd settings for member " + c.name + ", written by etcd-pki, for a systemd EnvironmentFile (" +
                        std::string(etcd_service_file) + ").",
                    "Unlike " + std::string(etcd_config_file) + " these carry the CRL: etcd re-reads it on every connection,",
                    "so a revocation takes effect once the new ca.crl is copied here; no restart."});
}

std::string render_etcd_service(const std::string& member, const ClusterLayout& layout) {
  return to_systemd_unit({member, layout.installed(std::string(etcd_env_file))},
                         {"etcd member " + member + ", written by etcd-pki: copy to /etc/systemd/system/ and",
                          "systemctl daemon-reload && systemctl enable --now etcd. etcd runs as User=etcd: the keys in " +
                              layout.install + "/",
                          "must be readable by it (chown -R etcd: " + layout.install + "), and its data dir writable."});
}

std::string render_etcdctl_env(const ClusterFacts& facts, const MemberSpec& m, const ClusterLayout& layout) {
  MemberCert ctl = layout.etcdctl_cert();
  return to_env(EtcdctlEnv{facts.client_endpoints, layout.installed(layout.member_ca_rel()), layout.installed(layout.member_rel(ctl, false)),
                 layout.installed(layout.member_rel(ctl, true))},
                {"etcdctl settings for member " + m.name + ": set -a; . ./" + std::string(etcdctl_env_file) + "; set +a"});
}

std::string render_manifest(const std::string& member, const ClusterLayout& layout, std::vector<ManifestEntry> entries) {
  std::sort(entries.begin(), entries.end(), [](const ManifestEntry& a, const ManifestEntry& b) { return a.rel < b.rel; });
  std::string out = manifest_header(member, layout.install);
  for (const auto& e : entries) out += manifest_line(e.rel, *e.data, e.cert);
  return out;
}

bool refresh_manifest(const std::string& member_dir) {
  auto fresh = refreshed_manifest(member_dir, {});
  if (!fresh) return false;
  write_files({OutputFile{member_dir + "/" + std::string(manifest_file), *fresh, 0644, true}}, false);
  return true;
}

std::optional<std::string> refreshed_manifest(const std::string& member_dir, const std::map<std::string, std::string>& new_content) {
  std::string path = member_dir + "/" + std::string(manifest_file);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::string old = read_text_file(path, Errc::input), fresh;
  size_t pos = 0;
  while (pos < old.size()) {
    size_t nl = old.find('\n', pos);
    std::string line = old.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? old.size() : nl + 1;
    if (line.empty() || line.front() == '#') {
      fresh += line + "\n";
      continue;
    }
    std::string rel = line.substr(0, line.find("  "));
    if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos)
      throw Error(Errc::input, "unexpected file name \"" + rel + "\"", path);
    std::string file = std::filesystem::path(member_dir + "/" + rel).lexically_normal().string();
    auto changed = new_content.find(file);
    fresh += manifest_line(rel, changed != new_content.end() ? changed->second : read_text_file(file, Errc::io));
  }
  if (fresh == old) return std::nullopt;
  return fresh;
}

std::vector<std::string> member_crl_paths(const std::string& cluster_dir) {
  std::vector<std::string> out;
  for (const auto& d : member_dirs(cluster_dir)) out.push_back(member_crl_path(d));
  return out;
}

std::vector<OutputFile> member_crl_files(const std::string& cluster_dir, const std::string& crl_der) {
  std::vector<OutputFile> files;
  for (const auto& d : member_dirs(cluster_dir)) {
    std::string copy = member_crl_path(d);
    files.push_back(OutputFile{copy, crl_der, 0644, true});
    std::string normal = std::filesystem::path(copy).lexically_normal().string();
    if (auto manifest = refreshed_manifest(d, {{normal, crl_der}}))
      files.push_back(OutputFile{d + "/" + std::string(manifest_file), *manifest, 0644, true});
  }
  return files;
}

}  // namespace etcd_pki::detail
