#include "goflags.hpp"

#include <iostream>

#include "etcd_pki/error.hpp"

namespace etcd_pki::cli {

GoFlags::GoFlags() {
  add_bool("h", &help_, "show this help");
  add_bool("help", &help_, "show this help");
}

void GoFlags::add_string(const std::string& name, std::string* target, std::string help) {
  flags_[name] = Flag{target, nullptr, std::move(help)};
}
void GoFlags::add_bool(const std::string& name, bool* target, std::string help) {
  flags_[name] = Flag{nullptr, target, std::move(help)};
}

std::vector<std::string> GoFlags::parse(const std::vector<std::string>& args) const {
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) throw Error(Errc::usage, "flag provided but not defined: -" + name);
    if (it->second.boolean) {
      if (!has_value || value == "true" || value == "1" || value == "t" || value == "TRUE" || value == "True")
        *it->second.boolean = true;
      else if (value == "false" || value == "0" || value == "f" || value == "FALSE" || value == "False")
        *it->second.boolean = false;
      else
        throw Error(Errc::usage, "invalid boolean value \"" + value + "\" for -" + name);
    } else {
      if (!has_value) {
        if (i + 1 >= args.size()) throw Error(Errc::usage, "flag needs an argument: -" + name);
        value = args[++i];
      }
      *it->second.str = value;
    }
  }
  return {args.begin() + static_cast<long>(i), args.end()};
}

std::string GoFlags::usage() const {
  std::string out = "Flags:\n";
  for (const auto& [name, f] : flags_) out += "  -" + name + (f.str ? " string" : "") + "\n    \t" + f.help + "\n";
  return out;
}

bool GoFlags::print_help(std::string_view intro) const {
  if (!help_) return false;
  std::cout << intro << usage();
  return true;
}

}  // namespace etcd_pki::cli
