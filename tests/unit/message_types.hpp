// Turns the protocol's Message variant into GoogleTest's type list, so typed tests run over every
// message type and a new type cannot be forgotten.
#pragma once

#include <gtest/gtest.h>

#include <variant>

namespace udpchat::testing {

template <class V>
struct TypesOf;
template <class... Ts>
struct TypesOf<std::variant<Ts...>> {
  using type = ::testing::Types<Ts...>;
};

}  // namespace udpchat::testing
