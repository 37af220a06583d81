// A key press as the model sees it, whatever terminal library read it.
#pragma once

namespace udpchat::tui {

struct Key {
  enum class Code {
    Char,  // `ch`: a printable character
    Ctrl,  // `ch`: 'a'..'z' (Ctrl-A is {Ctrl, 'a'})
    Alt,   // `ch`: the character typed with Alt (or after Escape)
    Enter,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    PageUp,
    PageDown,
    WheelUp,
    WheelDown,
    Escape,
  };
  Code code = Code::Char;
  char32_t ch = 0;

  static Key character(char32_t c) { return Key{Code::Char, c}; }
  static Key ctrl(char c) { return Key{Code::Ctrl, static_cast<char32_t>(c)}; }
  static Key alt(char32_t c) { return Key{Code::Alt, c}; }
  static Key named(Code c) { return Key{c, 0}; }
};

}  // namespace udpchat::tui
