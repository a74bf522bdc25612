// Fuzzes what a client controls, through whole sessions on a small host that
// answers KV, ledger and D1 effects like the worker: chat, messages, responses,
// count_tokens, generate and embeddings bodies under a user key; stored
// responses (KV answering with the input); the admin, quota and budget endpoints
// under admin keys; preferences and routing by them and the cache admin API
// (D1 answering with the input); cache entries (KV answering with the
// input); the credential header itself; plus the envelope, effect
// metadata and ledger document parsers.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <set>
#include <vector>

#include "gw/gateway.h"
#include "gw/nlohmann.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/ledger.h"
#include "gw/sha256.h"

namespace {

const char* CONFIG = R"({"gateway":{"config_refresh_ms":86400000},
 "providers":[{"id":"openai","base_url":"https://api.openai.com/v1"},{"id":"demo","format":"demo"},
   {"id":"anthropic","format":"anthropic_messages","base_url":"https://api.anthropic.com/v1","auth":"header","auth_header":"x-api-key"},
   {"id":"gemini","format":"gemini_generate","base_url":"https://generativelanguage.googleapis.com/v1beta"},
   {"id":"mistral","base_url":"https://api.mistral.ai/v1","quirks":{"drop":["user","logit_bias"],"rename":{"seed":"random_seed"}}},
   {"id":"ollama","base_url":"http://127.0.0.1:11434/v1","auth":"none","self_hosted":true}],
 "models":[{"id":"gpt-4o-mini","provider":"openai","price":{"input":0.15,"output":0.6}},
           {"id":"o3-mini","provider":"openai","max_tokens_param":"max_completion_tokens"},
           {"id":"claude","provider":"anthropic","price":{"input":3,"output":15}},
           {"id":"gemini","provider":"gemini","price":{"input":0.3,"output":2.5}},
           {"id":"small","provider":"mistral","price":{"input":0.1,"output":0.3}},
           {"id":"embed","provider":"gemini","type":"embedding","price":{"input":0.15}},
           {"id":"demo","provider":"demo"}]})";

constexpr const char* ADMIN_KEY = "fuzz-admin-key";
constexpr const char* USER_KEY = "aigw_sk_fuzzuser0123456789abcdef";
constexpr const char* TENANT_ADMIN_KEY = "aigw_sk_fuzzadmin0123456789abcd";

struct Route {
  const char* method;
  const char* path;
  const char* query;
  const char* key;
  const char* routing = nullptr;  // x-aigw-routing
};

