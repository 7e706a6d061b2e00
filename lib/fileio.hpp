#pragma once
// Private: the POSIX file steps write_files, replace_pair and Transaction are made of (files.cpp).
#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcd_pki/files.hpp"

namespace etcd_pki::detail {

std::string errno_text(int err);
// The folder of `path`; "." for a bare file name.
std::string parent_dir(const std::string& path);
// Creates `dir` and its missing parents with `mode`; each folder it makes is appended to `made`.
void make_dirs(const std::string& dir, mode_t mode, std::vector<std::string>& made);
// fsync(2) of a folder, errors ignored (the data is in the files' own syncs).
void fsync_dir(const std::string& dir);
// syncfs(2) once for each file system holding one of `dirs`; Errc::io when one fails.
void sync_filesystems(const std::set<std::string>& dirs);
// A new hidden temp name next to `path`: DIR/.NAME.tmp-RANDOM.
std::string temp_name(const std::string& path);
// Writes all of `content` to `fd`; Errc::io naming `path`.
void write_all(int fd, const std::string& content, const std::string& path);
// Creates `path` (which must not exist) with `mode` (and, as root, `owner`'s owner), writes
// `content` and, with `sync`, fsyncs it; removed again on failure. Errors name `for_path` when
// given: the file a temp file is written for.
void write_new_file(const std::string& path, const std::string& content, mode_t mode, bool sync,
                    const struct stat* owner = nullptr, const std::string& for_path = {});
class Transaction;
struct PairStore;
// replace_pair's steps for a transaction (renew swaps every pair, the CA index and the MANIFESTs
// at one commit point). The caller holds the folder's lock.
class PairSwap {
 public:
  // Checks both files: regular files, or the symlinks etcd-pki made (Errc::io otherwise); the key
  // must be in the certificate's folder (Errc::usage).
  PairSwap(OutputFile cert, OutputFile key);
  // Regular files: stages their move behind etcd-pki's symlinks, content and modes unchanged (a
  // transaction of its own, committed before stage_swap). Nothing for symlinks already.
  void stage_move_behind_symlinks(Transaction& tx);
  // Stages the new pair in a new generation and the switch of its current symlink.
  void stage_swap(Transaction& tx);
  std::string backup() const;  // after stage_swap: the generation in use before, kept
  void prune() const;          // after the commit: removes the generations before the backup

 private:
  OutputFile cert_, key_;
  struct stat cert_st_ {}, key_st_ {};  // their modes and owners: the new files get the owners
  bool migrate_ = false;
  std::shared_ptr<PairStore> store_;
  std::string backup_, gen_;
};

// The folder a change of `files` keeps its journal in (transaction.hpp): their deepest common
// folder, unless that is "/" (then the first file's folder).
std::string journal_dir_for(const std::vector<std::string>& paths);

}  // namespace etcd_pki::detail
