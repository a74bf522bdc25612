#pragma once
#include <string>
#include <utility>
#include <vector>

namespace gw {

// Header name/value pairs; names lower-case.
using Headers = std::vector<std::pair<std::string, std::string>>;

}  // namespace gw
