// Durable, all-or-nothing file output and file input.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <ctime>
#include <memory>
#include <set>
#include <tuple>

#include "etcd_pki/files.hpp"
#include "fileio.hpp"
#include "layout.hpp"
#include "transaction.hpp"

namespace etcd_pki::detail {

std::string errno_text(int err) { return std::strerror(err); }

std::string parent_dir(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

// Creates `dir` and its missing parents; each folder it makes is appended to `made`.
void make_dirs(const std::string& dir, mode_t mode, std::vector<std::string>& made) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  auto parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) make_dirs(parent.string(), mode, made);
  if (::mkdir(dir.c_str(), mode) == 0) {
    ::chmod(dir.c_str(), mode);  // the exact mode, whatever the umask; only on a folder made here
    made.push_back(dir);
    return;
  }
  int err = errno;
  if (err == EEXIST && std::filesystem::is_directory(dir, ec)) return;  // made meanwhile
  throw Error(Errc::io, err == EEXIST ? "exists and is not a folder" : "cannot create the folder: " + errno_text(err), dir);
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// syncfs(2) once for each file system holding one of `dirs`.
void sync_filesystems(const std::set<std::string>& dirs) {
  std::set<dev_t> done;
  for (const auto& d : dirs) {
    struct stat st;
    if (::stat(d.c_str(), &st) != 0 || !done.insert(st.st_dev).second) continue;
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw Error(Errc::io, "cannot open the folder to sync it: " + errno_text(errno), d);
    int rc = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) throw Error(Errc::io, "cannot sync: " + errno_text(err), d);
  }
}

std::string temp_name(const std::string& path) {
  unsigned char rnd[6];
  if (RAND_bytes(rnd, sizeof rnd) != 1) throw Error(Errc::crypto, "RAND_bytes failed");
  static const char* hex = "0123456789abcdef";
  std::string suffix;
  for (unsigned char c : rnd) suffix += hex[c >> 4], suffix += hex[c & 15];
  std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".tmp-" + suffix)).string();
}

void write_all(int fd, const std::string& content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(Errc::io, "cannot write: " + errno_text(errno), path);
    done += static_cast<size_t>(n);
  }
}

// Creates `path` (which must not exist) with `mode` (and, as root, `owner`'s owner), writes
// `content` and, with `sync`, fsyncs it; removed again on failure.
void write_new_file(const std::string& path, const std::string& content, mode_t mode, bool sync, const struct stat* owner,
                    const std::string& for_path) {
  const std::string& shown = for_path.empty() ? path : for_path;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw Error(Errc::io, (for_path.empty() ? "cannot create: " : "cannot create a file here: ") + errno_text(errno), shown);
  try {
    if (::fchmod(fd, mode) != 0) throw Error(Errc::io, "cannot set the mode: " + errno_text(errno), shown);
    if (owner && ::geteuid() == 0) (void)::fchown(fd, owner->st_uid, owner->st_gid);
    write_all(fd, content, shown);
    if (sync && ::fsync(fd) != 0) throw Error(Errc::io, "cannot sync: " + errno_text(errno), shown);
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    throw Error(Errc::io, "cannot write: " + errno_text(err), shown);
  }
}

std::string journal_dir_for(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path common;
  for (const auto& path : paths) {
    fs::path dir = fs::absolute(parent_dir(path), ec).lexically_normal();
    if (common.empty()) {
      common = dir;
      continue;
    }
    fs::path shared;
    for (auto a = common.begin(), b = dir.begin(); a != common.end() && b != dir.end() && *a == *b; ++a, ++b) shared /= *a;
    common = shared;
  }
  std::string out = common.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  // Never a journal at the root of the file system: then the first file's folder (its journal is
  // found by the command that wrote it, which names the same files).
  if (out.empty() || out == "/") return parent_dir(paths.front());
  return out;
}

}  // namespace etcd_pki::detail

