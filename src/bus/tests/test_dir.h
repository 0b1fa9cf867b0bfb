// TempDir: a fresh directory removed at scope exit (tests only).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/event_bus.h"

namespace tickflow::testing_util {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tickflow-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every record of one partition from `from` on.
inline std::vector<bus::Record> read_all(const bus::EventBus& bus, const std::string& topic, int32_t p,
                                         int64_t from = 0) {
  std::vector<bus::Record> out;
  EXPECT_TRUE(bus.read(topic, p, from, 1u << 30, out).is_ok());
  return out;
}

}  // namespace tickflow::testing_util
