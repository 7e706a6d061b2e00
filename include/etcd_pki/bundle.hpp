#pragma once
// Stage 6 of the pipeline: what was made, written out. NAME.pem (0644), NAME-key.pem (0600,
// created with that mode), NAME.csr (0644), all or none (temp file, fsync, rename), or cfssl's
// JSON on stdout.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/key.hpp"

namespace etcd_pki {

// What make_ca, issue and sign_csr made, as objects; PEM is written only at the edge
// (to_pem, to_cfssl_json, bundle_files).
struct Bundle {
  std::optional<Certificate> certificate;
  std::optional<Csr> csr;
  std::optional<KeyPair> key;
  std::vector<std::string> warnings;
};

// PEM text as cfssl prints it and cfssljson reads it: a rendered Bundle, or what
// from_cfssl_json found (text someone else made, passed on unparsed).
struct CfsslOutput {
  std::optional<std::string> cert, csr, key;
};

// The bundle's objects as PEM; the key is encrypted (KeyPair::to_pem_encrypted) when a
// passphrase is given.
CfsslOutput to_pem(const Bundle& bundle, const Passphrase& key_passphrase = {});

// {"cert":"...","csr":"...","key":"..."}: one line, keys sorted, only those present, Go's JSON
// escaping, then "\n" (what cfssl gencert prints).
std::string to_cfssl_json(const CfsslOutput& pem);
std::string to_cfssl_json(const Bundle& bundle);

// Reads what cfssl prints, as cfssljson does: with `bare`, the {"cert","csr","key"} map (also
// "certificate", "certificate_request", "private_key"); without, the API envelope
// {"success":true,"result":{...}}. A failed envelope or bad JSON is Errc::input. The PEM text is
// returned as given (not parsed).
CfsslOutput from_cfssl_json(std::string_view text, bool bare, const std::string& source = "stdin");

struct OutputFile {
  std::string path;
  std::string content;
  mode_t mode = 0644;
  bool replace = false;  // may replace an existing file even without `overwrite` (derived files)
};

// The files of a bundle: DIR/BASE.pem, DIR/BASE-key.pem, DIR/BASE.csr (those present).
std::vector<OutputFile> bundle_files(const CfsslOutput& pem, const std::string& dir, const std::string& base);
std::vector<OutputFile> bundle_files(const Bundle& bundle, const std::string& dir, const std::string& base);

// The key next to a certificate, by the naming of cfssl and kubeadm: NAME.pem -> NAME-key.pem,
// NAME.crt -> NAME.key.
std::string key_path_for_cert(const std::string& cert_path);

// Writes every file or none, holding the FolderLocks of the files' folders throughout. Each goes to a
// temp file in its folder, created with O_EXCL and
// its final mode (a key is never readable by others, not even briefly), written and fsynced;
// then all are renamed into place and the folders fsynced. Without `overwrite`, an existing
// path (unless the file says `replace`) is an Errc::exists error before anything is written.
// Missing folders are created with `dir_mode`.
// On failure, temp files are removed and no path is left half-written.
void write_files(const std::vector<OutputFile>& files, bool overwrite, mode_t dir_mode = 0755);

// Replaces a certificate and its key (in the same folder) so that the pair switches at one
// instant: both paths become symlinks into DIR/.etcd-pki/CERT.current, a symlink to a generation
// folder (CERT.NNNNNN-TIMESTAMP) holding the pair; the new pair is written and synced in a new
// generation, then CERT.current is renamed over in one step. On first use, regular files are
// first moved into a generation of their own (hard links, content unchanged at every step).
// The previous generation is kept as the backup; older ones are removed. A reader that opens the
// files never sees a new certificate with an old key (etcd reads the certificate first).
// New files keep the old files' owner (when running as root). Returns the backup folder.
// Errc::io on failure (Errc::usage for a key outside the certificate's folder); the old pair then
// stays in place.
std::string replace_pair(const OutputFile& cert, const OutputFile& key);

// An exclusive advisory lock (flock) on `path`, a folder or a file (created 0600 when missing),
// held until destroyed. Waits for another holder: another process, or another thread of this
// one. A thread that already holds the lock on the same folder or file (an outer FileLock or
// FolderLocks) takes it again for free. Errc::io when it cannot be opened.
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;  // -1 for a lock this thread already held
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// Locks on several folders for the span of a read-check-write, so that two etcd-pki processes
// (or threads) writing the same folder take turns. Taken in (device, inode) order, so holders of
// overlapping sets never deadlock. With `create_mode`, missing folders are created first (with
// that mode) and removed again at release if they are still empty: a failed run leaves no empty
// folder behind. write_files, replace_pair, renew and build_cluster take them.
class FolderLocks {
 public:
  explicit FolderLocks(const std::vector<std::string>& dirs, std::optional<mode_t> create_mode = std::nullopt);
  ~FolderLocks();
  FolderLocks(const FolderLocks&) = delete;
  FolderLocks& operator=(const FolderLocks&) = delete;

 private:
  void release() noexcept;
  std::vector<std::unique_ptr<FileLock>> locks_;
  std::vector<std::string> made_;
};

// Reads a whole file ("-": standard input, named "stdin" in errors), at most 16 MiB (more is
// Error(category), read no further); a missing or unreadable file is Error(category) naming the path.
std::string read_text_file(const std::string& path, Errc category = Errc::io);

}  // namespace etcd_pki
