#pragma once
// Go's `flag` package rules, for the cfssl-compatible commands (gencert, json): "-x v", "-x=v",
// "--x=v", booleans as "-b" or "-b=true"; parsing stops at the first positional argument.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_pki::cli {

class GoFlags {
 public:
  // -h and -help are always defined; help() tells whether one was given.
  GoFlags();
  bool help() const { return help_; }
  void add_string(const std::string& name, std::string* target, std::string help);
  void add_bool(const std::string& name, bool* target, std::string help);
  // Throws Error(Errc::usage) on an unknown flag or a missing value; returns the positionals.
  std::vector<std::string> parse(const std::vector<std::string>& args) const;
  std::string usage() const;
  // When -h or -help was given: prints `intro` and usage() to stdout and returns true.
  bool print_help(std::string_view intro) const;

 private:
  struct Flag {
    std::string* str = nullptr;
    bool* boolean = nullptr;
    std::string help;
  };
  std::map<std::string, Flag> flags_;
  bool help_ = false;
};

}  // namespace etcd_pki::cli
