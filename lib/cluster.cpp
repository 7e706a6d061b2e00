// build_cluster: read what is there, plan (cluster_plan.hpp), make the keys and certificates
// the plan names, render the member files (member_files.hpp), write everything at once.
#include "etcd_pki/cluster.hpp"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "cluster_plan.hpp"
#include "etcd_config.hpp"
#include "fileio.hpp"
#include "etcd_pki/bundle.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/pipeline.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_pki/signer.hpp"
#include "member_files.hpp"
#include "parallel.hpp"
#include "transaction.hpp"
#include "x509_util.hpp"

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

// The passphrase a new CA key is encrypted with: the given one, else (encrypt_ca_key) the asker's.
Passphrase new_ca_passphrase(const ClusterOptions& opt, const std::string& key_path) {
  if (!opt.encrypt_ca_key) return opt.ca_passphrase;
  Passphrase p = opt.ca_passphrase.or_ask(key_path, true);
  if (p.empty()) throw Error(Errc::usage, "the new CA key is to be encrypted, but no passphrase was given", key_path).with_hint(Hint::passphrase);
  return p;
}

// The CA this run signs with: the spec's, or the one in the folder, which must be usable and
// valid (replacing it takes --force); nullopt when the plan makes a new one.
std::optional<Signer> load_ca(CaSource source, const ClusterSpec& spec, const ClusterLayout& layout,
                              const ClusterOptions& opt, TimePoint now) {
  if (source == CaSource::external) {
    Signer external = load_signer(spec.ca_cert_file, spec.ca_key_file, opt.ca_passphrase);
    // Members' certificates are for server and client auth: an intermediate must allow both.
    Usages both{0, {eku::server_auth, eku::client_auth}};
    check_chain_allows(external.issuer_chain(), both, spec.ca_cert_file);
    return external;
  }
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
    pair.cert = first_certificate(pair.cert_pem, c.cert_path, Errc::ca);  // the leaf; its intermediates follow
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
    CfsslOutput pem = to_pem(ca, new_ca_passphrase(opt, plan.layout.ca_key()));
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
  const std::string chain = intermediates_pem(signer->issuer_chain());  // after each leaf (signed by an intermediate)
  detail::parallel_for(
      to_make.size(), opt.threads,
      [&](size_t i) {
        const CertPlan& c = *to_make[i];
        const KeyPair& key = keys[first_leaf_key + i];
        Issued issued = signer->sign(Csr::create(c.subject, c.sans, key), profiles.at(c.role), so);
        made[i] = Pair{issued.certificate.to_pem() + chain, key.to_pem(), issued.certificate, {}};
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

// A kept certificate's file as it must be: the certificate, then the signer's intermediates
// (a file written before the CA's chain was known holds the leaf alone). Same certificate and key:
// rewritten like a derived file, no --force needed.
void add_chains(const ClusterPlan& plan, const Signer& signer, std::map<std::string, Pair>& pairs, std::vector<OutputFile>& files) {
  const std::string chain = intermediates_pem(signer.issuer_chain());
  for (const CertPlan* c : plan.with(Action::keep)) {
    Pair& p = pairs.at(c->label);
    std::string want = p.cert->to_pem() + chain;
    if (p.cert_pem == want) continue;
    p.cert_pem = std::move(want);
    files.push_back({c->cert_path, p.cert_pem, 0644, true});
  }
}

// The member folders there before the run, with what their etcd settings say (etcd.env, else
// etcd.conf.yml).
std::map<std::string, ExistingMember> read_members(const ClusterLayout& layout) {
  std::map<std::string, ExistingMember> out;
  for (const auto& dir : member_dirs(layout.out)) {
    // Both readers take any text: a file that cannot be read is an I/O error that stops the run.
    EtcdConfig c = read_member_config(dir);
    out[std::filesystem::path(dir).filename().string()] = ExistingMember{c.initial_cluster_state, url_hosts(c.initial_advertise_peer_urls)};
  }
  return out;
}

// Every certificate the CA issued in a member folder, renew's earlier generations too: what
// removing the member revokes. Files that are no certificates are skipped; a read error stops the run.
std::vector<Certificate> issued_in(const std::string& member_dir, const Certificate& ca) {
  std::vector<Certificate> out;
  std::set<std::string> serials;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(member_dir, ec); !ec && it != std::filesystem::end(it); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || name.front() == '.' || !is_certificate_name(name)) continue;
    std::string file = it->path().string(), text = read_text_file(file, Errc::io);
    try {
      for (const Certificate& c : Certificate::all_from_pem(text, file))
        if (!c.is_ca() && c.signed_by(ca) && serials.insert(c.serial_hex()).second) out.push_back(c);
    } catch (const Error&) {  // not a certificate: nothing to revoke
    }
  }
  if (ec) throw Error(Errc::io, "cannot list the folder: " + ec.message(), member_dir);
  return out;
}

// The CA's side of the write: its index with the new certificates recorded and the removed
// members' revoked, and the CRL every member folder gets (the CA's ca.crl when it is current,
// else a new one, valid for `crl_options`, written next to the CA too). Into `files` when the CA's folder is writable;
// else the index stays as it is (`not_recorded` says why) and nothing can be revoked.
struct CaRecords {
  std::string crl_der;
  std::string not_recorded;
};
CaRecords ca_records(const Signer& signer, const std::string& ca_path, const std::vector<Certificate>& issued,
                     const std::vector<Certificate>& revoke, const CrlOptions& crl_options, std::vector<OutputFile>& files) {
  const TimePoint now = *crl_options.now;
  CaRecords r;
  const std::string index_path = CaIndex::path_for(ca_path), ca_dir = parent_dir(index_path);
  const CrlPaths crl_paths = CrlPaths::for_ca(ca_path);
  const bool writable = ::access(ca_dir.c_str(), W_OK) == 0;
  if (!writable && !revoke.empty())
    throw Error(Errc::io, "cannot revoke the removed members' certificates: the CA's folder is not writable", ca_dir);
  CaIndex index;
  std::string before;
  try {
    index = CaIndex::load(index_path);
    before = index.to_text();
  } catch (const Error& e) {
    // A malformed index is left alone with a warning (the certificates are still written), unless
    // this run must revoke; a read error stops the run.
    if (!revoke.empty() || e.category() != Errc::input) throw;
    r.not_recorded = e.what();
  }
  if (!writable) r.not_recorded = "the CA's folder is not writable";
  bool revoked = false;
  for (const auto& c : revoke)
    revoked |= index.revoke(normalize_serial_hex(c.serial_hex()), now, RevocationReason::cessation_of_operation, c);
  for (const auto& c : issued) index.record_issued(c);
  if (writable && r.not_recorded.empty() && index.to_text() != before) files.push_back(OutputFile{index_path, index.to_text(), 0644, true});
  if (!revoked && exists(crl_paths.der)) {
    std::string der = read_text_file(crl_paths.der, Errc::io);
    try {
      if (Crl::from_bytes(der, crl_paths.der).signed_by(signer.ca_certificate())) r.crl_der = std::move(der);
    } catch (const Error&) {  // not a CRL: replaced below
    }
  }
  if (r.crl_der.empty()) {
    Crl crl = next_crl(signer, index, ca_path, crl_options);
    r.crl_der = crl.to_der();
    if (writable) {
      files.push_back(OutputFile{crl_paths.der, r.crl_der, 0644, true});
      files.push_back(OutputFile{crl_paths.pem, crl.to_pem(), 0644, true});
    }
  }
  return r;
}

// What every member's files are made from.
struct MemberFiles {
  const ClusterSpec& spec;
  const ClusterLayout& layout;
  const ClusterPlan& plan;
  const Certificate& ca_cert;
  std::string ca_pem, crl_der;
  ClusterFacts facts;
};

// A member folder's file, into `files` when its content changed (an unreadable file counts as changed).
void add_derived(const std::string& path, const std::string& data, std::vector<OutputFile>& files) {
  std::optional<std::string> old;
  try {
    if (exists(path)) old = read_text_file(path);
  } catch (const Error&) {
  }
  if (old != data) files.push_back({path, data, 0644, true});
}

// One member's CA certificate, CRL, etcd.env, etcd.service, etcd.conf.yml, etcdctl.env and MANIFEST.
void add_member_files(const MemberFiles& f, const MemberSpec& m, const std::map<std::string, Pair>& pairs, std::vector<OutputFile>& files) {
  const ClusterLayout& layout = f.layout;
  EtcdConfig config = member_etcd_config(f.spec, f.facts, m, layout, f.plan.membership.state.at(m.name));
  std::map<std::string, std::string> text{{layout.member_ca_rel(), f.ca_pem},
                                          {layout.member_crl_rel(), f.crl_der},
                                          {std::string(etcd_env_file), render_etcd_env(config)},
                                          {std::string(etcd_service_file), render_etcd_service(m.name, layout)},
                                          {std::string(etcd_config_file), render_etcd_config(config)},
                                          {std::string(etcdctl_env_file), render_etcdctl_env(f.facts, m, layout)}};
  std::vector<ManifestEntry> entries;
  for (const auto& [rel, data] : text) entries.push_back({rel, &data, rel == layout.member_ca_rel() ? &f.ca_cert : nullptr});
  for (MemberCert mc : layout.member_certs()) {
    const Pair& p = pairs.at(m.name + "/" + to_string(mc));
    entries.push_back({layout.member_rel(mc, false), &p.cert_pem, p.cert ? &*p.cert : nullptr});
    entries.push_back({layout.member_rel(mc, true), &p.key_pem, nullptr});
  }
  text[std::string(manifest_file)] = render_manifest(m.name, layout, entries);
  for (const auto& [rel, data] : text) add_derived(layout.member_dir(m.name) + "/" + rel, data, files);
}

// The members that join or leave, with what to run on the cluster; the certificates to revoke.
std::vector<Certificate> member_changes(const ClusterPlan& plan, const ClusterSpec& spec, const ClusterFacts& facts,
                                       const Certificate& ca, TimePoint now, ClusterResult& result) {
  std::vector<Certificate> revoke;
  for (const auto& name : plan.membership.added) {
    const MemberSpec& m = *std::find_if(spec.members.begin(), spec.members.end(), [&](auto& s) { return s.name == name; });
    std::string urls = member_etcd_config(spec, facts, m, plan.layout, "existing").initial_advertise_peer_urls;
    result.added.push_back({name, urls, {}, {}, "etcdctl member add " + name + " --peer-urls=" + urls});
  }
  for (const auto& name : plan.membership.removed) {
    MemberChange c{name, {}, plan.layout.removed_member_dir(name, now), {}, {}};
    for (auto& cert : issued_in(plan.layout.member_dir(name), ca)) {
      c.revoked.push_back(openssl_serial_hex(normalize_serial_hex(cert.serial_hex())));
      revoke.push_back(std::move(cert));
    }
    c.etcdctl = "etcdctl member remove \"$(etcdctl member list | awk -F', ' '$3 == \"" + name + "\" { print $1 }')\"";
    result.removed.push_back(std::move(c));
  }
  return revoke;
}

// After the write: each removed member's folder moved to OUT/.removed/NAME-<time> (its
// certificates are revoked already; a failure is a warning and the next run moves it).
void move_removed(const ClusterLayout& layout, ClusterResult& result) {
  for (auto& c : result.removed) {
    std::error_code ec;
    try {
      std::vector<std::string> made;
      make_dirs(parent_dir(c.moved_to), 0700, made);
    } catch (const Error&) {
      ec = std::make_error_code(std::errc::permission_denied);
    }
    for (int i = 2; exists(c.moved_to) && i < 100; ++i) c.moved_to = c.moved_to.substr(0, c.moved_to.rfind('Z') + 1) + "-" + std::to_string(i);
    if (!ec) std::filesystem::rename(layout.member_dir(c.name), c.moved_to, ec);
    if (ec) {
      result.warnings.push_back(layout.member_dir(c.name) + ": its certificates are revoked, but the folder was not moved aside (" +
                                ec.message() + "); the next run moves it");
      c.moved_to.clear();
    }
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
  if (exists(layout.next_ca_dir()))
    throw Error(Errc::usage,
                "a CA rotation is under way (the new CA is in " + layout.next_ca_dir() +
                    "): cluster would sign with the CA being replaced; finish it first (etcd-pki rotate-ca status " + layout.out + ")",
                layout.out);

  // 1. What is there: the member folders, the CA this run signs with (unless it makes one), and
  //    each pair's facts.
  ExistingState existing;
  existing.members = read_members(layout);
  existing.ca_files = exists(layout.ca_cert()) || exists(layout.ca_key());
  std::optional<Signer> signer = load_ca(ca_source(spec, opt.force, existing.ca_files), spec, layout, opt, now);
  std::map<std::string, Pair> pairs;
  for (const auto& c : cluster_certificates(spec, layout))
    existing.certs[c.label] = read_existing(c, signer ? &*signer : nullptr, opt.force, pairs[c.label]);

  // 2. The plan: keep what is valid and matches, issue what is missing, replace nothing without
  //    --force; who joins and who leaves.
  ClusterPlan plan = plan_cluster(spec, opt, existing);
  ClusterResult result;
  if (auto refused = plan.with(Action::refuse); !refused.empty()) {
    const CertPlan& c = *refused.front();
    throw Error(Errc::exists, "exists but cannot be kept: " + c.reason, existing.certs.at(c.label).cert_file ? c.cert_path : c.key_path)
        .with_hint(Hint::reissue);
  }
  if (plan.ca == CaSource::existing) result.reused.push_back("ca");
  for (const CertPlan* c : plan.with(Action::keep)) result.reused.push_back(c->label);

  // 3. The keys, the CA and the certificates (a new CA key's passphrase asked for first).
  if (plan.ca_request) (void)new_ca_passphrase(opt, layout.ca_key());
  std::vector<OutputFile> files;
  make_all(plan, spec, opt, now, signer, pairs, files, result);
  add_chains(plan, *signer, pairs, files);
  const Certificate& ca = signer->ca_certificate();
  // What members and clients trust: the root of the signer's chain, or the signing CA itself.
  const Certificate& trusted = opt.trust == TrustAnchor::issuer ? ca : signer->root();
  MemberFiles member_files{spec, layout, plan, trusted, trusted.to_pem(), {}, ClusterFacts::of(spec, opt.data_dir)};

  // 4. The CA's index (the new certificates recorded, the removed members' revoked) and CRL, read
  //    and written under the CA folder's lock; 5. the member files with that CRL.
  std::string ca_path = spec.ca_cert_file.empty() ? layout.ca_cert() : spec.ca_cert_file;
  FolderLocks ca_lock({parent_dir(ca_path)}, mode_t{0700});
  std::vector<Certificate> made;
  for (const auto& label : result.issued)
    if (label != "ca") made.push_back(*pairs.at(label).cert);
  std::vector<Certificate> revoke = member_changes(plan, spec, member_files.facts, ca, now, result);
  // The CRL is good for as long as the certificates it could list: etcd ignores nextUpdate, and
  // `etcd-pki crl` makes a new one whenever wanted.
  CrlOptions crl_options;
  crl_options.now = now;
  crl_options.next_update = spec.expiry;
  CaRecords records = ca_records(*signer, ca_path, made, revoke, crl_options, files);
  member_files.crl_der = records.crl_der;
  for (const auto& m : spec.members) add_member_files(member_files, m, pairs, files);
  add_derived(layout.clients_ca(), member_files.ca_pem, files);

  // 6. Write everything or nothing; folders 0700 (they hold private keys). Then the removed
  //    members' folders go aside.
  write_files(files, opt.force, 0700, layout.out);
  for (const auto& f : files) result.written.push_back(f.path);
  if (!records.not_recorded.empty() && !made.empty())
    result.warnings.push_back("the certificates are written, but not recorded in the CA index: " + records.not_recorded);
  move_removed(layout, result);
  return result;
}

bool refresh_manifest(const std::string& member_dir) { return detail::refresh_manifest(member_dir); }

}  // namespace etcd_pki
