#include "gw/cors.h"

namespace gw::cors {

namespace {

constexpr std::string_view ALWAYS =
    "authorization, content-type, x-api-key, x-aigw-user, x-aigw-agent, x-aigw-routing, x-aigw-context, "
    "x-aigw-conversation-id, x-aigw-metadata, x-aigw-log-body, x-aigw-cache-ttl, cache-control, anthropic-version, anthropic-beta, "
    "anthropic-dangerous-direct-browser-access";
constexpr size_t MAX_REQUESTED = 2048;

// RFC 9110 token characters, lower-cased by the host.
bool tokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A comma-separated list of header names (optional spaces), nothing else.
bool headerNameList(std::string_view v) {
  bool inName = false;
  for (char c : v) {
    if (tokenChar(c)) inName = true;
    else if (c == ',') {
      if (!inName) return false;
      inName = false;
    } else if (c != ' ' && c != '\t') {
      return false;
    }
  }
  return inName;
}

}  // namespace

std::string allowedHeaders(std::string_view requested) {
  std::string out(ALWAYS);
  if (!requested.empty() && requested.size() <= MAX_REQUESTED && headerNameList(requested)) {
    out += ", ";
    out += requested;
  }
  return out;
}

}  // namespace gw::cors
