#include "cluster_plan.hpp"

#include <algorithm>

#include "etcd_pki/profile.hpp"

namespace etcd_pki::detail {

namespace {

template <class T>
void add_once(std::vector<T>& to, const T& value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

// The names and addresses of both of a member's certificates: its name, DNS names and IPs.
Sans member_sans(const MemberSpec& m) {
  Sans s;
  add_once(s.dns, m.name);
  for (const auto& d : m.dns) add_once(s.dns, d);
  for (const auto& ip : m.ips) add_once(s.ip, *parse_ip(ip));
  return s;
}

// The server certificate's: the member's, its client addresses, and the loopback names.
Sans server_sans(const MemberSpec& m) {
  Sans s = member_sans(m);
  for (const auto& a : m.client_addresses) {
    if (auto ip = parse_ip(a)) add_once(s.ip, *ip);
    else add_once(s.dns, a);
  }
  add_once(s.dns, std::string("localhost"));
  for (const char* ip : {"127.0.0.1", "::1"}) add_once(s.ip, *parse_ip(ip));
  return s;
}

std::string sorted_sans(Sans s) {
  for (auto* v : {&s.dns, &s.email, &s.uri}) std::sort(v->begin(), v->end());
  std::sort(s.ip.begin(), s.ip.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  return s.to_string();
}

const std::vector<std::string>& profile_ekus(Role role) {
  static const Policy builtin = Policy::builtin();
  static const std::vector<std::string> server = builtin.profile("server").usages.ext_key_usage,
                                        peer = builtin.profile("peer").usages.ext_key_usage,
                                        client = builtin.profile("client").usages.ext_key_usage;
  return role == Role::server ? server : role == Role::peer ? peer : client;
}

// The decision for one certificate with what exists of it.
void decide(CertPlan& c, const ExistingCert* e, bool force, TimePoint now) {
  bool exists = e && (e->cert_file || e->key_file);
  if (!exists) {
    c.action = Action::issue;
    c.reason = "missing";
  } else if (force) {
    c.action = Action::reissue;
    c.reason = "forced: everything is re-issued";
  } else {
    c.reason = stale_reason(c, *e, now, profile_ekus(c.role));
    c.action = c.reason.empty() ? Action::keep : Action::refuse;
    if (c.reason.empty()) c.reason = "valid, signed by the CA and as the spec says";
  }
}

}  // namespace

const char* to_string(Action action) {
  switch (action) {
    case Action::keep: return "keep";
    case Action::issue: return "issue";
    case Action::reissue: return "reissue";
    case Action::refuse: return "refuse";
  }
  return "?";
}

std::vector<const CertPlan*> ClusterPlan::with(Action action) const {
  std::vector<const CertPlan*> out;
  for (const auto& c : certs)
    if (c.action == action) out.push_back(&c);
  return out;
}

std::vector<const CertPlan*> ClusterPlan::to_make() const {
  std::vector<const CertPlan*> out;
  for (const auto& c : certs)
    if (c.action == Action::issue || c.action == Action::reissue) out.push_back(&c);
  return out;
}

CaSource ca_source(const ClusterSpec& spec, bool force, bool ca_files) {
  if (!spec.ca_cert_file.empty()) return CaSource::external;
  return !force && ca_files ? CaSource::existing : CaSource::make;
}

Request ca_request(const ClusterSpec& spec) {
  if (spec.ca_request) {
    // The spec's CSR: its own "ca" block's expiry wins, else ca_expiry (not cfssl's 43800h).
    Request r = *spec.ca_request;
    if (!r.ca) r.ca = CaOptions{};
    if (!r.ca->expiry) r.ca->expiry = spec.ca_expiry;
    return r;
  }
  Request r = Request::default_ca();
  r.key = spec.key;
  r.subject.country = spec.names.country;
  r.subject.province = spec.names.province;
  r.subject.locality = spec.names.locality;
  r.subject.organization = spec.names.organization;
  r.subject.org_unit = spec.names.org_unit;
  r.ca->expiry = spec.ca_expiry;
  return r;
}

std::vector<CertPlan> cluster_certificates(const ClusterSpec& spec, const ClusterLayout& layout) {
  std::vector<CertPlan> out;
  auto subject = [&](const std::string& cn) {
    Subject s = spec.names;
    s.common_name = cn;
    return s;
  };
  for (const auto& m : spec.members) {
    std::string dir = layout.member_dir(m.name) + "/";
    for (MemberCert mc : layout.member_certs()) {
      CertPlan c;
      c.label = m.name + "/" + to_string(mc);
      c.member = m.name;
      c.member_cert = mc;
      c.role = role_of(mc);
      c.cert_path = dir + layout.member_rel(mc, false);
      c.key_path = dir + layout.member_rel(mc, true);
      // kubeadm's two client certificates carry the CNs kubeadm gives them.
      c.subject = subject(mc == MemberCert::healthcheck_client      ? "kube-etcd-healthcheck-client"
                          : mc == MemberCert::apiserver_etcd_client ? "kube-apiserver-etcd-client"
                                                                    : m.name);
      if (mc == MemberCert::server) c.sans = server_sans(m);
      else if (mc == MemberCert::peer) c.sans = member_sans(m);
      c.key = spec.key;
      out.push_back(std::move(c));
    }
  }
  for (const auto& client : spec.clients) {
    CertPlan c;
    c.label = ClusterLayout::client_label(client.name);
    c.cert_path = layout.client_cert(client.name, false);
    c.key_path = layout.client_cert(client.name, true);
    c.subject = subject(client.cn);
    c.key = spec.key;
    out.push_back(std::move(c));
  }
  return out;
}

std::string stale_reason(const CertPlan& c, const ExistingCert& e, TimePoint now, const std::vector<std::string>& ekus) {
  if (!e.cert_file) return "its certificate is missing";
  if (!e.key_file) return "its key is missing";
  if (!e.unreadable.empty()) return e.unreadable;
  if (!e.key_matches) return "the key does not match the certificate";
  if (!e.signed_by_ca) return "not signed by the cluster CA";
  if (e.not_after <= now) return "expired on " + format_rfc3339(e.not_after);
  if (e.common_name != c.subject.common_name)
    return "CN is \"" + e.common_name + "\", the spec says \"" + c.subject.common_name + "\"";
  if (sorted_sans(e.sans) != sorted_sans(c.sans))
    return "SANs are [" + e.sans.to_string() + "], the spec says [" + c.sans.to_string() + "]";
  if (e.ext_key_usage != ekus) return "extended key usage differs from the profile";
  if (!(e.key == c.key)) return "key is " + e.key.to_string() + ", the spec says " + c.key.to_string();
  return "";
}

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The hosts a spec member's peer URLs and certificates use: its IPs (canonical) and DNS names.
std::vector<std::string> member_hosts(const MemberSpec& m) {
  std::vector<std::string> hosts = m.dns;
  for (const auto& ip : m.ips) hosts.push_back(parse_ip(ip) ? parse_ip(ip)->to_string() : ip);
  return hosts;
}

// The member changes etcd cannot make in one step (Errc::input naming out_dir).
void check_membership_step(const ClusterSpec& spec, const Membership& m, const std::map<std::string, ExistingMember>& existing,
                           const std::string& out_dir) {
  if (m.removed.empty()) return;
  for (const auto& added : m.added) {
    const MemberSpec& a = *std::find_if(spec.members.begin(), spec.members.end(), [&](auto& s) { return s.name == added; });
    for (const auto& removed : m.removed)
      for (const auto& host : member_hosts(a))
        if (auto& hosts = existing.at(removed).peer_hosts; std::find(hosts.begin(), hosts.end(), host) != hosts.end())
          throw Error(Errc::input,
                      "member \"" + added + "\" is new but has the address " + host + " of member \"" + removed +
                          "\", which the spec no longer names: etcd cannot rename a member. Remove \"" + removed +
                          "\" in one run (then etcdctl member remove), add \"" + added + "\" in the next",
                      out_dir, "members");
  }
  if (m.removed.size() == existing.size())
    throw Error(Errc::input,
                "the spec keeps none of the cluster's members (" + joined(m.removed) +
                    "): removing the last member ends the cluster; give a new output folder for a new cluster",
                out_dir, "members");
  if (!m.added.empty())
    throw Error(Errc::input,
                "the spec adds " + joined(m.added) + " and removes " + joined(m.removed) +
                    ": etcd changes its membership one member at a time. Remove first (a run without them, then etcdctl "
                    "member remove), then add in a second run",
                out_dir, "members");
}

}  // namespace

Membership plan_membership(const ClusterSpec& spec, const std::string& state_override,
                           const std::map<std::string, ExistingMember>& existing, const std::string& out_dir) {
  if (!state_override.empty() && state_override != "new" && state_override != "existing")
    throw Error(Errc::usage, "unknown initial-cluster-state \"" + state_override + "\" (use new or existing)");
  Membership m;
  for (const auto& member : spec.members) {
    auto it = existing.find(member.name);
    if (it == existing.end() && !existing.empty()) m.added.push_back(member.name);
    std::string state = it != existing.end() && !it->second.state.empty() ? it->second.state
                        : it == existing.end() && !existing.empty()      ? "existing"
                                                                         : "new";
    m.state[member.name] = state_override.empty() ? state : state_override;
  }
  for (const auto& [name, member] : existing)
    if (!m.state.count(name)) m.removed.push_back(name);
  check_membership_step(spec, m, existing, out_dir);
  return m;
}

ClusterPlan plan_cluster(const ClusterSpec& spec, const ClusterOptions& options, const ExistingState& existing) {
  ClusterPlan plan;
  plan.layout = ClusterLayout::make(options.layout, options.out_dir, options.install_dir);
  plan.ca = ca_source(spec, options.force, existing.ca_files);
  if (plan.ca == CaSource::make) {
    plan.ca_request = ca_request(spec);
    plan.ca_request->validate_for_ca("ca");
  }
  plan.membership = plan_membership(spec, options.initial_cluster_state, existing.members, plan.layout.out);
  plan.certs = cluster_certificates(spec, plan.layout);
  TimePoint now = now_or(options.now);
  for (auto& c : plan.certs) {
    auto it = existing.certs.find(c.label);
    decide(c, it == existing.certs.end() ? nullptr : &it->second, options.force, now);
  }
  return plan;
}

}  // namespace etcd_pki::detail
