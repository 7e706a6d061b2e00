// Day-two commands: inspect, verify, probe, expiry, renew, revoke, crl. Arguments in, library calls,
// reports out.
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "etcd_pki/etcd_pki.hpp"

namespace etcd_pki::cli {

namespace {

namespace fs = std::filesystem;

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

struct CaFiles {
  std::string cert, key, passphrase_file;
};

// --ca/--ca-key, else the CA of a cluster output folder (DIR/ca), else ./ca.pem and ./ca-key.pem.
CaFiles ca_files(const CaArgs& a, const std::string& fallback_dir = {}) {
  CaFiles f{a.ca, a.ca_key, a.passphrase_file};
  if (f.cert.empty()) f.cert = default_ca_files(!a.dir.empty() ? a.dir : fallback_dir).cert;
  if (f.key.empty()) f.key = key_path_for_cert(f.cert);
  return f;
}

Signer signer_for(const CaFiles& f) { return load_signer(f.cert, f.key, ca_passphrase(f.passphrase_file)); }

// Runs f. The library names the revocation values by their fields ("reason", "next update"); a
// command line gave them as flags, and its errors name the flags.
template <class F>
auto naming_flags(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    static const std::pair<const char*, const char*> kFlags[] = {{"reason", "--reason"}, {"next update", "--next-update"}};
    if (e.source().empty())
      for (auto [field, flag] : kFlags)
        if (e.field() == field) throw Error(e.category(), e.message(), "", flag).with_hint(e.hint());
    throw;
  }
}

// --format (with --json as its alias), checked before any work.
std::string report_format(const ReportArgs& a) {
  std::string format = !a.format.empty() ? a.format : a.json ? "json" : "text";
  if (format != "text" && format != "json" && format != "prometheus")
    throw Error(Errc::usage, "unknown format \"" + format + "\" (use text, json or prometheus)", "--format");
  if (a.json && format != "json") throw Error(Errc::usage, "means --format json, not --format " + format, "--json");
  return format;
}

// The report on stdout, or in --output, replaced in one rename (a *.prom file a collector reads).
void deliver(const ReportArgs& a, const std::string& report) {
  if (a.output.empty()) std::cout << report;
  else write_files({OutputFile{a.output, report, 0644, true}}, false);
}

Seconds duration_arg(const std::string& text, const char* flag) {
  Seconds d = parse_duration(text, flag);
  if (d.count() < 0) throw Error(Errc::usage, "must not be negative", flag);
  return d;
}

}  // namespace

int inspect(const InspectArgs& a) {
  InspectOptions opt;
  if (!a.ca.empty()) opt.ca = Certificate::from_pem(read_text_file(a.ca, Errc::ca), a.ca, Errc::ca);
  if (!a.crl.empty()) opt.crl = Crl::from_bytes(read_text_file(a.crl, Errc::input), a.crl);
  std::vector<InspectedItem> items;
  for (const auto& f : a.files) {
    auto got = inspect_file(f, opt);
    items.insert(items.end(), got.begin(), got.end());
  }
  std::cout << (a.json ? render_json(items) : render_text(items));
  return 0;
}

int verify(const VerifyArgs& a) {
  VerifyOptions opt;
  opt.ca_file = a.ca;
  opt.crl_file = a.crl;
  for (const auto& list : a.addresses)
    for (const auto& h : split_hostnames(list)) opt.addresses.push_back(h);
  opt.warn_within = duration_arg(a.warn_within, "--warn-within");
  VerifyReport r = verify_path(a.path, opt);
  std::cout << (a.json ? render_json(r) : render_text(r));
  return r.exit_code();
}

int probe(const ProbeArgs& a) {
  ProbeOptions opt;
  opt.ca_file = a.ca;
  opt.cert_file = a.cert;
  opt.key_file = a.key;
  if (!a.key.empty() && a.cert.empty()) throw Error(Errc::usage, "needs --cert (the certificate the key belongs to)", "--key");
  Seconds timeout = duration_arg(a.timeout, "--timeout");
  if (timeout.count() == 0) throw Error(Errc::usage, "must be at least 1s", "--timeout");
  opt.timeout = timeout;
  opt.warn_within = duration_arg(a.warn_within, "--warn-within");
  std::string format = report_format(a.report);
  ProbeReport r = etcd_pki::probe(a.targets, opt);
  deliver(a.report, format == "json" ? render_json(r) : format == "prometheus" ? render_prometheus(r) : render_text(r));
  return r.exit_code();
}

