#include "openai_chat.h"

#include <algorithm>

#include "gw/http.h"
#include "gw/json_writer.h"
#include "gw/pricing.h"
#include "gw/stable_sort.h"

namespace gw::openai_chat {

namespace {

using json::Kind;

const Quirks NO_QUIRKS;  // a decoder or forwarder made without a provider

struct Edit {
  uint32_t begin;
  uint32_t end;
  std::string text;
};

bool listed(const std::vector<std::string>& names, const json::Tape& t, uint32_t key) {
  for (const auto& n : names)
    if (t.stringEquals(key, n)) return true;
  return false;
}

const std::string* renamedTo(const Quirks& q, std::string_view name) {
  for (const auto& [from, to] : q.rename)
    if (from == name) return &to;
  return nullptr;
}

// The same, for a key on the tape (compared in place, not decoded).
const std::string* renamedTo(const Quirks& q, const json::Tape& t, uint32_t key) {
  for (const auto& [from, to] : q.rename)
    if (t.stringEquals(key, from)) return &to;
  return nullptr;
}

// Applies non-overlapping edits (sorted by position) to `body`.
std::string applyEdits(std::string_view body, std::vector<Edit>& edits) {
  stableSort(edits, [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  size_t extra = 0;
  for (const auto& e : edits) extra += e.text.size();
  out.reserve(body.size() + extra);
  uint32_t cursor = 0;
  for (const auto& e : edits) {
    if (e.begin < cursor) continue;  // overlaps an earlier edit; the first one wins
    out.append(body.data() + cursor, e.begin - cursor);
    out += e.text;
    cursor = e.end;
  }
  out.append(body.data() + cursor, body.size() - cursor);
  return out;
}

bool carriesUsageObject(std::string_view data) {
  for (size_t at = data.find("\"usage\""); at != std::string_view::npos; at = data.find("\"usage\"", at + 1)) {
    size_t v = data.find_first_not_of(" \t\r\n:", at + 7);
    if (v != std::string_view::npos && data[v] == '{') return true;
  }
  return false;
}

// Removes the member named `key` from object `obj`, with its comma.
void dropMember(const json::Tape& t, uint32_t obj, std::string_view key, std::vector<Edit>& edits) {
  uint32_t prevEnd = 0;
  for (uint32_t k = t.firstChild(obj); k != 0;) {
    const uint32_t v = k + 1;
    const uint32_t next = t.nextSibling(obj, v);
    if (t.stringEquals(k, key)) {
      if (prevEnd != 0) edits.push_back({prevEnd, t.node(v).end, ""});
      else edits.push_back({t.node(k).begin, next != 0 ? t.node(next).begin : t.node(v).end, ""});
      return;
    }
    prevEnd = t.node(v).end;
    k = next;
  }
}

}  // namespace

std::string encodeRequest(const ChatRequest& req, const Target& target, const Config& c) {
  const json::Tape& t = req.tape;
  const uint32_t root = t.root();
  const Quirks& quirks = target.provider->quirks;
  std::vector<Edit> edits;
  edits.reserve(4);

  std::string inserted;
  if (req.modelNode == 0) {  // the client named its targets in `models` only
    inserted += ",\"model\":";
    json::appendEscaped(inserted, target.upstream);
  } else if (t.rawString(req.modelNode) != target.upstream || t.node(req.modelNode).hasEscapes) {
    std::string quoted;
    json::appendEscaped(quoted, target.upstream);
    edits.push_back({t.node(req.modelNode).begin, t.node(req.modelNode).end, std::move(quoted)});
  }

  // Quirks: drop or rename top-level fields (a rename onto a field the client
  // also sent drops the original instead). The gateway's own `models` is
  // always dropped.
  bool droppedStreamOptions = false;
  // A registry model that does not reason refuses reasoning_effort: it is left out.
  const uint32_t unusedEffort =
      req.reasoningEffortNode != 0 && target.model != nullptr && !target.model->has(CAP_REASONING) ? req.reasoningEffortNode : 0;
  if (!quirks.drop.empty() || !quirks.rename.empty() || req.modelsNode != 0 || unusedEffort != 0) {
    uint32_t prevKeptEnd = 0;
    bool anyKept = false;
    for (uint32_t k = t.firstChild(root); k != 0;) {
      uint32_t v = k + 1;
      uint32_t next = t.nextSibling(root, v);
      bool drop = (listed(quirks.drop, t, k) && k != req.modelNode - 1) || v == req.modelsNode || v == unusedEffort;
      const std::string* rename = drop ? nullptr : renamedTo(quirks, t, k);
      if (rename != nullptr && t.find(root, *rename) != 0) drop = true, rename = nullptr;
      if (drop) {
        if (t.stringEquals(k, "stream_options")) droppedStreamOptions = true;
        if (anyKept) {
          edits.push_back({prevKeptEnd, t.node(v).end, ""});
          prevKeptEnd = t.node(v).end;  // a following drop starts where this one ended
        } else {
          edits.push_back({t.node(k).begin, next != 0 ? t.node(next).begin : t.node(v).end, ""});
        }
      } else {
        if (rename != nullptr) {
          std::string quoted;
          json::appendEscaped(quoted, *rename);
          edits.push_back({t.node(k).begin, t.node(k).end, std::move(quoted)});
        }
        anyKept = true;
        prevKeptEnd = t.node(v).end;
      }
      k = next;
    }
  }

  // Anthropic's thinking, echoed in the gateway's own thinking_blocks, is
  // for Anthropic only: no OpenAI-compatible API takes it.
  const uint32_t messages = t.find(root, "messages");
  for (uint32_t m = messages != 0 ? t.firstChild(messages) : 0; m != 0; m = t.nextSibling(messages, m))
    if (t.find(m, "thinking_blocks") != 0) dropMember(t, m, "thinking_blocks", edits);

  if (req.stream && quirks.streamUsage && !droppedStreamOptions) {
    // Usage is always requested upstream so every stream can be priced.
    std::string options = "{\"include_usage\":true";
    if (req.streamOptionsNode != 0) {
      uint32_t obj = req.streamOptionsNode;
      for (uint32_t k = t.firstChild(obj); k != 0;) {
        uint32_t v = k + 1;
        if (!t.stringEquals(k, "include_usage")) {
          options.push_back(',');
          options.append(t.raw(k));
          options.push_back(':');
          options.append(t.raw(v));
        }
        k = t.nextSibling(obj, v);
      }
      options.push_back('}');
      edits.push_back({t.node(obj).begin, t.node(obj).end, std::move(options)});
    } else {
      options.push_back('}');
      inserted += ",\"stream_options\":";
      inserted += options;
    }
  }
  const std::string param = target.model ? target.model->maxTokensParam : "max_tokens";
  if (req.maxTokensNode == 0 && req.maxCompletionTokensNode == 0) {
    uint32_t nullMax = t.find(root, param);
    std::string number;
    json::Writer(number).integer(defaultMaxTokens(c, target));
    if (nullMax != 0) {  // present but null: fill the value in place
      edits.push_back({t.node(nullMax).begin, t.node(nullMax).end, number});
    } else {
      const std::string* renamed = renamedTo(quirks, param);
      inserted += ",\"" + (renamed ? *renamed : param) + "\":" + number;
    }
  } else if (req.maxTokensNode != 0 && req.maxCompletionTokensNode != 0) {
    // Both limits sent: providers differ on which wins, so both carry the
    // one the ledger reserved for.
    std::string number;
    json::Writer(number).integer(req.maxTokens);
    edits.push_back({t.node(req.maxTokensNode).begin, t.node(req.maxTokensNode).end, number});
    edits.push_back({t.node(req.maxCompletionTokensNode).begin, t.node(req.maxCompletionTokensNode).end, number});
  } else if (req.maxTokensNode != 0 && param == "max_completion_tokens") {
    // Models that reject max_tokens get the same limit under its new name.
    edits.push_back({t.node(req.maxTokensKey).begin, t.node(req.maxTokensKey).end, "\"max_completion_tokens\""});
  }
  if (!inserted.empty()) {
    uint32_t close = t.node(root).end - 1;  // the root's closing brace
    edits.push_back({close, close, std::move(inserted)});
  }
  if (edits.empty()) return std::string(t.text());
  return applyEdits(t.text(), edits);
}

ApiError Codec::encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const {
  out.url = endpointUrl(*target.provider, target.upstream, "chat/completions");
  out.body = encodeRequest(req, target, c);
  return {};
}

// Reasoning text OpenAI-compatible providers send beside the content:
// reasoning_content (DeepSeek, and others after it) or reasoning (OpenRouter, vLLM).
std::string reasoningOf(const json::Tape& t, uint32_t message) {
  for (const char* key : {"reasoning_content", "reasoning"}) {
    uint32_t v = t.find(message, key);
    if (v != 0 && t.kind(v) == Kind::String && t.rawString(v).size() > 0) return t.string(v);
  }
  return {};
}

Usage readUsage(const json::Tape& t, uint32_t object, const Quirks& quirks) {
  Usage u;
  uint32_t usage = t.find(object, "usage");
  if ((usage == 0 || t.kind(usage) != Kind::Object) && !quirks.usageUnder.empty()) {
    uint32_t holder = t.find(object, quirks.usageUnder);
    if (holder != 0 && t.kind(holder) == Kind::Object) usage = t.find(holder, "usage");
  }
  if (usage == 0 || t.kind(usage) != Kind::Object) return u;
  u.known = true;
  u.promptTokens = t.integerAt(usage, "prompt_tokens");
  u.completionTokens = t.integerAt(usage, "completion_tokens");
  u.totalTokens = t.integerAt(usage, "total_tokens");
  if (u.totalTokens == 0) u.totalTokens = u.promptTokens + u.completionTokens;
  uint32_t details = t.find(usage, "prompt_tokens_details");
  if (details != 0 && t.kind(details) == Kind::Object) u.cachedPromptTokens = t.integerAt(details, "cached_tokens");
  if (u.cachedPromptTokens == 0 && !quirks.cachedTokensField.empty())
    u.cachedPromptTokens = t.integerAt(usage, quirks.cachedTokensField);
  uint32_t output = t.find(usage, "completion_tokens_details");
  if (output != 0 && t.kind(output) == Kind::Object) u.reasoningTokens = t.integerAt(output, "reasoning_tokens");
  return u;
}

Usage decodeResponseUsage(std::string_view body, const Quirks& quirks) {
  json::Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return {};
  return readUsage(t, t.root(), quirks);
}

bool Codec::decode(std::string_view body, const ProviderConfig& p, Completion& out) const {
  json::Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return false;
  const uint32_t root = t.root();
  uint32_t choices = t.find(root, "choices");
  if (choices == 0 || t.kind(choices) != Kind::Array) return false;
  out.model = t.stringAt(root, "model");
  out.usage = readUsage(t, root, p.quirks);
  int position = 0;
  for (uint32_t ch = t.firstChild(choices); ch != 0; ch = t.nextSibling(choices, ch), ++position) {
    if (t.kind(ch) != Kind::Object) continue;
    Choice choice;
    int64_t index = position;
    uint32_t idx = t.find(ch, "index");
    if (idx != 0) t.isInteger(idx, &index);
    if (!validChoice(index)) index = position;
    if (!validChoice(index)) break;  // more choices than any request may ask for
    choice.index = static_cast<int>(index);
    choice.finishReason = t.stringAt(ch, "finish_reason");
    uint32_t msg = t.find(ch, "message");
    if (msg != 0 && t.kind(msg) == Kind::Object) {
      uint32_t content = t.find(msg, "content");
      if (content != 0 && t.kind(content) == Kind::String) {
        choice.content = t.string(content);
        choice.hasContent = true;
      }
      choice.reasoning = reasoningOf(t, msg);
      uint32_t calls = t.find(msg, "tool_calls");
      if (calls != 0 && t.kind(calls) == Kind::Array) {
        for (uint32_t call = t.firstChild(calls); call != 0; call = t.nextSibling(calls, call)) {
          if (t.kind(call) != Kind::Object) continue;
          ToolCall tc;
          tc.id = t.stringAt(call, "id");
          uint32_t fn = t.find(call, "function");
          if (fn != 0 && t.kind(fn) == Kind::Object) {
            tc.name = t.stringAt(fn, "name");
            tc.arguments = t.stringAt(fn, "arguments");
          }
          choice.toolCalls.push_back(std::move(tc));
        }
      }
    }
    out.choices.push_back(std::move(choice));
  }
  return true;
}

size_t responseContentBytes(std::string_view body) {
  Completion c;
  Codec codec;
  return codec.decode(body, ProviderConfig{}, c) ? outputBytes(c) : body.size();
}

ApiError mapError(int upstreamStatus, std::string_view body, std::string_view providerId, const Quirks& quirks) {
  json::Tape t;
  std::string message, type, code, param;
  if (t.parse(body) && t.kind(t.root()) == Kind::Object) {
    uint32_t err = t.find(t.root(), "error");
    if (err != 0 && t.kind(err) == Kind::Object) {
      message = t.stringAt(err, "message");
      type = t.stringAt(err, "type");
      param = t.stringAt(err, "param");
      code = t.stringAt(err, "code");
    } else if (err != 0 && t.kind(err) == Kind::String) {
      message = t.string(err);
    }
    if (message.empty()) message = t.stringAt(t.root(), "message");
    if (message.empty() && !quirks.errorMessageField.empty()) message = t.stringAt(t.root(), quirks.errorMessageField);
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  return upstreamError(upstreamStatus, std::move(message), std::move(type), std::move(code), std::move(param),
                       providerId);
}

bool StreamForwarder::feed(std::string_view bytes, std::string& out) {
  events_.clear();
  bool ok = decoder_.feed(bytes, events_);
  for (auto& ev : events_) {
    if (ev.data == "[DONE]") {
      sawDone_ = true;
      continue;
    }
    {
      // Measured for the cut-off at the reservation, and in case the
      // provider never reports usage. Counted as the UTF-8 the escapes
      // stand for, as a decoder would.
      size_t at = ev.data.find("\"content\":\"");
      if (at != std::string::npos && ev.data.compare(at + 11, 1, "\"") != 0) ++deltas_;
      else if (ev.data.find("\"arguments\":\"") != std::string::npos) ++deltas_;
      if (at != std::string::npos) {
        size_t i = at + 11;
        while (i < ev.data.size() && ev.data[i] != '"') {
          if (ev.data[i] != '\\') {
            ++contentBytes_, ++i;
          } else if (i + 5 < ev.data.size() && ev.data[i + 1] == 'u') {
            const int hi = hexDigit(ev.data[i + 2]);
            // \u00XX: 1-2 bytes; other BMP: 2-3; each half of a surrogate pair: 2 (4 for the pair).
            contentBytes_ += hi == 0 ? (hexDigit(ev.data[i + 3]) == 0 && hexDigit(ev.data[i + 4]) < 8 ? 1 : 2)
                             : (hi == 0xD ? 2 : 3);
            i += 6;
          } else {
            ++contentBytes_, i += 2;
          }
        }
      }
    }
    // Only a chunk carrying a usage object needs a closer look (OpenAI sends
    // "usage":null in every other chunk once usage is requested).
    if (carriesUsageObject(ev.data) && tape_.parse(ev.data) &&
        tape_.kind(tape_.root()) == Kind::Object) {
      const uint32_t root = tape_.root();
      Usage u = readUsage(tape_, root, quirks_ != nullptr ? *quirks_ : NO_QUIRKS);
      if (u.known) {
        usage_ = u;
        uint32_t choices = tape_.find(root, "choices");
        bool usageOnly = choices != 0 && tape_.kind(choices) == Kind::Array && tape_.node(choices).count == 0;
        if (usageOnly && !clientWantsUsage_) continue;
      }
    }
    if (!ev.event.empty()) {
      out += "event: ";
      out += ev.event;
      out += '\n';
    }
    // Multi-line data is re-framed line by line, exactly as received.
    size_t start = 0;
    for (;;) {
      size_t nl = ev.data.find('\n', start);
      out += "data: ";
      out.append(ev.data, start, nl == std::string::npos ? std::string::npos : nl - start);
      out += '\n';
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    out += '\n';
  }
  return ok;
}

int64_t StreamForwarder::tokens() const { return std::max(deltas_, estimateTokens(contentBytes_)); }

bool ChunkDecoder::feed(std::string_view bytes, ChunkSink& sink) {
  events_.clear();
  bool ok = decoder_.feed(bytes, events_);
  for (auto& ev : events_) {
    if (ev.data == "[DONE]") {
      sawDone_ = true;
      continue;
    }
    if (!tape_.parse(ev.data) || tape_.kind(tape_.root()) != Kind::Object) continue;
    const json::Tape& t = tape_;
    const uint32_t root = t.root();
    uint32_t err = t.find(root, "error");
    if (err != 0 && t.kind(err) == Kind::Object) {
      error_ = mapError(500, ev.data, provider_, quirks_ != nullptr ? *quirks_ : NO_QUIRKS);
      continue;
    }
    Usage u = readUsage(t, root, quirks_ != nullptr ? *quirks_ : NO_QUIRKS);
    if (u.known) usage_ = u;
    uint32_t choices = t.find(root, "choices");
    if (choices == 0 || t.kind(choices) != Kind::Array) continue;
    for (uint32_t ch = t.firstChild(choices); ch != 0; ch = t.nextSibling(choices, ch)) {
      int64_t index = 0;
      uint32_t idx = t.find(ch, "index");
      if (idx != 0 && !t.isInteger(idx, &index)) continue;
      if (!validChoice(index)) continue;  // untrusted: no choice the request could have asked for
      const int choice = static_cast<int>(index);
      uint32_t delta = t.find(ch, "delta");
      if (delta != 0 && t.kind(delta) == Kind::Object) {
        std::string reasoning = reasoningOf(t, delta);
        if (!reasoning.empty()) sink.reasoning(choice, reasoning);
        uint32_t content = t.find(delta, "content");
        if (content != 0 && t.kind(content) == Kind::String && t.rawString(content).size() > 0)
          sink.text(choice, t.string(content));
        uint32_t calls = t.find(delta, "tool_calls");
        if (calls != 0 && t.kind(calls) == Kind::Array) {
          for (uint32_t call = t.firstChild(calls); call != 0; call = t.nextSibling(calls, call)) {
            int64_t callIndex = 0;
            uint32_t ci = t.find(call, "index");
            if (ci != 0 && !t.isInteger(ci, &callIndex)) continue;
            if (!validToolCall(callIndex)) continue;
            uint32_t fn = t.find(call, "function");
            std::string id = t.stringAt(call, "id");
            std::string name = fn != 0 && t.kind(fn) == Kind::Object ? t.stringAt(fn, "name") : "";
            if (!id.empty() || !name.empty()) sink.toolCall(choice, static_cast<int>(callIndex), id, name);
            std::string args = fn != 0 && t.kind(fn) == Kind::Object ? t.stringAt(fn, "arguments") : "";
            if (!args.empty()) sink.toolArguments(choice, static_cast<int>(callIndex), args);
          }
        }
      }
      uint32_t fr = t.find(ch, "finish_reason");
      if (fr != 0 && t.kind(fr) == Kind::String) sink.finish(choice, t.string(fr));
    }
  }
  return ok;
}

std::unique_ptr<StreamDecoder> Codec::streamDecoder(const ProviderConfig& p) const {
  return std::make_unique<ChunkDecoder>(p.id, &p.quirks);
}

}  // namespace gw::openai_chat
