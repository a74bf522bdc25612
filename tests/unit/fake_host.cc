#include "fake_host.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/ledger.h"
#include "gw/sha256.h"
#include "gw/nlohmann.h"

namespace gw::testing {

std::string sourcePath(const std::string& relative) { return std::string(GW_SOURCE_DIR) + "/" + relative; }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What config/compose.js does for the worker.
std::string bundledConfig() {
  auto part = [](const char* name) {
    return nlohmann::json::parse(readFile(sourcePath(std::string("config/") + name)), nullptr, false);
  };
  nlohmann::json doc = {{"gateway", part("gateway.json")["gateway"]},
                        {"providers", part("providers.json")["providers"]},
                        {"models", part("models.json")["models"]}};
  return doc.dump();
}

SqlDatabase::SqlDatabase() {
  sqlite3_open(":memory:", &db_);
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(sourcePath("migrations")))
    if (entry.path().extension() == ".sql") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    char* error = nullptr;
    if (sqlite3_exec(db_, readFile(f).c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::fprintf(stderr, "migration %s failed: %s\n", f.c_str(), error ? error : "?");
      sqlite3_free(error);
    }
  }
}

SqlDatabase::~SqlDatabase() { sqlite3_close(db_); }

bool SqlDatabase::run(const std::string& sql, const std::string& params, std::string& result, std::string& error) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  json::Tape p;
  if (!p.parse(params) || p.kind(p.root()) != json::Kind::Array) {
    sqlite3_finalize(stmt);
    error = "params must be a JSON array";
    return false;
  }
  int index = 1;
  for (uint32_t v = p.firstChild(p.root()); v != 0; v = p.nextSibling(p.root(), v), ++index) {
    int64_t i = 0;
    switch (p.kind(v)) {
      case json::Kind::String: {
        std::string text = p.string(v);
        sqlite3_bind_text(stmt, index, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        break;
      }
      case json::Kind::Number:
        if (p.isInteger(v, &i)) sqlite3_bind_int64(stmt, index, i);
        else sqlite3_bind_double(stmt, index, p.number(v));
        break;
      case json::Kind::True: sqlite3_bind_int(stmt, index, 1); break;
      case json::Kind::False: sqlite3_bind_int(stmt, index, 0); break;
      default: sqlite3_bind_null(stmt, index);
    }
  }
  result.clear();
  json::Writer w(result);
  w.beginObject().key("rows").beginArray();
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    w.beginObject();
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      w.key(sqlite3_column_name(stmt, c));
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER: w.integer(sqlite3_column_int64(stmt, c)); break;
        case SQLITE_FLOAT: {
          char number[32];
          std::snprintf(number, sizeof number, "%.17g", sqlite3_column_double(stmt, c));
          w.raw(number);
          break;
        }
        case SQLITE_NULL: w.null(); break;
        default: w.string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
      }
    }
    w.endObject();
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  w.endArray().field("changes", static_cast<int64_t>(sqlite3_changes(db_))).endObject();
  return true;
}

std::string SqlDatabase::query(const std::string& sql, const std::string& params) {
  std::string result, error;
  if (!run(sql, params, result, error)) return "error: " + error;
  json::Tape t;
  t.parse(result);
  return std::string(t.raw(t.find(t.root(), "rows")));
}

FakeHost::FakeHost(std::map<std::string, std::string> vars, std::vector<std::string> secrets, std::string config,
                   std::vector<std::string> bindings) {
  if (config.empty()) config = bundledConfig();
  // Tests about other things repeat identical requests: the cache is on
  // only where a test turns it on.
  vars.emplace("AI_CACHE_ENABLED", "false");
  if (auto ids = vars.find("GATEWAY_ENCRYPTION_KEY_IDS"); ids != vars.end()) {
    vaultKeyIds.clear();
    std::stringstream list(ids->second);
    for (std::string id; std::getline(list, id, ',');)
      if (!id.empty()) vaultKeyIds.push_back(id);
    vars.erase(ids);
  }
  std::string env;
  json::Writer w(env);
  w.beginObject().key("vars").beginObject();
  for (const auto& [k, v] : vars) w.field(k, v);
  w.endObject().key("secrets").beginArray();
  for (const auto& s : secrets) w.string(s);
  w.endArray().key("digests").beginObject().field("ADMIN_API_KEY", sha256Hex(ADMIN_KEY));
  w.field("METRICS_TOKEN", sha256Hex(METRICS_TOKEN)).endObject().key("bindings").beginArray();
  for (const auto& b : bindings) w.string(b);
  w.endArray().key("vault_key_ids").beginArray();
  for (const auto& id : vaultKeyIds) w.string(id);
  w.endArray().endObject();
  configureStatus = gateway.configure(config, env);
  kv["tenant:acme"] = R"({"id":"acme","name":"Acme","created_at":1700000000000})";
  kv["key:" + sha256Hex(TEST_KEY)] =
      R"({"id":"key_test","digest":")" + sha256Hex(TEST_KEY) +
      R"(","prefix":"aigw_sk_test","tenant_id":"acme","user_id":"alice","agent_id":"","role":"user","models":[],"limits":{},"created_at":1700000000000})";
}

