// transaction.hpp (private) and files.hpp's repair_folder: a change of several files commits at
// one point; a failure before it changes nothing; a journal left by a killed or failed run is
// completed (committed) or removed (prepared) by recover(), by repair_folder and by the next
// multi-file write.
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "etcd_pki/etcd_pki.hpp"
#include "layout.hpp"
#include "support.hpp"
#include "transaction.hpp"

using namespace etcd_pki;
using namespace test;
namespace fs = std::filesystem;

namespace {

// Every path below `dir` (files, folders, symlinks), relative.
std::set<std::string> tree(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

const std::string kJournal(detail::journal_file);

}  // namespace

TEST_CASE("Transaction: commits every file at once and leaves no journal", "[transaction]") {
  TempDir tmp;
  spit(tmp / "old.pem", "old");
  detail::Transaction tx(tmp.path(), 0700);
  tx.add_file(tmp / "old.pem", "new", 0644, true);
  tx.add_file(tmp / "m1/server.pem", "cert", 0644, false);
  tx.add_file(tmp / "m1/server-key.pem", "key", 0600, false);
  tx.add_symlink("server.pem", tmp / "m1/link.pem");
  tx.commit();
  CHECK(slurp(tmp / "old.pem") == "new");
  CHECK(slurp(tmp / "m1/server.pem") == "cert");
  CHECK(slurp(tmp / "m1/link.pem") == "cert");
  CHECK((fs::status(tmp / "m1/server-key.pem").permissions() & fs::perms::all) == fs::perms(0600));
  CHECK(tree(tmp.path()) == std::set<std::string>{"old.pem", "m1", "m1/server.pem", "m1/server-key.pem", "m1/link.pem"});
}

TEST_CASE("Transaction: a failure before the commit point changes nothing", "[transaction]") {
  TempDir tmp;
  spit(tmp / "a.pem", "before");
  const auto before = tree(tmp.path());
  SECTION("a file that cannot be made (name too long)") {
    detail::Transaction tx(tmp.path(), 0700);
    tx.add_file(tmp / "a.pem", "after", 0644, true);
    tx.add_file(tmp / "new/b.pem", "b", 0644, false);
    tx.add_file(tmp / (std::string(300, 'n') + ".pem"), "c", 0644, false);
    Error e = catch_error([&] { tx.commit(); });
    CHECK(e.category() == Errc::io);
    CHECK_THAT(e.message(), EndsWith("(nothing changed)"));
    CHECK(e.hint() == Hint::none);
  }
  SECTION("a destination that appeared") {
    spit(tmp / "b.pem", "someone else's");
    detail::Transaction tx(tmp.path(), 0700);
    tx.add_file(tmp / "a.pem", "after", 0644, true);
    tx.add_file(tmp / "b.pem", "mine", 0644, false);
    Error e = catch_error([&] { tx.commit(); });
    CHECK(e.category() == Errc::exists);
    CHECK(slurp(tmp / "b.pem") == "someone else's");
    fs::remove(tmp / "b.pem");
  }
  SECTION("not committed at all") {
    detail::Transaction tx(tmp.path(), 0700);
    tx.add_file(tmp / "a.pem", "after", 0644, true);
  }
  CHECK(slurp(tmp / "a.pem") == "before");
  CHECK(tree(tmp.path()) == before);  // no temp, no journal, no new folder
}

TEST_CASE("recover: a committed journal is completed, a prepared one removed", "[transaction]") {
  TempDir tmp;
  spit(tmp / "m1/server.pem", "old cert");
  spit(tmp / "m1/.server.pem.tmp-aaaaaaaaaaaa", "new cert");
  spit(tmp / "ca/.ca-index.txt.tmp-bbbbbbbbbbbb", "new index");
  auto journal = [&](const char* state) {
    return std::string(R"({"state":")") + state + R"(","moves":[)" + R"({"tmp":")" + tmp / "m1/.server.pem.tmp-aaaaaaaaaaaa" +
           R"(","path":")" + tmp / "m1/server.pem" + R"("},{"tmp":")" + tmp / "ca/.ca-index.txt.tmp-bbbbbbbbbbbb" +
           R"(","path":")" + tmp / "ca/ca-index.txt" + R"("}],"dirs":[")" + tmp / "ca" + R"("]})";
  };
  SECTION("committed: rolled forward, whatever was moved already") {
    fs::rename(tmp / "ca/.ca-index.txt.tmp-bbbbbbbbbbbb", tmp / "ca/ca-index.txt");  // killed between two renames
    spit(tmp / kJournal, journal("committed"));
    detail::Recovery r = detail::recover(tmp.path());
    CHECK(r.kind == detail::Recovery::Kind::rolled_forward);
    CHECK(r.files == 1);
    CHECK(slurp(tmp / "m1/server.pem") == "new cert");
    CHECK(slurp(tmp / "ca/ca-index.txt") == "new index");
    CHECK(tree(tmp.path()) == std::set<std::string>{"m1", "m1/server.pem", "ca", "ca/ca-index.txt"});
  }
  SECTION("prepared: the temps and the folders it made are removed") {
    spit(tmp / kJournal, journal("prepared"));
    spit(tmp / ("." + kJournal + ".tmp-cccccccccccc"), "a committed journal never renamed");
    detail::Recovery r = detail::recover(tmp.path());
    CHECK(r.kind == detail::Recovery::Kind::rolled_back);
    CHECK(r.files == 2);
    CHECK(slurp(tmp / "m1/server.pem") == "old cert");
    CHECK(tree(tmp.path()) == std::set<std::string>{"m1", "m1/server.pem"});
  }
  SECTION("a prepared journal cut short: removed") {
    spit(tmp / kJournal, journal("prepared").substr(0, 40));
    CHECK(detail::recover(tmp.path()).kind == detail::Recovery::Kind::rolled_back);
    CHECK_FALSE(fs::exists(tmp / kJournal));
    CHECK(slurp(tmp / "m1/server.pem") == "old cert");
  }
  SECTION("repair_folder finds it in a subfolder; write_files completes it before its own change") {
    spit(tmp / ("ca/" + kJournal), journal("committed"));
    std::vector<Repair> done = repair_folder(tmp.path());
    REQUIRE(done.size() == 1);
    CHECK(done[0].folder == tmp / "ca");
    CHECK(done[0].completed);
    CHECK(repair_folder(tmp.path()).empty());
    CHECK(slurp(tmp / "m1/server.pem") == "new cert");
  }
  SECTION("the next write of several files there completes it first") {
    spit(tmp / kJournal, journal("committed"));
    write_files({{tmp / "m1/server.pem", "newest", 0644, true}, {tmp / "m1/peer.pem", "peer", 0644, false}}, false, 0700,
                tmp.path());
    CHECK(slurp(tmp / "m1/server.pem") == "newest");
    CHECK(slurp(tmp / "ca/ca-index.txt") == "new index");
    CHECK_FALSE(fs::exists(tmp / kJournal));
  }
  CHECK(detail::recover(tmp.path()).kind == detail::Recovery::Kind::none);
}
