// The terminal, through ncursesw: copies a Screen to it and reads keys from it. Nothing else of
// the full-screen client touches ncurses.
// Thread affinity: one thread; one Terminal per process (ncurses has global state).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "key.hpp"
#include "screen.hpp"

namespace udpchat::tui {

class Terminal {
 public:
  // Takes over the terminal on standard input and output (alternate screen, no echo, keys as
  // they come). Returns nullptr, with the reason in `error`, when the terminal cannot be used
  // (an unknown TERM, for instance); nothing has been changed then.
  static std::unique_ptr<Terminal> open(std::string& error);
  // Gives the terminal back as it was.
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Columns and rows right now.
  std::pair<int, int> size() const;
  // True once after the terminal changed size (SIGWINCH); call resize() then.
  bool resizePending() const;
  // Tells ncurses about the new size; returns it.
  std::pair<int, int> resize();

  // Every key waiting, without blocking.
  std::vector<Key> readKeys();
  // Draws the grid. ncurses sends only what changed since the last draw; after forceRepaint()
  // the next draw repaints everything.
  void draw(const Screen& screen);
  void forceRepaint();
  // Mouse wheel reports on or off.
  void setMouse(bool on);

 private:
  Terminal() = default;
  short pairFor(int fg, int bg);
  std::optional<Key> translate(int status, unsigned ch);

  std::map<std::pair<int, int>, short> pairs_;
  int colours_ = 0;
  int maxPairs_ = 0;
};

}  // namespace udpchat::tui