ScriptedReply fixtureStream(const std::string& file) {
  ScriptedReply r;
  r.headers = {{"content-type", "text/event-stream"}};
  const std::string text = readFile(sourcePath("tests/fixtures/" + file));
  for (size_t i = 0; i < text.size(); i += 40) r.chunks.push_back(text.substr(i, 40));
  return r;
}

ScriptedReply openaiReply(const std::string& content, int promptTokens, int completionTokens) {
  std::string body;
  json::Writer w(body);
  w.beginObject().field("id", "chatcmpl-test").field("object", "chat.completion").field("created", 1700000000);
  w.field("model", "gpt-4o-mini-2024-07-18").key("choices").beginArray().beginObject().field("index", 0);
  w.key("message").beginObject().field("role", "assistant").field("content", content).endObject();
  w.field("finish_reason", "stop").endObject().endArray();
  w.key("usage").beginObject().field("prompt_tokens", promptTokens).field("completion_tokens", completionTokens);
  w.field("total_tokens", promptTokens + completionTokens).endObject().endObject();
  ScriptedReply r;
  r.headers = {{"content-type", "application/json"}, {"x-request-id", "req_upstream_1"}};
  r.chunks = {body};
  return r;
}

namespace {

struct Batch {
  json::Tape tape;
  std::string header;
  std::string blob;
};

bool decodeBatch(const std::string& raw, Batch& b) {
  if (raw.size() < 4) return false;
  uint32_t len = static_cast<uint8_t>(raw[0]) | static_cast<uint8_t>(raw[1]) << 8 |
                 static_cast<uint8_t>(raw[2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(raw[3])) << 24;
  b.header = raw.substr(4, len);
  b.blob = raw.substr(4 + len);
  return b.tape.parse(b.header);
}

std::string str(const json::Tape& t, uint32_t obj, const char* key) {
  uint32_t v = t.find(obj, key);
  return v != 0 && t.kind(v) == json::Kind::String ? t.string(v) : std::string();
}

int64_t num(const json::Tape& t, uint32_t obj, const char* key) {
  uint32_t v = t.find(obj, key);
  int64_t out = 0;
  if (v != 0) t.isInteger(v, &out);
  return out;
}

std::string bodyOf(const Batch& b, uint32_t effect, std::string_view field = "body") {
  uint32_t range = b.tape.find(effect, field);
  if (range == 0) return {};
  uint32_t off = b.tape.firstChild(range);
  uint32_t len = b.tape.nextSibling(range, off);
  int64_t o = 0, l = 0;
  b.tape.isInteger(off, &o);
  b.tape.isInteger(len, &l);
  return b.blob.substr(static_cast<size_t>(o), static_cast<size_t>(l));
}

// The fake vault's sealed form: the key hex-encoded (so never its own text
// in a store), with the master key id and the context it is bound to.
std::string fakeSeal(const std::string& key, const std::string& keyId, const std::string& context) {
  static const char* HEX = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : key) hex += {HEX[c >> 4], HEX[c & 15]};
  std::string out;
  json::Writer(out).beginObject().field("v", 1).field("kid", keyId).field("ctx", context).field("fake", hex).endObject();
  return out;
}

// Opens a sealed key as the worker would: false when it is bound to
// another context or sealed under a master key the host does not hold.
bool fakeOpen(const std::string& sealed, const std::string& context, const std::vector<std::string>& ids,
              std::string& key) {
  json::Tape t;
  if (!t.parse(sealed) || t.stringAt(t.root(), "ctx") != context) return false;
  if (std::find(ids.begin(), ids.end(), t.stringAt(t.root(), "kid")) == ids.end()) return false;
  const std::string hex = t.stringAt(t.root(), "fake");
  key.clear();
  for (size_t i = 0; i + 1 < hex.size(); i += 2) key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return true;
}

std::string meta(uint32_t id, const char* type, int64_t now, const std::string& extra = "") {
  return "{\"id\":" + std::to_string(id) + ",\"type\":\"" + type + "\",\"now_ms\":" + std::to_string(now) + extra + "}";
}

}  // namespace

