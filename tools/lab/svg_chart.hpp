// A small chart renderer that writes SVG by hand: axes with "nice" ticks (linear or
// logarithmic, or named categories), grid lines, lines with markers and error bars, step lines
// (CDFs), scatter points, horizontal span bars, a title and a legend. Sized 16:9 with fonts
// large enough for a slide; colours from the Okabe-Ito palette, which stays distinguishable with
// the common colour-vision deficiencies, and every series also has its own marker and dash
// pattern so the chart survives a black-and-white printer. Pure: returns the document text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace udpchat::lab {

// Okabe & Ito (2008), "Color Universal Design".
inline constexpr std::string_view kOkabeIto[] = {"#D55E00", "#0072B2", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};

enum class Marker { kNone, kCircle, kSquare, kTriangle, kDiamond };
enum class SeriesKind { kLine, kStep, kScatter };

struct ChartPoint {
  double x = 0;
  double y = 0;
  std::optional<double> low;   // error bar bottom (e.g. the minimum over repetitions)
  std::optional<double> high;  // error bar top
};

struct ChartSeries {
  std::string name;
  std::string colour = "#000000";
  std::string dash;  // SVG stroke-dasharray; empty = solid
  Marker marker = Marker::kCircle;
  SeriesKind kind = SeriesKind::kLine;
  std::vector<ChartPoint> points;
};

// A labelled interval of x, drawn as a bar along the top of the plot in the series' colour
// (e.g. "the bulk transfer was under way").
struct ChartSpan {
  double from = 0;
  double to = 0;
  std::string colour = "#000000";
  std::string label;
};

struct ChartAxis {
  std::string label;
  bool log = false;           // base 10; values <= 0 are left out
  std::optional<double> min;  // default: from the data (0 for linear when all >= 0)
  std::optional<double> max;
  // Categories: x positions 0, 1, 2... shown with these labels instead of numeric ticks.
  std::vector<std::string> categories;
};

struct Chart {
  std::string title;
  std::string subtitle;  // one line under the title (settings, repetitions)
  ChartAxis x;
  ChartAxis y;
  std::vector<ChartSeries> series;
  std::vector<ChartSpan> spans;
  std::string note;  // one line under the plot (how to read it)
  int width = 1280;  // pixels (16:9)
  int height = 720;
};

std::string renderSvg(const Chart& chart);

// Ticks for an axis from `low` to `high`: "nice" numbers (1, 2, 5 times a power of ten) for a
// linear axis, about `wanted` of them; for a log axis the powers of ten, with 2 and 5 between
// them when the range spans less than a factor of 1000.
std::vector<double> niceTicks(double low, double high, bool log, int wanted = 6);

// A tick label: "0.5", "20", "1000", "1e+04" beyond 99999.
std::string tickLabel(double value);

// Escapes &, <, >, " and ' (as `apostrophe`) for text and attribute values of XML or HTML.
std::string escapeMarkup(std::string_view text, std::string_view apostrophe);
// escapeMarkup with XML's &apos;.
std::string xmlEscape(std::string_view text);

}  // namespace udpchat::lab
