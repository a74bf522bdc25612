// Wire format openai_responses: Responses clients of OpenAI models reach
// OpenAI's own Responses endpoint with their body as sent, get its answer
// as it came, and the gateway still prices, caches and stores it (and keeps
// its tenant's conversations its own).
#include "codec_support.h"
#include "wire/openai_responses.h"

using namespace gw::testing::codec;

namespace {

gw::ProviderConfig openaiProvider() {
  gw::ProviderConfig p;
  p.id = "openai";
  return p;
}

ScriptedReply streamReply(const std::string& file) {
  ScriptedReply r = reply(file);
  r.headers = {{"content-type", "text/event-stream"}};
  return r;
}

void checkGolden(const gw::Completion& c) {
  REQUIRE(c.choices.size() == 1);
  const gw::Choice& choice = c.choices[0];
  CHECK(choice.content == "Let me look that up.");
  CHECK(choice.reasoning == "**Checking the forecast**\n\nThe user wants San Francisco.");
  CHECK(choice.reasoningSignature == "gAAAAABoweAAencryptedreasoning==");
  REQUIRE(choice.toolCalls.size() == 1);
  CHECK(choice.toolCalls[0].id == "call_Yx9AbCdEf0123456789");
  CHECK(choice.toolCalls[0].name == "get_weather");
  CHECK(choice.toolCalls[0].arguments == R"({"location":"San Francisco, CA"})");
  CHECK(choice.finishReason == "tool_calls");
}

void checkUsage(const gw::Usage& u) {
  CHECK(u.known);
  CHECK(u.promptTokens == 120);
  CHECK(u.cachedPromptTokens == 64);
  CHECK(u.completionTokens == 90);
  CHECK(u.reasoningTokens == 64);
  CHECK(u.totalTokens == 210);
}

}  // namespace

TEST_CASE("openai_responses wire: a response object decodes into the completion (golden)") {
  gw::Completion c;
  REQUIRE(gw::responses_wire::codec().decode(fixture("openai/responses_response.json"), openaiProvider(), c));
  checkGolden(c);
  checkUsage(c.usage);
  gw::Completion none;
  CHECK_FALSE(gw::responses_wire::codec().decode(R"({"object":"list"})", openaiProvider(), none));
}

TEST_CASE("openai_responses wire: the event stream decodes the same from any byte split, ending with its response") {
  const std::string stream = fixture("openai/responses_stream.sse");
  const std::string whole = fixture("openai/responses_response.json");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto decoder = gw::responses_wire::codec().streamDecoder(openaiProvider());
    gw::CompletionRecorder r;
    decoder->feed(std::string_view(stream).substr(0, cut), r);
    decoder->feed(std::string_view(stream).substr(cut), r);
    INFO("split at " << cut);
    REQUIRE(decoder->complete());
    REQUIRE_FALSE(decoder->error());
    checkGolden(r.completion());
    checkUsage(decoder->usage());
    REQUIRE(parse(std::string(decoder->document())) == parse(whole));
  }
}

TEST_CASE("openai_responses wire: a length stop, a failed response and an error event") {
  auto decode = [](const std::string& body) {
    gw::Completion c;
    REQUIRE(gw::responses_wire::codec().decode(body, openaiProvider(), c));
    return c.choices.at(0).finishReason;
  };
  CHECK(decode(R"({"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]})") == "length");
  CHECK(decode(R"({"status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]})") == "content_filter");
  CHECK(decode(R"({"status":"completed","output":[]})") == "stop");

  auto failed = gw::responses_wire::codec().streamDecoder(openaiProvider());
  gw::CompletionRecorder r;
  failed->feed("event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":"
               "{\"code\":\"server_error\",\"message\":\"The model failed.\"}}}\n\n",
               r);
  REQUIRE(failed->error());
  CHECK(failed->error().status == 502);
  CHECK(failed->error().message.find("The model failed.") != std::string::npos);
  CHECK_FALSE(failed->complete());
  auto error = gw::responses_wire::codec().streamDecoder(openaiProvider());
  error->feed("event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\"}\n\n", r);
  REQUIRE(error->error());
  CHECK(error->error().message.find("Slow down") != std::string::npos);
}