HttpResponse FakeHost::runJob(const std::string& path, const std::string& body) {
  const bool wasInternal = internal;
  internal = true;
  HttpResponse res = request("POST", path, body);
  internal = wasInternal;
  return res;
}

void FakeHost::runDueJobs() {
  if (runningJobs) return;
  runningJobs = true;
  for (;;) {
    auto due = std::min_element(jobs.begin(), jobs.end(),
                                [](const ScheduledJob& a, const ScheduledJob& b) { return a.atMs < b.atMs; });
    if (due == jobs.end() || due->atMs > nowMs) break;
    const std::string path = due->path;
    jobs.erase(due);
    runJob(path, "");
    ++jobsRun;
  }
  runningJobs = false;
}

HttpResponse FakeHost::request(const std::string& method, const std::string& path, const std::string& body,
                               std::map<std::string, std::string> headers) {
  runDueJobs();
  HttpResponse res;
  std::string envelope;
  json::Writer w(envelope);
  const size_t q = path.find('?');
  w.beginObject().field("method", method).field("path", path.substr(0, q));
  if (q != std::string::npos) w.field("query", path.substr(q));
  if (autoAuth && headers.count("authorization") == 0 && headers.count("x-api-key") == 0)
    headers["authorization"] = std::string("Bearer ") + TEST_KEY;
  w.key("headers").beginObject();
  for (const auto& [k, v] : headers) w.field(k, v);
  // Fresh entropy per request, as the worker draws it (keys minted from it must differ).
  std::string requestEntropy = entropy;
  std::string counter = std::to_string(++requestCount);
  requestEntropy.replace(requestEntropy.size() - counter.size(), counter.size(), counter);
  // Request ids (bytes 0-11) differ too, from the second request on.
  if (requestCount > 1) requestEntropy.replace(24 - counter.size(), counter.size(), counter);
  w.endObject().field("now_ms", nowMs).field("entropy", requestEntropy);
  if (internal) w.field("internal", true);
  w.field("body_size", static_cast<int64_t>(body.size())).endObject();
  int32_t sid = gateway.open(envelope, body);
  if (sid <= 0) return res;
  auto session = static_cast<uint32_t>(sid);
  std::string raw;
  int chunksDelivered = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    gateway.poll(session, raw);
    Batch b;
    if (!decodeBatch(raw, b)) break;
    uint32_t effects = b.tape.find(b.tape.root(), "effects");
    uint32_t done = b.tape.find(b.tape.root(), "done");
    bool didWork = false;
    for (uint32_t e = b.tape.firstChild(effects); e != 0; e = b.tape.nextSibling(effects, e)) {
      didWork = true;
      std::string type = str(b.tape, e, "type");
      auto id = static_cast<uint32_t>(num(b.tape, e, "id"));
      if (type == "respond_head") {
        res.status = static_cast<int>(num(b.tape, e, "status"));
        res.stream = b.tape.kind(b.tape.find(e, "stream")) == json::Kind::True;
        uint32_t hs = b.tape.find(e, "headers");
        for (uint32_t k = b.tape.firstChild(hs); k != 0; k = b.tape.nextSibling(hs, k + 1))
          res.headers[b.tape.string(k)] = b.tape.string(k + 1);
      } else if (type == "respond_chunk") {
        std::string chunk = bodyOf(b, e);
        res.body += chunk;
        res.chunks.push_back(chunk);
      } else if (type == "respond_end") {
        res.completed = true;
      } else if (type == "log") {
        res.logs.push_back(bodyOf(b, e));  // the whole line: level, request_id and the record's members
      } else if (type == "kv_put") {
        kv[str(b.tape, e, "key")] = bodyOf(b, e);
        kvTtl[str(b.tape, e, "key")] = b.tape.integerAt(e, "expiration_ttl", 0);
        gateway.feed(session, meta(id, "kv_done", nowMs, ",\"ok\":true"), "");
      } else if (type == "kv_delete") {
        kv.erase(str(b.tape, e, "key"));
        gateway.feed(session, meta(id, "kv_done", nowMs, ",\"ok\":true"), "");
      } else if (type == "kv_list") {
        std::string prefix = str(b.tape, e, "prefix"), list;
        json::Writer lw(list);
        lw.beginObject().key("keys").beginArray();
        for (auto it = kv.lower_bound(prefix); it != kv.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
          lw.string(it->first);
        lw.endArray().field("complete", true).endObject();
        gateway.feed(session, meta(id, "kv_list_result", nowMs, ",\"ok\":true"), list);
      } else if (type == "ledger") {
        // The tenant's ledger: this host's, or the one it shares with others (isolates of one deployment).
        FakeHost& L = ledgerHost ? *ledgerHost : *this;
        std::string op = bodyOf(b, e);
        L.ledgerOps.push_back(op);
        if (L.ledgerDown) {
          if (id != 0) gateway.feed(session, meta(id, "ledger_result", nowMs, ",\"ok\":false,\"message\":\"down\""), "");
          continue;
        }
        const std::string tenant = str(b.tape, e, "tenant");
        auto open = L.openLedgers.find(tenant);
        if (open == L.openLedgers.end())
          open = L.openLedgers.emplace(tenant, ledger::Ledger(ledger::storedDocument(L.ledgers[tenant]))).first;
        // A shared ledger keeps one clock, as a Durable Object does: the latest of its callers'.
        const int64_t ledgerNow = ledgerHost ? (L.nowMs = std::max(L.nowMs, nowMs)) : nowMs;
        ledger::Outcome out = open->second.apply(op, ledgerNow);
        for (auto& [key, value] : out.writes) L.ledgers[tenant][key] = std::move(value);
        // The Durable Object writes the KV entries the ledger hands back (its
        // snapshot, for the fast check).
        json::Tape result;
        result.parse(out.result);
        if (uint32_t puts = result.find(result.root(), "kv"); puts != 0 && result.kind(puts) == json::Kind::Array)
          for (uint32_t put = result.firstChild(puts); put != 0; put = result.nextSibling(puts, put)) {
            L.kv[result.stringAt(put, "key")] = std::string(result.raw(result.find(put, "value")));
            ++L.snapshotWrites;
          }
        // It posts what the ledger asks to (budget alerts) and reports back:
        // a scripted reply for the URL's secret answers, else it is not set.
        if (uint32_t posts = result.find(result.root(), "fetches"); posts != 0 && result.kind(posts) == json::Kind::Array) {
          std::string report;
          json::Writer rw(report);
          rw.beginObject().field("op", "fetched").key("results").beginArray();
          for (uint32_t f = result.firstChild(posts); f != 0; f = result.nextSibling(posts, f)) {
            FetchCall call;
            call.urlSecret = result.stringAt(f, "url_secret");
            call.method = result.stringAt(f, "method");
            call.body = result.stringAt(f, "body");
            L.ledgerFetches.push_back(call);
            rw.beginObject().field("id", result.integerAt(f, "id"));
            auto scripted = L.urlReplies.find(call.urlSecret);
            if (scripted == L.urlReplies.end()) rw.field("unset", true);
            else rw.field("status", static_cast<int64_t>(scripted->second.status));
            rw.endObject();
          }
          rw.endArray().endObject();
          for (auto& [key, value] : open->second.apply(report, ledgerNow).writes) L.ledgers[tenant][key] = std::move(value);
        }
        // And writes the rows of requests whose holds expired.
        if (uint32_t rows = result.find(result.root(), "d1"); rows != 0 && result.kind(rows) == json::Kind::Array)
          for (uint32_t st = result.firstChild(rows); st != 0; st = result.nextSibling(rows, st)) {
            std::string r, err;
            L.d1Statements.push_back(result.stringAt(st, "sql"));
            if (!L.d1Down) L.d1->run(result.stringAt(st, "sql"), std::string(result.raw(result.find(st, "params"))), r, err);
          }
        if (id != 0) gateway.feed(session, meta(id, "ledger_result", nowMs, ",\"ok\":true"), out.result);
      } else if (type == "schedule") {
        jobs.push_back({nowMs + b.tape.integerAt(e, "delay_ms"), str(b.tape, e, "path"), ""});
      } else if (type == "queue_send") {
        queuePackMs.push_back(b.tape.integerAt(e, "pack_ms", -1));
        if (queueDown) {
          // The send failed: the worker runs the fallback job on the message,
          // here once this request is done.
          queueFallbacks.push_back({0, str(b.tape, e, "fallback_job"), "[" + bodyOf(b, e) + "]"});
        } else {
          queues[str(b.tape, e, "binding")].push_back(bodyOf(b, e));
        }
      } else if (type == "d1_exec") {
        const std::string sql = str(b.tape, e, "sql");
        const std::string params(b.tape.raw(b.tape.find(e, "params")));
        d1Statements.push_back(sql);
        d1LargestParams = std::max(d1LargestParams, params.size());
        std::string result, error;
        bool ok = !d1Down && d1->run(sql, params, result, error);
        if (d1Down) error = "D1 is down";
        if (id == 0) continue;  // detached: nobody waits
        std::string m;
        json::Writer mw(m);
        mw.beginObject().field("ok", ok);
        if (!ok) mw.field("message", error);
        mw.endObject();
        gateway.feed(session, meta(id, "d1_result", nowMs, "," + m.substr(1, m.size() - 2)), ok ? result : "");
      } else if (type == "vault_seal" || type == "vault_reseal") {
        const std::string context = str(b.tape, e, "context");
        std::string key = bodyOf(b, e);
        const bool ok = !vaultKeyIds.empty() && (type == "vault_seal" || fakeOpen(key, context, vaultKeyIds, key));
        const std::string extra = ok ? ",\"ok\":true,\"key_id\":\"" + vaultKeyIds.front() + "\""
                                     : ",\"ok\":false,\"message\":\"the key could not be opened\"";
        gateway.feed(session, meta(id, "vault_result", nowMs, extra), ok ? fakeSeal(key, vaultKeyIds.front(), context) : "");
      } else if (type == "blob_put") {
        blobs[str(b.tape, e, "key")] = bodyOf(b, e);
      } else if (type == "blob_get") {
        auto it = blobs.find(str(b.tape, e, "key"));
        const bool found = !blobsDown && it != blobs.end();
        gateway.feed(session,
                     meta(id, "blob_result", nowMs, blobsDown ? ",\"found\":false,\"error\":\"R2 is down\"" : found ? ",\"found\":true" : ",\"found\":false"),
                     found ? it->second : "");
      } else if (type == "blob_list") {
        std::string prefix = str(b.tape, e, "prefix"), list;
        const int64_t limit = b.tape.integerAt(e, "limit", 1000);
        json::Writer lw(list);
        lw.beginObject().key("objects").beginArray();
        int64_t n = 0;
        auto it = blobs.lower_bound(prefix);
        for (; it != blobs.end() && it->first.compare(0, prefix.size(), prefix) == 0 && n < limit; ++it, ++n)
          lw.beginObject().field("key", it->first).endObject();
        lw.endArray().field("truncated", it != blobs.end() && it->first.compare(0, prefix.size(), prefix) == 0).endObject();
        gateway.feed(session, meta(id, "blob_list_result", nowMs, blobsDown ? ",\"ok\":false" : ",\"ok\":true"), list);
      } else if (type == "blob_delete") {
        const uint32_t keys = b.tape.find(e, "keys");
        if (!blobsDown)
          for (uint32_t k = b.tape.firstChild(keys); k != 0; k = b.tape.nextSibling(keys, k)) blobs.erase(b.tape.string(k));
        gateway.feed(session, meta(id, "blob_done", nowMs, blobsDown ? ",\"ok\":false" : ",\"ok\":true"), "");
      } else if (type == "kv_get" && kvDown) {
        gateway.feed(session, meta(id, "kv_result", nowMs, ",\"found\":false,\"error\":\"KV is down\""), "");
      } else if (type == "kv_get") {
        auto it = kv.find(str(b.tape, e, "key"));
        bool found = it != kv.end();
        gateway.feed(session, meta(id, "kv_result", nowMs, found ? ",\"found\":true" : ",\"found\":false"),
                     found ? it->second : "");
      } else if (type == "fetch") {
        FetchCall call;
        call.url = str(b.tape, e, "url");
        call.urlSecret = str(b.tape, e, "url_secret");
        call.method = str(b.tape, e, "method");
        uint32_t hs = b.tape.find(e, "headers");
        for (uint32_t k = b.tape.firstChild(hs); k != 0; k = b.tape.nextSibling(hs, k + 1))
          call.headers[b.tape.string(k)] = b.tape.string(k + 1);
        uint32_t auth = b.tape.find(e, "auth");
        if (auth != 0) {
          call.authSecret = str(b.tape, auth, "secret");
          call.authStyle = str(b.tape, auth, "style");
          call.authHeader = str(b.tape, auth, "header");
          call.authSealed = str(b.tape, auth, "sealed");
        }
        if (!call.authSealed.empty() && !fakeOpen(call.authSealed, str(b.tape, auth, "context"), vaultKeyIds, call.authKey)) {
          fetches.push_back(call);
          gateway.feed(session, meta(id, "fetch_error", nowMs, ",\"reason\":\"credential\",\"message\":\"no such master key\""), "");
          continue;
        }
        call.body = bodyOf(b, e);
        call.stream = b.tape.kind(b.tape.find(e, "stream")) == json::Kind::True;
        call.timeoutMs = num(b.tape, e, "timeout_ms");
        call.firstByteTimeoutMs = num(b.tape, e, "first_byte_timeout_ms");
        call.delayMs = num(b.tape, e, "delay_ms");
        fetches.push_back(call);
        if (dieAtFetch) return res;
        nowMs += call.delayMs;
        ScriptedReply reply;
        auto byUrl = urlReplies.find(call.urlSecret.empty() ? call.url : call.urlSecret);
        if (byUrl != urlReplies.end()) {
          reply = byUrl->second;
        } else if (!replies.empty()) {
          reply = replies.front();
          replies.pop_front();
        } else {
          reply = openaiReply("default reply");
        }
        if (reply.end == ScriptedReply::End::Timeout && reply.status == 0) {
          nowMs += call.timeoutMs;
          gateway.feed(session, meta(id, "fetch_error", nowMs, ",\"reason\":\"timeout\""), "");
          continue;
        }
        if (reply.end == ScriptedReply::End::NetworkError && reply.status == 0) {
          nowMs += 1;
          gateway.feed(session,
                       meta(id, "fetch_error", nowMs, ",\"reason\":\"network\",\"message\":\"connection refused\""),
                       "");
          continue;
        }
        nowMs += upstreamLatencyMs;
        std::string hs2;
        json::Writer hw(hs2);
        hw.beginObject();
        for (const auto& [k, v] : reply.headers) hw.field(k, v);
        hw.endObject();
        gateway.feed(session, meta(id, "fetch_head", nowMs, ",\"status\":" + std::to_string(reply.status) +
                                                                ",\"headers\":" + hs2),
                     "");
        bool cancelled = false;
        for (const auto& chunk : reply.chunks) {
          if (cancelAfterChunks >= 0 && chunksDelivered >= cancelAfterChunks) {
            gateway.cancel(session, nowMs);
            cancelled = true;
            break;
          }
          nowMs += 1;
          gateway.feed(session, meta(id, "fetch_chunk", nowMs), chunk);
          ++chunksDelivered;
        }
        if (cancelled) continue;
        if (cancelBeforeFetchEnd) gateway.cancel(session, nowMs);
        if (reply.end == ScriptedReply::End::Complete)
          gateway.feed(session, meta(id, "fetch_end", nowMs), "");
        else if (reply.end == ScriptedReply::End::Timeout)
          gateway.feed(session, meta(id, "fetch_error", nowMs, ",\"reason\":\"timeout\""), "");
        else
          gateway.feed(session, meta(id, "fetch_error", nowMs, ",\"reason\":\"network\",\"message\":\"reset\""), "");
      }
    }
    if (done != 0 && b.tape.kind(done) == json::Kind::True) break;
    if (!didWork) break;  // stuck: nothing to do and not done
  }
  gateway.close(session);
  if (!runningFallbacks) {
    runningFallbacks = true;
    for (size_t i = 0; i < queueFallbacks.size(); ++i) {
      const ScheduledJob job = queueFallbacks[i];
      queueFallbackStatuses.push_back(runJob(job.path, job.body).status);
    }
    queueFallbacks.clear();
    runningFallbacks = false;
  }
  return res;
}

}  // namespace gw::testing
