// rotate-ca: begin, reissue, finish, each read from the files (rotation_status) and written in one
// transaction; verify before and after each step.
#include "etcd_pki/rotate.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "etcd_pki/bundle.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/cluster.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/files.hpp"
#include "etcd_pki/pipeline.hpp"
#include "etcd_pki/renew.hpp"
#include "layout.hpp"
#include "member_files.hpp"
#include "transaction.hpp"

namespace etcd_pki {

namespace fs = std::filesystem;
using detail::ClusterLayout;

const char* to_string(RotationStep step) {
  switch (step) {
    case RotationStep::none: return "none";
    case RotationStep::begun: return "begun";
    case RotationStep::reissued: return "reissued";
    case RotationStep::finish_interrupted: return "finish-interrupted";
    case RotationStep::inconsistent: return "inconsistent";
  }
  return "?";
}

namespace {

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// The cluster output folder's layout, from its CA file's name (ca.pem: cfssl, ca.crt: kubeadm).
ClusterLayout layout_of(const std::string& dir) {
  if (!exists(dir)) throw Error(Errc::input, "no such folder", dir);
  auto ca = find_cluster_ca(dir);
  if (!ca) throw Error(Errc::usage, "not a cluster output folder with its CA (rotate-ca needs the CA folder and its key)", dir);
  ClusterLayout cfssl = ClusterLayout::make(Layout::cfssl, dir);
  return ClusterLayout::make(fs::path(ca->cert).filename() == fs::path(cfssl.ca_cert()).filename() ? Layout::cfssl : Layout::kubeadm, dir);
}

std::vector<Certificate> certs_of(const std::string& file, Errc category) {
  return Certificate::all_from_pem(read_text_file(file, category), file, category);
}

// The trust files of the folder: each member's, and the clients' when it exists.
std::vector<std::string> trust_files(const ClusterLayout& layout) {
  std::vector<std::string> out;
  for (const auto& d : detail::member_dirs(layout.out))
    if (std::string ca = detail::find_member_ca(d); !ca.empty()) out.push_back(ca);
  if (exists(layout.clients_ca())) out.push_back(layout.clients_ca());
  return out;
}

// The regular, non-hidden files of a folder, by name.
std::vector<std::string> plain_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().filename().string().front() != '.') out.push_back(e.path().filename().string());
  if (ec && ec != std::errc::no_such_file_or_directory) throw Error(Errc::io, "cannot list the folder: " + ec.message(), dir);
  std::sort(out.begin(), out.end());
  return out;
}

void classify_trust(RotationStatus& s, const ClusterLayout& layout, const std::optional<Certificate>& next) {
  const std::string pem = next ? next->to_pem() : "";
  for (const auto& f : trust_files(layout)) {
    auto certs = certs_of(f, Errc::ca);
    bool has_new = next && std::any_of(certs.begin(), certs.end(), [&](const Certificate& c) { return c.to_pem() == pem; });
    (!has_new ? s.trust_old : certs.size() == 1 ? s.trust_new : s.trust_both).push_back(f);
  }
}

void classify_leaves(RotationStatus& s, const Certificate& ca, const std::optional<Certificate>& next) {
  for (const auto& t : find_renew_targets(s.dir)) {
    Certificate leaf = Certificate::from_pem(read_text_file(t.cert_path, Errc::input), t.cert_path, Errc::input);
    (next && leaf.signed_by(*next) ? s.leaves_new : leaf.signed_by(ca) ? s.leaves_old : s.leaves_other).push_back(t.cert_path);
  }
}

std::string list_of(const std::vector<std::string>& files) {
  std::string out;
  for (size_t i = 0; i < files.size() && i < 3; ++i) out += (i ? ", " : "") + files[i];
  return files.size() > 3 ? out + ", ... (" + std::to_string(files.size()) + ")" : out;
}

