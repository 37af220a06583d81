#include "terminal.hpp"

#include <curses.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cwchar>

#include "char_width.hpp"

namespace udpchat::tui {
namespace {

std::atomic<bool> resized{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set in a signal handler");

extern "C" void onWindowChange(int) {
  resized.store(true);
}

// The one ncurses screen of the process and the SIGWINCH handler it replaced.
SCREEN* screen = nullptr;
struct sigaction previousWinch {};

// Decodes a cell's UTF-8 into the wide string setcchar() wants (a base character and at most
// CCHARW_MAX - 1 combining ones).
void toWide(const std::string& text, wchar_t (&out)[CCHARW_MAX + 1]) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < text.size() && n < CCHARW_MAX;) {
    out[n++] = static_cast<wchar_t>(nextCodePoint(text, pos));
  }
  out[n] = L'\0';
}

}  // namespace

std::unique_ptr<Terminal> Terminal::open(std::string& error) {
  if (screen != nullptr) {
    error = "the terminal is already in use";
    return nullptr;
  }
  // Installed before ncurses starts so that ncurses leaves SIGWINCH to us: it only catches
  // signals whose handler is the default. The loop polls the flag and resizes in its own time.
  struct sigaction action {};
  action.sa_handler = onWindowChange;
  sigemptyset(&action.sa_mask);
  sigaction(SIGWINCH, &action, &previousWinch);

  screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr) {
    sigaction(SIGWINCH, &previousWinch, nullptr);
    const char* term = std::getenv("TERM");
    error = std::string("cannot use the terminal (TERM=") + (term != nullptr ? term : "") + ")";
    return nullptr;
  }
  set_term(screen);
  std::unique_ptr<Terminal> t(new Terminal());
  raw();  // Ctrl-C, Ctrl-W, Ctrl-U arrive as keys instead of being taken by the tty driver
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  meta(stdscr, TRUE);
  intrflush(stdscr, FALSE);
  set_escdelay(25);  // Alt-1 arrives as ESC '1'; a lone Escape is not worth a longer wait
  if (has_colors()) {
    start_color();
    use_default_colors();
    t->colours_ = COLORS;
    t->maxPairs_ = COLOR_PAIRS;
  }
  mouseinterval(0);
  t->setMouse(true);
  return t;
}

Terminal::~Terminal() {
  mousemask(0, nullptr);
  endwin();
  delscreen(screen);
  screen = nullptr;
  sigaction(SIGWINCH, &previousWinch, nullptr);
}

std::pair<int, int> Terminal::size() const {
  return {COLS, LINES};
}

bool Terminal::resizePending() const {
  return resized.load();
}

std::pair<int, int> Terminal::resize() {
  resized.store(false);
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    resize_term(ws.ws_row, ws.ws_col);
  }
  forceRepaint();
  return size();
}

void Terminal::setMouse(bool on) {
  mousemask(on ? (BUTTON4_PRESSED | BUTTON5_PRESSED) : 0, nullptr);
}

void Terminal::forceRepaint() {
  clearok(curscr, TRUE);
}

std::optional<Key> Terminal::translate(int status, unsigned ch) {
  using Code = Key::Code;
  if (status == KEY_CODE_YES) {
    switch (ch) {
      case KEY_UP:
        return Key::named(Code::Up);
      case KEY_DOWN:
        return Key::named(Code::Down);
      case KEY_LEFT:
        return Key::named(Code::Left);
      case KEY_RIGHT:
        return Key::named(Code::Right);
      case KEY_HOME:
        return Key::named(Code::Home);
      case KEY_END:
        return Key::named(Code::End);
      case KEY_PPAGE:
        return Key::named(Code::PageUp);
      case KEY_NPAGE:
        return Key::named(Code::PageDown);
      case KEY_DC:
        return Key::named(Code::Delete);
      case KEY_BACKSPACE:
        return Key::named(Code::Backspace);
      case KEY_ENTER:
        return Key::named(Code::Enter);
      case KEY_BTAB:
        return Key::named(Code::BackTab);
      case KEY_RESIZE:
        resized.store(true);
        return std::nullopt;
      case KEY_MOUSE: {
        MEVENT ev{};
        if (getmouse(&ev) != OK) return std::nullopt;
        if (ev.bstate & BUTTON4_PRESSED) return Key::named(Code::WheelUp);
        if (ev.bstate & BUTTON5_PRESSED) return Key::named(Code::WheelDown);
        return std::nullopt;
      }
      default:
        return std::nullopt;
    }
  }
  switch (ch) {
    case '\r':
    case '\n':
      return Key::named(Code::Enter);
    case '\t':
      return Key::named(Code::Tab);
    case 0x7F:
    case 0x08:
      return Key::named(Code::Backspace);
    default:
      break;
  }
  if (ch >= 1 && ch <= 26) return Key::ctrl(static_cast<char>('a' + ch - 1));
  if (ch < 0x20 || (ch >= 0x7F && ch < 0xA0)) return std::nullopt;
  return Key::character(static_cast<char32_t>(ch));
}

