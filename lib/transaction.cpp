#include "transaction.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "etcd_pki/files.hpp"
#include "fileio.hpp"
#include "layout.hpp"

namespace etcd_pki::detail {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string absolute(const std::string& p) {
  std::error_code ec;
  auto a = fs::absolute(p, ec);
  std::string out = ec ? p : a.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool present(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

std::string journal_path(const std::string& dir) { return dir + "/" + std::string(journal_file); }

}  // namespace

Transaction::Transaction(std::string journal_dir, mode_t dir_mode) : journal_dir_(std::move(journal_dir)), dir_mode_(dir_mode) {}

Transaction::~Transaction() {
  if (!committed_) roll_back();
}

void Transaction::add_file(std::string path, std::string content, mode_t mode, bool replace, const struct stat* owner) {
  entries_.push_back(Entry{std::move(path), {}, std::move(content), {}, mode, false, replace, false,
                           owner ? std::optional<struct stat>(*owner) : std::nullopt});
}

void Transaction::add_symlink(std::string target, std::string path) {
  entries_.push_back(Entry{std::move(path), {}, {}, std::move(target), 0777, true, true, false, std::nullopt});
}

std::set<std::string> Transaction::folders() const {
  std::set<std::string> dirs{journal_dir_};
  for (const auto& e : entries_) dirs.insert(parent_dir(e.path));
  return dirs;
}

// The journal's JSON: every path absolute (a later run may start elsewhere). The moves and folders
// are the same in both journals: built once.
std::string Transaction::journal_text(const char* state) {
  if (journal_body_.empty()) {
    std::map<std::string, std::string> absolute_dir;  // thousands of files share a few folders
    auto abs = [&](const std::string& p) {
      std::string dir = parent_dir(p);
      auto it = absolute_dir.find(dir);
      if (it == absolute_dir.end()) it = absolute_dir.emplace(dir, absolute(dir)).first;
      return it->second + "/" + fs::path(p).filename().string();
    };
    Json moves = Json::array();
    for (const auto& e : entries_) moves.push_back({{"tmp", abs(e.tmp)}, {"path", abs(e.path)}});
    Json dirs = Json::array();
    for (const auto& d : made_dirs_) dirs.push_back(absolute(d));
    journal_body_ = Json{{"moves", moves}, {"dirs", dirs}}.dump();
  }
  return std::string(R"({"state":")") + state + "\"," + journal_body_.substr(1) + "\n";
}

// The folders first (so that the journal can name them), the prepared journal, then every temp.
// The prepared journal is not synced: it only serves to clean up after a killed run.
void Transaction::stage() {
  for (auto& e : entries_) e.tmp = temp_name(e.path);
  std::set<std::string> dirs_done;
  for (const auto& e : entries_) {
    if (!dirs_done.insert(parent_dir(e.path)).second) continue;
    size_t before = made_dirs_.size();
    make_dirs(parent_dir(e.path), dir_mode_, made_dirs_);
    if (e.owner && ::geteuid() == 0)
      for (size_t i = before; i < made_dirs_.size(); ++i) (void)::chown(made_dirs_[i].c_str(), e.owner->st_uid, e.owner->st_gid);
  }
  // The journal is the first file made in the folder: a folder where nothing can be written is
  // named by the first file that was to go there.
  write_new_file(journal_path(journal_dir_), journal_text("prepared"), 0600, false, nullptr, entries_.front().path);
  journal_written_ = true;
  for (auto& e : entries_) {
    if (!e.replace && present(e.path)) throw Error(Errc::exists, "already exists; not overwritten", e.path);
    if (e.symlink) {
      if (::symlink(e.link_target.c_str(), e.tmp.c_str()) != 0)
        throw Error(Errc::io, "cannot create a symlink: " + errno_text(errno), e.path);
    } else {
      write_new_file(e.tmp, e.content, e.mode, false, e.owner ? &*e.owner : nullptr, e.path);
    }
    e.made = true;
  }
}

void Transaction::apply() {
  const std::set<std::string> dirs = folders();
  for (auto& e : entries_) {
    // One retry at once: a failed rename (EIO, a full journal) is often a passing fault.
    if (::rename(e.tmp.c_str(), e.path.c_str()) != 0 && ::rename(e.tmp.c_str(), e.path.c_str()) != 0)
      throw Error(Errc::io, "cannot move " + e.path + " into place: " + errno_text(errno) + "; the change is committed but incomplete",
                  journal_dir_)
          .with_hint(Hint::repair);
  }
  try {
    try {
      sync_filesystems(dirs);
    } catch (const Error&) {
      sync_filesystems(dirs);  // once more at once, as for the renames
    }
  } catch (const Error& e) {  // every file is in place; the journal stays until the sync is done
    throw Error(Errc::io, e.message() + "; the change is complete but not yet durable", journal_dir_).with_hint(Hint::repair);
  }
  std::string journal = journal_path(journal_dir_);
  if (::unlink(journal.c_str()) != 0 && ::unlink(journal.c_str()) != 0)
    throw Error(Errc::io, "cannot remove the journal " + journal + ": " + errno_text(errno) + "; the change is complete",
                journal_dir_)
        .with_hint(Hint::repair);
}

// The commit point is the rename of the committed journal over the prepared one: its content and
// every temp are durable before it (one syncfs), and every rename into place comes after it.
void Transaction::commit() {
  if (entries_.empty()) return;
  std::string journal = journal_path(journal_dir_);
  try {
    stage();
    committed_tmp_ = temp_name(journal);
    write_new_file(committed_tmp_, journal_text("committed"), 0600, false, nullptr, entries_.front().path);
    committed_made_ = true;
    sync_filesystems(folders());
    if (::rename(committed_tmp_.c_str(), journal.c_str()) != 0) throw Error(Errc::io, "cannot commit: " + errno_text(errno), journal);
  } catch (const Error& e) {
    if (roll_back()) throw Error(e.category(), e.message() + " (nothing changed)", e.source(), e.field()).with_hint(e.hint());
    throw Error(e.category(), (e.source().empty() ? "" : e.source() + ": ") + e.message() +
                                  " (nothing changed, but its temporary files are left)", journal_dir_)
        .with_hint(Hint::repair);
  }
  committed_ = true;
  apply();
}

// Removes the temps, then the folders made and the journal. False when a temp could not be
// removed: the journal then stays, for recover() to finish the clean-up.
bool Transaction::roll_back() noexcept {
  bool clean = true;
  auto remove = [&](const std::string& p) {
    if (!p.empty() && ::unlink(p.c_str()) != 0 && errno != ENOENT) clean = false;
  };
  for (const auto& e : entries_)
    if (e.made) remove(e.tmp);
  if (committed_made_) remove(committed_tmp_);
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it) ::rmdir(it->c_str());
  if (journal_written_ && clean) remove(journal_path(journal_dir_));
  made_dirs_.clear();
  journal_written_ = false;
  return clean;
}

namespace {

// A journal's temps moved into place (committed) or removed (prepared); the folders a prepared
// change made are removed when empty.
size_t replay(const Json& j, bool forward) {
  size_t done = 0;
  for (const auto& m : j.at("moves")) {
    std::string tmp = m.at("tmp"), dst = m.at("path");
    if (!present(tmp)) continue;  // moved already, or never made
    if (forward ? ::rename(tmp.c_str(), dst.c_str()) != 0 : ::unlink(tmp.c_str()) != 0)
      throw Error(Errc::io, std::string("cannot ") + (forward ? "complete" : "undo") + " an interrupted change: " + errno_text(errno),
                  forward ? dst : tmp);
    ++done;
  }
  if (!forward) {
    std::vector<std::string> made = j.at("dirs");
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
  }
  return done;
}

// The committed journal's temp left by a run killed before its commit point.
void remove_journal_temps(const std::string& journal_dir) {
  std::string prefix = "." + std::string(journal_file) + ".tmp-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(journal_dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) ::unlink(e.path().c_str());
}

// The journal, or null when it is not one this code wrote whole: a prepared journal cut short
// (no temp was made yet), or anything else under that name.
Json read_journal(const std::string& path) {
  Json j;
  try {
    j = Json::parse(read_text_file(path, Errc::io));
  } catch (const Json::exception&) {
    return nullptr;
  }
  auto strings = [](const Json& a, std::initializer_list<const char*> keys) {
    return std::all_of(a.begin(), a.end(), [&](const Json& m) {
      return keys.size() == 0 ? m.is_string()
                              : m.is_object() && std::all_of(keys.begin(), keys.end(), [&](const char* k) {
                                  return m.contains(k) && m[k].is_string();
                                });
    });
  };
  bool whole = j.is_object() && j.contains("state") && j["state"].is_string() && j.contains("moves") && j["moves"].is_array() &&
               j.contains("dirs") && j["dirs"].is_array() && strings(j["moves"], {"tmp", "path"}) && strings(j["dirs"], {});
  if (!whole) return nullptr;
  // Each temp is the one write_files makes for its destination: .NAME.tmp-... next to it. A
  // journal naming anything else is not followed.
  for (const auto& m : j["moves"]) {
    fs::path tmp(m["tmp"].get<std::string>()), dst(m["path"].get<std::string>());
    if (tmp.parent_path() != dst.parent_path() || tmp.filename().string().rfind("." + dst.filename().string() + ".tmp-", 0) != 0)
      return nullptr;
  }
  return j;
}

// The journal's folder and every existing folder its moves go to, for one FolderLocks (all at
// once, in its order: no deadlock with a writer holding some of them).
std::vector<std::string> journal_folders(const std::string& journal_dir, const Json& j) {
  std::vector<std::string> out{journal_dir};
  if (j.is_object())
    for (const auto& m : j.at("moves"))
      if (std::string d = parent_dir(m.at("path").get<std::string>()); present(d)) out.push_back(d);
  return out;
}

}  // namespace

std::string recovered_journal_dir(const std::vector<std::string>& paths, const std::string& journal_dir) {
  std::string journal = journal_dir.empty() ? journal_dir_for(paths) : journal_dir;
  recover(journal);
  return journal;
}

Recovery recover(const std::string& journal_dir) {
  std::string path = journal_path(journal_dir);
  if (!present(path)) return {};
  Json j = read_journal(path);
  FolderLocks locks(journal_folders(journal_dir, j));
  if (!present(path)) return {};      // another run recovered it meanwhile
  if (read_journal(path) != j) return recover(journal_dir);  // or replaced it: start again
  Recovery r;
  bool forward = j.is_object() && j.value("state", "") == "committed";
  r.kind = forward ? Recovery::Kind::rolled_forward : Recovery::Kind::rolled_back;
  if (j.is_object()) {
    r.files = replay(j, forward);
    auto dirs = journal_folders(journal_dir, j);
    sync_filesystems({dirs.begin(), dirs.end()});
  }
  remove_journal_temps(journal_dir);
  if (::unlink(path.c_str()) != 0) throw Error(Errc::io, "cannot remove the journal: " + errno_text(errno), path);
  fsync_dir(journal_dir);
  return r;
}

}  // namespace etcd_pki::detail

namespace etcd_pki {

std::vector<Repair> repair_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(Errc::usage, "not a folder", dir);
  std::vector<std::string> folders{dir};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    // Two levels hold every journal etcd-pki writes (OUT/MEMBER/etcd); hidden folders hold renew's
    // generations.
    if (it.depth() >= 1 || it->path().filename().string().front() == '.') it.disable_recursion_pending();
    if (it->path().filename().string().front() != '.') folders.push_back(it->path().string());
  }
  std::sort(folders.begin() + 1, folders.end());
  std::vector<Repair> out;
  for (const auto& f : folders) {
    detail::Recovery r = detail::recover(f);
    if (r.kind != detail::Recovery::Kind::none)
      out.push_back(Repair{f, r.kind == detail::Recovery::Kind::rolled_forward, r.files});
  }
  return out;
}

}  // namespace etcd_pki