// The step and what is left, from the classified files.
void judge(RotationStatus& s, bool next_is_ca) {
  const std::string d = s.dir;
  if (s.next_ca_cert.empty()) {
    s.step = RotationStep::none;
    s.next = "etcd-pki rotate-ca begin " + d;
    return;
  }
  if (next_is_ca) {
    s.step = RotationStep::finish_interrupted;
    s.left.push_back("finish was cut off after writing the new CA into the CA folder: the new CA's folder is still there");
    s.next = "etcd-pki rotate-ca finish " + d + " (completes it)";
    return;
  }
  if (!s.trust_old.empty() || !s.leaves_other.empty()) {
    s.step = RotationStep::inconsistent;
    if (!s.trust_old.empty()) s.left.push_back("trust files without the new CA (begin writes it into every one): " + list_of(s.trust_old));
    if (!s.leaves_other.empty()) s.left.push_back("leaves issued by neither CA: " + list_of(s.leaves_other));
    s.next = "fix the files named (etcd-pki verify " + d + "), then run etcd-pki rotate-ca status " + d + " again";
    return;
  }
  s.left.push_back("restart each member, one at a time, if not done since begin (etcd reads its trust files only at start)");
  if (!s.leaves_old.empty()) {
    s.step = RotationStep::begun;
    s.left.push_back(std::to_string(s.leaves_old.size()) + " leaf certificate(s) to re-issue with the new CA: " + list_of(s.leaves_old));
    s.next = "restart each member, one at a time; then etcd-pki rotate-ca reissue " + d;
    return;
  }
  s.step = RotationStep::reissued;
  if (s.same_key) s.left.push_back("with the same key every leaf already chains to the new CA: reissue is optional");
  s.left.push_back("finish: the trust files then hold the new CA only; restart each member, one at a time, after it");
  s.next = "etcd-pki rotate-ca finish " + d;
}

}  // namespace

RotationStatus rotation_status(const std::string& dir) {
  ClusterLayout layout = layout_of(dir);
  RotationStatus s;
  s.dir = dir;
  s.ca_cert = layout.ca_cert();
  Certificate ca = Certificate::from_pem(read_text_file(s.ca_cert, Errc::ca), s.ca_cert, Errc::ca);
  std::optional<Certificate> next;
  if (exists(layout.next_ca_dir())) {
    s.next_ca_cert = layout.next_ca_cert();
    next = Certificate::from_pem(read_text_file(s.next_ca_cert, Errc::ca), s.next_ca_cert, Errc::ca);
    s.same_key = next->public_key().same_public_key(ca.public_key());
  }
  classify_trust(s, layout, next);
  classify_leaves(s, ca, next);
  std::string retired_parent = fs::path(layout.retired_ca_dir(TimePoint{})).parent_path().string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(retired_parent, ec)) s.retired.push_back(e.path().string());
  std::sort(s.retired.begin(), s.retired.end());
  judge(s, next && next->to_pem() == ca.to_pem());
  return s;
}

std::string render_text(const RotationStatus& s) {
  std::string out = "step: " + std::string(to_string(s.step)) + (s.same_key ? " (same key)" : "") + "\n";
  if (!s.next_ca_cert.empty()) out += "CA: " + s.ca_cert + "; new CA: " + s.next_ca_cert + "\n";
  if (s.next_ca_cert.empty()) {
    out += "CA: " + s.ca_cert + "\ntrust files: " + std::to_string(s.trust_old.size()) + "; leaves: " +
           std::to_string(s.leaves_old.size()) + " issued by the CA, " + std::to_string(s.leaves_other.size()) + " by another\n";
    for (const auto& r : s.retired) out += "retired CA: " + r + "\n";
    return out + "next: " + s.next + "\n";
  }
  out += "trust files: " + std::to_string(s.trust_new.size()) + " new CA only, " + std::to_string(s.trust_both.size()) +
         " new + old, " + std::to_string(s.trust_old.size()) + " without the new CA\n";
  out += "leaves: " + std::to_string(s.leaves_new.size()) + " issued by the new CA, " + std::to_string(s.leaves_old.size()) +
         " by the old one, " + std::to_string(s.leaves_other.size()) + " by another\n";
  for (const auto& r : s.retired) out += "retired CA: " + r + "\n";
  for (const auto& l : s.left) out += "left: " + l + "\n";
  out += "next: " + s.next + "\n";
  return out;
}

