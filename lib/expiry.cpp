#include "etcd_pki/expiry.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <string_view>
#include <nlohmann/json.hpp>

#include "etcd_pki/files.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/profile.hpp"
#include "parallel.hpp"
#include "json_fields.hpp"
#include "layout.hpp"
#include "prometheus.hpp"

namespace etcd_pki {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string guess_role(const std::string& path, const Certificate& cert) {
  return detail::to_string(detail::guess_role(path, cert));
}

bool ExpiryReport::due(const ExpiryEntry& e) const { return e.expires <= now + (e.role == "crl" ? crl_within : within); }

bool ExpiryReport::any_within() const {
  return std::any_of(entries.begin(), entries.end(), [&](const ExpiryEntry& e) { return due(e); });
}

namespace {

// A file that can hold certificates (layout's certificate names, and *.cer) or a CRL; not a key.
bool looks_like_pki_file(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  return (detail::is_certificate_name(name) || ext == ".cer" || ext == ".crl") && !detail::is_key_name(name);
}

// What the `ca` column shows: the issuer's CN, or its whole name when it has none.
std::string ca_column(const std::string& issuer_cn, const std::string& issuer) { return issuer_cn.empty() ? issuer : issuer_cn; }

// The files to read, in order: each path as given, a folder's files found below it (hidden names
// skipped, such as renew's backups in .etcd-pki) and sorted.
std::vector<std::string> list_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw Error(Errc::input, "no such file or folder", p);
    if (!fs::is_directory(st)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.empty() && name.front() == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && looks_like_pki_file(name)) found.push_back(it->path().string());
    }
    if (ec) throw Error(Errc::io, "cannot list the folder: " + ec.message(), p);
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// A CRL file's entry. A CRL without nextUpdate never goes stale: it is listed at the end of time.
ExpiryEntry crl_entry(const Crl& crl, const std::string& file) {
  ExpiryEntry e;
  e.file = file;
  e.role = "crl";
  e.expires = crl.next_update().value_or(TimePoint::max());
  e.subject = "CRL";
  e.issuer_cn = crl.issuer().common_name;
  e.ca = ca_column(e.issuer_cn, crl.issuer_string());
  e.not_before = crl.this_update();
  return e;
}

// The entry of a certificate in `file`, listed as `label` ("file#N" in a chain): the file's role for
// the first one in the file, "ca" or "leaf" for the others; "intermediate" for a CA that is not self-signed.
ExpiryEntry cert_entry(const Certificate& c, const std::string& file, const std::string& label, bool first_in_file) {
  ExpiryEntry e;
  e.file = label;
  e.role = first_in_file ? guess_role(file, c) : (c.is_ca() ? "ca" : "leaf");
  if (c.is_ca() && !c.self_signed()) e.role = "intermediate";  // a CA under another: expires on its own
  e.expires = c.not_after();
  e.subject = c.subject_string();
  e.issuer_cn = c.issuer().common_name;
  e.ca = ca_column(e.issuer_cn, c.issuer_string());
  e.not_before = c.not_before();
  e.serial = c.serial_decimal();
  e.subject_cn = c.subject().common_name;
  return e;
}

}  // namespace

ExpiryReport scan_expiry(const std::vector<std::string>& paths, Seconds within, std::optional<TimePoint> now, Seconds crl_within) {
  ExpiryReport report;
  report.now = now_or(now);
  report.within = within;
  report.crl_within = crl_within;
  std::vector<std::string> files = list_files(paths);
  // Read every file, parse each distinct content once (the CA is in every member folder), on all
  // cores; then list in file order.
  std::vector<std::string> contents(files.size());
  std::map<std::string_view, size_t> first_with;  // content -> first file index holding it
  std::vector<size_t> unique;
  for (size_t i = 0; i < files.size(); ++i) {
    contents[i] = read_text_file(files[i], Errc::input);
    if (first_with.emplace(contents[i], i).second) unique.push_back(i);
  }
  std::vector<std::vector<Certificate>> parsed(files.size());
  detail::parallel_for(unique.size(), 0, [&](size_t k) {
    size_t i = unique[k];
    parsed[i] = Certificate::all_from_pem(contents[i], files[i], Errc::input, Certificate::KeyDecoding::when_needed);
  });
  std::map<std::string, size_t> by_fingerprint;
  std::map<std::string, std::string> member_of_folder;  // the layout asked once per folder
  // A new entry from make() for `file`, unless `fingerprint` was seen: then `label` is a copy of that entry.
  auto add = [&](const std::string& fingerprint, const std::string& file, const std::string& label, auto make) {
    if (auto it = by_fingerprint.find(fingerprint); it != by_fingerprint.end()) {
      report.entries[it->second].copies.push_back(label);
      return;
    }
    by_fingerprint[fingerprint] = report.entries.size();
    ExpiryEntry e = make();
    // The CA and its CRL belong to the cluster, not to the member folder listed first.
    if (e.role != "ca" && e.role != "intermediate" && e.role != "crl") {
      auto [member, added] = member_of_folder.try_emplace(fs::path(file).parent_path().string());
      if (added) member->second = detail::member_name_of(file);
      e.member = member->second;
    }
    report.entries.push_back(std::move(e));
  };
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const std::string& f = files[fi];
    const std::string& data = contents[fi];
    const auto& certs = parsed[first_with.at(data)];
    if (certs.empty()) {
      bool is_crl = fs::path(f).extension() == ".crl" || data.find("-----BEGIN X509 CRL") != std::string::npos;
      if (!is_crl) {
        report.skipped.push_back(f);
        continue;
      }
      Crl crl = Crl::from_bytes(data, f);
      add(crl.sha256_fingerprint(), f, f, [&] { return crl_entry(crl, f); });
      continue;
    }
    for (size_t i = 0; i < certs.size(); ++i) {
      std::string label = certs.size() > 1 ? f + "#" + std::to_string(i + 1) : f;
      add(certs[i].sha256_fingerprint(), f, label, [&] { return cert_entry(certs[i], f, label, i == 0); });
    }
  }
  std::stable_sort(report.entries.begin(), report.entries.end(), [](auto& a, auto& b) { return a.expires < b.expires; });
  return report;
}