int expiry(const ExpiryArgs& a) {
  std::string format = report_format(a.report);
  ExpiryReport r = scan_expiry(a.paths, duration_arg(a.within, "--within"), std::nullopt, duration_arg(a.crl_within, "--crl-within"));
  deliver(a.report, format == "json" ? render_json(r) : format == "prometheus" ? render_prometheus(r) : render_text(r));
  return r.any_within() ? 1 : 0;
}

int renew(const RenewArgs& a) {
  std::vector<RenewTarget> targets;
  std::string cluster_dir;
  for (const auto& p : a.paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      if (find_cluster_ca(p)) report_repairs(p);  // before listing: renew would complete it too, silently
      auto found = find_renew_targets(p);
      if (found.empty()) throw Error(Errc::usage, "no certificate with its key found to renew", p);
      targets.insert(targets.end(), found.begin(), found.end());
      if (cluster_dir.empty() && find_cluster_ca(p)) cluster_dir = p;
      refuse_mid_rotation(p, "renew");
    } else {
      if (!a.key.empty() && a.paths.size() != 1) throw Error(Errc::usage, "--key needs exactly one certificate", "--key");
      targets.push_back({p, a.key.empty() ? key_path_for_cert(p) : a.key});
    }
  }
  if (targets.empty()) throw Error(Errc::usage, "give the certificates or folders to renew");
  CaFiles ca = ca_files(a.ca, cluster_dir);
  Signer signer = signer_for(ca);
  RenewOptions opt;
  opt.reuse_key = a.reuse_key;
  if (!a.expiry.empty()) {
    opt.expiry = duration_arg(a.expiry, "--expiry");
    if (opt.expiry->count() == 0) throw Error(Errc::usage, "must be positive", "--expiry");
  }
  if (!a.within.empty()) opt.within = duration_arg(a.within, "--within");
  opt.threads = a.threads;
  RenewResult r = renew(targets, signer, ca.cert, opt);
  print_warnings(r.warnings);
  for (const auto& c : r.renewed)
    std::cerr << "etcd-pki: renewed " << c.cert_path << " (serial " << c.new_serial << ", until " << format_rfc3339(c.not_after)
              << "; previous pair kept in " << c.backup << ")\n";
  for (const auto& s : r.skipped) std::cerr << "etcd-pki: not due: " << s << "\n";
  std::cerr << "etcd-pki: renewed " << r.renewed.size() << ", not due " << r.skipped.size() << "\n";
  return 0;
}

namespace {

// Where else the CRL went: every member folder of the cluster folder (CrlOptions::cluster_dir).
std::string member_copies(const std::string& dir) {
  return dir.empty() ? "" : " and the copy in each member folder of " + dir + " (etcd reads it on the next connection)";
}

int revoke_serial(const RevokeArgs& a) {
  report_repairs(a.ca.dir);
  CaFiles ca = ca_files(a.ca);
  Signer signer = signer_for(ca);
  RevocationReason reason = parse_revocation_reason(a.reason);
  CrlOptions copt;
  copt.next_update = duration_arg(a.next_update, "--next-update");
  copt.cluster_dir = a.ca.dir;  // its member folders' ca.crl too
  std::string index_path = CaIndex::path_for(ca.cert);
  std::optional<Certificate> cert;
  std::string serial;
  if (exists(a.what)) {
    cert = Certificate::from_pem(read_text_file(a.what, Errc::input), a.what, Errc::input);
    if (!cert->signed_by(signer.ca_certificate()))
      throw Error(Errc::ca, "was not issued by " + signer.ca_certificate().subject_string() + " (" + ca.cert + "); it cannot be revoked by this CA",
                  a.what);
    serial = normalize_serial_hex(cert->serial_hex());
  } else {
    CaIndex index = CaIndex::load(index_path);
    std::string text = a.what;
    bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) {
      // "1234" is hex to openssl and decimal to cfssl: take the one the index knows.
      std::string as_hex = normalize_serial_hex(text);
      auto as_dec = decimal_to_serial_hex(text);
      bool hex_known = index.find(as_hex), dec_known = as_dec && index.find(*as_dec);
      if (hex_known && dec_known) throw Error(Errc::usage, "ambiguous serial \"" + text + "\": write 0x" + text + " or dec:" + text);
      if (!hex_known && !dec_known)
        throw Error(Errc::usage, "serial " + text + " is not in " + index_path +
                                     "; give the certificate file, or the serial as 0xHEX or dec:DECIMAL");
      serial = hex_known ? as_hex : *as_dec;
    } else {
      serial = normalize_serial_hex(text);
      if (!index.find(serial))
        print_warnings({"serial " + openssl_serial_hex(serial) + " is not in " + index_path + " (issued by another tool?); revoking it anyway"});
    }
  }
  Revocation r = revoke_and_write_crl(signer, ca.cert, serial, reason, cert, copt);
  if (!r.changed) print_warnings({"serial " + openssl_serial_hex(serial) + " was already revoked"});
  const Crl& c = r.crl;
  CrlPaths paths = CrlPaths::for_ca(ca.cert);
  std::cerr << "etcd-pki: revoked serial " << openssl_serial_hex(serial) << " (" << to_string(reason) << "); CRL with " << c.revoked().size()
            << " revoked certificate(s), next update " << format_rfc3339(*c.next_update()) << ": " << paths.der << ", " << paths.pem
            << member_copies(a.ca.dir) << "\n";
  return 0;
}

