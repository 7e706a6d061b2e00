// bundle.hpp: cfssl's JSON output, cfssljson's input, and all-or-nothing file output.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "support.hpp"

using namespace test;

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

void write_plain(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

// Sets the process umask for one scope.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

CfsslOutput sample() {
  CfsslOutput b;
  b.cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  b.csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n";
  b.key = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
  return b;
}

}  // namespace

TEST_CASE("to_cfssl_json: one line, sorted keys, Go escaping, trailing newline", "[bundle]") {
  CHECK(to_cfssl_json(sample()) ==
        "{\"cert\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\","
        "\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nMIIC\\n-----END CERTIFICATE REQUEST-----\\n\","
        "\"key\":\"-----BEGIN EC PRIVATE KEY-----\\nMHcC\\n-----END EC PRIVATE KEY-----\\n\"}\n");
}

TEST_CASE("to_cfssl_json: only the parts present", "[bundle]") {
  struct Case {
    bool cert, csr, key;
    const char* expect;
  };
  const Case cases[] = {
      {true, true, false, "{\"cert\":\"C\",\"csr\":\"R\"}\n"},  // sign
      {false, true, true, "{\"csr\":\"R\",\"key\":\"K\"}\n"},   // genkey
      {true, false, false, "{\"cert\":\"C\"}\n"},
      {false, false, true, "{\"key\":\"K\"}\n"},
      {false, false, false, "{}\n"},
  };
  for (const auto& c : cases) {
    CfsslOutput b;
    if (c.cert) b.cert = "C";
    if (c.csr) b.csr = "R";
    if (c.key) b.key = "K";
    CHECK(to_cfssl_json(b) == c.expect);
  }
  CfsslOutput empty_string;
  empty_string.cert = "";
  CHECK(to_cfssl_json(empty_string) == "{\"cert\":\"\"}\n");
}

TEST_CASE("to_cfssl_json escapes strings as Go's encoding/json", "[bundle]") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"a\nb", "a\\nb"},
      {"a\r\nb", "a\\r\\nb"},
      {"t\tt", "t\\tt"},
      {"q\"q", "q\\\"q"},
      {"back\\slash", "back\\\\slash"},
      {"<script>", "\\u003cscript\\u003e"},
      {"a&b", "a\\u0026b"},
      {std::string("\x01\x1f", 2), "\\u0001\\u001f"},
      {std::string("nul\0x", 5), "nul\\u0000x"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},  // UTF-8 passes through
      {"line\xE2\x80\xA8sep\xE2\x80\xA9", "line\\u2028sep\\u2029"},  // Go escapes U+2028/U+2029 too
      {"/slash/", "/slash/"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CfsslOutput b;
    b.key = c.in;
    CHECK(to_cfssl_json(b) == "{\"key\":\"" + c.out + "\"}\n");
    // And it reads back.
    CHECK(from_cfssl_json(to_cfssl_json(b), true).key == c.in);
  }
}

TEST_CASE("to_cfssl_json output reads back with from_cfssl_json", "[bundle]") {
  CfsslOutput b = sample();
  CfsslOutput back = from_cfssl_json(to_cfssl_json(b), true);
  CHECK(back.cert == b.cert);
  CHECK(back.csr == b.csr);
  CHECK(back.key == b.key);
}

TEST_CASE("from_cfssl_json: bare maps, with cfssl's key aliases", "[bundle]") {
  CfsslOutput a = from_cfssl_json(R"({"cert":"C","csr":"R","key":"K"})", true);
  CHECK(a.cert == "C");
  CHECK(a.csr == "R");
  CHECK(a.key == "K");

  CfsslOutput b = from_cfssl_json(R"({"certificate":"C2","certificate_request":"R2","private_key":"K2","sums":{}})", true);
  CHECK(b.cert == "C2");
  CHECK(b.csr == "R2");
  CHECK(b.key == "K2");

  // "cert" wins over "certificate"; empty strings and nulls mean absent.
  CfsslOutput c = from_cfssl_json(R"({"cert":"C","certificate":"X","key":"","csr":null})", true);
  CHECK(c.cert == "C");
  CHECK_FALSE(c.key.has_value());
  CHECK_FALSE(c.csr.has_value());
}

