#include "json_fields.hpp"

#include <algorithm>

namespace etcd_pki::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string json_type_name(const Json& j) {
  if (j.is_number_integer()) return "integer";
  if (j.is_number()) return "number";
  return j.type_name();
}

// nlohmann's parser is iterative, but copying, dumping and comparing a value recurse once per
// level: a hostile "[[[[..." 100000 levels deep would overflow the stack there (a cluster spec's
// "names" and "ca.csr" are copied and dumped). No input of this tool nests more than a few levels.
namespace {
void check_depth(std::string_view text, const std::string& source, Errc category) {
  size_t depth = 0, line = 1, column = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    ++column;
    if (c == '\n') ++line, column = 0;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw Error(category,
                    "invalid JSON: nested more than " + std::to_string(kMaxJsonDepth) + " levels deep at line " +
                        std::to_string(line) + ", column " + std::to_string(column),
                    source);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}
}  // namespace

Json parse_json(std::string_view text, const std::string& source, Errc category) {
  check_depth(text, source, category);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number like 1e9999
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    throw Error(category, "invalid JSON: " + what, source);
  }
}

Fields::Fields(const Json& object, std::string source, std::string path, Errc category,
               std::vector<std::string_view> known)
    : source_(std::move(source)), path_(std::move(path)), category_(category) {
  if (!object.is_object())
    throw Error(category_, "expected a JSON object, found " + json_type_name(object), source_,
                path_.empty() ? std::string("(top level)") : path_);
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    auto exact = std::find(known.begin(), known.end(), key);
    auto match = exact != known.end()
                     ? exact
                     : std::find_if(known.begin(), known.end(), [&](std::string_view k) { return iequals(k, key); });
    if (match == known.end()) {
      std::string msg = "unknown field \"" + key + "\"";
      auto best = std::min_element(known.begin(), known.end(), [&](std::string_view x, std::string_view y) {
        return edit_distance(key, x) < edit_distance(key, y);
      });
      if (best != known.end() && edit_distance(key, *best) <= std::max<size_t>(2, key.size() / 3))
        msg += " (did you mean \"" + std::string(*best) + "\"?)";
      else {
        msg += " (known fields:";
        for (auto k : known) msg += " " + std::string(k);
        msg += ")";
      }
      throw Error(category_, msg, source_, path_.empty() ? key : path_ + "." + key);
    }
    auto dup = std::find_if(found_.begin(), found_.end(), [&](auto& p) { return p.first == *match; });
    if (dup != found_.end())
      throw Error(category_, "field \"" + std::string(*match) + "\" given twice (keys match case-insensitively)",
                  source_, field(*match));
    found_.emplace_back(*match, &it.value());
  }
}

const Json* Fields::get(std::string_view name) const {
  for (auto& [k, v] : found_)
    if (k == name) return v->is_null() ? nullptr : v;
  return nullptr;
}

std::string Fields::field(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

Error Fields::error(std::string_view name, std::string message) const {
  return Error(category_, std::move(message), source_, field(name));
}

std::optional<std::string> Fields::string(std::string_view name) const {
  const Json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw error(name, "expected a string, found " + json_type_name(*v));
  return v->get<std::string>();
}

std::optional<int64_t> Fields::integer(std::string_view name) const {
  const Json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) throw error(name, "expected an integer, found " + json_type_name(*v));
  return v->get<int64_t>();
}

std::optional<bool> Fields::boolean(std::string_view name) const {
  const Json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw error(name, "expected true or false, found " + json_type_name(*v));
  return v->get<bool>();
}

std::optional<std::vector<std::string>> Fields::strings(std::string_view name) const {
  const Json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) throw error(name, "expected an array of strings, found " + json_type_name(*v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& e = (*v)[i];
    if (!e.is_string())
      throw Error(category_, "expected a string, found " + json_type_name(e), source_,
                  field(name) + "[" + std::to_string(i) + "]");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<Fields> Fields::object(std::string_view name, std::vector<std::string_view> known) const {
  const Json* v = get(name);
  if (!v) return std::nullopt;
  return Fields(*v, source_, field(name), category_, std::move(known));
}

}  // namespace etcd_pki::detail
