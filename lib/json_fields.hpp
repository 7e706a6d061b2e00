#pragma once
// Private: reading cfssl-style JSON objects strictly. Keys match case-insensitively (an exact
// match wins) as Go's encoding/json does, but a key that matches no field is an error that
// names it, with the closest known field as a hint.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/error.hpp"

namespace etcd_pki::detail {

using Json = nlohmann::ordered_json;

// Deeper nesting is refused before parsing (copying or dumping such a value would recurse that deep).
inline constexpr size_t kMaxJsonDepth = 100;

// JSON text of a report, indented by 2. Strings from certificates, CSRs and file names may hold
// bytes that are not UTF-8: they become U+FFFD, as Go's encoding/json writes them (nlohmann
// would throw type_error 316).
inline std::string json_text(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace); }

// Parses text as JSON; a syntax error becomes Error(category) "SOURCE: invalid JSON: line L, column C: ...",
// and so does nesting deeper than kMaxJsonDepth.
Json parse_json(std::string_view text, const std::string& source, Errc category);

class Fields {
 public:
  // `path` is the dotted location of this object for messages ("" for the top level, "key", "names[0]").
  Fields(const Json& object, std::string source, std::string path, Errc category,
         std::vector<std::string_view> known);

  bool has(std::string_view name) const { return get(name) != nullptr; }
  const Json* get(std::string_view name) const;  // nullptr when absent or null

  std::optional<std::string> string(std::string_view name) const;
  std::optional<int64_t> integer(std::string_view name) const;
  std::optional<bool> boolean(std::string_view name) const;
  std::optional<std::vector<std::string>> strings(std::string_view name) const;
  // An object member as a new Fields reader (nullopt when absent).
  std::optional<Fields> object(std::string_view name, std::vector<std::string_view> known) const;

  std::string field(std::string_view name) const;  // "path.name"
  Error error(std::string_view name, std::string message) const;

 private:
  std::vector<std::pair<std::string_view, const Json*>> found_;
  std::string source_, path_;
  Errc category_;
};

std::string json_type_name(const Json& j);

}  // namespace etcd_pki::detail
