// Test helpers: the reference CSVs of testdata/indicators/ and a relative comparison.
#pragma once

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tickflow::processing::indicators::testing {

// A CSV with a header: cells as optional doubles (empty cell = nullopt); '#' lines skipped.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<double>>> rows;

  int column(const std::string& name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

inline std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

inline Table parse_table(std::istream& in) {
  Table t;
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split_fields(line);
    if (!header) {
      t.columns = f;
      header = true;
      continue;
    }
    EXPECT_EQ(f.size(), t.columns.size()) << line;
    std::vector<std::optional<double>> row;
    for (const auto& s : f) {
      if (s.empty()) {
        row.push_back(std::nullopt);
        continue;
      }
      double d = 0;
      auto res = std::from_chars(s.data(), s.data() + s.size(), d);
      EXPECT_TRUE(res.ec == std::errc() && res.ptr == s.data() + s.size()) << s;
      row.push_back(d);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

inline Table load_reference(const std::string& file) {
  std::string path = std::string(TICKFLOW_SOURCE_DIR) + "/testdata/indicators/" + file;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return parse_table(in);
}

inline double rel_error(double got, double want) {
  if (got == want) return 0;
  return std::fabs(got - want) / std::fabs(want);
}

}  // namespace tickflow::processing::indicators::testing
