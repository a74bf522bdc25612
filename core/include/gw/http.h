#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw {

// Header name/value pairs; names lower-case.
using Headers = std::vector<std::pair<std::string, std::string>>;

// 0-15 for a hex digit, -1 otherwise.
int hexDigit(char c);

// The percent-decoded value of `name` in "?a=1&b=2"; empty when absent.
std::string queryParam(std::string_view query, std::string_view name);
// "/a/b%20c" segment decoding ("%20" -> " "); false on a malformed escape.
bool percentDecode(std::string_view in, std::string& out);

}  // namespace gw
