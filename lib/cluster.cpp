// build_cluster: read what is there, plan (cluster_plan.hpp), make the keys and certificates
// the plan names, render the member files (member_files.hpp), write everything at once.
#include "etcd_pki/cluster.hpp"

#include <filesystem>
#include <map>

#include "cluster_plan.hpp"
#include "etcd_pki/bundle.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/pipeline.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_pki/signer.hpp"
#include "member_files.hpp"
#include "parallel.hpp"
#include "transaction.hpp"

namespace etcd_pki {

using namespace detail;

namespace {

bool exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(p, ec));
}

// A certificate of the cluster and its key, as PEM and parsed: read (kept) or made here.
struct Pair {
  std::string cert_pem, key_pem;
  std::optional<Certificate> cert;
  std::vector<std::string> warnings;
};

// The CA this run signs with: the spec's, or the one in the folder, which must be usable and
// valid (replacing it takes --force); nullopt when the plan makes a new one.
std::optional<Signer> load_ca(CaSource source, const ClusterSpec& spec, const ClusterLayout& layout,
                              const ClusterOptions& opt, TimePoint now) {
  if (source == CaSource::external) return load_signer(spec.ca_cert_file, spec.ca_key_file, opt.ca_passphrase);
  if (source == CaSource::make) return std::nullopt;
  std::optional<Signer> signer;
  try {
    signer.emplace(load_signer(layout.ca_cert(), layout.ca_key(), opt.ca_passphrase));
  } catch (const Error& e) {
    // A missing or wrong passphrase is not a reason to replace the CA.
    if (e.category() == Errc::key && exists(layout.ca_key()) && KeyPair::is_encrypted_pem(read_text_file(layout.ca_key())))
      throw;
    throw Error(Errc::exists, std::string("the existing CA cannot be used (") + e.what() + ")", layout.ca_cert())
        .with_hint(Hint::new_ca);
  }
  if (signer->ca_certificate().not_after() <= now)
    throw Error(Errc::exists, "the existing CA expired on " + format_rfc3339(signer->ca_certificate().not_after()),
                layout.ca_cert())
        .with_hint(Hint::new_ca);
  return signer;
}

// What is on disk at c's paths. With `force` nothing is read (everything is re-issued); `pair`
// gets the files' content and certificate when they are read.
ExistingCert read_existing(const CertPlan& c, const Signer* signer, bool force, Pair& pair) {
  ExistingCert e;
  e.cert_file = exists(c.cert_path);
  e.key_file = exists(c.key_path);
  if (force || !e.cert_file || !e.key_file) return e;
  try {
    pair.cert_pem = read_text_file(c.cert_path);
    pair.key_pem = read_text_file(c.key_path);
    pair.cert = Certificate::from_pem(pair.cert_pem, c.cert_path);
    KeyPair key = KeyPair::from_pem(pair.key_pem, c.key_path);
    e.key_matches = key.same_public_key(pair.cert->public_key());
    e.signed_by_ca = signer && pair.cert->signed_by(signer->ca_certificate());
    e.not_after = pair.cert->not_after();
    e.common_name = pair.cert->subject().common_name;
    e.sans = pair.cert->sans();
    e.ext_key_usage = pair.cert->ext_key_usage();
    e.key = key.spec();
  } catch (const Error& err) {
    e.unreadable = err.what();
  }
  return e;
}

// Every new key at once, the CA's too, on all cores (an RSA key is two jobs, one per prime); then
// the new CA (its files into `files`, `signer` set); then the certificates, in parallel.
void make_all(const ClusterPlan& plan, const ClusterSpec& spec, const ClusterOptions& opt, TimePoint now,
              std::optional<Signer>& signer, std::map<std::string, Pair>& pairs, std::vector<OutputFile>& files,
              ClusterResult& result) {
  const std::vector<const CertPlan*> to_make = plan.to_make();
  std::vector<KeySpec> specs;
  if (plan.ca_request) specs.push_back(plan.ca_request->key);
  for (const CertPlan* c : to_make) specs.push_back(c->key);
  const size_t total = specs.size() + to_make.size();
  std::function<void(size_t, size_t)> key_progress, cert_progress;
  if (opt.progress) {
    key_progress = [&](size_t done, size_t) { opt.progress(done, total); };
    cert_progress = [&](size_t done, size_t) { opt.progress(specs.size() + done, total); };
  }
  std::vector<KeyPair> keys = KeyPair::generate_many(specs, opt.threads, key_progress);
  const size_t first_leaf_key = plan.ca_request ? 1 : 0;
  SignOptions so;
  so.now = now;
  if (plan.ca_request) {
    Bundle ca = make_ca(*plan.ca_request, keys[0], so, "ca");
    signer.emplace(*ca.certificate, keys[0]);
    CfsslOutput pem = to_pem(ca, opt.ca_passphrase);
    files.push_back({plan.layout.ca_cert(), *pem.cert, 0644});
    files.push_back({plan.layout.ca_key(), *pem.key, 0600});
    files.push_back({plan.layout.ca_csr(), *pem.csr, 0644});
    result.issued.push_back("ca");
    for (auto& w : ca.warnings) result.warnings.push_back(w);
  }
  Policy policy = Policy::builtin();
  std::map<Role, Profile> profiles;
  for (Role r : {Role::server, Role::peer, Role::client}) {
    profiles[r] = policy.profile(to_string(r));
    profiles[r].expiry = spec.expiry;
  }
  std::vector<Pair> made(to_make.size());
  detail::parallel_for(
      to_make.size(), opt.threads,
      [&](size_t i) {
        const CertPlan& c = *to_make[i];
        const KeyPair& key = keys[first_leaf_key + i];
        Issued issued = signer->sign(Csr::create(c.subject, c.sans, key), profiles.at(c.role), so);
        made[i] = Pair{issued.certificate.to_pem(), key.to_pem(), issued.certificate, {}};
        for (auto& w : issued.warnings) made[i].warnings.push_back(c.label + ": " + w);
      },
      cert_progress);
  for (size_t i = 0; i < to_make.size(); ++i) {
    const CertPlan& c = *to_make[i];
    files.push_back({c.cert_path, made[i].cert_pem, 0644});
    files.push_back({c.key_path, made[i].key_pem, 0600});
    result.issued.push_back(c.label);
    for (auto& w : made[i].warnings) result.warnings.push_back(w);
    pairs[c.label] = std::move(made[i]);
  }
}