namespace etcd_pki {

using namespace detail;

namespace {

// Removes the temp files and (emptied) new folders it holds unless cleared: a failed call leaves
// the tree as it was.
struct Undo {
  std::vector<std::string> temps, dirs;
  ~Undo() {
    for (const auto& p : temps)
      if (!p.empty()) ::unlink(p.c_str());
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  }
};

// The checks before anything is written: an existing path needs `overwrite` or the file's
// `replace`, and must not be a folder.
void check_existing(const std::vector<OutputFile>& files, bool overwrite) {
  for (const auto& f : files) {
    struct stat st;
    if (::lstat(f.path.c_str(), &st) != 0) continue;
    if (!overwrite && !f.replace) throw Error(Errc::exists, "already exists; not overwritten", f.path).with_hint(Hint::replace);
    if (S_ISDIR(st.st_mode)) throw Error(Errc::io, "is a folder", f.path);
  }
}

// One file: a temp file, fsynced, renamed into place (without `may_replace`, only where nothing
// is), the folder fsynced. One rename: nothing to journal.
void write_one(const OutputFile& f, bool may_replace, Undo& undo) {
  std::string tmp = temp_name(f.path);
  write_new_file(tmp, f.content, f.mode, true, nullptr, f.path);
  undo.temps.push_back(tmp);
  int rc = may_replace ? ::rename(tmp.c_str(), f.path.c_str())
                       : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, f.path.c_str(), RENAME_NOREPLACE);
  if (rc != 0) {
    int err = errno;
    if (err == EEXIST) throw Error(Errc::exists, "appeared while writing; not overwritten", f.path);
    throw Error(Errc::io, "cannot move into place: " + errno_text(err), f.path);
  }
  undo.temps.clear();
  fsync_dir(parent_dir(f.path));
}

}  // namespace

// Several files are one Transaction (transaction.hpp): staged next to their destinations, made
// durable with one syncfs per file system (one device flush instead of one per file), committed
// by the journal's rename, then renamed into place and synced again.
void write_files(const std::vector<OutputFile>& files, bool overwrite, mode_t dir_mode, const std::string& journal_dir) {
  if (files.empty()) return;
  std::set<std::string> seen;
  for (const auto& f : files)
    if (!seen.insert(f.path).second) throw Error(Errc::usage, "the same output path is given twice", f.path);
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  // An interrupted change first: it may touch these files.
  const std::string journal = files.size() == 1 ? std::string() : recovered_journal_dir(paths, journal_dir);
  std::set<std::string> dirs;
  for (const auto& f : files) dirs.insert(parent_dir(f.path));
  if (!journal.empty()) dirs.insert(journal);
  Undo undo;
  for (const auto& d : dirs) make_dirs(d, dir_mode, undo.dirs);
  // From the existence checks to the last rename, no other etcd-pki writes these folders.
  FolderLocks locks({dirs.begin(), dirs.end()});
  check_existing(files, overwrite);
  if (journal.empty()) {
    write_one(files.front(), overwrite || files.front().replace, undo);
  } else {
    Transaction tx(journal, dir_mode);
    for (const auto& f : files) tx.add_file(f.path, f.content, f.mode, overwrite || f.replace);
    tx.commit();
  }
  undo.dirs.clear();
}

namespace {
// The folders and files this thread holds a FileLock on: flock(2) locks belong to an open file
// description, so a second open of the same folder by the same thread would wait for itself.
thread_local std::set<std::pair<dev_t, ino_t>> t_held;
}  // namespace

