#include "etcd_pki/renew.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "etcd_pki/files.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/csr.hpp"
#include "fileio.hpp"
#include "layout.hpp"
#include "member_files.hpp"
#include "transaction.hpp"
#include "x509_util.hpp"
#include "ossl.hpp"
#include "parallel.hpp"

namespace etcd_pki {

namespace fs = std::filesystem;

std::vector<RenewTarget> find_renew_targets(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(Errc::usage, "not a folder", dir);
  std::vector<RenewTarget> out;
  const std::string ca_dir_name = fs::path(detail::ClusterLayout::make(Layout::cfssl, dir).ca_dir()).filename().string();
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory()) {
      // Hidden folders hold renew's generations; ca/ holds the CA (never renewed here).
      if (name.front() == '.' || (name == ca_dir_name && it.depth() == 0)) it.disable_recursion_pending();
      continue;
    }
    if (!detail::is_certificate_name(name)) continue;
    std::string cert = it->path().string(), key = detail::key_path_for_cert(cert);
    if (!fs::exists(key, ec)) continue;  // ca.pem copies, CRLs in PEM, certificates without a key
    std::vector<Certificate> certs;
    std::string text = read_text_file(cert, Errc::input);  // a file that cannot be read stops it: never renew a part silently
    try {
      certs = Certificate::all_from_pem(text, cert);
    } catch (const Error&) {
      continue;  // not a certificate (a CRL in PEM, a key with another name)
    }
    if (certs.empty() || certs.front().is_ca()) continue;
    out.push_back({cert, key});
  }
  if (ec) throw Error(Errc::io, "cannot list the folder: " + ec.message(), dir);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.cert_path < b.cert_path; });
  return out;
}

namespace {

struct Job {
  RenewTarget target;
  Certificate old_cert;
  KeyPair old_key;
  std::string cert_pem, key_pem;
  Certificate new_cert;
  std::vector<std::string> warnings;
};

// Step 1 of renew: every target checked; those to renew become jobs, the others go to `result`
// (revoked or not due). A CA index that cannot be read stops the renewal before anything changed:
// without it, a revoked certificate would be renewed.
std::vector<Job> check_targets(const std::vector<RenewTarget>& targets, const Certificate& ca, const std::string& ca_cert_path,
                               const CaIndex& index, const RenewOptions& opt, TimePoint now, RenewResult& result) {
  std::vector<Job> jobs;
  for (const auto& t : targets) {
    Certificate cert = detail::first_certificate(read_text_file(t.cert_path, Errc::input), t.cert_path, Errc::input);
    KeyPair key = KeyPair::from_pem(read_text_file(t.key_path, Errc::key), t.key_path);
    if (!key.same_public_key(cert.public_key()))
      throw Error(Errc::key, "the key does not match the certificate " + t.cert_path + "; not renewed", t.key_path);
    if (cert.is_ca()) throw Error(Errc::usage, "is a CA certificate; renew re-issues leaves only", t.cert_path);
    if (!opt.any_issuer && !cert.signed_by(ca)) {
      throw Error(Errc::ca, "was not issued by " + ca.subject_string() + " (" + ca_cert_path + "); not renewed", t.cert_path);
    }
    const IndexEntry* e = index.find(normalize_serial_hex(cert.serial_hex()));
    if (e && e->status == 'R') {
      result.warnings.push_back(t.cert_path + ": revoked on " + format_rfc3339(e->revoked_at.value_or(now)) +
                                "; not renewed (issue a new certificate deliberately if it is still wanted)");
      result.skipped.push_back(t.cert_path);
      continue;
    }
    if (opt.within && cert.not_after() > now + *opt.within) {
      result.skipped.push_back(t.cert_path);
      continue;
    }
    jobs.push_back(Job{t, cert, key, {}, {}, cert, {}});
  }
  return jobs;
}

// The MANIFESTs of the folders holding the renewed files (a kubeadm member's DIR/etcd: DIR's too),
// with the new files' hashes; only those that change.
std::vector<OutputFile> refreshed_manifests(const std::vector<Job>& jobs) {
  std::map<std::string, std::string> fresh;
  std::set<std::string> dirs;
  for (const auto& j : jobs) {
    fresh[fs::path(j.target.cert_path).lexically_normal().string()] = j.cert_pem;
    fresh[fs::path(j.target.key_path).lexically_normal().string()] = j.key_pem;
    std::string dir = fs::path(j.target.cert_path).parent_path().string();
    if (dir.empty()) dir = ".";
    dirs.insert(dir);  // also a member named "etcd": its own folder
    dirs.insert(detail::member_dir_of(dir));
  }
  std::vector<OutputFile> out;
  for (const auto& d : dirs)
    if (auto text = detail::refreshed_manifest(d, fresh)) out.push_back(OutputFile{d + "/" + std::string(detail::manifest_file), *text, 0644, true});
  return out;
}

// Step 3 of renew: one transaction (transaction.hpp) swaps every pair, records the new serials in
// the CA index and refreshes the MANIFESTs; a failure before its commit point changes nothing.
// Pairs still in regular files are first moved behind etcd-pki's symlinks, unchanged, in a
// transaction of their own. An index whose folder cannot be written is left out (a warning, as
// for issue).
void swap_all(std::vector<Job>& jobs, const std::string& ca_cert_path, CaIndex index, const std::string& journal,
              RenewResult& result) {
  std::vector<detail::PairSwap> swaps;
  detail::Transaction move(journal, 0700);
  for (auto& j : jobs) {
    swaps.emplace_back(OutputFile{j.target.cert_path, j.cert_pem, 0644, true}, OutputFile{j.target.key_path, j.key_pem, 0600, true});
    swaps.back().stage_move_behind_symlinks(move);
  }
  move.commit();
  detail::Transaction tx(journal, 0700);
  for (auto& s : swaps) s.stage_swap(tx);
  std::string index_path = CaIndex::path_for(ca_cert_path);
  if (!jobs.empty() && ::access(detail::parent_dir(index_path).c_str(), W_OK) == 0) {
    for (auto& j : jobs) index.record_issued(j.new_cert);
    tx.add_file(index_path, index.to_text(), 0644, true);
  } else if (!jobs.empty()) {
    result.warnings.push_back("the renewed certificates are not recorded in the CA index: " + index_path + ": cannot write the folder");
  }
  for (auto& m : refreshed_manifests(jobs)) tx.add_file(m.path, m.content, m.mode, true);
  tx.commit();
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& j = jobs[i];
    swaps[i].prune();
    for (auto& w : j.warnings) result.warnings.push_back(w);
    result.renewed.push_back({j.target.cert_path, j.old_cert.serial_hex(), j.new_cert.serial_hex(), j.new_cert.not_after(), swaps[i].backup()});
  }
}

}  // namespace

