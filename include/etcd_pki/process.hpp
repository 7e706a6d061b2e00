#pragma once
// Process-wide OpenSSL set-up for a program that runs one command and exits, such as the etcd-pki
// command line. Programs that link etcd-pki as a library do not need it.

namespace etcd_pki {

// Call first in main(), before any other etcd-pki or OpenSSL call. It skips start-up work that a
// short-lived process does not need (docs/performance.md, "Process start"); together these were
// half of an ECDSA init-ca's instructions:
//  - OpenSSL's clean-up at exit (the process's memory goes back to the kernel anyway);
//  - OpenSSL's configuration file, unless the OPENSSL_CONF environment variable names one (then it
//    is read and nothing below is changed). Debian's /usr/lib/ssl/openssl.cnf only sets TLS
//    defaults, which etcd-pki does not use; cfssl (Go) reads no OpenSSL file at all;
//  - the legacy table of cipher names;
//  - the random generator is SP 800-90A Hash_DRBG with SHA-256 instead of CTR_DRBG with AES-256,
//    whose set-up builds OpenSSL's table of every cipher. Both are seeded from the kernel.
// Throws Error(Errc::crypto) if OpenSSL cannot be initialised.
void init_command_line_process();

}  // namespace etcd_pki
