#include <chrono>

#include "udpchat/time.hpp"

namespace udpchat {

Now readClocks() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto mono = std::chrono::steady_clock::now().time_since_epoch();
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return Now{duration_cast<milliseconds>(mono).count(), duration_cast<milliseconds>(wall).count()};
}

}  // namespace udpchat