// Endpoints a caller reaches with the input as the body; the input's length
// picks one (most inputs start with '{', so the first byte would not). The last entry sends the input as the credential instead.
const Route ROUTES[] = {
    {"POST", "/v1/chat/completions", "", USER_KEY},
    {"POST", "/v1/messages", "", USER_KEY},
    {"POST", "/api/v1/ai/generate", "", USER_KEY},
    {"POST", "/v1/embeddings", "", USER_KEY},
    {"POST", "/api/v1/ai/admin/keys", "", ADMIN_KEY},
    {"POST", "/api/v1/ai/admin/keys", "", TENANT_ADMIN_KEY},
    {"PUT", "/api/v1/ai/admin/tenants/acme", "", ADMIN_KEY},
    {"PUT", "/api/v1/ai/admin/credentials/openai", "", ADMIN_KEY},
    {"PUT", "/api/v1/ai/admin/credentials/anthropic", "", TENANT_ADMIN_KEY},
    {"GET", "/api/v1/ai/admin/credentials", "?tenantId=acme", ADMIN_KEY},
    {"DELETE", "/api/v1/ai/admin/credentials/openai", "", TENANT_ADMIN_KEY},
    {"POST", "/api/v1/ai/admin/credentials/rotate", "", ADMIN_KEY},
    {"PUT", "/api/v1/ai/admin/quotas/alice", "", TENANT_ADMIN_KEY},
    {"POST", "/api/v1/ai/admin/quotas/alice/reset", "", ADMIN_KEY},
    {"POST", "/api/budget/config", "", TENANT_ADMIN_KEY},
    {"DELETE", "/api/budget/config", "?tenantId=acme", ADMIN_KEY},
    {"GET", "/api/budget/current-usage", "?userId=alice", TENANT_ADMIN_KEY},
    {"DELETE", "/api/v1/ai/admin/keys/key_fuzzuser", "", TENANT_ADMIN_KEY},
    {"POST", "/v1/chat/completions", "", USER_KEY, "preference"},
    {"PUT", "/api/v1/ai/preferences", "", USER_KEY},
    {"GET", "/api/v1/ai/preferences", "?userId=alice", TENANT_ADMIN_KEY},
    {"GET", "/api/ai-gateway/cache", "?q=x", TENANT_ADMIN_KEY},
    {"GET", "/api/v1/ai/metrics", "?period=30d", USER_KEY},
    {"GET", "/api/v1/ai/admin/costs", "?format=csv", TENANT_ADMIN_KEY},
    {"GET", "/api/v1/ai/admin/costs", "", TENANT_ADMIN_KEY},
    {"GET", "/api/v1/ai/admin/usage", "?groupBy=user&limit=5", TENANT_ADMIN_KEY},
    {"GET", "/api/ai-gateway/metrics", "", USER_KEY},
    {"GET", "/metrics", "", ADMIN_KEY},
    {"DELETE", "/api/ai-gateway/cache", "?model=gpt-4o-mini", TENANT_ADMIN_KEY},
    {"POST", "/api/ai-gateway/models", "", ADMIN_KEY},
    {"PUT", "/api/ai-gateway/models/gpt-4o", "", ADMIN_KEY},
    {"PUT", "/api/ai-gateway/config", "", ADMIN_KEY},
    {"POST", "/v1/responses", "", USER_KEY},
    {"POST", "/v1/messages/count_tokens", "", USER_KEY},
    {"GET", "/v1/responses/resp_0123456789abcdef01234567", "", USER_KEY},
    {"GET", "/v1/responses/resp_0123456789abcdef01234567/input_items", "", USER_KEY},
    {"GET", "/api/v1/ai/logs/aigw_0123456789abcdef01234567/body", "", USER_KEY},
    {"GET", "/api/billing/summary", "?format=csv", TENANT_ADMIN_KEY},
    {"GET", "/api/billing/summary", "?month=2026-11", TENANT_ADMIN_KEY},
    {"GET", "/api/analytics/gateway", "?period=30d", USER_KEY},
    {"POST", "/v1/chat/completions", "", nullptr},
};
constexpr size_t ROUTE_COUNT = sizeof(ROUTES) / sizeof(ROUTES[0]);

std::string keyRecord(const char* id, const char* key, const char* role) {
  std::string out;
  gw::json::Writer(out).beginObject().field("id", id).field("digest", gw::sha256Hex(key)).field("prefix", "aigw_sk_fuzz")
      .field("tenant_id", "acme").field("user_id", "alice").field("role", role).key("limits").beginObject().endObject()
      .field("created_at", int64_t{1000}).endObject();
  return out;
}

// What the worker's KV and ledger Durable Objects would hold, reset for every input.
struct Stores {
  std::map<std::string, std::string> kv;
  std::map<std::string, gw::ledger::Ledger> ledgers;

  Stores() {
    kv["key:" + gw::sha256Hex(USER_KEY)] = keyRecord("key_fuzzuser", USER_KEY, "user");
    kv["key:" + gw::sha256Hex(TENANT_ADMIN_KEY)] = keyRecord("key_fuzzadmin", TENANT_ADMIN_KEY, "admin");
    kv["tenant:acme"] = R"({"id":"acme","name":"Acme","created_at":1000})";
    // The tenant keeps its bodies (R2): every metered request also builds its stored document.
    kv["ledger:acme"] = R"({"enabled":true,"store_bodies":true,"blocked":{}})";
  }
};