TEST_CASE("from_cfssl_json: the API envelope", "[bundle]") {
  CfsslOutput b = from_cfssl_json(
      R"({"success":true,"result":{"certificate":"C","private_key":"K","certificate_request":"R"},"errors":[],"messages":[]})",
      false);
  CHECK(b.cert == "C");
  CHECK(b.key == "K");
  CHECK(b.csr == "R");

  struct Case {
    const char* json;
    const char* expect;
  };
  const Case cases[] = {
      {R"({"success":false,"result":null,"errors":[{"code":5100,"message":"Invalid policy: no key usage available"}]})",
       "request failed: Invalid policy: no key usage available"},
      {R"({"success":false,"errors":[{"message":"a"},{"message":"b"}]})", "request failed: a: b"},
      {R"({"cert":"C","csr":"R","key":"K"})", "not a cfssl API response; for gencert output use -bare"},
      {R"({"success":"true","result":{"cert":"C"}})", "request failed"},
      {R"({"success":true})", "the response has no \"result\" object"},
      {R"({"success":true,"result":"x"})", "the response has no \"result\" object"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = catch_error([&] { from_cfssl_json(c.json, false, "server.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "server.json");
    CHECK_THAT(e.message(), Contains(c.expect));
  }
}

TEST_CASE("from_cfssl_json: bad input is Errc::input naming the source", "[bundle]") {
  struct Case {
    const char* text;
    bool bare;
    const char* expect;
  };
  const Case cases[] = {
      {"", true, "no input"},
      {" \n\t", true, "no input"},
      {"{", true, "invalid JSON"},
      {"[1,2]", true, "expected a JSON object"},
      {"{}", true, "no \"cert\", \"key\" or \"csr\""},
      {R"({"cert":"","key":null})", true, "no \"cert\", \"key\" or \"csr\""},
      {R"({"cert":5})", true, "expected a string"},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    Error e = catch_error([&] { from_cfssl_json(c.text, c.bare); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "stdin");  // the default source
    CHECK_THAT(e.message(), Contains(c.expect));
  }
}

TEST_CASE("bundle_files: cfssljson's names and modes", "[bundle]") {
  std::vector<OutputFile> files = bundle_files(sample(), "out/pki", "etcd");
  REQUIRE(files.size() == 3);
  CHECK(files[0].path == "out/pki/etcd.pem");
  CHECK(files[0].mode == 0644);
  CHECK(files[0].content == *sample().cert);
  CHECK(files[1].path == "out/pki/etcd-key.pem");
  CHECK(files[1].mode == 0600);
  CHECK(files[1].content == *sample().key);
  CHECK(files[2].path == "out/pki/etcd.csr");
  CHECK(files[2].mode == 0644);
  for (const auto& f : files) CHECK_FALSE(f.replace);

  for (const char* dir : {"", "."}) {
    auto here = bundle_files(sample(), dir, "ca");
    REQUIRE(here.size() == 3);
    CHECK(here[0].path == "ca.pem");
    CHECK(here[1].path == "ca-key.pem");
    CHECK(here[2].path == "ca.csr");
  }

  CfsslOutput signed_only;
  signed_only.cert = "C";
  signed_only.csr = "R";
  auto two = bundle_files(signed_only, "d", "x");
  REQUIRE(two.size() == 2);
  CHECK(two[0].path == "d/x.pem");
  CHECK(two[1].path == "d/x.csr");
}

TEST_CASE("Bundle: objects, rendered as PEM only by to_pem, to_cfssl_json and bundle_files", "[bundle]") {
  Bundle b;
  b.certificate = shared_root().cert;
  b.csr = leaf_csr("bundle");
  b.key = shared_leaf_key();
  CfsslOutput pem = to_pem(b);
  CHECK(pem.cert == shared_root().cert.to_pem());
  CHECK(pem.csr == b.csr->to_pem());
  CHECK(pem.key == shared_leaf_key().to_pem());
  CHECK(to_cfssl_json(b) == to_cfssl_json(pem));
  std::vector<OutputFile> files = bundle_files(b, "d", "x"), same = bundle_files(pem, "d", "x");
  REQUIRE(files.size() == 3);
  for (size_t i = 0; i < files.size(); ++i) {
    CHECK(files[i].path == same[i].path);
    CHECK(files[i].content == same[i].content);
    CHECK(files[i].mode == same[i].mode);
  }

  // With a passphrase, the key is written encrypted.
  const Passphrase pass("bundle passphrase");
  CfsslOutput enc = to_pem(b, pass);
  CHECK(enc.cert == pem.cert);
  CHECK(first_line(*enc.key) == "-----BEGIN ENCRYPTED PRIVATE KEY-----");
  CHECK(KeyPair::from_pem(*enc.key, "key", pass).same_public_key(shared_leaf_key()));

  // Only the parts present.
  Bundle signed_only;
  signed_only.certificate = shared_root().cert;
  CfsslOutput cert_only = to_pem(signed_only);
  CHECK(cert_only.cert.has_value());
  CHECK_FALSE(cert_only.csr.has_value());
  CHECK_FALSE(cert_only.key.has_value());
}

TEST_CASE("write_files: exact modes whatever the umask, and nothing else left behind", "[bundle]") {
  for (mode_t mask : {mode_t(022), mode_t(077), mode_t(0)}) {
    INFO("umask " << std::oct << mask);
    TempDir tmp;
    Umask um(mask);
    write_files(bundle_files(sample(), tmp.path(), "server"), false);
    CHECK(mode_of(tmp / "server.pem") == 0644);
    CHECK(mode_of(tmp / "server-key.pem") == 0600);
    CHECK(mode_of(tmp / "server.csr") == 0644);
    CHECK(read_text_file(tmp / "server.pem") == *sample().cert);
    CHECK(read_text_file(tmp / "server-key.pem") == *sample().key);
    CHECK(read_text_file(tmp / "server.csr") == *sample().csr);
    CHECK(listing(tmp.path()) == std::set<std::string>{"server.pem", "server-key.pem", "server.csr"});
  }
}

TEST_CASE("write_files: an existing file stops everything before anything is written", "[bundle]") {
  TempDir tmp;
  write_plain(tmp / "etcd.pem", "old cert", 0644);
  std::vector<OutputFile> files = bundle_files(sample(), tmp.path(), "etcd");
  files.push_back({tmp / "new-folder/extra.pem", "extra", 0644, false});

  Error e = catch_error([&] { write_files(files, false); });
  CHECK(e.category() == Errc::exists);
  CHECK(e.source() == tmp / "etcd.pem");
  CHECK_THAT(e.message(), Contains("already exists"));
  // All or nothing: the old file is untouched, no other file and no folder was made, no temp file.
  CHECK(read_text_file(tmp / "etcd.pem") == "old cert");
  CHECK_FALSE(exists(tmp / "etcd-key.pem"));
  CHECK_FALSE(exists(tmp / "etcd.csr"));
  CHECK_FALSE(exists(tmp / "new-folder"));
  CHECK(listing(tmp.path()) == std::set<std::string>{"etcd.pem"});

  // An existing key file alone also stops the certificate from being written.
  TempDir tmp2;
  write_plain(tmp2 / "etcd-key.pem", "old key", 0600);
  Error e2 = catch_error([&] { write_files(bundle_files(sample(), tmp2.path(), "etcd"), false); });
  CHECK(e2.category() == Errc::exists);
  CHECK(e2.source() == tmp2 / "etcd-key.pem");
  CHECK(listing(tmp2.path()) == std::set<std::string>{"etcd-key.pem"});
}

TEST_CASE("write_files: a dangling symlink counts as existing", "[bundle]") {
  TempDir tmp;
  REQUIRE(::symlink((tmp / "nowhere").c_str(), (tmp / "etcd-key.pem").c_str()) == 0);
  Error e = catch_error([&] { write_files(bundle_files(sample(), tmp.path(), "etcd"), false); });
  CHECK(e.category() == Errc::exists);
  CHECK_FALSE(exists(tmp / "nowhere"));  // nothing was written through the link
  CHECK_FALSE(exists(tmp / "etcd.pem"));
}

TEST_CASE("write_files: overwrite replaces files, with the new modes", "[bundle]") {
  TempDir tmp;
  write_plain(tmp / "etcd.pem", "old cert", 0600);
  write_plain(tmp / "etcd-key.pem", "old key, too open", 0666);
  write_files(bundle_files(sample(), tmp.path(), "etcd"), true);
  CHECK(read_text_file(tmp / "etcd.pem") == *sample().cert);
  CHECK(read_text_file(tmp / "etcd-key.pem") == *sample().key);
  CHECK(mode_of(tmp / "etcd.pem") == 0644);
  CHECK(mode_of(tmp / "etcd-key.pem") == 0600);
  CHECK(listing(tmp.path()) == std::set<std::string>{"etcd.pem", "etcd-key.pem", "etcd.csr"});
}

TEST_CASE("write_files: overwrite replaces a symlink, not its target", "[bundle]") {
  TempDir tmp;
  write_plain(tmp / "target", "precious", 0644);
  REQUIRE(::symlink((tmp / "target").c_str(), (tmp / "etcd-key.pem").c_str()) == 0);
  write_files({{tmp / "etcd-key.pem", "new key", 0600, false}}, true);
  CHECK(read_text_file(tmp / "target") == "precious");
  CHECK(read_text_file(tmp / "etcd-key.pem") == "new key");
  struct stat st {};
  REQUIRE(::lstat((tmp / "etcd-key.pem").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
}

TEST_CASE("write_files: `replace` files may be replaced without overwrite", "[bundle]") {
  TempDir tmp;
  write_plain(tmp / "ca-bundle.pem", "old", 0644);
  write_files({{tmp / "ca-bundle.pem", "new", 0644, true}, {tmp / "fresh.pem", "f", 0644, false}}, false);
  CHECK(read_text_file(tmp / "ca-bundle.pem") == "new");
  CHECK(read_text_file(tmp / "fresh.pem") == "f");
}

TEST_CASE("write_files: creates missing folders with dir_mode", "[bundle]") {
  TempDir tmp;
  Umask um(022);
  write_files(bundle_files(sample(), tmp / "a/b/c", "etcd"), false, 0700);
  CHECK(read_text_file(tmp / "a/b/c/etcd.pem") == *sample().cert);
  CHECK(mode_of(tmp / "a") == 0700);
  CHECK(mode_of(tmp / "a/b") == 0700);
  CHECK(mode_of(tmp / "a/b/c") == 0700);
  CHECK(mode_of(tmp / "a/b/c/etcd-key.pem") == 0600);

  // An existing folder keeps its mode.
  REQUIRE(::chmod((tmp / "a").c_str(), 0751) == 0);
  write_files({{tmp / "a/other.pem", "o", 0644, false}}, false, 0700);
  CHECK(mode_of(tmp / "a") == 0751);
}

TEST_CASE("write_files: errors", "[bundle]") {
  TempDir tmp;
  SECTION("the same path twice") {
    Error e = catch_error([&] { write_files({{tmp / "x.pem", "1", 0644, false}, {tmp / "x.pem", "2", 0644, false}}, false); });
    CHECK(e.category() == Errc::usage);
    CHECK(e.source() == tmp / "x.pem");
    CHECK(listing(tmp.path()).empty());
  }
  SECTION("a folder where a file should go") {
    std::filesystem::create_directory(tmp / "etcd.pem");
    Error e = catch_error([&] { write_files(bundle_files(sample(), tmp.path(), "etcd"), true); });
    CHECK(e.category() == Errc::io);
    CHECK_THAT(e.message(), Contains("is a folder"));
    CHECK(listing(tmp.path()) == std::set<std::string>{"etcd.pem"});
  }
  SECTION("a file where a folder should go") {
    write_plain(tmp / "blocker", "x", 0644);
    Error e = catch_error([&] { write_files({{tmp / "blocker/sub/x.pem", "1", 0644, false}}, false); });
    CHECK(e.category() == Errc::io);
  }
  SECTION("a failure on a later file removes the earlier temp files") {
    std::string too_long(300, 'n');
    Error e = catch_error([&] {
      write_files({{tmp / "first.pem", "1", 0644, false}, {tmp / (too_long + ".pem"), "2", 0644, false}}, false);
    });
    CHECK(e.category() == Errc::io);
    CHECK(listing(tmp.path()).empty());
  }
}

TEST_CASE("read_text_file", "[bundle]") {
  TempDir tmp;
  write_plain(tmp / "f.json", std::string("{\"a\":1}\n\0tail", 13), 0644);
  CHECK(read_text_file(tmp / "f.json") == std::string("{\"a\":1}\n\0tail", 13));

  Error missing = catch_error([&] { read_text_file(tmp / "nope.json", Errc::input); });
  CHECK(missing.category() == Errc::input);
  CHECK(missing.source() == tmp / "nope.json");
  CHECK_THAT(missing.message(), Contains("No such file"));

  Error missing_default = catch_error([&] { read_text_file(tmp / "nope.json"); });
  CHECK(missing_default.category() == Errc::io);

  Error folder = catch_error([&] { read_text_file(tmp.path(), Errc::input); });
  CHECK(folder.category() == Errc::io);
  CHECK_THAT(folder.message(), Contains("is a folder"));
}

namespace {
// Whether /proc/locks shows a process or thread blocked waiting for a lock on `path` (a "->"
// line with its inode). Deterministic: it reads the kernel's lock table, not a clock.
bool lock_waiter_on(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  std::istringstream locks(slurp("/proc/locks"));
  const std::string ino = ":" + std::to_string(st.st_ino) + " ";
  for (std::string line; std::getline(locks, line);)
    if (line.find("->") != std::string::npos && line.find(ino) != std::string::npos) return true;
  return false;
}

// Polls lock_waiter_on for up to ~20 s (a bound against a hang, not a timing assumption).
bool wait_for_lock_waiter(const std::string& path) {
  for (int i = 0; i < 20000; ++i) {
    if (lock_waiter_on(path)) return true;
    ::usleep(1000);
  }
  return false;
}
}  // namespace

TEST_CASE("FileLock and FolderLocks: re-entrant in one thread, exclusive between threads", "[bundle][threads]") {
  TempDir tmp;
  const std::string dir = tmp / "out";
  {
    FolderLocks outer({dir}, mode_t{0700});  // creates the folder
    REQUIRE(std::filesystem::is_directory(dir));
    CHECK((std::filesystem::status(dir).permissions() & std::filesystem::perms::all) == std::filesystem::perms::owner_all);
    // The same thread again (what update_ca_index -> write_files does): no self-deadlock.
    FileLock again(dir);
    FolderLocks nested({dir, tmp.path(), dir});
    write_files({{dir + "/a.pem", "a", 0644, false}}, false);
  }
  CHECK(slurp(dir + "/a.pem") == "a");

  // Another thread waits while this one holds the folder, then writes.
  std::atomic<bool> written{false};
  std::optional<FolderLocks> held;
  held.emplace(std::vector<std::string>{dir});
  std::thread writer([&] {
    write_files({{dir + "/b.pem", "b", 0644, false}}, false);
    written = true;
  });
  bool waited = wait_for_lock_waiter(dir);
  CHECK(waited);
  CHECK_FALSE(written.load());
  CHECK_FALSE(std::filesystem::exists(dir + "/b.pem"));
  held.reset();
  writer.join();
  CHECK(written.load());
  CHECK(slurp(dir + "/b.pem") == "b");
}

TEST_CASE("FolderLocks: a folder it made is removed at release when still empty", "[bundle]") {
  TempDir tmp;
  { FolderLocks l({tmp / "new/deeper"}, mode_t{0755}); }
  CHECK_FALSE(std::filesystem::exists(tmp / "new"));
  {
    FolderLocks l({tmp / "kept"}, mode_t{0755});
    spit(tmp / "kept/file", "x");
  }
  CHECK(slurp(tmp / "kept/file") == "x");
  // Without create_mode, a missing folder is an error.
  Error e = catch_error([&] { FolderLocks l({tmp / "missing"}); });
  CHECK(e.category() == Errc::io);
  CHECK(e.source() == tmp / "missing");
  spit(tmp / "plain", "x");
  CHECK(catch_error([&] { FolderLocks l({tmp / "plain"}); }).message() == "is not a folder");
}
