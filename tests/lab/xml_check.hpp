// A strict little XML reader for the tests of the lab's SVG output: it checks that a document
// is well-formed (one root element, balanced and properly nested tags, quoted attributes
// without repeats, no raw '<' or '&' in text or attribute values, only the five predefined
// entities and character references) and returns its element tree, so tests can look for the
// series, axes and labels they expect. Not a general XML parser: no DTD, no CDATA, no
// processing instructions other than the leading declaration, no comments.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "udpchat/result.hpp"

namespace udpchat::lab::test {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // values with entities resolved
  std::vector<std::unique_ptr<XmlElement>> children;
  std::string text;  // the element's own character data, concatenated, entities resolved

  // Every element below this one (this one included) named `name`, in document order.
  std::vector<const XmlElement*> findAll(std::string_view elementName) const;
  // The attribute's value, or "" when absent.
  std::string attribute(const std::string& key) const;
  // All character data of this element and its descendants.
  std::string allText() const;
};

// The root element, or what is wrong (with the byte offset).
Result<std::unique_ptr<XmlElement>, std::string> parseXml(std::string_view document);

}  // namespace udpchat::lab::test