namespace {
std::string encoded(const std::string& body, const gw::Target& target, int64_t maxOutput) {
  gw::json::Tape t;
  REQUIRE(t.parse(body));
  gw::UpstreamRequest out;
  gw::responses_wire::encodeNative(t, target, maxOutput, out);
  CHECK(out.url == "https://api.openai.com/v1/responses");
  return out.body;
}
}  // namespace

TEST_CASE("openai_responses wire: the body goes as sent, the model renamed and the output held to the reservation") {
  gw::ProviderConfig p = openaiProvider();
  p.baseUrl = "https://api.openai.com/v1";
  gw::Target target;
  target.provider = &p;
  target.upstream = "gpt-4o-mini-2024-07-18";
  CHECK(parse(encoded(R"({"model":"gpt-4o-mini","input":"Hi","tools":[{"type":"web_search"}],"include":["reasoning.encrypted_content"]})",
                      target, 4096)) == parse(R"({"max_output_tokens":4096,"model":"gpt-4o-mini-2024-07-18","input":"Hi",
                                    "tools":[{"type":"web_search"}],"include":["reasoning.encrypted_content"]})"));
  CHECK(parse(encoded(R"({"input":"Hi","max_output_tokens":null,"model":"m"})", target, 512)) ==
        parse(R"({"input":"Hi","max_output_tokens":512,"model":"gpt-4o-mini-2024-07-18"})"));
  CHECK(parse(encoded(R"({"model":"m","max_output_tokens":null})", target, 512)) ==
        parse(R"({"model":"gpt-4o-mini-2024-07-18","max_output_tokens":512})"));
  CHECK(parse(encoded(R"({"model":"m","max_output_tokens":64})", target, 512)) ==
        parse(R"({"model":"gpt-4o-mini-2024-07-18","max_output_tokens":64})"));
}