FileLock::FileLock(const std::string& path) {
  for (;;) {
    std::error_code ec;
    int fd = std::filesystem::is_directory(path, ec) ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                                     : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw Error(Errc::io, "cannot open the lock file: " + errno_text(errno), path);
    struct stat held;
    if (::fstat(fd, &held) != 0) {
      int err = errno;
      ::close(fd);
      throw Error(Errc::io, "cannot lock: " + errno_text(err), path);
    }
    if (t_held.count({held.st_dev, held.st_ino})) {  // this thread holds it already
      ::close(fd);
      return;
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw Error(Errc::io, "cannot lock: " + errno_text(err), path);
    }
    // While this waited, the holder may have removed the folder (a failed run's new folder):
    // the lock must be on what `path` names now.
    struct stat now;
    if (::stat(path.c_str(), &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
      fd_ = fd;
      dev_ = held.st_dev;
      ino_ = held.st_ino;
      t_held.insert({dev_, ino_});
      return;
    }
    ::close(fd);
  }
}

FileLock::~FileLock() {
  if (fd_ < 0) return;
  t_held.erase({dev_, ino_});
  ::close(fd_);  // closing releases the lock
}

FolderLocks::FolderLocks(const std::vector<std::string>& dirs, std::optional<mode_t> create_mode) {
  try {
    std::vector<std::tuple<dev_t, ino_t, std::string>> order;
    for (const auto& d : dirs) {
      if (create_mode) make_dirs(d, *create_mode, made_);
      struct stat st;
      if (::stat(d.c_str(), &st) != 0) throw Error(Errc::io, "cannot open the folder: " + errno_text(errno), d);
      if (!S_ISDIR(st.st_mode)) throw Error(Errc::io, "is not a folder", d);
      order.emplace_back(st.st_dev, st.st_ino, d);
    }
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < order.size(); ++i)
      if (i == 0 || std::get<0>(order[i]) != std::get<0>(order[i - 1]) || std::get<1>(order[i]) != std::get<1>(order[i - 1]))
        locks_.push_back(std::make_unique<FileLock>(std::get<2>(order[i])));
  } catch (...) {
    release();
    throw;
  }
}

FolderLocks::~FolderLocks() { release(); }

void FolderLocks::release() noexcept {
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) ::rmdir(it->c_str());  // only if still empty
  made_.clear();
  while (!locks_.empty()) locks_.pop_back();
}

std::string read_text_file(const std::string& path_arg, Errc category) {
  const bool from_stdin = path_arg == "-";
  const std::string path = from_stdin ? "stdin" : path_arg;  // the name in messages
  int fd = from_stdin ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw Error(err == ENOENT ? category : Errc::io, "cannot read: " + errno_text(err), path);
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(Errc::io, "is a folder, not a file", path);
  }
  constexpr size_t kMax = 16 << 20;  // no input of this tool is anywhere near 16 MiB
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw Error(Errc::io, "cannot read: " + errno_text(err), path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMax) {
      ::close(fd);
      throw Error(category, "file too large (more than 16 MiB)", path);
    }
  }
  ::close(fd);
  return out;
}

}  // namespace etcd_pki

