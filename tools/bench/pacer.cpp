#include "pacer.hpp"

#include <cmath>

namespace udpchat::bench {

Pacer::Pacer(double perSecond, Nanos start)
    : perSecond_(perSecond), periodNs_(1e9 / perSecond), start_(start) {}

Nanos Pacer::dueAt(std::uint64_t k) const {
  return start_ + static_cast<Nanos>(std::ceil(static_cast<double>(k) * periodNs_));
}

std::uint64_t Pacer::dueBy(Nanos now) const {
  if (now < start_) return 0;
  // An estimate in floating point, then corrected against dueAt() so that the two functions
  // agree exactly at every boundary.
  auto k = static_cast<std::uint64_t>(static_cast<double>(now - start_) / periodNs_);
  while (dueAt(k + 1) <= now) ++k;
  while (k > 0 && dueAt(k) > now) --k;
  return k + 1;  // sends 0..k are due
}

}  // namespace udpchat::bench