// Per member: the CA certificate, etcd.conf.yml, etcdctl.env and MANIFEST, each into `files` when
// its content changed (an unreadable file counts as changed).
void add_member_files(const ClusterSpec& spec, const ClusterLayout& layout, const Certificate& ca_cert,
                      const std::map<std::string, Pair>& pairs, std::vector<OutputFile>& files) {
  const std::string ca_pem = ca_cert.to_pem();
  const ClusterFacts facts = ClusterFacts::of(spec);
  for (const auto& m : spec.members) {
    std::string conf = render_etcd_config(spec, facts, m, layout), env = render_etcdctl_env(facts, m, layout);
    std::vector<ManifestEntry> entries{{layout.member_ca_rel(), &ca_pem, &ca_cert}};
    for (MemberCert mc : layout.member_certs()) {
      const Pair& p = pairs.at(m.name + "/" + to_string(mc));
      entries.push_back({layout.member_rel(mc, false), &p.cert_pem, p.cert ? &*p.cert : nullptr});
      entries.push_back({layout.member_rel(mc, true), &p.key_pem, nullptr});
    }
    entries.push_back({std::string(etcd_config_file), &conf});
    entries.push_back({std::string(etcdctl_env_file), &env});
    std::string manifest = render_manifest(m.name, layout, entries);
    auto derived = [&](const std::string& rel, const std::string& data) {
      std::string path = layout.member_dir(m.name) + "/" + rel;
      std::optional<std::string> old;
      try {
        if (exists(path)) old = read_text_file(path);
      } catch (const Error&) {
      }
      if (old != data) files.push_back({path, data, 0644, true});
    };
    derived(layout.member_ca_rel(), ca_pem);
    derived(std::string(etcd_config_file), conf);
    derived(std::string(etcdctl_env_file), env);
    derived(std::string(manifest_file), manifest);
  }
}

}  // namespace

ClusterResult build_cluster(const ClusterSpec& spec, const ClusterOptions& opt) {
  spec.validate();
  const ClusterLayout layout = ClusterLayout::make(opt.layout, opt.out_dir, opt.install_dir);
  const TimePoint now = now_or(opt.now);
  // A change an earlier run left interrupted is completed first: what is there is read after it.
  // From then to the last write, another etcd-pki run on this folder waits. A missing folder is
  // made for the lock (0700, as write_files would) and removed if the run fails.
  detail::recover(layout.out);
  FolderLocks lock({layout.out}, mode_t{0700});

  // 1. What is there: the CA this run signs with (unless it makes one), and each pair's facts.
  ExistingState existing;
  existing.ca_files = exists(layout.ca_cert()) || exists(layout.ca_key());
  std::optional<Signer> signer = load_ca(ca_source(spec, opt.force, existing.ca_files), spec, layout, opt, now);
  std::map<std::string, Pair> pairs;
  for (const auto& c : cluster_certificates(spec, layout))
    existing.certs[c.label] = read_existing(c, signer ? &*signer : nullptr, opt.force, pairs[c.label]);

  // 2. The plan: keep what is valid and matches, issue what is missing, and replace nothing
  //    without --force.
  ClusterPlan plan = plan_cluster(spec, opt, existing);
  ClusterResult result;
  if (auto refused = plan.with(Action::refuse); !refused.empty()) {
    const CertPlan& c = *refused.front();
    throw Error(Errc::exists, "exists but cannot be kept: " + c.reason, existing.certs.at(c.label).cert_file ? c.cert_path : c.key_path)
        .with_hint(Hint::reissue);
  }
  if (plan.ca == CaSource::existing) result.reused.push_back("ca");
  for (const CertPlan* c : plan.with(Action::keep)) result.reused.push_back(c->label);

  // 3. The keys, the CA and the certificates; 4. the member files.
  std::vector<OutputFile> files;
  make_all(plan, spec, opt, now, signer, pairs, files, result);
  add_member_files(spec, layout, signer->ca_certificate(), pairs, files);

  // 5. Write everything or nothing; folders 0700 (they hold private keys). The CA's issued index
  //    (for revoke by serial) goes in the same write; failing that is a warning.
  std::vector<Certificate> made;
  for (const auto& label : result.issued)
    if (label != "ca") made.push_back(*pairs.at(label).cert);
  std::string ca_path = spec.ca_cert_file.empty() ? layout.ca_cert() : spec.ca_cert_file;
  std::string not_recorded = write_files_and_record(files, opt.force, ca_path, made, 0700, layout.out);
  for (const auto& f : files) result.written.push_back(f.path);
  if (!not_recorded.empty())
    result.warnings.push_back("the certificates are written, but not recorded in the CA index: " + not_recorded);
  return result;
}

bool refresh_manifest(const std::string& member_dir) { return detail::refresh_manifest(member_dir); }

}  // namespace etcd_pki
