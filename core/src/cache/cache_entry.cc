// Cache decisions and the stored entry's JSON form.
#include <cctype>

#include "gw/cache.h"
#include "gw/json_writer.h"

namespace gw::cache {

namespace {

using json::Kind;

constexpr int64_t KV_MIN_TTL = 60;  // KV's shortest expiry
constexpr int64_t MAX_TTL = 2592000;

// A Cache-Control directive, case-insensitively, as a whole token.
bool hasDirective(std::string_view header, std::string_view directive) {
  size_t i = 0;
  while (i < header.size()) {
    size_t end = header.find(',', i);
    if (end == std::string_view::npos) end = header.size();
    std::string_view token = header.substr(i, end - i);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.size() == directive.size()) {
      bool same = true;
      for (size_t k = 0; k < token.size() && same; ++k)
        same = std::tolower(static_cast<unsigned char>(token[k])) == directive[k];
      if (same) return true;
    }
    i = end + 1;
  }
  return false;
}

Decision bypass(std::string reason) {
  Decision d;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

ApiError decide(const CacheConfig& c, const json::Tape& request, std::string_view cacheControl,
                std::string_view ttlHeader, bool useCache, Decision& out) {
  out = Decision{};
  out.ttlSeconds = c.ttlSeconds;
  if (!ttlHeader.empty()) {
    int64_t ttl = 0;
    bool digits = ttlHeader.size() <= 8;
    for (char ch : ttlHeader) {
      digits = digits && ch >= '0' && ch <= '9';
      if (digits) ttl = ttl * 10 + (ch - '0');
    }
    if (!digits || (ttl != 0 && (ttl < KV_MIN_TTL || ttl > MAX_TTL)))
      return invalidValue("x-aigw-cache-ttl", "x-aigw-cache-ttl must be 0 (do not store) or a number of seconds from " +
                                                  std::to_string(KV_MIN_TTL) + " to " + std::to_string(MAX_TTL) + ".");
    if (ttl == 0) {
      out = bypass("x-aigw-cache-ttl: 0");
      return {};
    }
    out.ttlSeconds = ttl;
  }
  const uint32_t root = request.root();
  if (!c.enabled) out = bypass("cache disabled");
  else if (!useCache) out = bypass("useCache: false");
  else if (hasDirective(cacheControl, "no-store")) out = bypass("cache-control: no-store");
  else if (request.integerAt(root, "n", 1) > 1 && !c.multipleChoices) out = bypass("n > 1");
  else if (!c.nonzeroTemperature) {
    const uint32_t t = request.find(root, "temperature");
    // Unset means the provider's default, which samples.
    if (t == 0 || request.kind(t) != Kind::Number || request.number(t) > 0) out = bypass("temperature > 0");
  }
  if (!out.reason.empty()) return {};
  out.mode = hasDirective(cacheControl, "no-cache") ? Mode::Refresh : Mode::Use;
  return {};
}

std::string encodeEntry(const Entry& e) {
  std::string out;
  json::Writer w(out);
  w.beginObject().field("v", 1).field("key", e.key).field("scope", e.scope).field("model", e.model);
  w.field("provider", e.provider).field("upstream_model", e.upstreamModel);
  w.field("created_ms", e.createdMs).field("expires_ms", e.expiresMs);
  w.key("usage").beginObject().field("prompt_tokens", e.usage.promptTokens);
  w.field("completion_tokens", e.usage.completionTokens).field("total_tokens", e.usage.totalTokens);
  w.field("cached_tokens", e.usage.cachedPromptTokens).field("cache_creation_tokens", e.usage.cacheCreationTokens);
  if (e.usage.reasoningTokens > 0) w.field("reasoning_tokens", e.usage.reasoningTokens);
  w.field("estimated", e.usage.estimated).endObject();
  w.key("cost").beginObject().field("priced", e.cost.priced).field("usd_pico", e.cost.picoUsd);
  w.field("brl_pico", e.cost.picoBrl).endObject();
  w.field("preview", e.preview);
  w.key("completion").beginObject().field("model", e.completion.model).key("choices").beginArray();
  for (const Choice& c : e.completion.choices) {
    w.beginObject().field("index", c.index);
    if (c.hasContent) w.field("content", c.content);
    else w.key("content").null();
    w.key("tool_calls").beginArray();
    for (const ToolCall& t : c.toolCalls)
      w.beginObject().field("id", t.id).field("name", t.name).field("arguments", t.arguments).endObject();
    w.endArray().field("finish_reason", c.finishReason).endObject();
  }
  w.endArray().endObject().endObject();
  return out;
}

bool decodeEntry(std::string_view text, std::string_view expectedKey, Entry& out) {
  json::Tape t;
  if (!t.parse(text) || t.kind(t.root()) != Kind::Object) return false;
  if (t.integerAt(t.root(), "v", 0) != 1 || !t.stringEquals(t.find(t.root(), "key"), expectedKey)) return false;
  const uint32_t usage = t.find(t.root(), "usage"), cost = t.find(t.root(), "cost"), completion = t.find(t.root(), "completion");
  if (usage == 0 || t.kind(usage) != Kind::Object || cost == 0 || t.kind(cost) != Kind::Object || completion == 0 ||
      t.kind(completion) != Kind::Object)
    return false;
  const uint32_t choices = t.find(completion, "choices");
  if (choices == 0 || t.kind(choices) != Kind::Array || t.node(choices).count == 0) return false;
  out = Entry{};
  out.key = std::string(expectedKey);
  out.scope = t.stringAt(t.root(), "scope");
  out.model = t.stringAt(t.root(), "model");
  out.provider = t.stringAt(t.root(), "provider");
  out.upstreamModel = t.stringAt(t.root(), "upstream_model");
  out.createdMs = t.integerAt(t.root(), "created_ms", 0);
  out.expiresMs = t.integerAt(t.root(), "expires_ms", 0);
  out.preview = t.stringAt(t.root(), "preview");
  out.usage.known = true;
  out.usage.promptTokens = t.integerAt(usage, "prompt_tokens", -1);
  out.usage.completionTokens = t.integerAt(usage, "completion_tokens", -1);
  out.usage.totalTokens = t.integerAt(usage, "total_tokens", -1);
  out.usage.cachedPromptTokens = t.integerAt(usage, "cached_tokens", 0);
  out.usage.cacheCreationTokens = t.integerAt(usage, "cache_creation_tokens", 0);
  out.usage.reasoningTokens = t.integerAt(usage, "reasoning_tokens", 0);
  out.usage.estimated = t.booleanAt(usage, "estimated", false);
  if (out.usage.promptTokens < 0 || out.usage.completionTokens < 0 || out.usage.totalTokens < 0) return false;
  out.cost.priced = t.booleanAt(cost, "priced", false);
  out.cost.picoUsd = t.integerAt(cost, "usd_pico", 0);
  out.cost.picoBrl = t.integerAt(cost, "brl_pico", 0);
  out.completion.model = t.stringAt(completion, "model");
  int index = 0;
  for (uint32_t c = t.firstChild(choices); c != 0; c = t.nextSibling(choices, c), ++index) {
    if (t.kind(c) != Kind::Object) return false;
    Choice choice;
    choice.index = index;
    const uint32_t content = t.find(c, "content");
    if (content != 0 && t.kind(content) == Kind::String) {
      choice.content = t.string(content);
      choice.hasContent = true;
    } else if (content != 0 && t.kind(content) != Kind::Null) {
      return false;
    }
    const uint32_t calls = t.find(c, "tool_calls");
    if (calls != 0 && t.kind(calls) != Kind::Array) return false;
    if (calls != 0)
      for (uint32_t call = t.firstChild(calls); call != 0; call = t.nextSibling(calls, call)) {
        if (t.kind(call) != Kind::Object) return false;
        choice.toolCalls.push_back({t.stringAt(call, "id"), t.stringAt(call, "name"), t.stringAt(call, "arguments")});
      }
    choice.finishReason = t.stringAt(c, "finish_reason");
    if (choice.finishReason.empty()) return false;
    out.completion.choices.push_back(std::move(choice));
  }
  out.completion.usage = out.usage;
  return true;
}

}  // namespace gw::cache
