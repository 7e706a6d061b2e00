#include "etcd_pki/renew.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "etcd_pki/files.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/csr.hpp"
#include "member_files.hpp"
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
    try {
      certs = Certificate::all_from_pem(read_text_file(cert, Errc::input), cert);
    } catch (const Error&) {
      continue;
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
                               const RenewOptions& opt, TimePoint now, RenewResult& result) {
  std::optional<CaIndex> index = CaIndex::load(CaIndex::path_for(ca_cert_path));
  std::vector<Job> jobs;
  for (const auto& t : targets) {
    Certificate cert = Certificate::from_pem(read_text_file(t.cert_path, Errc::input), t.cert_path, Errc::input);
    KeyPair key = KeyPair::from_pem(read_text_file(t.key_path, Errc::key), t.key_path);
    if (!key.same_public_key(cert.public_key()))
      throw Error(Errc::key, "the key does not match the certificate " + t.cert_path + "; not renewed", t.key_path);
    if (cert.is_ca()) throw Error(Errc::usage, "is a CA certificate; renew re-issues leaves only", t.cert_path);
    if (!cert.signed_by(ca)) {
      throw Error(Errc::ca, "was not issued by " + ca.subject_string() + " (" + ca_cert_path + "); not renewed", t.cert_path);
    }
    const IndexEntry* e = index ? index->find(normalize_serial_hex(cert.serial_hex())) : nullptr;
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

// Records the new certificates in the CA's index. The pairs are already swapped, so a failure is a
// warning in `result`, as for issue (write_files_and_record), and the report of what was renewed
// (with the backups) is still returned.
void record_renewed(const std::string& ca_cert_path, const std::vector<Job>& jobs, RenewResult& result) {
  std::vector<Certificate> issued;
  for (auto& j : jobs) issued.push_back(j.new_cert);
  try {
    record_issued(ca_cert_path, issued);
  } catch (const Error& e) {
    result.warnings.push_back(std::string("the renewed certificates are not recorded in the CA index: ") + e.what());
  }
}

}  // namespace

RenewResult renew(const std::vector<RenewTarget>& targets, const Signer& signer, const std::string& ca_cert_path,
                  const RenewOptions& opt) {
  RenewResult result;
  TimePoint now = now_or(opt.now);
  const Certificate& ca = signer.ca_certificate();
  if (ca.not_after() <= now) throw Error(Errc::ca, "the CA certificate expired on " + format_rfc3339(ca.not_after()) + "; a new CA is needed", ca_cert_path);

  // 1. Check everything before changing anything. Another etcd-pki writing these folders (or the
  // CA's index) waits until this is done: all of them are locked together, in one order.
  std::vector<std::string> locked{fs::path(CaIndex::path_for(ca_cert_path)).parent_path().string()};
  for (const auto& t : targets) locked.push_back(fs::path(t.cert_path).parent_path().string());
  for (auto& d : locked)
    if (d.empty()) d = ".";
  FolderLocks locks(locked);
  std::vector<Job> jobs = check_targets(targets, ca, ca_cert_path, opt, now, result);

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
    j.cert_pem = issued.certificate.to_pem();
    j.key_pem = key.to_pem();
    for (auto& w : issued.warnings) j.warnings.push_back(j.target.cert_path + ": " + w);  // "capped at the CA's notAfter"
  });

  // 3. Swap each pair; record them; refresh the member folders' MANIFEST.
  std::set<std::string> dirs;
  for (auto& j : jobs) {
    mode_t cert_mode = 0644;
    std::string backup = replace_pair(OutputFile{j.target.cert_path, j.cert_pem, cert_mode, true},
                                      OutputFile{j.target.key_path, j.key_pem, 0600, true});
    for (auto& w : j.warnings) result.warnings.push_back(w);
    result.renewed.push_back({j.target.cert_path, j.old_cert.serial_hex(), j.new_cert.serial_hex(), j.new_cert.not_after(), backup});
    dirs.insert(fs::path(j.target.cert_path).parent_path().string());
  }
  record_renewed(ca_cert_path, jobs, result);
  for (const auto& d : dirs) {
    std::string dir = d.empty() ? "." : d;
    detail::refresh_manifest(dir);  // also a member named "etcd": its own folder
    if (std::string member = detail::member_dir_of(dir); member != dir) detail::refresh_manifest(member);  // kubeadm's DIR/etcd
  }
  return result;
}

}  // namespace etcd_pki
