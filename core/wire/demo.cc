#include "demo.h"

#include "gw/pricing.h"

namespace gw::demo {

Reply compose(const ChatRequest& req) {
  Reply r;
  std::string said = req.lastUserText.substr(0, 200);
  r.text = "Hello from the edge AI gateway's built-in demo upstream (no provider key is set, so no model was called).";
  if (!said.empty()) r.text += " You said: \"" + said + (req.lastUserText.size() > 200 ? "...\"" : "\"");
  r.usage.known = true;
  r.usage.promptTokens = estimateTokens(req.promptBytes);
  r.usage.completionTokens = estimateTokens(r.text.size());
  r.usage.totalTokens = r.usage.promptTokens + r.usage.completionTokens;
  return r;
}

std::vector<std::string_view> pieces(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start + 1);
    end = end == std::string_view::npos ? text.size() : end;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

}  // namespace gw::demo
