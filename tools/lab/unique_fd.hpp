// The lab's name for the shared descriptor wrapper (include/udpchat/unique_fd.hpp).
#pragma once

#include "udpchat/unique_fd.hpp"

namespace udpchat::lab {

using udpchat::UniqueFd;

}  // namespace udpchat::lab
