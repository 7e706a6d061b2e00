#include "layout.hpp"

#include <algorithm>
#include <filesystem>

#include "etcd_config.hpp"
#include "etcd_pki/cluster.hpp"
#include "etcd_pki/files.hpp"
#include "etcd_pki/profile.hpp"

namespace etcd_pki::detail {

namespace fs = std::filesystem;

namespace {

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string first_existing(std::initializer_list<std::string> candidates) {
  for (const auto& c : candidates)
    if (exists(c)) return c;
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::ca: return "ca";
    case Role::server: return "server";
    case Role::peer: return "peer";
    case Role::server_peer: return "server+peer";
    case Role::client: return "client";
    case Role::leaf: return "leaf";
  }
  return "?";
}

bool serves(Role role) { return role == Role::server || role == Role::peer || role == Role::server_peer; }

Role guess_role(const std::string& path, const Certificate& cert) {
  if (cert.is_ca()) return Role::ca;
  std::string name = lower(fs::path(path).stem().string());
  std::string parent = fs::path(path).parent_path().filename().string();
  if (name.find("client") != std::string::npos || parent == "clients") return Role::client;
  if (name.find("peer") != std::string::npos) return Role::peer;
  if (name.find("server") != std::string::npos) return Role::server;
  auto ekus = cert.ext_key_usage();
  auto has = [&](const char* oid) { return ekus.empty() || std::find(ekus.begin(), ekus.end(), oid) != ekus.end(); };
  if (has(eku::server_auth)) return Role::server_peer;
  return has(eku::client_auth) ? Role::client : Role::leaf;
}

const char* to_string(MemberCert cert) {
  switch (cert) {
    case MemberCert::server: return "server";
    case MemberCert::peer: return "peer";
    case MemberCert::healthcheck_client: return "healthcheck-client";
    case MemberCert::apiserver_etcd_client: return "apiserver-etcd-client";
  }
  return "?";
}

Role role_of(MemberCert cert) {
  switch (cert) {
    case MemberCert::server: return Role::server;
    case MemberCert::peer: return Role::peer;
    default: return Role::client;
  }
}

ClusterLayout ClusterLayout::make(Layout kind, const std::string& out_dir, const std::string& install_dir) {
  ClusterLayout l{kind, out_dir.empty() ? "." : out_dir, install_dir};
  if (l.install.empty()) l.install = kind == Layout::kubeadm ? "/etc/kubernetes/pki" : "/etc/etcd/pki";
  while (l.install.size() > 1 && l.install.back() == '/') l.install.pop_back();
  return l;
}

std::string ClusterLayout::ca_dir() const { return out + "/ca"; }
std::string ClusterLayout::ca_cert() const { return ca_dir() + (kind == Layout::kubeadm ? "/ca.crt" : "/ca.pem"); }
std::string ClusterLayout::ca_key() const { return key_path_for_cert(ca_cert()); }
std::string ClusterLayout::ca_csr() const { return ca_dir() + "/ca.csr"; }
std::string ClusterLayout::clients_dir() const { return out + "/" + client_label(""); }

std::string ClusterLayout::clients_ca() const { return out + "/" + client_rel("ca", false); }

std::string ClusterLayout::next_ca_dir() const { return ca_dir() + ".next"; }
std::string ClusterLayout::next_ca_cert() const { return next_ca_dir() + "/" + fs::path(ca_cert()).filename().string(); }
std::string ClusterLayout::next_ca_key() const { return key_path_for_cert(next_ca_cert()); }
std::string ClusterLayout::next_ca_csr() const { return next_ca_dir() + "/" + fs::path(ca_csr()).filename().string(); }

namespace {
std::string utc_stamp(TimePoint when) {  // 2026-12-06T22:15:00Z -> 20261206T221500Z
  std::string stamp = format_rfc3339(when);
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  return stamp;
}
}  // namespace

std::string ClusterLayout::retired_ca_dir(TimePoint when) const {
  return out + "/" + std::string(retired_dir) + "/ca-" + utc_stamp(when);
}

std::string ClusterLayout::client_cert(const std::string& name, bool key) const { return out + "/" + client_rel(name, key); }

std::string ClusterLayout::client_rel(const std::string& name, bool key) const {
  std::string cert = client_label(name) + (kind == Layout::kubeadm ? ".crt" : ".pem");
  return key ? key_path_for_cert(cert) : cert;
}

std::string ClusterLayout::client_label(const std::string& name) { return "clients/" + name; }

std::string ClusterLayout::member_dir(const std::string& member) const { return out + "/" + member; }

std::vector<MemberCert> ClusterLayout::member_certs() const {
  if (kind == Layout::kubeadm)
    return {MemberCert::server, MemberCert::peer, MemberCert::healthcheck_client, MemberCert::apiserver_etcd_client};
  return {MemberCert::server, MemberCert::peer};
}

std::string ClusterLayout::member_rel(MemberCert cert, bool key) const {
  std::string rel = kind == Layout::cfssl ? std::string(to_string(cert)) + ".pem"
                    : cert == MemberCert::apiserver_etcd_client ? std::string(to_string(cert)) + ".crt"
                                                               : "etcd/" + std::string(to_string(cert)) + ".crt";
  return key ? key_path_for_cert(rel) : rel;
}

std::string ClusterLayout::member_ca_rel() const { return kind == Layout::kubeadm ? "etcd/ca.crt" : "ca.pem"; }

std::string ClusterLayout::member_crl_rel() const { return kind == Layout::kubeadm ? "etcd/ca.crl" : "ca.crl"; }

std::string ClusterLayout::removed_member_dir(const std::string& member, TimePoint when) const {
  return out + "/" + std::string(removed_dir) + "/" + member + "-" + utc_stamp(when);
}

MemberCert ClusterLayout::etcdctl_cert() const {
  return kind == Layout::kubeadm ? MemberCert::healthcheck_client : MemberCert::server;
}

std::string ClusterLayout::installed(const std::string& rel) const { return install + "/" + rel; }

std::string key_path_for_cert(const std::string& cert_path) {
  fs::path p(cert_path);
  if (p.extension() == ".crt") return (p.parent_path() / (p.stem().string() + ".key")).string();
  return (p.parent_path() / (p.stem().string() + "-key.pem")).string();
}

std::string chain_path_for_ca(const std::string& ca_cert_path) {
  fs::path p(ca_cert_path);
  std::string ext = p.extension() == ".crt" ? ".crt" : ".pem";
  return (p.parent_path() / (p.stem().string() + "-chain" + ext)).string();
}

bool is_reserved_client_name(std::string_view name) { return name == "ca"; }

bool is_clients_ca_file(const std::string& path) {
  fs::path p(path);
  std::string name = p.filename().string();
  return p.parent_path().filename() == "clients" && (name == "ca.pem" || name == "ca.crt");
}

bool is_certificate_name(std::string_view name) {
  return !name.empty() && name.front() != '.' && (name.ends_with(".pem") || name.ends_with(".crt")) && !name.ends_with("-key.pem");
}

bool is_key_name(std::string_view name) { return name.ends_with("-key.pem") || name.ends_with(".key"); }

bool is_reserved_dir_name(std::string_view name) { return name == "ca" || name == "clients" || name == "ca.next"; }


std::string find_member_ca(const std::string& member_dir) {
  return first_existing({member_dir + "/ca.pem", member_dir + "/etcd/ca.crt", member_dir + "/ca.crt"});
}

std::string member_crl_path(const std::string& member_dir) {
  std::string ca = find_member_ca(member_dir);
  return (ca.empty() ? fs::path(member_dir) : fs::path(ca).parent_path()).string() + "/ca.crl";
}

bool is_member_dir(const std::string& d) {
  return exists(d + "/" + std::string(etcd_config_file)) || exists(d + "/server.pem") || exists(d + "/peer.pem") ||
         exists(d + "/etcd/server.crt");
}

std::vector<std::string> member_dirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator list(dir, ec);
  // A folder that is not there has no members; one that cannot be read is not taken for empty.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw Error(Errc::io, "cannot list the folder: " + ec.message(), dir);
  for (const auto& e : list) {
    std::string name = e.path().filename().string();
    if (e.is_directory(ec) && !is_reserved_dir_name(name) && name.front() != '.' && is_member_dir(e.path().string()))
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_cluster_dir(const std::string& dir) { return find_cluster_ca(dir) || !member_dirs(dir).empty(); }

std::vector<std::string> member_cert_dirs(const std::string& member_dir) { return {member_dir, member_dir + "/etcd"}; }

std::string trust_file_names() { return "ca.pem, ca/ca.pem, etcd/ca.crt"; }

std::string member_dir_of(const std::string& cert_dir) {
  fs::path p(cert_dir);
  return p.filename() == "etcd" ? p.parent_path().string() : cert_dir;
}

EtcdConfig read_member_config(const std::string& member_dir) {
  std::string env = member_dir + "/" + std::string(etcd_env_file), yml = member_dir + "/" + std::string(etcd_config_file);
  return exists(env)   ? parse_etcd_env(read_text_file(env))
         : exists(yml) ? parse_etcd_yaml(read_text_file(yml))
                       : EtcdConfig{};
}

std::string member_name_of(const std::string& file) {
  std::string dir = fs::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  // kubeadm's MEMBER/etcd/server.crt first; then the folder itself (a cfssl member named "etcd").
  for (const std::string& m : {member_dir_of(dir), dir}) {
    std::string name = read_member_config(m).name;
    if (!name.empty()) return name;
  }
  return "";
}

std::string resolve_in(const std::string& dir, const std::string& path) {
  fs::path p(path);
  std::vector<std::string> parts;
  for (const auto& part : p)
    if (part != "/" && !part.empty()) parts.push_back(part.string());
  for (size_t i = 0; i < parts.size(); ++i) {
    fs::path candidate(dir);
    for (size_t k = i; k < parts.size(); ++k) candidate /= parts[k];
    if (exists(candidate.string())) return candidate.string();
  }
  if (exists(path)) return path;
  return (fs::path(dir) / (parts.empty() ? path : parts.back())).string();
}

}  // namespace etcd_pki::detail

namespace etcd_pki {

std::optional<CaPaths> find_cluster_ca(const std::string& dir) {
  std::string cert = detail::first_existing({dir + "/ca/ca.pem", dir + "/ca/ca.crt"});
  if (cert.empty()) return std::nullopt;
  return CaPaths{cert, detail::key_path_for_cert(cert)};
}

CaPaths default_ca_files(const std::string& dir) {
  if (dir.empty()) return CaPaths{"ca.pem", "ca-key.pem"};
  if (auto found = find_cluster_ca(dir)) return *found;
  std::string cert = dir + "/ca/ca.pem";
  return CaPaths{cert, detail::key_path_for_cert(cert)};
}

}  // namespace etcd_pki