int write_ca_crl(const CaArgs& a, const std::string& next_update) {
  report_repairs(a.dir);
  CaFiles ca = ca_files(a);
  Signer signer = signer_for(ca);
  CrlOptions copt;
  copt.next_update = duration_arg(next_update, "--next-update");
  copt.cluster_dir = a.dir;  // its member folders' ca.crl too
  Crl c = write_crl(signer, ca.cert, copt);
  CrlPaths paths = CrlPaths::for_ca(ca.cert);
  std::cerr << "etcd-pki: CRL with " << c.revoked().size() << " revoked certificate(s), next update "
            << format_rfc3339(*c.next_update()) << ": " << paths.der << ", " << paths.pem << member_copies(a.dir) << "\n";
  return 0;
}

}  // namespace

bool report_repairs(const std::string& dir) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return false;
  auto done = repair_folder(dir);
  for (const auto& r : done)
    std::cerr << "etcd-pki: " << r.folder << ": " << (r.completed ? "completed an interrupted change (" : "removed an unfinished change (")
              << r.files << (r.completed ? " file(s) moved into place)\n" : " temporary file(s) removed; nothing had changed)\n");
  return !done.empty();
}

int repair(const std::string& dir) {
  if (!report_repairs(dir)) std::cerr << "etcd-pki: " << dir << ": nothing to repair\n";
  return 0;
}

int rotate_ca(const RotateArgs& a) {
  if (a.step == "status") {
    if (a.same_key || !a.expiry.empty() || !a.csr.empty()) throw Error(Errc::usage, "only begin takes --same-key, --expiry and --csr", a.step);
    std::cout << render_text(rotation_status(a.dir));
    return 0;
  }
  if (a.step != "begin" && (a.same_key || !a.expiry.empty() || !a.csr.empty()))
    throw Error(Errc::usage, "only begin takes --same-key, --expiry and --csr", a.step);
  RotateOptions opt;
  opt.same_key = a.same_key;
  if (!a.expiry.empty()) {
    opt.expiry = duration_arg(a.expiry, "--expiry");
    if (opt.expiry->count() == 0) throw Error(Errc::usage, "must be positive", "--expiry");
  }
  if (!a.csr.empty()) opt.ca_request = Request::from_json(read_text_file(a.csr, Errc::input), a.csr);
  opt.passphrase = ca_passphrase(a.passphrase_file);
  opt.threads = a.threads;
  opt.on_verify = [](const VerifyReport& r, const char* when) {
    if (r.exit_code() != 0 || std::string(when) == "after")
      std::cerr << "etcd-pki: verify " << when << " " << "the step:\n" << render_text(r);
  };
  report_repairs(a.dir);
  RotateResult r = a.step == "begin" ? rotate_begin(a.dir, opt) : a.step == "reissue" ? rotate_reissue(a.dir, opt) : rotate_finish(a.dir, opt);
  print_warnings(r.warnings);
  std::cerr << "etcd-pki: rotate-ca " << a.step << ": " << r.written.size() << (a.step == "reissue" ? " pair(s) re-issued" : " file(s) written")
            << (r.retired.empty() ? "" : "; the old CA is in " + r.retired) << "\n";
  std::cout << "next: " << r.next << "\n";
  return 0;
}

int revoke(const RevokeArgs& a) {
  return naming_flags([&] { return revoke_serial(a); });
}

int crl(const CaArgs& a, const std::string& next_update) {
  return naming_flags([&] { return write_ca_crl(a, next_update); });
}

}  // namespace etcd_pki::cli
