#include "openai_chat.h"

#include <algorithm>

#include "gw/json_writer.h"

namespace gw::openai_chat {

namespace {

using json::Kind;

struct Edit {
  uint32_t begin;
  uint32_t end;
  std::string text;
};

int64_t readInt(const json::Tape& t, uint32_t obj, std::string_view key) {
  uint32_t v = t.find(obj, key);
  int64_t out = 0;
  if (v != 0 && t.kind(v) == Kind::Number && t.isInteger(v, &out)) return out;
  return 0;
}

}  // namespace

std::string encodeRequest(const ChatRequest& req, const ModelConfig* model, std::string_view upstreamModel,
                          int64_t defaultMaxTokens) {
  const json::Tape& t = req.tape;
  std::string_view body = t.text();
  std::vector<Edit> edits;
  edits.reserve(4);

  if (t.rawString(req.modelNode) != upstreamModel || t.node(req.modelNode).hasEscapes) {
    std::string quoted;
    json::appendEscaped(quoted, upstreamModel);
    edits.push_back({t.node(req.modelNode).begin, t.node(req.modelNode).end, std::move(quoted)});
  }
  std::string inserted;
  if (req.stream) {
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
  const std::string param = model ? model->maxTokensParam : "max_tokens";
  if (req.maxTokensNode == 0 && req.maxCompletionTokensNode == 0) {
    uint32_t nullMax = t.find(t.root(), param);
    std::string number;
    json::Writer(number).integer(defaultMaxTokens);
    if (nullMax != 0) {  // present but null: fill the value in place
      edits.push_back({t.node(nullMax).begin, t.node(nullMax).end, number});
    } else {
      inserted += ",\"" + param + "\":" + number;
    }
  } else if (req.maxTokensNode != 0 && param == "max_completion_tokens" && req.maxCompletionTokensNode == 0) {
    // Models that reject max_tokens get the same limit under its new name.
    edits.push_back({t.node(req.maxTokensKey).begin, t.node(req.maxTokensKey).end, "\"max_completion_tokens\""});
  }
  if (!inserted.empty()) {
    uint32_t close = t.node(t.root()).end - 1;  // the root's closing brace
    edits.push_back({close, close, std::move(inserted)});
  }
  if (edits.empty()) return std::string(body);
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  size_t extra = 0;
  for (const auto& e : edits) extra += e.text.size();
  out.reserve(body.size() + extra);
  uint32_t cursor = 0;
  for (const auto& e : edits) {
    out.append(body.data() + cursor, e.begin - cursor);
    out += e.text;
    cursor = e.end;
  }
  out.append(body.data() + cursor, body.size() - cursor);
  return out;
}

Usage readUsage(const json::Tape& t, uint32_t object) {
  Usage u;
  uint32_t usage = t.find(object, "usage");
  if (usage == 0 || t.kind(usage) != Kind::Object) return u;
  u.known = true;
  u.promptTokens = readInt(t, usage, "prompt_tokens");
  u.completionTokens = readInt(t, usage, "completion_tokens");
  u.totalTokens = readInt(t, usage, "total_tokens");
  if (u.totalTokens == 0) u.totalTokens = u.promptTokens + u.completionTokens;
  uint32_t details = t.find(usage, "prompt_tokens_details");
  if (details != 0 && t.kind(details) == Kind::Object) u.cachedPromptTokens = readInt(t, details, "cached_tokens");
  return u;
}

Usage decodeResponseUsage(std::string_view body) {
  json::Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return {};
  return readUsage(t, t.root());
}

ApiError mapError(int upstreamStatus, std::string_view body, std::string_view providerId) {
  ApiError e;
  e.status = upstreamStatus >= 500 ? 502 : upstreamStatus;
  e.type = upstreamStatus >= 500 ? "upstream_error" : "invalid_request_error";
  if (upstreamStatus == 401 || upstreamStatus == 403) e.type = "authentication_error";
  if (upstreamStatus == 429) e.type = "rate_limit_exceeded";
  json::Tape t;
  std::string message;
  if (t.parse(body) && t.kind(t.root()) == Kind::Object) {
    uint32_t err = t.find(t.root(), "error");
    if (err != 0 && t.kind(err) == Kind::Object) {
      uint32_t m = t.find(err, "message");
      if (m != 0 && t.kind(m) == Kind::String) message = t.string(m);
      uint32_t type = t.find(err, "type");
      if (type != 0 && t.kind(type) == Kind::String && upstreamStatus < 500) e.type = t.string(type);
      uint32_t param = t.find(err, "param");
      if (param != 0 && t.kind(param) == Kind::String) e.param = t.string(param);
      uint32_t code = t.find(err, "code");
      if (code != 0 && t.kind(code) == Kind::String) e.code = t.string(code);
    } else if (err != 0 && t.kind(err) == Kind::String) {
      message = t.string(err);
    }
  }
  if (message.empty()) {
    std::string_view snippet = body.substr(0, 200);
    message = snippet.empty() ? "no error message" : std::string(snippet);
  }
  if (upstreamStatus >= 500) {
    e.message = "Upstream provider '" + std::string(providerId) + "' failed with HTTP " +
                std::to_string(upstreamStatus) + ": " + message;
    if (e.code.empty()) e.code = "upstream_error";
  } else {
    e.message = std::move(message);
  }
  return e;
}

bool StreamForwarder::feed(std::string_view bytes, std::string& out) {
  events_.clear();
  bool ok = decoder_.feed(bytes, events_);
  for (auto& ev : events_) {
    if (ev.data == "[DONE]") {
      sawDone_ = true;
      out += "data: [DONE]\n\n";
      ++forwarded_;
      continue;
    }
    // Only chunks that mention usage or a finish reason need a closer look.
    bool mentionsUsage = ev.data.find("\"usage\"") != std::string::npos;
    bool mentionsFinish = !sawFinish_ && ev.data.find("\"finish_reason\"") != std::string::npos;
    if (mentionsUsage || mentionsFinish) {
      if (tape_.parse(ev.data) && tape_.kind(tape_.root()) == Kind::Object) {
        uint32_t root = tape_.root();
        if (mentionsUsage) {
          Usage u = readUsage(tape_, root);
          if (u.known) {
            usage_ = u;
            uint32_t choices = tape_.find(root, "choices");
            bool usageOnly = choices != 0 && tape_.kind(choices) == Kind::Array && tape_.node(choices).count == 0;
            if (usageOnly && !clientWantsUsage_) continue;
          }
        }
        if (mentionsFinish) {
          uint32_t choices = tape_.find(root, "choices");
          if (choices != 0 && tape_.kind(choices) == Kind::Array) {
            for (uint32_t c = tape_.firstChild(choices); c != 0; c = tape_.nextSibling(choices, c)) {
              uint32_t fr = tape_.find(c, "finish_reason");
              if (fr != 0 && tape_.kind(fr) == Kind::String) sawFinish_ = true;
            }
          }
        }
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
    ++forwarded_;
  }
  return ok;
}

}  // namespace gw::openai_chat
