// A page opened the way a person opens it: Debian's Chromium, headless, loads it from its file,
// and a checker page beside it reports what loaded (every image decoded and laid out with a
// size, the tables, the title); Chromium's own log gives the page's console messages. A
// screenshot of the page is written for people to look at.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace udpchat::lab::test {

struct PageCheck {
  bool ran = false;   // Chromium ran and the checker reported
  std::string error;  // why not, when !ran
  std::string title;
  int images = 0;
  int tables = 0;
  int links = 0;
  std::vector<std::string> broken;    // alt texts of images that did not decode
  std::vector<std::string> unseen;    // alt texts of images laid out with no size
  std::vector<std::string> console;   // console messages from the page
};

// Where Chromium is, or "" when it is not installed.
std::string chromiumPath();

// Opens `page` (an .html file) and writes `screenshot` (a PNG, `width` pixels wide).
PageCheck checkInChromium(const std::filesystem::path& page,
                          const std::filesystem::path& screenshot, int width = 1280,
                          int height = 3600);

}  // namespace udpchat::lab::test