TEST_CASE("/v1/responses on an OpenAI model: OpenAI's own Responses API, the answer as it came, priced and stored") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("openai/responses_response.json"));
  auto res = host.request("POST", "/v1/responses",
                          R"({"model":"o4-mini","input":"Weather in SF?","reasoning":{"effort":"medium","summary":"auto"},
                              "include":["reasoning.encrypted_content"],"tools":[{"type":"web_search"},
                              {"type":"function","name":"get_weather","parameters":{"type":"object"}}]})");
  REQUIRE(res.status == 200);
  REQUIRE(host.fetches.size() == 1);
  CHECK(host.fetches[0].url == "https://api.openai.com/v1/responses");
  json sent = parse(host.fetches[0].body);
  CHECK(sent["reasoning"] == json::parse(R"({"effort":"medium","summary":"auto"})"));
  CHECK(sent["include"] == json::parse(R"(["reasoning.encrypted_content"])"));
  CHECK(sent["tools"][0]["type"] == "web_search");  // built-in tools run there
  CHECK(sent["max_output_tokens"].is_number_integer());
  CHECK(parse(res.body) == parse(fixture("openai/responses_response.json")));
  CHECK(res.headers["x-aigw-provider"] == "openai");
  CHECK_FALSE(res.headers["x-aigw-cost-usd"].empty());

  // Stored under OpenAI's ids, in the caller's tenant.
  const std::string id = "resp_68c1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b";
  REQUIRE(host.kv.count("resp:acme:" + id) == 1);
  CHECK(parse(host.kv["resp:acme:" + id])["native"] == "openai");
  CHECK(host.kv["ritem:acme:fc_68c1f2a6aa11bb22cc33dd44ee55ff6600112233445566778"] == id);
  auto got = host.request("GET", "/v1/responses/" + id);
  REQUIRE(got.status == 200);
  CHECK(parse(got.body) == parse(fixture("openai/responses_response.json")));

  // Continued on OpenAI: previous_response_id goes on as it came.
  // (Its answer under a new id, as OpenAI gives each response its own.)
  std::string answer = fixture("openai/responses_response.json");
  answer.replace(answer.find(id), id.size(), "resp_68c1f2ff00000000000000000000000000000000000000ff");
  host.replies.push_back(reply("openai/responses_response.json"));
  host.replies.back().chunks = {answer};
  const std::string output = R"([{"type":"function_call_output","call_id":"call_Yx9AbCdEf0123456789","output":"18C"}])";
  auto next = host.request("POST", "/v1/responses",
                           R"({"model":"gpt-4o-mini","previous_response_id":")" + id + R"(","input":)" + output + "}");
  REQUIRE(next.status == 200);
  json forwarded = parse(host.fetches.back().body);
  CHECK(forwarded["previous_response_id"] == id);
  CHECK(forwarded["input"] == json::parse(output));

  // Continued on Claude: the conversation is the gateway's, translated.
  host.replies.push_back(reply("anthropic/message.json"));
  auto claude = host.request("POST", "/v1/responses",
                             R"({"model":"claude-sonnet-4-5","previous_response_id":")" + id + R"(","input":)" + output + "}");
  REQUIRE(claude.status == 200);
  CHECK(host.fetches.back().url.find("/messages") != std::string::npos);
  json translated = parse(host.fetches.back().body);
  REQUIRE(translated["messages"].size() == 3);
  CHECK(translated["messages"][1]["content"].dump().find("call_Yx9AbCdEf0123456789") != std::string::npos);

  // Item references to OpenAI's item ids are found through the tenant's store only.
  host.replies.push_back(reply("openai/responses_response.json"));
  const std::string byReference =
      R"({"model":"gpt-4o-mini","input":[{"role":"user","content":"Weather in SF?"},
          {"type":"item_reference","id":"fc_68c1f2a6aa11bb22cc33dd44ee55ff6600112233445566778"},)" +
      output.substr(1, output.size() - 2) + "]}";
  auto referenced = host.request("POST", "/v1/responses", byReference);
  REQUIRE(referenced.status == 200);
  CHECK(parse(host.fetches.back().body)["input"][1]["type"] == "item_reference");
  REQUIRE(host.request("PUT", "/api/v1/ai/admin/tenants/globex", R"({"name":"Globex"})", gw::testing::adminHeaders()).status == 200);
  auto createdKey = host.request("POST", "/api/v1/ai/admin/keys", R"({"tenantId":"globex","userId":"hank"})",
                                 gw::testing::adminHeaders());
  const std::string other = "Bearer " + parse(createdKey.body)["key"].get<std::string>();
  const size_t sentBefore = host.fetches.size();
  auto foreign = host.request("POST", "/v1/responses", byReference, {{"authorization", other}});
  CHECK(foreign.status == 400);
  CHECK(parse(foreign.body)["error"]["param"] == "input[1].id");
  auto foreignTurn = host.request("POST", "/v1/responses",
                                  R"({"model":"gpt-4o-mini","input":"hi","previous_response_id":")" + id + R"("})",
                                  {{"authorization", other}});
  CHECK(foreignTurn.status == 400);
  CHECK(host.fetches.size() == sentBefore);
}