void refuse_mid_rotation(const std::string& dir, const std::string& command) {
  if (dir.empty() || !find_cluster_ca(dir)) return;
  ClusterLayout layout = layout_of(dir);
  if (exists(layout.next_ca_dir()))
    throw Error(Errc::usage,
                "a CA rotation is under way (the new CA is in " + layout.next_ca_dir() + "): " + command +
                    " would sign with the CA being replaced; finish the rotation first (etcd-pki rotate-ca status " + dir + ")",
                dir);
}

// ---- The steps -------------------------------------------------------------------------------

namespace {

// verify on the folder: before a step its errors stop it (nothing changed); after, they are warnings.
// An expired certificate does not stop a step: replacing it is what rotation is for (verify after
// finish says whether one is left).
void verify_step(const std::string& dir, const RotateOptions& opt, const char* when, const char* step, RotateResult* result) {
  VerifyOptions vo;
  vo.now = opt.now;
  vo.threads = opt.threads;
  VerifyReport r = verify_path(dir, vo);
  if (opt.on_verify) opt.on_verify(r, when);
  const bool tolerate_expired = !result;
  auto stops = [&](const Finding& f) { return f.severity == Severity::error && !(tolerate_expired && f.rule == "expired"); };
  auto first = std::find_if(r.findings.begin(), r.findings.end(), stops);
  if (first == r.findings.end()) return;
  std::string what = std::to_string(std::count_if(r.findings.begin(), r.findings.end(), stops)) + " error(s) (first: " + first->file + ": " +
                     first->rule + ": " + first->message + ")";
  if (!result) throw Error(Errc::input, "verify finds " + what + "; rotate-ca " + step + " changed nothing: fix them first", dir);
  result->warnings.push_back("verify after " + std::string(step) + " finds " + what);
}

// Errc::usage when the folder is not at `want`: the message names the step that comes next.
RotationStatus require_step(const std::string& dir, std::initializer_list<RotationStep> want, const char* step) {
  detail::recover(dir);
  RotationStatus s = rotation_status(dir);
  if (std::find(want.begin(), want.end(), s.step) != want.end()) return s;
  std::string why = s.step == RotationStep::none ? "no rotation is under way" : std::string("the rotation is at step ") + to_string(s.step);
  if (!s.left.empty() && s.step != RotationStep::begun) why += " (" + s.left.front() + ")";
  if (s.step == RotationStep::begun && std::string(step) == "finish") why += " (" + s.left.back() + ")";
  throw Error(Errc::usage, why + ": rotate-ca " + step + " does not run now; next: " + s.next, dir);
}

// A member folder's MANIFEST after `fresh` (path -> new content) changes its files.
void add_manifests(const std::map<std::string, std::string>& fresh, std::vector<OutputFile>& files) {
  std::set<std::string> dirs;
  for (const auto& [path, content] : fresh) dirs.insert(detail::member_dir_of(fs::path(path).parent_path().string()));
  for (const auto& d : dirs)
    if (auto text = detail::refreshed_manifest(d, fresh)) files.push_back(OutputFile{d + "/" + std::string(detail::manifest_file), *text, 0644, true});
}

std::string norm(const std::string& p) { return fs::path(p).lexically_normal().string(); }

// begin's new CA: ca.next/ with ca/'s file names, its key encrypted when the old one is, an empty
// index and a CRL of its own.
void new_ca_files(const ClusterLayout& layout, const Signer& old, const RotateOptions& opt, TimePoint now, std::vector<OutputFile>& files,
                  std::string& new_pem) {
  const Certificate& ca = old.ca_certificate();
  const Seconds old_lifetime = std::chrono::duration_cast<Seconds>(ca.not_after() - ca.not_before());
  Request req;
  if (opt.ca_request) {  // told: the CSR's subject, key and expiry
    req = *opt.ca_request;
    if (!req.ca) {
      req.ca = CaOptions{};
      req.ca->expiry = old_lifetime;
    }
  } else {
    req.subject = ca.subject();
    req.key = old.ca_key().spec();
    req.ca = CaOptions{};
    req.ca->expiry = old_lifetime;
  }
  if (opt.expiry) req.ca->expiry = *opt.expiry;
  if (opt.same_key) req.key = old.ca_key().spec();
  KeyPair key = opt.same_key ? old.ca_key() : KeyPair::generate(req.key, opt.threads);
  SignOptions so;
  so.now = now;
  Bundle bundle = make_ca(req, key, so, layout.next_ca_cert());
  bool encrypted = KeyPair::is_encrypted_pem(read_text_file(layout.ca_key(), Errc::key));
  // The passphrase that decrypted the old key (given, or typed when it was asked for).
  CfsslOutput pem = to_pem(bundle, encrypted ? opt.passphrase.or_ask(layout.ca_key()) : Passphrase{});
  new_pem = *pem.cert;
  files.push_back({layout.next_ca_cert(), *pem.cert, 0644});
  files.push_back({layout.next_ca_key(), *pem.key, 0600});
  files.push_back({layout.next_ca_csr(), *pem.csr, 0644});
  Signer signer(*bundle.certificate, key);
  CaIndex index;
  files.push_back({CaIndex::path_for(layout.next_ca_cert()), index.to_text(), 0644});
  CrlOptions co;
  co.now = now;
  co.next_update = Seconds{8760LL * 3600};  // as cluster's: etcd ignores nextUpdate; etcd-pki crl makes a new one
  Crl crl = next_crl(signer, index, layout.next_ca_cert(), co);
  CrlPaths paths = CrlPaths::for_ca(layout.next_ca_cert());
  files.push_back({paths.der, crl.to_der(), 0644});
  files.push_back({paths.pem, crl.to_pem(), 0644});
}

}  // namespace

