// A fresh folder under the system's temporary directory, removed with everything in it when the
// object goes.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace udpchat::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "udpchat-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr) << "cannot make a temporary folder";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file() const { return path_ / "udpchat.db"; }

 private:
  std::filesystem::path path_;
};

}  // namespace udpchat::test
