// Reading the Prometheus text exposition (obs::render_text()) in the load benchmark.
#pragma once

#include <cstdlib>
#include <map>
#include <string>

namespace tickflow::bench {

// Quantile of a Prometheus histogram (sum over label sets) from the text exposition: the upper
// bound of the first bucket whose cumulative count reaches q of the total.
inline double histogram_quantile(const std::string& text, const std::string& name, double q) {
  std::map<double, double> cumulative;
  size_t pos = 0;
  const std::string prefix = name + "_bucket{";
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    size_t le = text.find("le=\"", pos);
    size_t end = text.find('\n', pos);
    if (le == std::string::npos || le > end) break;
    std::string bound = text.substr(le + 4, text.find('"', le + 4) - le - 4);
    double b = bound == "+Inf" ? 1e9 : std::atof(bound.c_str());
    cumulative[b] += std::atof(text.c_str() + text.find(' ', text.find('}', pos)) + 1);
    pos = end;
  }
  if (cumulative.empty()) return -1;
  double total = cumulative.rbegin()->second;
  for (const auto& [b, c] : cumulative)
    if (c >= q * total) return b * 1000.0;
  return -1;
}

// Sum of the samples of an unlabelled (or every labelled) series `name` in the text exposition.
inline double metric_value(const std::string& text, const std::string& name) {
  double sum = 0;
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const size_t after = pos + name.size();
    pos = after;
    if (!line_start || after >= text.size() || (text[after] != ' ' && text[after] != '{')) continue;
    const size_t sp = text.find(' ', text[after] == '{' ? text.find('}', after) : after);
    if (sp != std::string::npos) sum += std::atof(text.c_str() + sp + 1);
  }
  return sum;
}

}  // namespace tickflow::bench
