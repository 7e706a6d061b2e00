#pragma once
// The one place the version is written; CMakeLists.txt reads it from here.
#define ETCD_PKI_VERSION_STRING "0.1.0"

namespace etcd_pki {
inline constexpr const char* version = ETCD_PKI_VERSION_STRING;
}  // namespace etcd_pki