gw::Gateway& gateway() {
  static gw::Gateway g;
  static bool configured = false;
  if (!configured) {
    const std::string env = R"({"vars":{},"secrets":["OPENAI_API_KEY","ANTHROPIC_API_KEY","GEMINI_API_KEY","MISTRAL_API_KEY"],)"
                            R"("bindings":["GATEWAY_BODIES"],"vault_key_ids":["k2","k1"],"digests":{"ADMIN_API_KEY":")" + gw::sha256Hex(ADMIN_KEY) + "\"}}";
    g.configure(CONFIG, env);
    configured = true;
  }
  return g;
}

std::string meta(int64_t id, const char* type, const char* extra = "") {
  return "{\"id\":" + std::to_string(id) + ",\"type\":\"" + type + "\",\"now_ms\":1000" + extra + "}";
}

// Runs one session to its end, answering every effect; upstream fetches get
// `reply` (the fuzz input again) as a 200 body.
void drive(gw::Gateway& g, Stores& stores, uint32_t sid, std::string_view reply) {
  std::string out;
  for (int round = 0; round < 32; ++round) {
    if (g.poll(sid, out) != gw::GwStatus::Ok || out.size() < 4) return;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(out[i])) << (8 * i);
    if (n > out.size() - 4) return;
    const std::string header = out.substr(4, n), blob = out.substr(4 + n);
    gw::json::Tape t;
    if (!t.parse(header)) return;
    const uint32_t effects = t.find(t.root(), "effects");
    if (effects == 0 || t.kind(effects) != gw::json::Kind::Array) return;
    auto bodyOf = [&](uint32_t e) {
      const uint32_t b = t.find(e, "body");
      if (b == 0 || t.kind(b) != gw::json::Kind::Array) return std::string();
      int64_t off = 0, len = 0;
      const uint32_t first = t.firstChild(b);
      if (first == 0) return std::string();
      t.isInteger(first, &off);
      t.isInteger(t.nextSibling(b, first), &len);
      return off < 0 || len < 0 || static_cast<size_t>(off + len) > blob.size() ? std::string()
                                                                                : blob.substr(off, len);
    };
    bool fed = false;
    for (uint32_t e = t.firstChild(effects); e != 0; e = t.nextSibling(effects, e)) {
      const std::string type = t.stringAt(e, "type"), key = t.stringAt(e, "key");
      const int64_t id = t.integerAt(e, "id", -1);
      if (type == "kv_get" && (key.rfind("cache:", 0) == 0 || key.rfind("resp:", 0) == 0 || key.rfind("vault:", 0) == 0)) {
        // A cache entry, a stored response or a vault document: the input stands for whatever KV holds there.
        g.feed(sid, meta(id, "kv_result", ",\"found\":true"), reply);
      } else if (type == "kv_get") {
        auto it = stores.kv.find(key);
        const bool found = it != stores.kv.end();
        g.feed(sid, meta(id, "kv_result", found ? ",\"found\":true" : ",\"found\":false"), found ? it->second : "");
      } else if (type == "kv_put") {
        stores.kv[key] = bodyOf(e);
        g.feed(sid, meta(id, "kv_done", ",\"ok\":true"), "");
      } else if (type == "kv_delete") {
        stores.kv.erase(key);
        g.feed(sid, meta(id, "kv_done", ",\"ok\":true"), "");
      } else if (type == "kv_list") {
        g.feed(sid, meta(id, "kv_list_result", ",\"ok\":true"), R"({"keys":["keys:acme:key_fuzzuser"],"complete":true})");
      } else if (type == "ledger") {
        const std::string tenant = t.stringAt(e, "tenant");
        auto it = stores.ledgers.try_emplace(tenant).first;
        gw::ledger::Outcome o = it->second.apply(bodyOf(e), 1000);
        if (id >= 0) g.feed(sid, meta(id, "ledger_result", ",\"ok\":true"), o.result);
        else continue;
      } else if (type == "vault_seal" || type == "vault_reseal") {
        // The host's sealed text, as opaque to the core as the input.
        g.feed(sid, meta(id, "vault_result", ",\"ok\":true,\"key_id\":\"k2\""), reply);
      } else if (type == "d1_exec") {
        // D1 answers with the input as its rows document.
        if (id >= 0) g.feed(sid, meta(id, "d1_result", ",\"ok\":true"), reply);
        else continue;
      } else if (type == "blob_get") {
        g.feed(sid, meta(id, "blob_result", ",\"found\":true"), reply);
      } else if (type == "blob_list") {
        g.feed(sid, meta(id, "blob_list_result", ",\"ok\":true"), reply);
      } else if (type == "blob_delete") {
        g.feed(sid, meta(id, "blob_done", ",\"ok\":true"), "");
      } else if (type == "fetch") {
        g.feed(sid, meta(id, "fetch_response", ",\"status\":200,\"headers\":{\"content-type\":\"application/json\"}"),
               reply);
      } else {
        continue;
      }
      fed = true;
    }
    if (t.kind(t.find(t.root(), "done")) == gw::json::Kind::True || !fed) return;
  }
}

