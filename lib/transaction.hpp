#pragma once
// Private: a change of several files as one transaction with a single commit point, and the
// recovery of a change that a fault or a kill interrupted.
//
//   stage     every new file (and every replaced file's new content) is written to a temp file
//             next to its destination, each new symlink made at a temp name; missing folders are
//             made. Before that, a "prepared" journal naming every temp and folder is written to
//             the journal folder (layout.hpp: journal_file), so that a killed run's leftovers can
//             be removed.
//   commit    the temps are made durable (syncfs), then the journal is rewritten as "committed"
//             and fsynced: from here the change happens, whatever comes.
//   apply     each temp is renamed over its destination, in staging order; the folders are
//             synced; the journal is removed.
//
// A fault before the commit point removes the temps, the folders made and the journal: nothing
// changed. A fault after it is retried once at once; if the change still cannot be completed the
// journal stays, and recover() (the next etcd-pki run on the folder, or `etcd-pki repair`)
// completes it. recover() removes a "prepared" journal's leftovers instead: a run killed before
// its commit point changed nothing.
#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace etcd_pki::detail {


class Transaction {
 public:
  // `journal_dir` holds the journal (an existing folder); folders made for staged files get
  // `dir_mode`. The caller holds the FolderLocks of every folder it stages into, and of
  // `journal_dir`.
  Transaction(std::string journal_dir, mode_t dir_mode);
  ~Transaction();  // not committed: rolled back
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // What the change does, in order. `replace`: the destination may exist (it is then replaced),
  // else it must not (Errc::exists when it appears before the commit).
  // Running as root, the file (and a folder made for it) gets `owner`'s owner and group.
  void add_file(std::string path, std::string content, mode_t mode, bool replace, const struct stat* owner = nullptr);
  void add_symlink(std::string target, std::string path);

  // Writes the prepared journal and every temp (nothing visible changes); then commits and
  // applies. Errc::io with the folder's state in the message on failure.
  void commit();

 private:
  struct Entry {
    std::string path, tmp, content, link_target;
    mode_t mode = 0644;
    bool symlink = false, replace = true;
    bool made = false;                  // the temp exists
    std::optional<struct stat> owner;  // running as root: the file's owner and group
  };
  std::string journal_text(const char* state);
  std::set<std::string> folders() const;  // the journal's and every destination's
  void stage();
  void apply();
  bool roll_back() noexcept;

  std::string journal_dir_;
  mode_t dir_mode_;
  std::vector<Entry> entries_;
  std::vector<std::string> made_dirs_;
  std::string committed_tmp_, journal_body_;
  bool committed_made_ = false;
  bool journal_written_ = false, committed_ = false;
};

// What recover() found and did.
struct Recovery {
  enum class Kind { none, rolled_forward, rolled_back } kind = Kind::none;
  size_t files = 0;  // files moved into place (forward) or temps removed (back)
};

// The journal folder of a change touching `paths` (`journal_dir` when given, else their deepest
// common folder: journal_dir_for), with an interrupted change found there completed first: what
// is there is read after that.
std::string recovered_journal_dir(const std::vector<std::string>& paths, const std::string& journal_dir = {});

// Finishes or undoes the change a journal in `journal_dir` describes, holding the folders' locks.
// Errc::io when it cannot (the journal then stays).
Recovery recover(const std::string& journal_dir);

}  // namespace etcd_pki::detail