namespace etcd_pki {

namespace {

std::string base_name(const std::string& p) { return std::filesystem::path(p).filename().string(); }

void remove_tree(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

namespace detail {

// The generations of one pair in DIR/.etcd-pki: folders PAIR.NNNNNN-STAMP, and PAIR.current, a
// symlink to the one in use. The pair's files in DIR are symlinks to .etcd-pki/PAIR.current/NAME.
struct PairStore {
  std::string dir, store, pair, current;
  std::vector<std::string> gens;  // sorted
  long next = 1;

  PairStore(const std::string& folder, const std::string& cert_name)
      : dir(folder), store(folder + "/" + std::string(generations_dir)), pair(cert_name), current(store + "/" + cert_name + ".current") {}

  std::string link_target(const std::string& file) const { return std::string(generations_dir) + "/" + pair + ".current/" + file; }

  // Lists the pair's generations (none when there is no store yet).
  void open() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(store, ec)) {
      std::string n = e.path().filename().string();
      if (n.size() > pair.size() + 7 && n.compare(0, pair.size() + 1, pair + ".") == 0 &&
          std::isdigit(static_cast<unsigned char>(n[pair.size() + 1])))
        gens.push_back(n);
    }
    std::sort(gens.begin(), gens.end());
    next = gens.empty() ? 1 : std::stol(gens.back().substr(pair.size() + 1, 6)) + 1;
  }

  // The name of the next generation folder (made by the transaction that writes its files).
  std::string next_generation_name() {
    char stamp[32];
    std::time_t t = std::time(nullptr);
    struct tm tm {};
    gmtime_r(&t, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char num[16];
    std::snprintf(num, sizeof num, "%06ld", next++);
    std::string gen = pair + "." + num + "-" + stamp;
    gens.push_back(gen);
    return gen;
  }

  // Keeps the generation in use and the previous one (the backup).
  void prune(const std::string& in_use, const std::string& backup) {
    while (gens.size() > 2) {
      if (gens.front() != backup && gens.front() != in_use) remove_tree(store + "/" + gens.front());
      gens.erase(gens.begin());
    }
  }
};

namespace {

// Checks one file of the pair: a regular file (true: to be moved behind a symlink) or the symlink
// etcd-pki made (false). `st` gets the file's (or its target's) status.
bool check_pair_file(const std::string& path, const std::string& link_target, struct stat& st) {
  if (::lstat(path.c_str(), &st) != 0) throw Error(Errc::io, "cannot renew: " + errno_text(errno), path);
  if (S_ISREG(st.st_mode)) return true;
  if (!S_ISLNK(st.st_mode)) throw Error(Errc::io, "not a regular file; not replaced", path);
  std::error_code ec;
  auto target = std::filesystem::read_symlink(path, ec);
  if (ec || target.string() != link_target)
    throw Error(Errc::io, "is a symlink that etcd-pki did not make (to " + target.string() + "); not replaced", path);
  if (::stat(path.c_str(), &st) != 0) throw Error(Errc::io, "the file behind the symlink is missing: " + errno_text(errno), path);
  return false;
}

}  // namespace

PairSwap::PairSwap(OutputFile cert, OutputFile key) : cert_(std::move(cert)), key_(std::move(key)) {
  std::string dir = parent_dir(cert_.path);
  if (std::filesystem::path(parent_dir(key_.path)).lexically_normal() != std::filesystem::path(dir).lexically_normal())
    throw Error(Errc::usage, "the key must be in the certificate's folder to be replaced together with it", key_.path);
  store_ = std::make_shared<PairStore>(dir, base_name(cert_.path));
  migrate_ = check_pair_file(cert_.path, store_->link_target(base_name(cert_.path)), cert_st_);
  migrate_ = check_pair_file(key_.path, store_->link_target(base_name(key_.path)), key_st_) || migrate_;
  store_->open();
}

// A generation of its own for the pair as it is (content and modes unchanged), then the current
// symlink, then the key's and the certificate's symlinks: each step leaves a consistent pair.
void PairSwap::stage_move_behind_symlinks(Transaction& tx) {
  if (!migrate_) return;
  std::string gen = store_->next_generation_name(), gdir = store_->store + "/" + gen;
  tx.add_file(gdir + "/" + base_name(cert_.path), read_text_file(cert_.path), cert_st_.st_mode & 0777, false, &cert_st_);
  tx.add_file(gdir + "/" + base_name(key_.path), read_text_file(key_.path), key_st_.st_mode & 0777, false, &key_st_);
  tx.add_symlink(gen, store_->current);
  tx.add_symlink(store_->link_target(base_name(key_.path)), key_.path);
  tx.add_symlink(store_->link_target(base_name(cert_.path)), cert_.path);
  migrate_ = false;
}

// The new pair in a new generation, then the switch of the current symlink: one rename.
void PairSwap::stage_swap(Transaction& tx) {
  std::error_code ec;
  backup_ = std::filesystem::read_symlink(store_->current, ec).string();
  gen_ = store_->next_generation_name();
  std::string gdir = store_->store + "/" + gen_;
  tx.add_file(gdir + "/" + base_name(key_.path), key_.content, key_.mode, false, &key_st_);
  tx.add_file(gdir + "/" + base_name(cert_.path), cert_.content, cert_.mode, false, &cert_st_);
  tx.add_symlink(gen_, store_->current);
}

std::string PairSwap::backup() const { return backup_.empty() ? std::string() : store_->store + "/" + backup_; }

void PairSwap::prune() const { store_->prune(gen_, backup_); }

}  // namespace detail

std::string replace_pair(const OutputFile& cert, const OutputFile& key) {
  std::string dir = parent_dir(cert.path);
  FolderLocks lock({dir});
  detail::recover(dir);
  detail::PairSwap swap(cert, key);
  {
    detail::Transaction move(dir, 0700);
    swap.stage_move_behind_symlinks(move);
    move.commit();
  }
  detail::Transaction tx(dir, 0700);
  swap.stage_swap(tx);
  tx.commit();
  swap.prune();
  return swap.backup();
}

}  // namespace etcd_pki