std::string envelope(const Route& r, std::string_view credential) {
  std::string out;
  gw::json::Writer w(out);
  w.beginObject().field("method", r.method).field("path", r.path).field("query", r.query).key("headers").beginObject();
  w.field("content-type", "application/json").field("authorization", "Bearer " + std::string(credential));
  if (r.routing != nullptr) w.field("x-aigw-routing", r.routing);
  w.endObject();
  w.field("now_ms", int64_t{1000}).field("entropy", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  w.endObject();
  return out;
}

// An independent reader's view of repeated keys (nlohmann decodes keys, so
// "a" and "\u0061" are one): the tape must refuse exactly what it flags.
struct RepeatedKeys : nlohmann::json_sax<nlohmann::json> {
  std::vector<std::set<std::string>> open;
  bool repeated = false;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!open.back().insert(k).second) repeated = true;
    return true;
  }
  bool end_object() override {
    open.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

// A document the tape accepts has no repeated key anywhere (so what the
// gateway checks is what a provider reads), and a key the tape calls
// repeated is one.
void checkRepeatedKeys(std::string_view input) {
  gw::json::Tape t;
  const bool accepted = t.parse(input);
  RepeatedKeys oracle;
  const bool valid = nlohmann::json::sax_parse(input, &oracle, nlohmann::json::input_format_t::json, true);
  if (accepted && valid && oracle.repeated) std::abort();
  if (!accepted && !t.error().duplicateKey.empty() && !oracle.repeated) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  gw::Gateway& g = gateway();
  Stores stores;
  const Route& route = ROUTES[size % ROUTE_COUNT];
  const bool credentialFuzzed = route.key == nullptr;
  int32_t sid = g.open(envelope(route, credentialFuzzed ? input : std::string_view(route.key)),
                       credentialFuzzed ? R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})" : input);
  if (sid > 0) {
    drive(g, stores, static_cast<uint32_t>(sid), input);
    g.close(static_cast<uint32_t>(sid));
  }
  // A session fed the input as effect metadata and as a streamed upstream reply.
  sid = g.open(envelope(ROUTES[0], USER_KEY), R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true})");
  if (sid > 0) {
    const auto s = static_cast<uint32_t>(sid);
    std::string out;
    g.poll(s, out);
    g.feed(s, input, input);
    g.feed(s, R"({"id":1,"type":"fetch_head","status":200,"headers":{}})", "");
    g.feed(s, R"({"id":1,"type":"fetch_chunk"})", input);
    g.feed(s, R"({"id":1,"type":"fetch_end"})", "");
    g.poll(s, out);
    g.close(s);
  }
  int32_t other = g.open(input, input);
  if (other > 0) g.close(static_cast<uint32_t>(other));
  // The ledger reads its stored document and every op defensively.
  gw::ledger::Ledger fromInput(input);
  (void)fromInput.apply(R"({"op":"usage","all_users":true})", 1000);
  (void)gw::ledger::Ledger().apply(input, 1000);
  gw::json::Tape t;
  if (t.parse(input)) (void)t.string(t.root());
  checkRepeatedKeys(input);
  return 0;
}