RotateResult rotate_begin(const std::string& dir, const RotateOptions& opt) {
  // The whole step under the folder's lock: another rotate-ca, cluster or renew of the folder waits.
  (void)layout_of(dir);
  FolderLocks lock({dir});
  require_step(dir, {RotationStep::none}, "begin");
  verify_step(dir, opt, "before", "begin", nullptr);
  const ClusterLayout layout = layout_of(dir);
  const TimePoint now = now_or(opt.now);
  Signer old = load_signer(layout.ca_cert(), layout.ca_key(), opt.passphrase);
  std::vector<OutputFile> files;
  std::string new_pem;
  new_ca_files(layout, old, opt, now, files, new_pem);
  // Every trust file: the new CA first, then what it held (the clients' is made with the old CA).
  std::map<std::string, std::string> fresh;
  std::vector<std::string> trust = trust_files(layout);
  if (!exists(layout.clients_ca())) trust.push_back(layout.clients_ca());
  for (const auto& f : trust) {
    std::string held = exists(f) ? read_text_file(f, Errc::ca) : old.ca_certificate().to_pem();
    if (!held.empty() && held.back() != '\n') held += "\n";
    fresh[norm(f)] = new_pem + held;
    files.push_back({f, new_pem + held, 0644, true});
  }
  add_manifests(fresh, files);
  write_files(files, false, 0700, dir);
  RotateResult r;
  for (const auto& f : files) r.written.push_back(f.path);
  verify_step(dir, opt, "after", "begin", &r);
  r.next = "restart each member, one at a time (etcd reads its trust files only at start); then etcd-pki rotate-ca " +
           std::string(opt.same_key ? "finish " : "reissue ") + dir + (opt.same_key ? " (reissue is optional with the same key)" : "");
  return r;
}

RotateResult rotate_reissue(const std::string& dir, const RotateOptions& opt) {
  // The whole step under the folder's lock: another rotate-ca, cluster or renew of the folder waits.
  (void)layout_of(dir);
  FolderLocks lock({dir});
  RotationStatus s = require_step(dir, {RotationStep::begun, RotationStep::reissued}, "reissue");
  verify_step(dir, opt, "before", "reissue", nullptr);
  const ClusterLayout layout = layout_of(dir);
  Signer signer = load_signer(layout.next_ca_cert(), layout.next_ca_key(), opt.passphrase);
  // The leaves still from the old CA; with the same key every leaf (their validity is renewed).
  std::set<std::string> todo(s.leaves_old.begin(), s.leaves_old.end());
  if (s.same_key) todo.insert(s.leaves_new.begin(), s.leaves_new.end());
  std::vector<RenewTarget> targets;
  for (const auto& t : find_renew_targets(dir))
    if (todo.count(t.cert_path)) targets.push_back(t);
  RotateResult r;
  if (!targets.empty()) {
    RenewOptions ro;
    ro.any_issuer = true;
    ro.now = opt.now;
    ro.threads = opt.threads;
    RenewResult rr = renew(targets, signer, layout.next_ca_cert(), ro);
    for (const auto& c : rr.renewed) r.written.push_back(c.cert_path);
    r.warnings = rr.warnings;
    for (const auto& sk : rr.skipped) r.warnings.push_back(sk + ": not re-issued (revoked); finish leaves it issued by the old CA");
  }
  verify_step(dir, opt, "after", "reissue", &r);
  r.next = "etcd-pki rotate-ca finish " + dir + " (the members picked up the new pairs without a restart)";
  return r;
}

