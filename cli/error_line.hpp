#pragma once
// The CLI's one error line. The library's messages name no flag; an error's hint (error.hpp) says
// what the user may do, and this adds the flag that does it.
#include <string>

#include "etcd_pki/error.hpp"

namespace etcd_pki::cli {

// " (use --force to replace it)" and the like; "" for Hint::none.
inline const char* flag_hint(Hint hint) {
  switch (hint) {
    case Hint::none: return "";
    case Hint::replace: return " (use --force to replace it)";
    case Hint::new_ca: return "; use --force to make a new CA";
    case Hint::reissue: return "; use --force to re-issue it";
    case Hint::passphrase: return " (--passphrase-file FILE or ETCD_PKI_CA_PASSPHRASE)";
    case Hint::trust: return "; give --ca";
    case Hint::repair: return "; interrupted: run `etcd-pki repair` on the folder";
  }
  return "";
}

// "etcd-pki: error: SOURCE: FIELD: MESSAGE" and the flag for its hint, without the line ending.
// An interrupted change names its folder (the error's source): "; interrupted: run `etcd-pki repair DIR`".
inline std::string error_line(const Error& e) {
  if (e.hint() == Hint::repair)
    return std::string("etcd-pki: error: ") + e.what() + "; interrupted: run `etcd-pki repair " + e.source() + "`";
  return std::string("etcd-pki: error: ") + e.what() + flag_hint(e.hint());
}

}  // namespace etcd_pki::cli
