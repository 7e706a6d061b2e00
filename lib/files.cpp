// Durable, all-or-nothing file output and file input.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "etcd_pki/bundle.hpp"

namespace etcd_pki {

namespace {

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

// Removes the temp files it holds unless released.
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

}  // namespace

void write_files(const std::vector<OutputFile>& files, bool overwrite, mode_t dir_mode) {
  std::set<std::string> seen;
  std::vector<bool> existed;
  for (const auto& f : files) {
    if (!seen.insert(f.path).second) throw Error(Errc::usage, "the same output path is given twice", f.path);
    struct stat st;
    existed.push_back(::lstat(f.path.c_str(), &st) == 0);
    if (existed.back()) {
      if (!overwrite && !f.replace) throw Error(Errc::exists, "already exists; not overwritten (use --force to replace it)", f.path);
      if (S_ISDIR(st.st_mode)) throw Error(Errc::io, "is a folder", f.path);
    }
  }
  std::set<std::string> dirs;
  for (const auto& f : files) dirs.insert(parent_dir(f.path));
  Undo undo;
  for (const auto& d : dirs) make_dirs(d, dir_mode, undo.dirs);

  for (const auto& f : files) {
    std::string tmp = temp_name(f.path);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, f.mode);
    if (fd < 0) throw Error(Errc::io, "cannot create a file here: " + errno_text(errno), f.path);
    undo.temps.push_back(tmp);
    try {
      if (::fchmod(fd, f.mode) != 0) throw Error(Errc::io, "cannot set the mode: " + errno_text(errno), f.path);
      write_all(fd, f.content, f.path);
      if (::fsync(fd) != 0) throw Error(Errc::io, "cannot sync: " + errno_text(errno), f.path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0) throw Error(Errc::io, "cannot write: " + errno_text(errno), f.path);
  }

  std::vector<std::string> placed;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& tmp = undo.temps[i];
    const std::string& dst = files[i].path;
    bool may_replace = overwrite || files[i].replace;
    int rc = may_replace ? ::rename(tmp.c_str(), dst.c_str())
                       : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE);
    if (rc != 0) {
      int err = errno;
      for (const auto& p : placed) ::unlink(p.c_str());  // undo the new files, so no partial set is left
      if (err == EEXIST) throw Error(Errc::exists, "appeared while writing; not overwritten", dst);
      throw Error(Errc::io, "cannot move into place: " + errno_text(err), dst);
    }
    if (!existed[i]) placed.push_back(dst);
    undo.temps[i].clear();
  }
  undo.temps.clear();
  undo.dirs.clear();
  for (const auto& d : dirs) fsync_dir(d);
}

std::string read_text_file(const std::string& path, Errc category) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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