namespace {

// finish's one write: the old CA's files into the retired folder, ca.next/'s into ca/, every trust
// file the new CA only, every member's CRL copy the new CA's CRL, the MANIFESTs.
std::vector<OutputFile> finish_files(const ClusterLayout& layout, const std::string& retired) {
  std::vector<OutputFile> files;
  auto mode_of = [](const std::string& p) { return fs::status(p).permissions() == fs::perms::none ? mode_t{0600} : static_cast<mode_t>(fs::status(p).permissions()) & 0777; };
  for (const auto& name : plain_files(layout.ca_dir())) {
    std::string from = layout.ca_dir() + "/" + name;
    files.push_back({retired + "/" + name, read_text_file(from, Errc::io), mode_of(from)});
  }
  for (const auto& name : plain_files(layout.next_ca_dir())) {
    std::string from = layout.next_ca_dir() + "/" + name;
    files.push_back({layout.ca_dir() + "/" + name, read_text_file(from, Errc::io), mode_of(from), true});
  }
  const std::string new_pem = read_text_file(layout.next_ca_cert(), Errc::ca);
  const std::string crl_der = read_text_file(CrlPaths::for_ca(layout.next_ca_cert()).der, Errc::io);
  std::map<std::string, std::string> fresh;
  for (const auto& f : trust_files(layout)) fresh[norm(f)] = new_pem;
  for (const auto& d : detail::member_dirs(layout.out)) fresh[norm(detail::member_crl_path(d))] = crl_der;
  for (const auto& [path, content] : fresh) files.push_back({path, content, 0644, true});
  add_manifests(fresh, files);
  return files;
}

// After finish's write: ca/'s files that the new CA does not have, then ca.next/ itself.
void remove_next_ca(const ClusterLayout& layout) {
  auto keep = plain_files(layout.next_ca_dir());
  std::error_code ec;
  for (const auto& name : plain_files(layout.ca_dir()))
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) fs::remove(layout.ca_dir() + "/" + name, ec);
  fs::remove_all(layout.next_ca_dir(), ec);
  if (ec) throw Error(Errc::io, "the new CA is in place, but its old folder cannot be removed: " + ec.message() + "; run rotate-ca finish again", layout.next_ca_dir());
}

}  // namespace

RotateResult rotate_finish(const std::string& dir, const RotateOptions& opt) {
  // The whole step under the folder's lock: another rotate-ca, cluster or renew of the folder waits.
  (void)layout_of(dir);
  FolderLocks lock({dir});
  RotationStatus s = require_step(dir, {RotationStep::reissued, RotationStep::finish_interrupted}, "finish");
  const ClusterLayout layout = layout_of(dir);
  RotateResult r;
  if (s.step == RotationStep::reissued) {
    verify_step(dir, opt, "before", "finish", nullptr);
    r.retired = layout.retired_ca_dir(now_or(opt.now));
    for (int i = 2; exists(r.retired) && i < 100; ++i) r.retired = layout.retired_ca_dir(now_or(opt.now)) + "-" + std::to_string(i);
    std::vector<OutputFile> files = finish_files(layout, r.retired);
    write_files(files, false, 0700, dir);
    for (const auto& f : files) r.written.push_back(f.path);
  }
  remove_next_ca(layout);
  verify_step(dir, opt, "after", "finish", &r);
  r.next = "restart each member, one at a time: each then trusts the new CA only";
  return r;
}

}  // namespace etcd_pki
