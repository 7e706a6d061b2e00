#pragma once
// Private text checks shared by the stages: UTF-8 well-formedness and control characters (in
// subject values, SANs and the error lines that quote them).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace etcd_pki::detail {

// Length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 when there is none there (a
// stray continuation byte, an overlong form, a surrogate, above U+10FFFF, or truncated).
size_t utf8_length(std::string_view s, size_t i);
bool valid_utf8(std::string_view s);

// "contains the control character U+00XX at byte N" for the first C0 control character or DEL
// (NUL included), or nothing.
std::optional<std::string> control_character_problem(std::string_view s);

// What makes a name_whitelist pattern invalid or unsafe to give std::regex, or nothing: the
// constructs Go's regexp (cfssl's) refuses too, where libstdc++ overflows or recurses
// (backreferences \1..\9, repeat counts above 1000, more than 1024 characters), then anything
// std::regex itself refuses.
std::optional<std::string> regex_problem(std::string_view pattern);

}  // namespace etcd_pki::detail