std::vector<Key> Terminal::readKeys() {
  std::vector<Key> keys;
  while (true) {
    wint_t ch = 0;
    const int status = wget_wch(stdscr, &ch);
    if (status == ERR) break;
    if (status == OK && ch == 27) {
      // Alt-x arrives as ESC x; ESC alone is the Escape key.
      wint_t next = 0;
      const int nextStatus = wget_wch(stdscr, &next);
      if (nextStatus == ERR) {
        keys.push_back(Key::named(Key::Code::Escape));
        break;
      }
      if (nextStatus == OK && next >= 0x20 && next != 0x7F) {
        keys.push_back(Key::alt(static_cast<char32_t>(next)));
        continue;
      }
      if (auto k = translate(nextStatus, static_cast<unsigned>(next))) keys.push_back(*k);
      continue;
    }
    if (auto k = translate(status, static_cast<unsigned>(ch))) keys.push_back(*k);
  }
  return keys;
}

short Terminal::pairFor(int fg, int bg) {
  if (colours_ == 0 || (fg < 0 && bg < 0)) return 0;
  if (colours_ < 16) {
    if (fg >= 8) fg -= 8;
    if (bg >= 8) bg -= 8;
  }
  const auto key = std::make_pair(fg, bg);
  if (auto it = pairs_.find(key); it != pairs_.end()) return it->second;
  const short next = static_cast<short>(pairs_.size() + 1);
  if (next >= maxPairs_) return 0;
  init_pair(next, static_cast<short>(fg), static_cast<short>(bg));
  pairs_.emplace(key, next);
  return next;
}

void Terminal::draw(const Screen& grid) {
  const int rows = std::min(grid.height(), LINES);
  const int cols = std::min(grid.width(), COLS);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const Cell& cell = grid.at(x, y);
      if (cell.width == 0) continue;
      wchar_t wide[CCHARW_MAX + 1];
      toWide(cell.text, wide);
      // The grid's widths come from a table; should this machine's C library disagree about a
      // character, a '?' keeps the columns where the grid has them.
      if (wide[0] == L'\0' || ::wcwidth(wide[0]) != cell.width) {
        wide[0] = L'?';
        wide[1] = L'\0';
        if (cell.width == 2 && x + 1 < cols) {
          cchar_t extra{};
          setcchar(&extra, wide, A_NORMAL, 0, nullptr);
          mvadd_wch(y, x + 1, &extra);
        }
      }
      attr_t attrs = A_NORMAL;
      if (cell.attr.bold) attrs |= A_BOLD;
      if (cell.attr.dim) attrs |= A_DIM;
      if (cell.attr.reverse) attrs |= A_REVERSE;
      if (cell.attr.underline) attrs |= A_UNDERLINE;
      if (colours_ > 0 && colours_ < 16 && cell.attr.fg >= 8) attrs |= A_BOLD;
      cchar_t cc{};
      setcchar(&cc, wide, attrs, pairFor(cell.attr.fg, cell.attr.bg), nullptr);
      mvadd_wch(y, x, &cc);
    }
  }
  if (grid.cursorVisible()) {
    curs_set(1);
    move(grid.cursorY(), grid.cursorX());
  } else {
    curs_set(0);
  }
  refresh();
}

}  // namespace udpchat::tui
