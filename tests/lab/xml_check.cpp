#include "xml_check.hpp"

#include <cctype>

namespace udpchat::lab::test {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<std::unique_ptr<XmlElement>, std::string> document() {
    if (s_.substr(0, 5) == "<?xml") {
      const std::size_t end = s_.find("?>");
      if (end == std::string_view::npos) return error("unterminated XML declaration");
      pos_ = end + 2;
    }
    skipSpace();
    auto root = std::make_unique<XmlElement>();
    if (!element(*root)) return error(problem_);
    skipSpace();
    if (pos_ != s_.size()) return error("content after the root element");
    return root;
  }

 private:
  Failure<std::string> error(const std::string& what) {
    return fail(what + " at byte " + std::to_string(pos_));
  }

  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  static bool nameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  }

  bool name(std::string& out) {
    const std::size_t start = pos_;
    if (pos_ >= s_.size() || !(std::isalpha(static_cast<unsigned char>(s_[pos_])) ||
                               s_[pos_] == '_' || s_[pos_] == ':')) {
      problem_ = "expected a name";
      return false;
    }
    while (pos_ < s_.size() && nameChar(s_[pos_])) ++pos_;
    out = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  // Character data up to `stop` (not included), entities resolved; raw '<' and '&' refused.
  bool characters(char stop, std::string& out) {
    while (pos_ < s_.size() && s_[pos_] != stop) {
      const char c = s_[pos_];
      if (c == '<') {
        if (stop == '<') break;
        problem_ = "raw '<' in an attribute value";
        return false;
      }
      if (c == '&') {
        const std::size_t semi = s_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 10) {
          problem_ = "unterminated entity";
          return false;
        }
        const std::string_view entity = s_.substr(pos_ + 1, semi - pos_ - 1);
        if (entity == "amp") {
          out += '&';
        } else if (entity == "lt") {
          out += '<';
        } else if (entity == "gt") {
          out += '>';
        } else if (entity == "quot") {
          out += '"';
        } else if (entity == "apos") {
          out += '\'';
        } else if (entity.size() > 1 && entity[0] == '#') {
          out += '?';  // a character reference; its value does not matter to the tests
        } else {
          problem_ = "unknown entity &" + std::string(entity) + ";";
          return false;
        }
        pos_ = semi + 1;
        continue;
      }
      out += c;
      ++pos_;
    }
    return true;
  }

  bool element(XmlElement& e) {
    if (pos_ >= s_.size() || s_[pos_] != '<') {
      problem_ = "expected '<'";
      return false;
    }
    ++pos_;
    if (!name(e.name)) return false;
    for (;;) {
      const std::size_t before = pos_;
      skipSpace();
      if (pos_ >= s_.size()) {
        problem_ = "unterminated tag <" + e.name;
        return false;
      }
      if (s_.substr(pos_, 2) == "/>") {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (before == pos_) {
        problem_ = "attributes must be separated by spaces";
        return false;
      }
      std::string key;
      if (!name(key)) return false;
      if (pos_ >= s_.size() || s_[pos_] != '=') {
        problem_ = "attribute " + key + " without a value";
        return false;
      }
      ++pos_;
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
        problem_ = "attribute " + key + " not quoted";
        return false;
      }
      const char quote = s_[pos_++];
      std::string value;
      if (!characters(quote, value)) return false;
      if (pos_ >= s_.size()) {
        problem_ = "unterminated attribute " + key;
        return false;
      }
      ++pos_;
      if (!e.attributes.emplace(key, value).second) {
        problem_ = "attribute " + key + " repeated";
        return false;
      }
    }
    for (;;) {
      if (!characters('<', e.text)) return false;
      if (pos_ >= s_.size()) {
        problem_ = "element <" + e.name + "> not closed";
        return false;
      }
      if (s_.substr(pos_, 2) == "</") {
        pos_ += 2;
        std::string closing;
        if (!name(closing)) return false;
        if (closing != e.name) {
          problem_ = "</" + closing + "> closes <" + e.name + ">";
          return false;
        }
        skipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') {
          problem_ = "expected '>'";
          return false;
        }
        ++pos_;
        return true;
      }
      auto child = std::make_unique<XmlElement>();
      if (!element(*child)) return false;
      e.children.push_back(std::move(child));
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string problem_;
};

void collect(const XmlElement& e, std::string_view name, std::vector<const XmlElement*>& out) {
  if (e.name == name) out.push_back(&e);
  for (const auto& child : e.children) collect(*child, name, out);
}

}  // namespace

std::vector<const XmlElement*> XmlElement::findAll(std::string_view elementName) const {
  std::vector<const XmlElement*> out;
  collect(*this, elementName, out);
  return out;
}

std::string XmlElement::attribute(const std::string& key) const {
  const auto it = attributes.find(key);
  return it == attributes.end() ? std::string() : it->second;
}

std::string XmlElement::allText() const {
  std::string out = text;
  for (const auto& child : children) out += child->allText();
  return out;
}

Result<std::unique_ptr<XmlElement>, std::string> parseXml(std::string_view document) {
  return Parser(document).document();
}

}  // namespace udpchat::lab::test
