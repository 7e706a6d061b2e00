#pragma once
// Private: metrics in the Prometheus text exposition format 0.0.4, the format node_exporter's
// textfile collector reads from *.prom files. The one place that writes it (escaping, # HELP and
// # TYPE, sample lines), for expiry's render_prometheus and any later command that exports metrics.
//
//   detail::Metrics m;
//   m.family("x509_cert_not_after", "The certificate's notAfter, Unix seconds");
//   m.sample({{"subject_CN", "etcd-1"}, {"role", "server"}}, 1767225600);
//   m.text();  // # HELP x509_cert_not_after ...\n# TYPE x509_cert_not_after gauge\nx509_cert_not_after{subject_CN="etcd-1",role="server"} 1767225600\n
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etcd_pki::detail {

// A sample's labels, written in this order. Names are the caller's constants.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Starts the family `name` (or returns to it, when it was started before); the samples that
  // follow belong to it. `type` is "gauge", "counter" or "untyped". A name or type that the format
  // does not allow is a programming error: std::invalid_argument.
  void family(const std::string& name, const std::string& help, const std::string& type = "gauge");
  // A sample of the current family (std::invalid_argument before any family, or for a label name
  // the format does not allow). A value is written as an integer when it is one.
  void sample(const MetricLabels& labels, double value);
  // Every family with samples, in the order they were started: its # HELP and # TYPE lines once,
  // then its samples in the order given. A family without samples is left out.
  std::string text() const;

 private:
  struct Family {
    std::string name, help, type;
    std::vector<std::string> samples;  // whole lines
  };
  std::vector<Family> families_;
  size_t current_ = 0;  // index + 1 into families_; 0 before the first family()
};

// A label value as the format quotes it: backslash, double quote and line feed escaped (\\, \", \n);
// bytes that are not UTF-8 become U+FFFD (the format is UTF-8, and a path need not be).
std::string escape_label_value(std::string_view value);
// A # HELP text: backslash and line feed escaped; not UTF-8 as above.
std::string escape_help(std::string_view help);
// A sample value: an integer when the value is one ("1767225600", "-3"), +Inf, -Inf, NaN, else
// the shortest text that reads back as the same double.
std::string format_sample_value(double value);

}  // namespace etcd_pki::detail
