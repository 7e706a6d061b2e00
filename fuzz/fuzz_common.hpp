#pragma once
// Shared by the libFuzzer targets. The library's one documented way to fail is an
// etcd_pki::Error (error.hpp): every target catches exactly that and lets anything else escape,
// so another exception, a sanitizer report, a leak or a violated invariant is a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "etcd_pki/error.hpp"

namespace fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the run with a message: libFuzzer saves the input as a crash.
[[noreturn]] inline void violated(const char* invariant, std::string_view detail) {
  std::fprintf(stderr, "\nfuzz: invariant violated: %s\n  %.*s\n", invariant, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// What error.hpp promises about every Error: what() is one non-empty line, and the category is
// one of the documented exit codes (2-11).
inline void check_error(const etcd_pki::Error& e) {
  std::string_view w = e.what();
  if (w.empty()) violated("Error::what() is empty", "");
  if (w.find_first_of("\r\n") != std::string_view::npos) violated("Error::what() is not one line", w);
  if (e.exit_code() < 2 || e.exit_code() > 11) violated("Error category outside 2-11", w);
}

// Runs f. An etcd_pki::Error is a clean refusal (false); anything else propagates.
template <class F>
bool attempt(F&& f) {
  try {
    f();
    return true;
  } catch (const etcd_pki::Error& e) {
    check_error(e);
    return false;
  }
}

// Runs f, which must not fail at all: an Error here is a broken round trip.
template <class F>
void must(const char* invariant, F&& f) {
  try {
    f();
  } catch (const etcd_pki::Error& e) {
    violated(invariant, e.what());
  }
}

}  // namespace fuzz
