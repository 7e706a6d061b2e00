#pragma once
// Durable, all-or-nothing file output, locks, and bounded file input: the edge of the pipeline
// where what was made reaches the disk (bundle.hpp renders the files; cluster, renew and the CA
// index write through here).
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/error.hpp"

namespace etcd_pki {

struct OutputFile {
  std::string path;
  std::string content;
  mode_t mode = 0644;
  bool replace = false;  // may replace an existing file even without `overwrite` (derived files)
};

// Writes every file or none, holding the FolderLocks of the files' folders throughout. Each goes to a
// temp file in its folder, created with O_EXCL and its final mode (a key is never readable by
// others, not even briefly), written and made durable; then all are renamed into place and the
// folders synced. Without `overwrite`, an existing path (unless the file says `replace`) is an
// Errc::exists error before anything is written. Missing folders are created with `dir_mode`.
//
// Several files are one transaction with a single commit point: a journal in `journal_dir`
// (default: the files' deepest common folder) names every rename before the first one. A failure
// before it changes nothing (the message says "nothing changed"); after it, the renames are
// completed, or the error (Hint::repair, its source the journal's folder) says the change is
// interrupted, and repair_folder() — or the next write there — completes it.
void write_files(const std::vector<OutputFile>& files, bool overwrite, mode_t dir_mode = 0755,
                 const std::string& journal_dir = {});

// What repair_folder found and did in one folder.
struct Repair {
  std::string folder;
  bool completed = false;  // a committed change, completed (else an uncommitted one, removed)
  size_t files = 0;        // files moved into place, or temps removed
};
// Completes or removes the changes that interrupted etcd-pki runs left in `dir` and in the
// non-hidden folders two levels below it (a cluster folder's ca/, member folders and kubeadm's
// MEMBER/etcd). Errc::io when it cannot.
std::vector<Repair> repair_folder(const std::string& dir);

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
