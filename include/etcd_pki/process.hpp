#pragma once
// Process-wide OpenSSL set-up for a program that runs one command and exits, such as the etcd-pki
// command line. Programs that link etcd-pki as a library do not need it.

namespace etcd_pki {

// Call first in main(), before any other etcd-pki or OpenSSL call. Two start-up costs that a
// short-lived process does not need are skipped (docs/performance.md, "Process start"):
//  - OpenSSL's configuration file is read only when the OPENSSL_CONF environment variable names
//    one. Debian's /usr/lib/ssl/openssl.cnf only sets TLS defaults, which etcd-pki does not use;
//    reading it costs about a tenth of an ECDSA init-ca. cfssl (Go) reads no OpenSSL file at all.
//  - OpenSSL's clean-up at exit (the process's memory goes back to the kernel anyway).
// Throws Error(Errc::crypto) if OpenSSL cannot be initialised.
void init_command_line_process();

}  // namespace etcd_pki