std::string render_text(const ExpiryReport& r) {
  std::vector<std::array<std::string, 6>> rows{{"", "NAME", "ROLE", "EXPIRES", "LEFT", "CA"}};
  for (const auto& e : r.entries) {
    std::string name = e.file + (e.copies.empty() ? "" : " (+" + std::to_string(e.copies.size()) + (e.copies.size() == 1 ? " copy)" : " copies)"));
    bool never = e.expires == TimePoint::max();
    std::string left = never ? "-" : e.expires <= r.now ? "EXPIRED " + format_span(r.now - e.expires) + " ago" : format_span(e.expires - r.now);
    rows.push_back({r.due(e) ? "!" : "", name, e.role, never ? "never" : format_rfc3339(e.expires), left, e.ca});
  }
  std::array<size_t, 6> width{};
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += row[i] + (i + 1 < row.size() ? std::string(width[i] - row[i].size() + 2, ' ') : "");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  size_t soon = static_cast<size_t>(std::count_if(r.entries.begin(), r.entries.end(), [&](auto& e) { return r.due(e); }));
  out += std::to_string(r.entries.size()) + " certificate(s) and CRL(s); " + std::to_string(soon) + " due (certificates expiring within " +
         format_span(r.within) + ", CRLs due for update within " + format_span(r.crl_within) + ")\n";
  return out;
}

std::string render_json(const ExpiryReport& r) {
  Json j;
  j["now"] = format_rfc3339(r.now);
  j["within_seconds"] = r.within.count();
  j["crl_within_seconds"] = r.crl_within.count();
  j["any_within"] = r.any_within();
  Json list = Json::array();
  for (const auto& e : r.entries) {
    bool never = e.expires == TimePoint::max();
    Json item{{"file", e.file}, {"copies", e.copies}, {"role", e.role}, {"subject", e.subject}, {"ca", e.ca}};
    item["expires"] = never ? Json() : Json(format_rfc3339(e.expires));
    item["seconds_left"] = never ? Json() : Json((e.expires - r.now).count());
    item["within"] = r.due(e);
    list.push_back(item);
  }
  j["entries"] = list;
  j["skipped"] = r.skipped;
  return detail::json_text(j) + "\n";
}

std::string render_prometheus(const ExpiryReport& r) {
  std::vector<const ExpiryEntry*> certs, crls;
  for (const auto& e : r.entries) (e.role == "crl" ? crls : certs).push_back(&e);
  for (auto* list : {&certs, &crls}) std::sort(list->begin(), list->end(), [](auto* a, auto* b) { return a->file < b->file; });
  // Entries are distinct (file, position in the file) pairs, so `filepath` alone makes each series unique.
  auto labels = [](const ExpiryEntry& e) {
    return detail::MetricLabels{{"subject_CN", e.subject_cn}, {"issuer_CN", e.issuer_cn}, {"serial_number", e.serial},
                                {"filepath", e.file},         {"member", e.member},       {"role", e.role}};
  };
  auto unix_seconds = [](TimePoint t) {
    return t == TimePoint::max() ? std::numeric_limits<double>::infinity() : static_cast<double>(t.time_since_epoch().count());
  };
  detail::Metrics m;
  m.family("x509_cert_not_after", "The certificate's notAfter, Unix seconds");
  for (auto* e : certs) m.sample(labels(*e), unix_seconds(e->expires));
  m.family("x509_cert_not_before", "The certificate's notBefore, Unix seconds");
  for (auto* e : certs) m.sample(labels(*e), unix_seconds(e->not_before));
  m.family("x509_cert_expired", "1 when the certificate had expired when etcd-pki read it (after its notAfter), else 0");
  for (auto* e : certs) m.sample(labels(*e), r.now > e->expires ? 1 : 0);
  m.family("x509_crl_next_update", "The CRL's nextUpdate, Unix seconds (+Inf when it has none)");
  for (auto* e : crls) m.sample(labels(*e), unix_seconds(e->expires));
  return m.text();
}

}  // namespace etcd_pki