TEST_CASE("/v1/responses on an OpenAI model: a stream goes as it came and is stored as its final response") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(streamReply("openai/responses_stream.sse"));
  auto res = host.request("POST", "/v1/responses", R"({"model":"o4-mini","input":"Weather in SF?","stream":true})");
  REQUIRE(res.status == 200);
  const std::string upstream = fixture("openai/responses_stream.sse");
  REQUIRE(res.body.size() > upstream.size());
  CHECK(res.body.compare(0, upstream.size(), upstream) == 0);
  CHECK(res.body.find(": x-aigw-cost-usd=") != std::string::npos);
  const std::string id = "resp_68c1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b";
  REQUIRE(host.kv.count("resp:acme:" + id) == 1);
  CHECK(parse(host.kv["resp:acme:" + id])["response"] == parse(fixture("openai/responses_response.json")));
}

TEST_CASE("/v1/responses: built-in tools reach OpenAI and are a 400 naming the tool anywhere else") {
  FakeHost host({}, ALL_KEYS);
  auto res = host.request("POST", "/v1/responses", R"({"model":"claude-sonnet-4-5","input":"News?","tools":[{"type":"web_search"}]})");
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "tools[0].type");
  CHECK(parse(res.body)["error"]["code"] == "unsupported_tool");
  auto item = host.request("POST", "/v1/responses",
                           R"({"model":"gemini-2.5-flash","input":[{"role":"user","content":"hi"},{"type":"web_search_call","id":"ws_1","status":"completed"}]})");
  CHECK(item.status == 400);
  CHECK(parse(item.body)["error"]["param"] == "input[1].type");
  CHECK(host.fetches.empty());
  // A conversation the gateway answered in translation continues in translation, even on OpenAI.
  host.replies.push_back(reply("anthropic/message.json"));
  auto first = host.request("POST", "/v1/responses", R"({"model":"claude-sonnet-4-5","input":"Hi"})");
  REQUIRE(first.status == 200);
  host.replies.push_back(gw::testing::openaiReply("Again"));
  auto second = host.request("POST", "/v1/responses",
                             R"({"model":"gpt-4o-mini","input":"Again","previous_response_id":")" +
                                 parse(first.body)["id"].get<std::string>() + R"("})");
  REQUIRE(second.status == 200);
  CHECK(host.fetches.back().url == "https://api.openai.com/v1/chat/completions");
  CHECK(parse(second.body)["output_text"].is_null());  // the gateway's own rendering
  CHECK(parse(second.body)["output"][0]["content"][0]["text"] == "Again");
}

TEST_CASE("/v1/responses: deleting a response OpenAI keeps too deletes it there first") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("openai/responses_response.json"));
  REQUIRE(host.request("POST", "/v1/responses", R"({"model":"o4-mini","input":"Weather in SF?"})").status == 200);
  const std::string id = "resp_68c1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b";

  // OpenAI failing: nothing is deleted, so the client can retry.
  host.replies.push_back(gw::testing::openaiReply("unused"));
  host.replies.back().status = 500;
  auto failed = host.request("DELETE", "/v1/responses/" + id);
  CHECK(failed.status == 502);
  CHECK(parse(failed.body)["error"]["code"] == "upstream_delete_failed");
  CHECK(host.request("GET", "/v1/responses/" + id).status == 200);

  host.replies.push_back(gw::testing::openaiReply("unused"));
  host.replies.back().chunks = {R"({"id":")" + id + R"(","object":"response.deleted","deleted":true})"};
  auto deleted = host.request("DELETE", "/v1/responses/" + id);
  CHECK(deleted.status == 200);
  CHECK(host.fetches.back().method == "DELETE");
  CHECK(host.fetches.back().url == "https://api.openai.com/v1/responses/" + id);
  CHECK(host.request("GET", "/v1/responses/" + id).status == 404);

  // One the gateway answered in translation is the gateway's alone.
  host.replies.push_back(reply("anthropic/message.json"));
  auto claude = host.request("POST", "/v1/responses", R"({"model":"claude-sonnet-4-5","input":"Hi"})");
  const size_t before = host.fetches.size();
  CHECK(host.request("DELETE", "/v1/responses/" + parse(claude.body)["id"].get<std::string>()).status == 200);
  CHECK(host.fetches.size() == before);
}
