#include "prometheus.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "text.hpp"

namespace etcd_pki::detail {

namespace {

bool name_char(char c, bool first, bool colon) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

// [a-zA-Z_:][a-zA-Z0-9_:]* for a metric, [a-zA-Z_][a-zA-Z0-9_]* for a label (not "__...": reserved).
bool valid_name(std::string_view name, bool metric) {
  if (name.empty() || (!metric && name.substr(0, 2) == "__")) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, metric)) return false;
  return true;
}

// `text` with the characters the format escapes in this place, and non-UTF-8 bytes as U+FFFD.
std::string escaped(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    char c = text[i];
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) { return escaped(value, true); }
std::string escape_help(std::string_view help) { return escaped(help, false); }

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::trunc(v) == v && std::fabs(v) < 9.0e18) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void Metrics::family(const std::string& name, const std::string& help, const std::string& type) {
  if (!valid_name(name, true)) throw std::invalid_argument("not a metric name: \"" + name + "\"");
  if (type != "gauge" && type != "counter" && type != "untyped") throw std::invalid_argument("not a metric type: \"" + type + "\"");
  for (size_t i = 0; i < families_.size(); ++i)
    if (families_[i].name == name) {
      current_ = i + 1;
      return;
    }
  families_.push_back({name, help, type, {}});
  current_ = families_.size();
}

void Metrics::sample(const MetricLabels& labels, double value) {
  if (current_ == 0) throw std::invalid_argument("a sample before any metric family");
  Family& f = families_[current_ - 1];
  std::string line = f.name;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_name(labels[i].first, false)) throw std::invalid_argument("not a label name: \"" + labels[i].first + "\"");
    line += (i == 0 ? "{" : ",") + labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
  }
  line += (labels.empty() ? " " : "} ") + format_sample_value(value);
  f.samples.push_back(std::move(line));
}

std::string Metrics::text() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.samples.empty()) continue;
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& s : f.samples) out += s + "\n";
  }
  return out;
}

}  // namespace etcd_pki::detail
