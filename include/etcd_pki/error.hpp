#pragma once
// The library's one exception type. It never prints and never exits: callers (the CLI)
// turn the category into an exit code and print what() as one line.
#include <stdexcept>
#include <string>
#include <string_view>

namespace etcd_pki {

// Each category is a documented CLI exit code (docs/cli.md); 0 and 1 are not used here.
// One rule per input kind: a bad value takes the category of the file it is in, whatever is wrong
// with it (a duration that does not parse and one that is out of range alike): CSR JSON and
// cluster spec -> input, ca-config.json -> config. The exception is the key spec (algorithm and
// size), which is Errc::key wherever it is written (CSR JSON, cluster spec, the command line).
enum class Errc : int {
  usage = 2,    // bad command line
  input = 3,    // CSR JSON / cluster spec: malformed, unknown field, bad value (durations included)
  config = 4,   // ca-config.json: malformed, unknown profile, bad duration or usage
  key = 5,      // key spec (algorithm, size: wherever written) or a private key that cannot be read
  ca = 6,       // CA certificate/key: not a CA, mismatch, unreadable, weak
  csr = 7,      // external CSR: not a CSR, bad signature
  policy = 8,   // a request the profile does not allow (CA CSR under a leaf profile ...)
  io = 9,       // a file that cannot be read or written
  exists = 10,  // an output file exists and --force was not given
  crypto = 11,  // an OpenSSL operation failed unexpectedly
};

const char* to_string(Errc c) noexcept;

// What the caller may do about an error, for a front end to say in its own terms: the library's
// messages name no command-line flag; the CLI appends its flag for the hint (cli/main.cpp).
enum class Hint {
  none,
  replace,  // an existing output file may be replaced (CLI: " (use --force to replace it)")
  new_ca,   // the existing CA may be replaced by a new one (CLI: "; use --force to make a new CA")
  reissue,  // an existing certificate and key may be re-issued (CLI: "; use --force to re-issue it")
  passphrase,  // an encrypted key needs its passphrase (CLI: its flag and variable)
  trust,       // no trusted CA was found; one may be named (CLI: "; give --ca")
  repair,      // a change to the folder was interrupted and can be completed (CLI: "etcd-pki repair")
};

class Error : public std::runtime_error {
 public:
  // what() = "SOURCE: FIELD: MESSAGE", leaving out the empty parts; always one line.
  Error(Errc category, std::string message, std::string source = {}, std::string field = {});

  Errc category() const noexcept { return category_; }
  int exit_code() const noexcept { return static_cast<int>(category_); }
  const std::string& source() const noexcept { return source_; }
  const std::string& field() const noexcept { return field_; }
  const std::string& message() const noexcept { return message_; }
  Hint hint() const noexcept { return hint_; }

  // The same error, attributed to a file (kept if one is already set).
  Error with_source(std::string source) const;
  // The same error with a hint.
  Error with_hint(Hint hint) const;

 private:
  Errc category_;
  std::string message_, source_, field_;
  Hint hint_ = Hint::none;
};

// Throws Error(category, message + ": " + the whole OpenSSL error queue), clearing it.
[[noreturn]] void throw_openssl(Errc category, std::string_view message, std::string source = {},
                                std::string field = {});

}  // namespace etcd_pki
