// The HTML report in a real browser: Debian's Chromium opens a page made of a small comparison,
// every plot must decode and be laid out with a size, the page must log nothing to the console,
// and a screenshot (lab-report-sample.png in the test's folder) is written to be looked at.
// Label "browser". Without Chromium the test is skipped with the reason, except under CI=true.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "browser_check.hpp"
#include "sample_report.hpp"

namespace udpchat::lab {
namespace {

TEST(LabHtmlBrowser, ChromiumShowsEveryPlotOfTheSamplePage) {
  const char* ci = std::getenv("CI");
  if (test::chromiumPath().empty()) {
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "CI=true, and Chromium is missing";
    GTEST_SKIP() << "Chromium is not installed (Debian package chromium)";
  }
  const test::Page p = test::samplePage();
  const auto dir = std::filesystem::path(::testing::TempDir()) / "udpchat_lab_html_browser";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "captures");
  std::ofstream(dir / "index.html") << formatHtml(p.report);
  std::ofstream(dir / "captures" / "chat_tcp_loss10_rep1.pcapng") << "";
  const auto shot = std::filesystem::current_path() / "lab-report-sample.png";
  std::filesystem::remove(shot);

  const test::PageCheck check = test::checkInChromium(dir / "index.html", shot);
  ASSERT_TRUE(check.ran) << check.error;
  EXPECT_EQ(check.title, p.report.heading);
  EXPECT_EQ(check.images, static_cast<int>(p.plots.size()));
  EXPECT_TRUE(check.broken.empty()) << ::testing::PrintToString(check.broken);
  EXPECT_TRUE(check.unseen.empty()) << ::testing::PrintToString(check.unseen);
  EXPECT_EQ(check.tables, 1);
  EXPECT_EQ(check.links, 1);
  EXPECT_TRUE(check.console.empty()) << ::testing::PrintToString(check.console);
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u) << "a screenshot of a blank page is small";
}

// The checker can fail: a page with a missing image and a script error is caught.
TEST(LabHtmlBrowser, TheCheckerSeesABrokenImageAndAConsoleError) {
  if (test::chromiumPath().empty()) GTEST_SKIP() << "Chromium is not installed";
  const auto dir = std::filesystem::path(::testing::TempDir()) / "udpchat_lab_html_broken";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "broken.html")
      << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>broken</title></head><body>"
         "<img alt=\"missing\" src=\"missing.svg\" width=\"200\" height=\"100\">"
         "<script>notDefined();</script></body></html>";
  const test::PageCheck check = test::checkInChromium(dir / "broken.html", dir / "broken.png");
  ASSERT_TRUE(check.ran) << check.error;
  EXPECT_EQ(check.broken, std::vector<std::string>{"missing"});
  ASSERT_EQ(check.console.size(), 1u);
  EXPECT_NE(check.console[0].find("notDefined"), std::string::npos);
}

}  // namespace
}  // namespace udpchat::lab
