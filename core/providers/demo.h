#pragma once
// The built-in demo upstream: answers inside the core when no provider key is
// set, so a fresh `scripts/dev` replies to curl and the SDKs at once. The
// reply says plainly that it is the demo.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/chat_request.h"
#include "gw/usage.h"

namespace gw::demo {

struct Reply {
  std::string text;
  Usage usage;
};

Reply compose(const ChatRequest& req);
std::string completionJson(const Reply& reply, std::string_view model, std::string_view id, int64_t created);
// A complete SSE stream: role chunk, content chunks, finish chunk, an optional
// usage chunk, then [DONE].
std::string completionStream(const Reply& reply, std::string_view model, std::string_view id, int64_t created,
                             bool includeUsage);

}  // namespace gw::demo
