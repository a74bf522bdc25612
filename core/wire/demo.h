#pragma once
// The built-in demo upstream: answers inside the core when no provider key is
// set, so a fresh `scripts/dev` replies to curl and the SDKs at once. The
// reply says plainly that it is the demo. Rendering is the client dialect's.
#include <string>
#include <string_view>
#include <vector>

#include "gw/chat_request.h"
#include "gw/usage.h"

namespace gw::demo {

struct Reply {
  std::string text;
  Usage usage;
};

Reply compose(const ChatRequest& req);
// Word-sized pieces of `text`, as a real model streams them.
std::vector<std::string_view> pieces(std::string_view text);

}  // namespace gw::demo
