#include "lab/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace udpchat::lab {
namespace {

constexpr double kLeft = 120;  // plot area margins, pixels
constexpr double kTop = 112;
constexpr double kRight = 320;  // room for the legend
constexpr double kBottom = 120;
constexpr char kFont[] = "DejaVu Sans, Helvetica, Arial, sans-serif";

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  std::string s = text;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

struct Range {
  double low = 0;
  double high = 1;
};

// One axis mapped to pixels.
class Scale {
 public:
  Scale(Range range, bool log, double from, double to) : log_(log), from_(from), to_(to) {
    low_ = log ? std::log10(range.low) : range.low;
    high_ = log ? std::log10(range.high) : range.high;
    if (high_ <= low_) high_ = low_ + 1;
  }
  double operator()(double v) const {
    const double t = ((log_ ? std::log10(v) : v) - low_) / (high_ - low_);
    return from_ + (to_ - from_) * t;
  }
  bool accepts(double v) const { return std::isfinite(v) && (!log_ || v > 0); }

 private:
  bool log_;
  double from_;
  double to_;
  double low_ = 0;
  double high_ = 1;
};

// 1, 2, 5 times powers of ten, at or below / at or above v (> 0).
double niceBelow(double v) {
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {5.0, 2.0, 1.0}) {
    if (m * p <= v * (1 + 1e-9)) return m * p;
  }
  return p;
}
double niceAbove(double v) {
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v * (1 - 1e-9)) return m * p;
  }
  return 10 * p;
}

Range dataRange(const Chart& chart, bool xAxis) {
  const ChartAxis& axis = xAxis ? chart.x : chart.y;
  if (xAxis && !axis.categories.empty()) {
    return Range{-0.5, static_cast<double>(axis.categories.size()) - 0.5};
  }
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  const auto take = [&](double v) {
    if (!std::isfinite(v) || (axis.log && v <= 0)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  };
  for (const ChartSeries& s : chart.series) {
    for (const ChartPoint& p : s.points) {
      if (xAxis) {
        take(p.x);
      } else {
        take(p.y);
        if (p.low) take(*p.low);
        if (p.high) take(*p.high);
      }
    }
  }
  if (xAxis) {
    for (const ChartSpan& sp : chart.spans) {
      take(sp.from);
      take(sp.to);
    }
  }
  if (!std::isfinite(low)) {
    low = axis.log ? 1 : 0;
    high = axis.log ? 10 : 1;
  }
  Range r;
  if (axis.log) {
    r.low = niceBelow(low);
    r.high = niceAbove(high);
    if (r.high <= r.low) r.high = niceAbove(r.low * 1.01);
  } else {
    r.low = low >= 0 ? 0 : low;
    r.high = high <= r.low ? r.low + 1 : high;
    const std::vector<double> ticks = niceTicks(r.low, r.high, false);
    if (!ticks.empty()) {
      r.high = std::max(r.high, ticks.back());
      r.low = std::min(r.low, ticks.front());
    }
  }
  if (axis.min) r.low = *axis.min;
  if (axis.max) r.high = *axis.max;
  return r;
}

void markerAt(std::ostringstream& out, Marker marker, double x, double y,
              const std::string& colour) {
  const std::string style = "fill=\"" + colour + "\" stroke=\"#ffffff\" stroke-width=\"1.5\"";
  switch (marker) {
    case Marker::kNone:
      return;
    case Marker::kCircle:
      out << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"6.5\" " << style
          << "/>\n";
      return;
    case Marker::kSquare:
      out << "<rect x=\"" << num(x - 6) << "\" y=\"" << num(y - 6)
          << "\" width=\"12\" height=\"12\" " << style << "/>\n";
      return;
    case Marker::kTriangle:
      out << "<polygon points=\"" << num(x) << "," << num(y - 8) << " " << num(x + 7.5) << ","
          << num(y + 6) << " " << num(x - 7.5) << "," << num(y + 6) << "\" " << style << "/>\n";
      return;
    case Marker::kDiamond:
      out << "<polygon points=\"" << num(x) << "," << num(y - 8.5) << " " << num(x + 7.5) << ","
          << num(y) << " " << num(x) << "," << num(y + 8.5) << " " << num(x - 7.5) << "," << num(y)
          << "\" " << style << "/>\n";
      return;
  }
}

std::string dashAttribute(const std::string& dash) {
  return dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"";
}

}  // namespace

std::string escapeMarkup(std::string_view text, std::string_view apostrophe) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += apostrophe;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string xmlEscape(std::string_view text) {
  return escapeMarkup(text, "&apos;");
}

std::string tickLabel(double value) {
  char text[32];
  if (std::fabs(value) >= 1e5) {
    std::snprintf(text, sizeof text, "%.0e", value);
  } else if (std::fabs(value - std::round(value)) < 1e-9) {
    std::snprintf(text, sizeof text, "%.0f", value);
  } else {
    std::snprintf(text, sizeof text, "%.3g", value);
  }
  return text;
}

