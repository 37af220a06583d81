#include "browser_check.hpp"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/subprocess.hpp"

namespace udpchat::lab::test {
namespace {

using udpchat::test::after;
using udpchat::test::Subprocess;

// Runs inside the checker page: waits for the page in the frame to load, then writes what it
// found as one line of JSON into the checker's DOM, which --dump-dom prints.
constexpr const char* kChecker = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>checker</title></head><body>
<iframe id="page" src="PAGE" style="width:1280px;height:4000px;border:0"></iframe>
<script>
const frame = document.getElementById('page');
frame.addEventListener('load', () => {
  const d = frame.contentDocument;
  const images = Array.from(d.images);
  const report = {
    title: d.title,
    images: images.length,
    tables: d.querySelectorAll('table').length,
    links: d.querySelectorAll('a[href]').length,
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
    unseen: images.filter(i => {
      const box = i.getBoundingClientRect();
      return box.width < 50 || box.height < 50 || getComputedStyle(i).visibility !== 'visible';
    }).map(i => i.alt)
  };
  const out = document.createElement('pre');
  out.textContent = 'PAGECHECK ' + JSON.stringify(report);
  document.body.appendChild(out);
});
</script></body></html>
)";

std::vector<std::string> chromiumArgs(const std::filesystem::path& profile) {
  // No sandbox: the tests run as root. The rest keeps Chromium off the network, which this
  // machine does not have, and quiet about it.
  return {"--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--hide-scrollbars",
          "--user-data-dir=" + profile.string(),
          "--enable-logging=stderr",
          "--v=0"};
}

std::string unescapeText(std::string s) {  // what --dump-dom escapes in text nodes
  const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
      s.replace(at, std::string_view(from).size(), to);
    }
  }
  return s;
}

}  // namespace

std::string chromiumPath() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

PageCheck checkInChromium(const std::filesystem::path& page,
                          const std::filesystem::path& screenshot, int width, int height) {
  PageCheck result;
  const std::string chromium = chromiumPath();
  if (chromium.empty()) {
    result.error = "Chromium is not installed (Debian package chromium; tools/deps.sh installs it)";
    return result;
  }
  const std::filesystem::path dir = std::filesystem::absolute(page).parent_path();
  const std::filesystem::path checker = dir / ".pagecheck.html";
  {
    std::string text = kChecker;
    text.replace(text.find("PAGE"), 4, page.filename().string());
    std::ofstream(checker) << text;
  }
  const std::filesystem::path profile =
      std::filesystem::temp_directory_path() / ("udpchat-chromium-" + std::to_string(::getpid()));
  std::filesystem::remove_all(profile);

  // 1. The checker, with the page in its frame (same folder, so file access is allowed).
  std::vector<std::string> args = chromiumArgs(profile);
  args.insert(args.end(), {"--allow-file-access-from-files", "--virtual-time-budget=10000",
                           "--dump-dom", "file://" + checker.string()});
  Subprocess check(chromium, args);
  check.drain(after(std::chrono::milliseconds(60'000)));
  const auto status = check.wait(after(std::chrono::milliseconds(5'000)));
  std::string json;
  for (const std::string& line : check.seen(Subprocess::Stream::Stdout)) {
    const auto at = line.find("PAGECHECK ");
    if (at == std::string::npos) continue;
    std::string rest = line.substr(at + 10);
    rest = rest.substr(0, rest.find("</pre>"));
    json = unescapeText(rest);
  }
  for (const std::string& line : check.seen(Subprocess::Stream::Stderr)) {
    // Chromium logs console messages as INFO:CONSOLE(line)] "text", source: URL (line).
    if (line.find(":CONSOLE") != std::string::npos &&
        line.find(page.filename().string()) != std::string::npos) {
      result.console.push_back(line);
    }
  }
  std::filesystem::remove(checker);
  if (status != 0 || json.empty()) {
    result.error = "Chromium exited with " + (status ? std::to_string(*status) : "no status") +
                   " and the checker did not report";
    std::filesystem::remove_all(profile);
    return result;
  }
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) {
    result.error = "the checker's report is not JSON: " + json;
    std::filesystem::remove_all(profile);
    return result;
  }
  result.title = doc.value("title", "");
  result.images = doc.value("images", 0);
  result.tables = doc.value("tables", 0);
  result.links = doc.value("links", 0);
  result.broken = doc.value("broken", std::vector<std::string>{});
  result.unseen = doc.value("unseen", std::vector<std::string>{});

  // 2. The page itself, as a screenshot.
  args = chromiumArgs(profile);
  args.insert(args.end(), {"--window-size=" + std::to_string(width) + "," + std::to_string(height),
                           "--screenshot=" + std::filesystem::absolute(screenshot).string(),
                           "file://" + std::filesystem::absolute(page).string()});
  Subprocess shot(chromium, args);
  shot.drain(after(std::chrono::milliseconds(60'000)));
  const auto shotStatus = shot.wait(after(std::chrono::milliseconds(5'000)));
  std::filesystem::remove_all(profile);
  if (shotStatus != 0 || !std::filesystem::exists(screenshot)) {
    result.error = "Chromium did not write the screenshot";
    return result;
  }
  result.ran = true;
  return result;
}

}  // namespace udpchat::lab::test
