#include "go_x509.hpp"

#include <algorithm>

#include "ossl.hpp"

namespace etcd_pki::detail {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool dns_match(const std::string& pattern, const std::string& host) {
  std::string p = lower(pattern), h = lower(host);
  if (p == h) return true;
  if (p.rfind("*.", 0) == 0) {
    auto dot = h.find('.');
    return dot != std::string::npos && dot > 0 && h.substr(dot) == p.substr(1);
  }
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string joined;
  for (const auto& x : v) joined += (joined.empty() ? "" : ", ") + x;
  return joined;
}

}  // namespace

bool has_eku(const std::vector<std::string>& ekus, const char* oid) {
  return ekus.empty() || std::find(ekus.begin(), ekus.end(), oid) != ekus.end() ||
         std::find(ekus.begin(), ekus.end(), "2.5.29.37.0") != ekus.end();
}

std::optional<std::string> hostname_error(const Sans& sans, const std::string& host) {
  if (auto ip = parse_ip(host)) {
    if (std::any_of(sans.ip.begin(), sans.ip.end(), [&](const IpAddress& x) { return x == *ip; })) return std::nullopt;
    std::vector<std::string> ips;
    for (const auto& x : sans.ip) ips.push_back(x.to_string());
    return ips.empty() ? "x509: cannot validate certificate for " + host + " because it doesn't contain any IP SANs"
                       : "x509: certificate is valid for " + join(ips) + ", not " + host;
  }
  if (std::any_of(sans.dns.begin(), sans.dns.end(), [&](const std::string& d) { return dns_match(d, host); })) return std::nullopt;
  return sans.dns.empty() ? "x509: certificate is not valid for any names, but wanted to match " + host
                          : "x509: certificate is valid for " + join(sans.dns) + ", not " + host;
}

std::optional<TimeProblem> time_problem(const Certificate& c, TimePoint now, Seconds warn_within, const std::string& what) {
  const std::string go = "x509: certificate has expired or is not yet valid: current time " + format_rfc3339(now);
  if (c.not_before() > now)
    return TimeProblem{Severity::error, "not-yet-valid",
                       what + " is not valid until " + format_rfc3339(c.not_before()) + " (" + format_time_left(c.not_before(), now) +
                           "; clock skew?)",
                       go + " is before " + format_rfc3339(c.not_before())};
  if (c.not_after() < now)  // notAfter itself is still valid (RFC 5280, Go)
    return TimeProblem{Severity::error, "expired",
                       what + " expired on " + format_rfc3339(c.not_after()) + " (" + format_time_left(c.not_after(), now) + ")",
                       go + " is after " + format_rfc3339(c.not_after())};
  if (c.not_after() <= now + warn_within)
    return TimeProblem{Severity::warning, "expiring",
                       what + " expires on " + format_rfc3339(c.not_after()) + " (" + format_time_left(c.not_after(), now) + ")",
                       "none yet; after that: x509: certificate has expired or is not yet valid"};
  return std::nullopt;
}

ChainCheck check_chain(const std::vector<Certificate>& anchors, const Certificate& leaf, const std::vector<Certificate>& intermediates) {
  auto store = ossl::check<ossl::StorePtr>(X509_STORE_new(), "X509_STORE_new");
  auto untrusted = ossl::check<ossl::X509Stack>(sk_X509_new_null(), "sk_X509_new_null");
  for (const auto& c : anchors) X509_STORE_add_cert(store.get(), c.native_handle());
  for (const auto& c : intermediates) {
    X509_up_ref(c.native_handle());
    sk_X509_push(untrusted.get(), c.native_handle());
  }
  auto ctx = ossl::check<ossl::StoreCtx>(X509_STORE_CTX_new(), "X509_STORE_CTX_new");
  // native_handle(): the leaf read with its key (X509_verify_cert fails on an undecoded one); for
  // one read with KeyDecoding::when_needed that happens here, on the caller's thread.
  ossl::check(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native_handle(), untrusted.get()), "X509_STORE_CTX_init");
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
  ChainCheck out;
  if (X509_verify_cert(ctx.get()) == 1) {
    STACK_OF(X509)* got = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(got); ++i) out.chain.push_back(Certificate::from_native(sk_X509_value(got, i)));
  } else {
    out.failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  }
  ERR_clear_error();
  return out;
}

}  // namespace etcd_pki::detail