std::vector<double> niceTicks(double low, double high, bool log, int wanted) {
  std::vector<double> ticks;
  if (!(high > low)) return ticks;
  if (log) {
    if (low <= 0) return ticks;
    const int first = static_cast<int>(std::floor(std::log10(low) + 1e-9));
    const int last = static_cast<int>(std::ceil(std::log10(high) - 1e-9));
    const bool fine = std::log10(high / low) < 3;
    for (int e = first; e <= last; ++e) {
      for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10, e);
        if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) ticks.push_back(v);
      }
    }
    return ticks;
  }
  const double rough = (high - low) / std::max(1, wanted);
  const double power = std::pow(10, std::floor(std::log10(rough)));
  double step = power;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * power;
    if (step >= rough) break;
  }
  const double start = std::floor(low / step + 1e-9) * step;
  for (double v = start; v <= high + step * 0.999; v += step) {
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

std::string renderSvg(const Chart& chart) {
  const double w = chart.width;
  const double h = chart.height;
  const double left = kLeft;
  const double top = kTop;
  const double right = w - kRight;
  const double bottom = h - kBottom;
  const Range xr = dataRange(chart, true);
  const Range yr = dataRange(chart, false);
  const bool categorical = !chart.x.categories.empty();
  const Scale sx(xr, chart.x.log && !categorical, left, right);
  const Scale sy(yr, chart.y.log, bottom, top);

  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << chart.width << "\" height=\""
      << chart.height << "\" viewBox=\"0 0 " << chart.width << " " << chart.height
      << "\" font-family=\"" << kFont << "\">\n"
      << "<title>" << xmlEscape(chart.title) << "</title>\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << chart.width << "\" height=\"" << chart.height
      << "\" fill=\"#ffffff\"/>\n"
      << "<defs><clipPath id=\"plot\"><rect x=\"" << num(left) << "\" y=\"" << num(top - 2)
      << "\" width=\"" << num(right - left) << "\" height=\"" << num(bottom - top + 4)
      << "\"/></clipPath></defs>\n";
  out << "<text x=\"" << num(left) << "\" y=\"46\" font-size=\"30\" font-weight=\"bold\" "
      << "fill=\"#111111\">" << xmlEscape(chart.title) << "</text>\n";
  if (!chart.subtitle.empty()) {
    out << "<text x=\"" << num(left) << "\" y=\"80\" font-size=\"19\" fill=\"#444444\">"
        << xmlEscape(chart.subtitle) << "</text>\n";
  }

  // Grid and tick labels.
  out << "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
  const std::vector<double> yTicks = niceTicks(yr.low, yr.high, chart.y.log);
  for (double t : yTicks) {
    out << "<line x1=\"" << num(left) << "\" y1=\"" << num(sy(t)) << "\" x2=\"" << num(right)
        << "\" y2=\"" << num(sy(t)) << "\"/>\n";
  }
  std::vector<std::pair<double, std::string>> xTicks;
  if (categorical) {
    for (std::size_t i = 0; i < chart.x.categories.size(); ++i) {
      xTicks.emplace_back(static_cast<double>(i), chart.x.categories[i]);
    }
  } else {
    for (double t : niceTicks(xr.low, xr.high, chart.x.log)) xTicks.emplace_back(t, tickLabel(t));
  }
  for (const auto& [t, label] : xTicks) {
    out << "<line x1=\"" << num(sx(t)) << "\" y1=\"" << num(top) << "\" x2=\"" << num(sx(t))
        << "\" y2=\"" << num(bottom) << "\"/>\n";
  }
  out << "</g>\n<g class=\"ticks\" font-size=\"20\" fill=\"#222222\">\n";
  for (double t : yTicks) {
    out << "<text x=\"" << num(left - 12) << "\" y=\"" << num(sy(t) + 7)
        << "\" text-anchor=\"end\">" << xmlEscape(tickLabel(t)) << "</text>\n";
  }
  for (const auto& [t, label] : xTicks) {
    out << "<text x=\"" << num(sx(t)) << "\" y=\"" << num(bottom + 30)
        << "\" text-anchor=\"middle\">" << xmlEscape(label) << "</text>\n";
  }
  out << "</g>\n";

  // Axes and their labels.
  out << "<g class=\"axes\" stroke=\"#222222\" stroke-width=\"1.5\">\n"
      << "<line x1=\"" << num(left) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(right)
      << "\" y2=\"" << num(bottom) << "\"/>\n"
      << "<line x1=\"" << num(left) << "\" y1=\"" << num(top) << "\" x2=\"" << num(left)
      << "\" y2=\"" << num(bottom) << "\"/>\n</g>\n";
  out << "<text class=\"xlabel\" x=\"" << num((left + right) / 2) << "\" y=\"" << num(bottom + 68)
      << "\" font-size=\"22\" text-anchor=\"middle\" fill=\"#111111\">" << xmlEscape(chart.x.label)
      << "</text>\n";
  out << "<text class=\"ylabel\" x=\"0\" y=\"0\" font-size=\"22\" text-anchor=\"middle\" "
      << "fill=\"#111111\" transform=\"translate(" << num(34) << "," << num((top + bottom) / 2)
      << ") rotate(-90)\">" << xmlEscape(chart.y.label) << "</text>\n";

  // Spans: bars along the top of the plot, one row each.
  for (std::size_t i = 0; i < chart.spans.size(); ++i) {
    const ChartSpan& sp = chart.spans[i];
    if (!sx.accepts(sp.from) || !sx.accepts(sp.to)) continue;
    const double x0 = std::clamp(sx(sp.from), left, right);
    const double x1 = std::clamp(sx(sp.to), left, right);
    out << "<rect class=\"span\" data-label=\"" << xmlEscape(sp.label) << "\" x=\"" << num(x0)
        << "\" y=\"" << num(top + 4 + 14 * static_cast<double>(i)) << "\" width=\""
        << num(std::max(1.0, x1 - x0)) << "\" height=\"9\" fill=\"" << sp.colour
        << "\" fill-opacity=\"0.55\"/>\n";
  }

  // Series.
  for (const ChartSeries& s : chart.series) {
    out << "<g class=\"series\" data-name=\"" << xmlEscape(s.name)
        << "\" clip-path=\"url(#plot)\">\n";
    std::vector<std::pair<double, double>> pixels;
    for (const ChartPoint& p : s.points) {
      if (!sx.accepts(p.x) || !sy.accepts(p.y)) continue;
      pixels.emplace_back(sx(p.x), sy(p.y));
      if (p.low && p.high && sy.accepts(*p.low) && sy.accepts(*p.high)) {
        const double x = sx(p.x);
        out << "<path class=\"errorbar\" d=\"M" << num(x) << "," << num(sy(*p.low)) << " V"
            << num(sy(*p.high)) << " M" << num(x - 7) << "," << num(sy(*p.low)) << " H"
            << num(x + 7) << " M" << num(x - 7) << "," << num(sy(*p.high)) << " H" << num(x + 7)
            << "\" stroke=\"" << s.colour << "\" stroke-width=\"2\" fill=\"none\"/>\n";
      }
    }
    if (pixels.size() >= 2 && s.kind != SeriesKind::kScatter) {
      out << "<path class=\"line\" d=\"M" << num(pixels[0].first) << "," << num(pixels[0].second);
      for (std::size_t i = 1; i < pixels.size(); ++i) {
        if (s.kind == SeriesKind::kStep) {
          out << " H" << num(pixels[i].first) << " V" << num(pixels[i].second);
        } else {
          out << " L" << num(pixels[i].first) << "," << num(pixels[i].second);
        }
      }
      out << "\" fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"3\""
          << dashAttribute(s.dash) << " stroke-linejoin=\"round\"/>\n";
    }
    if (s.kind != SeriesKind::kStep) {
      for (const auto& [x, y] : pixels) {
        if (s.kind == SeriesKind::kScatter) {
          markerAt(out, s.marker == Marker::kNone ? Marker::kCircle : s.marker, x, y, s.colour);
        } else {
          markerAt(out, s.marker, x, y, s.colour);
        }
      }
    }
    out << "</g>\n";
  }

  // Legend, right of the plot.
  out << "<g class=\"legend\" font-size=\"20\" fill=\"#111111\">\n";
  double ly = top + 14;
  for (const ChartSeries& s : chart.series) {
    const double lx = right + 28;
    if (s.kind != SeriesKind::kScatter) {
      out << "<line x1=\"" << num(lx) << "\" y1=\"" << num(ly) << "\" x2=\"" << num(lx + 48)
          << "\" y2=\"" << num(ly) << "\" stroke=\"" << s.colour << "\" stroke-width=\"3\""
          << dashAttribute(s.dash) << "/>\n";
    }
    if (s.kind != SeriesKind::kStep) {
      markerAt(
          out,
          s.marker == Marker::kNone && s.kind == SeriesKind::kScatter ? Marker::kCircle : s.marker,
          lx + 24, ly, s.colour);
    }
    out << "<text x=\"" << num(lx + 60) << "\" y=\"" << num(ly + 7) << "\">" << xmlEscape(s.name)
        << "</text>\n";
    ly += 38;
  }
  for (const ChartSpan& sp : chart.spans) {
    if (sp.label.empty()) continue;
    const double lx = right + 28;
    out << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly - 5) << "\" width=\"48\" height=\"9\" "
        << "fill=\"" << sp.colour << "\" fill-opacity=\"0.55\"/>\n"
        << "<text x=\"" << num(lx + 60) << "\" y=\"" << num(ly + 7) << "\" font-size=\"17\">"
        << xmlEscape(sp.label) << "</text>\n";
    ly += 32;
  }
  out << "</g>\n";
  if (!chart.note.empty()) {
    out << "<text x=\"" << num(left) << "\" y=\"" << num(h - 14)
        << "\" font-size=\"17\" fill=\"#444444\">" << xmlEscape(chart.note) << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace udpchat::lab