RenewResult renew(const std::vector<RenewTarget>& targets, const Signer& signer, const std::string& ca_cert_path,
                  const RenewOptions& opt) {
  RenewResult result;
  TimePoint now = now_or(opt.now);
  const Certificate& ca = signer.ca_certificate();
  if (ca.not_after() <= now) throw Error(Errc::ca, "the CA certificate expired on " + format_rfc3339(ca.not_after()) + "; a new CA is needed", ca_cert_path);

  // 1. Check everything before changing anything, after completing an interrupted change found in
  // the journal's folder (the deepest folder common to the pairs and the CA index). Another
  // etcd-pki writing these folders waits until this is done: all are locked together, in one order.
  std::vector<std::string> touched{CaIndex::path_for(ca_cert_path)};
  for (const auto& t : targets) touched.push_back(t.cert_path);
  const std::string journal = detail::recovered_journal_dir(touched);
  std::vector<std::string> locked{journal};
  for (const auto& p : touched) locked.push_back(detail::parent_dir(p));
  FolderLocks locks(locked);
  CaIndex index = CaIndex::load(CaIndex::path_for(ca_cert_path));  // malformed: nothing is renewed
  std::vector<Job> jobs = check_targets(targets, ca, ca_cert_path, index, opt, now, result);
  for (const Job& j : jobs) check_chain_allows(signer.issuer_chain(), Usages{0, j.old_cert.ext_key_usage()}, ca_cert_path);

  // 2. New keys and certificates: same subject, SANs and usages.
  SignOptions so;
  so.now = now;
  std::vector<KeySpec> specs;
  if (!opt.reuse_key)
    for (const Job& j : jobs) specs.push_back(j.old_key.spec());
  std::vector<KeyPair> new_keys = KeyPair::generate_many(specs, opt.threads);  // on all cores, an RSA key's primes too
  detail::parallel_for(jobs.size(), opt.threads, [&](size_t i) {
    Job& j = jobs[i];
    const KeyPair& key = opt.reuse_key ? j.old_key : new_keys[i];
    Csr csr = Csr::create(j.old_cert.subject(), j.old_cert.sans(), key);
    Profile p;
    p.name = "renew";
    p.usages = Usages{j.old_cert.key_usage().value_or(0), j.old_cert.ext_key_usage()};
    p.expiry = opt.expiry ? *opt.expiry : std::chrono::duration_cast<Seconds>(j.old_cert.not_after() - j.old_cert.not_before());
    Issued issued = signer.sign(csr, p, so);
    j.new_cert = issued.certificate;
    j.cert_pem = issued.certificate.to_pem() + intermediates_pem(signer.issuer_chain());  // leaf, then intermediates
    j.key_pem = key.to_pem();
    for (auto& w : issued.warnings) j.warnings.push_back(j.target.cert_path + ": " + w);  // "capped at the CA's notAfter"
  });

  // 3. Every pair, the index and the MANIFESTs at one commit point.
  swap_all(jobs, ca_cert_path, std::move(index), journal, result);
  return result;
}

}  // namespace etcd_pki
