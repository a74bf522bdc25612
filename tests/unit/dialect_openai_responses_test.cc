// Client dialect openai_responses (POST /v1/responses): Responses clients
// reach any provider and get `response` objects and the Responses event
// sequence back; bad input is a 400 naming the field.
#include "codec_support.h"
#include "dialects/openai_responses.h"

using namespace gw::testing::codec;

namespace {

struct Event {
  std::string type;
  json data;
};

// The events of a Responses stream, each `event:` line checked against its data's type.
std::vector<Event> events(const std::string& body) {
  std::vector<Event> out;
  size_t at = 0;
  while ((at = body.find("event: ", at)) != std::string::npos) {
    size_t nl = body.find('\n', at);
    size_t end = body.find("\n\n", nl);
    Event e{body.substr(at + 7, nl - at - 7), parse(body.substr(nl + 7, end - nl - 7))};
    REQUIRE(e.data["type"] == e.type);
    out.push_back(std::move(e));
    at = end;
  }
  return out;
}

std::vector<std::string> typesOf(const std::vector<Event>& ev) {
  std::vector<std::string> t;
  for (const Event& e : ev) t.push_back(e.type);
  return t;
}

}  // namespace

TEST_CASE("/v1/responses: items, tools and text.format translate to the chat request (golden)") {
  gw::openai_responses::Translation t;
  const std::string body = fixture("responses/request_items.json");
  gw::json::Tape tape;
  REQUIRE(tape.parse(body));
  gw::ApiError e = gw::openai_responses::translateRequest(tape, nullptr, nullptr, t);
  REQUIRE_FALSE(e);
  CHECK(parse(t.chat) == parse(fixture("responses/request_items.chat.json")));
  CHECK(parse("{" + t.echo + "}") == parse(fixture("responses/request_items.echo.json")));
  CHECK_FALSE(t.store);
  // The conversation a stored response keeps: the messages without the instructions.
  json messages = parse(t.chat)["messages"];
  messages.erase(0);
  CHECK(parse(t.conversation) == messages);
}

TEST_CASE("/v1/responses: a whole answer from any provider is a response object") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("Hello!", 20, 4));
  auto res = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"Hi","instructions":"Be kind.","metadata":{"a":"b"}})");
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["messages"][0] == json::parse(R"({"role":"system","content":"Be kind."})"));
  CHECK(sent["messages"][1] == json::parse(R"({"role":"user","content":"Hi"})"));
  CHECK_FALSE(sent.contains("metadata"));
  json body = parse(res.body);
  CHECK(body["object"] == "response");
  CHECK(body["id"].get<std::string>().rfind("resp_", 0) == 0);
  CHECK(body["status"] == "completed");
  CHECK(body["model"] == "llama-3.1-8b-instant");
  CHECK(body["instructions"] == "Be kind.");
  CHECK(body["metadata"] == json::parse(R"({"a":"b"})"));
  CHECK(body["incomplete_details"].is_null());
  CHECK(body["error"].is_null());
  REQUIRE(body["output"].size() == 1);
  CHECK(body["output"][0]["type"] == "message");
  CHECK(body["output"][0]["role"] == "assistant");
  CHECK(body["output"][0]["status"] == "completed");
  CHECK(body["output"][0]["content"][0]["type"] == "output_text");
  CHECK(body["output"][0]["content"][0]["text"] == "Hello!");
  CHECK(body["output"][0]["content"][0]["annotations"] == json::array());
  CHECK(body["usage"] == json::parse(R"({"input_tokens":20,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,
                                         "output_tokens_details":{"reasoning_tokens":0},"total_tokens":24})"));
  CHECK(res.headers["x-aigw-provider"] == "groq");

  // Anthropic's tool use: function_call items with the call id and arguments.
  host.replies.push_back(reply("anthropic/message_tool_use.json"));
  res = host.request("POST", "/v1/responses",
                     R"({"model":"claude-sonnet-4-5","input":"Weather?","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]})");
  REQUIRE(res.status == 200);
  body = parse(res.body);
  json calls = json::array();
  for (auto& item : body["output"])
    if (item["type"] == "function_call") calls.push_back(item);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["name"] == "get_weather");
  CHECK(calls[0]["call_id"].get<std::string>().rfind("toolu_", 0) == 0);
  CHECK(parse(calls[0]["arguments"].get<std::string>()).is_object());
  CHECK(calls[0]["status"] == "completed");
  CHECK(body["tools"][0]["name"] == "get_weather");
}

TEST_CASE("/v1/responses: a length stop is status incomplete with its reason") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply r = gw::testing::openaiReply("Once upon", 10, 16);
  size_t at = r.chunks[0].find("\"stop\"");
  REQUIRE(at != std::string::npos);
  r.chunks[0].replace(at, 6, "\"length\"");
  host.replies.push_back(r);
  auto res = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"A story","max_output_tokens":16})");
  REQUIRE(res.status == 200);
  json body = parse(res.body);
  CHECK(body["status"] == "incomplete");
  CHECK(body["incomplete_details"] == json::parse(R"({"reason":"max_output_tokens"})"));
  CHECK(body["max_output_tokens"] == 16);
  CHECK(body["output"][0]["status"] == "incomplete");
  CHECK(parse(host.fetches.at(0).body)["max_completion_tokens"] == 16);
}

TEST_CASE("/v1/responses: a stream is the Responses event sequence, the same from any byte split") {
  const std::string request = R"({"model":"claude-sonnet-4-5","input":"Hi","stream":true})";
  std::string whole;
  for (size_t slice : {0, 1, 3, 7, 64}) {
    FakeHost host({}, ALL_KEYS);
    host.replies.push_back(reply("anthropic/stream.sse", 200, slice));
    host.replies.back().headers = {{"content-type", "text/event-stream"}};
    auto res = host.request("POST", "/v1/responses", request);
    REQUIRE(res.status == 200);
    INFO("slice " << slice);
    // Simulated time moves with each slice delivered: completed_at may differ.
    std::string body = res.body;
    size_t at = body.find("\"completed_at\":17");
    while (at != std::string::npos) {
      body.replace(at, 25, "\"completed_at\":0");
      at = body.find("\"completed_at\":17", at);
    }
    if (slice == 0) whole = body;
    else CHECK(body == whole);
  }
  std::vector<Event> ev = events(whole);
  CHECK(typesOf(ev) == std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                                "response.content_part.added", "response.output_text.delta",
                                                "response.output_text.delta", "response.output_text.done",
                                                "response.content_part.done", "response.output_item.done",
                                                "response.completed"});
  for (size_t i = 0; i < ev.size(); ++i) CHECK(ev[i].data["sequence_number"] == i);
  CHECK(ev[0].data["response"]["status"] == "in_progress");
  CHECK(ev[0].data["response"]["usage"].is_null());
  const std::string itemId = ev[2].data["item"]["id"];
  CHECK(ev[4].data["item_id"] == itemId);
  CHECK(ev[4].data["delta"] == "Hello");
  CHECK(ev[6].data["text"] == "Hello from Claude éè 😀!");
  CHECK(ev[8].data["item"]["content"][0]["text"] == "Hello from Claude éè 😀!");
  json done = ev.back().data["response"];
  CHECK(done["status"] == "completed");
  CHECK(done["output"][0]["id"] == itemId);
  // input_tokens counts the cached ones too, as OpenAI's do.
  CHECK(done["usage"]["input_tokens"] == 35);
  CHECK(done["usage"]["input_tokens_details"]["cached_tokens"] == 10);
  CHECK(done["usage"]["output_tokens"] == 15);
  CHECK(whole.find(": x-aigw-cost-usd=") != std::string::npos);
}

TEST_CASE("/v1/responses: a streamed function call from Gemini arrives as function_call events") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("gemini/stream_function_call.sse", 200, 5));
  host.replies.back().headers = {{"content-type", "text/event-stream"}};
  auto res = host.request("POST", "/v1/responses",
                          R"({"model":"gemini-2.5-flash","input":"Weather in Paris?","stream":true,
                              "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]})");
  REQUIRE(res.status == 200);
  std::vector<Event> ev = events(res.body);
  std::string args, doneArgs;
  bool added = false;
  for (const Event& e : ev) {
    if (e.type == "response.output_item.added" && e.data["item"]["type"] == "function_call") {
      added = true;
      CHECK(e.data["item"]["name"] == "get_weather");
      CHECK(e.data["item"]["status"] == "in_progress");
    }
    if (e.type == "response.function_call_arguments.delta") args += e.data["delta"].get<std::string>();
    if (e.type == "response.function_call_arguments.done") doneArgs = e.data["arguments"];
  }
  CHECK(added);
  CHECK(args == doneArgs);
  CHECK(parse(args).is_object());
  json final = ev.back().data["response"];
  CHECK(ev.back().type == "response.completed");
  bool call = false;
  for (auto& item : final["output"]) call = call || (item["type"] == "function_call" && item["arguments"] == args);
  CHECK(call);
}

TEST_CASE("/v1/responses: bad input is a 400 naming the field, and nothing is sent") {
  FakeHost host({}, ALL_KEYS);
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"({"model":"llama-3.1-8b-instant"})", "input"},
      {R"({"input":"Hi"})", "model"},
      {R"({"model":"llama-3.1-8b-instant","input":[{"type":"computer_call","id":"x"}]})", "input[0].type"},
      {R"({"model":"llama-3.1-8b-instant","input":[{"role":"user","content":"a"},{"type":"function_call_output","call_id":"call_9","output":"x"}]})",
       "input[1].call_id"},
      {R"({"model":"llama-3.1-8b-instant","input":[{"role":"user","content":[{"type":"input_audio"}]}]})", "input[0].content[0].type"},
      {R"({"model":"llama-3.1-8b-instant","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]})",
       "input[0].content[0].file_id"},
      {R"({"model":"llama-3.1-8b-instant","input":[{"role":"robot","content":"x"}]})", "input[0].role"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","tools":[{"type":"web_search"}]})", "tools[0].type"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","tools":[{"type":"function"}]})", "tools[0].name"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","text":{"format":{"type":"json_schema","schema":{}}}})", "text.format.name"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","reasoning":{"effort":"extreme"}})", "reasoning.effort"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","max_output_tokens":2})", "max_output_tokens"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","temperature":"hot"})", "temperature"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","background":true})", "background"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","metadata":{"a":1}})", "metadata"},
      {R"({"model":"llama-3.1-8b-instant","input":[]})", "input"},
      {R"({"model":"llama-3.1-8b-instant","input":"Hi","include":["reasoning.encrypted_content","everything"]})", "include[1]"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    auto res = host.request("POST", "/v1/responses", c.body);
    INFO(res.body);
    CHECK(res.status == 400);
    json err = parse(res.body);
    CHECK(err["error"]["param"] == c.param);
    CHECK(err["error"]["type"] == "invalid_request_error");
  }
  // Too many items.
  std::string many = R"({"model":"llama-3.1-8b-instant","input":[)";
  for (uint32_t i = 0; i <= gw::openai_responses::MAX_INPUT_ITEMS; ++i) many += std::string(i ? "," : "") + R"({"role":"user","content":"a"})";
  many += "]}";
  auto res = host.request("POST", "/v1/responses", many);
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "input");
  CHECK(host.fetches.empty());
}

TEST_CASE("/v1/responses: stored responses continue on any provider, are read and deleted, and stay in their tenant") {
  FakeHost host({{"AI_GATEWAY_RESPONSES_RETENTION_DAYS", "7"}}, ALL_KEYS);
  // Turn one on Claude: a tool call.
  host.replies.push_back(reply("anthropic/message_tool_use.json"));
  auto first = host.request("POST", "/v1/responses",
                            R"({"model":"claude-sonnet-4-5","input":"Weather in Paris?","instructions":"Be brief.",
                                "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]})");
  REQUIRE(first.status == 200);
  json one = parse(first.body);
  const std::string id = one["id"];
  std::string callId;
  for (auto& item : one["output"])
    if (item["type"] == "function_call") callId = item["call_id"];
  REQUIRE_FALSE(callId.empty());
  const std::string key = "resp:acme:" + id;
  REQUIRE(host.kv.count(key) == 1);
  CHECK(host.kvTtl[key] == 7 * 86400);

  // Turn two on Gemini, continuing it: only the tool's output is sent.
  host.replies.push_back(reply("gemini/generate.json"));
  auto second = host.request("POST", "/v1/responses",
                             R"({"model":"gemini-2.5-flash","previous_response_id":")" + id +
                                 R"(","input":[{"type":"function_call_output","call_id":")" + callId + R"(","output":"18C"}]})");
  REQUIRE(second.status == 200);
  json two = parse(second.body);
  CHECK(two["previous_response_id"] == id);
  CHECK(two["instructions"].is_null());  // instructions do not carry over
  json sent = parse(host.fetches.back().body);
  // Gemini received the whole conversation: the question, the call, its result.
  REQUIRE(sent["contents"].size() == 3);
  CHECK(sent["contents"][0]["parts"][0]["text"] == "Weather in Paris?");
  bool call = false;
  for (auto& part : sent["contents"][1]["parts"]) call = call || part.contains("functionCall");
  CHECK(call);
  CHECK(sent["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather");
  CHECK_FALSE(sent.contains("systemInstruction"));

  // Reading it back.
  auto got = host.request("GET", "/v1/responses/" + id);
  REQUIRE(got.status == 200);
  CHECK(parse(got.body) == one);
  auto items = host.request("GET", "/v1/responses/" + two["id"].get<std::string>() + "/input_items");
  REQUIRE(items.status == 200);
  json list = parse(items.body);
  CHECK(list["object"] == "list");
  REQUIRE(list["data"].size() == 1);
  CHECK(list["data"][0]["type"] == "function_call_output");

  // Another tenant's key sees none of it, and cannot continue it.
  REQUIRE(host.request("PUT", "/api/v1/ai/admin/tenants/globex", R"({"name":"Globex"})", gw::testing::adminHeaders()).status == 200);
  auto createdKey = host.request("POST", "/api/v1/ai/admin/keys", R"({"tenantId":"globex","userId":"hank"})",
                                 gw::testing::adminHeaders());
  REQUIRE(createdKey.status == 201);
  const std::string other = "Bearer " + parse(createdKey.body)["key"].get<std::string>();
  auto foreign = host.request("GET", "/v1/responses/" + id, "", {{"authorization", other}});
  CHECK(foreign.status == 404);
  CHECK(parse(foreign.body)["error"]["code"] == "not_found");
  auto foreignTurn = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"hi","previous_response_id":")" + id + R"("})",
                                  {{"authorization", other}});
  CHECK(foreignTurn.status == 400);
  CHECK(parse(foreignTurn.body)["error"]["param"] == "previous_response_id");
  auto unknown = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"hi","previous_response_id":"resp_nope"})");
  CHECK(unknown.status == 400);
  CHECK(parse(unknown.body)["error"]["code"] == "previous_response_not_found");
  // An output for a call no turn made is still refused.
  auto orphan = host.request("POST", "/v1/responses",
                             R"({"model":"llama-3.1-8b-instant","previous_response_id":")" + id +
                                 R"(","input":[{"type":"function_call_output","call_id":"call_zzz","output":"x"}]})");
  CHECK(orphan.status == 400);
  CHECK(parse(orphan.body)["error"]["param"] == "input[0].call_id");

  // Deleting it.
  auto deleted = host.request("DELETE", "/v1/responses/" + id);
  REQUIRE(deleted.status == 200);
  CHECK(parse(deleted.body) == json::parse(R"({"id":")" + id + R"(","object":"response.deleted","deleted":true})"));
  CHECK(host.request("GET", "/v1/responses/" + id).status == 404);
  CHECK(host.request("DELETE", "/v1/responses/" + id).status == 404);

  // store: false keeps nothing.
  const size_t before = host.kv.size();
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto unstored = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"hi","store":false})");
  REQUIRE(unstored.status == 200);
  CHECK(parse(unstored.body)["store"] == false);
  CHECK(host.request("GET", "/v1/responses/" + parse(unstored.body)["id"].get<std::string>()).status == 404);
  for (auto& [k, v] : host.kv) CHECK(k.find(parse(unstored.body)["id"].get<std::string>()) == std::string::npos);
  (void)before;
}

TEST_CASE("/v1/responses: a streamed answer is stored as its final response") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("openai/chat_stream.sse"));
  host.replies.back().headers = {{"content-type", "text/event-stream"}};
  auto res = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":"Hi","stream":true})");
  REQUIRE(res.status == 200);
  std::vector<Event> ev = events(res.body);
  REQUIRE(ev.back().type == "response.completed");
  json final = ev.back().data["response"];
  auto got = host.request("GET", "/v1/responses/" + final["id"].get<std::string>());
  REQUIRE(got.status == 200);
  json stored = parse(got.body);
  CHECK(stored["output"] == final["output"]);
  CHECK(stored["usage"] == final["usage"]);
}

TEST_CASE("/v1/responses: item_reference inputs are read from the tenant's stored responses") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message_tool_use.json"));
  const std::string question = R"({"role":"user","content":"Weather in Paris?"})";
  auto first = host.request("POST", "/v1/responses",
                            R"({"model":"claude-sonnet-4-5","input":[)" + question +
                                R"(],"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]})");
  REQUIRE(first.status == 200);
  json call;
  const json answer = parse(first.body);
  for (auto& item : answer["output"])
    if (item["type"] == "function_call") call = item;
  REQUIRE(call.is_object());
  // As the AI SDK sends a second turn: the question again, the call by reference, its output.
  host.replies.push_back(gw::testing::openaiReply("It is 18C."));
  auto second = host.request("POST", "/v1/responses",
                             R"({"model":"llama-3.1-8b-instant","input":[)" + question + R"(,{"type":"item_reference","id":")" +
                                 call["id"].get<std::string>() + R"("},{"type":"function_call_output","call_id":")" +
                                 call["call_id"].get<std::string>() + R"(","output":"18C"}]})");
  REQUIRE(second.status == 200);
  json sent = parse(host.fetches.back().body);
  REQUIRE(sent["messages"].size() == 3);
  CHECK(sent["messages"][1]["tool_calls"][0]["id"] == call["call_id"]);
  CHECK(sent["messages"][1]["tool_calls"][0]["function"]["name"] == "get_weather");
  CHECK(sent["messages"][2]["role"] == "tool");

  auto unknown = host.request("POST", "/v1/responses",
                              R"({"model":"llama-3.1-8b-instant","input":[{"type":"item_reference","id":"fc_0123456789abcdef01234567"}]})");
  CHECK(unknown.status == 400);
  CHECK(parse(unknown.body)["error"]["param"] == "input[0].id");
  auto foreignShape = host.request("POST", "/v1/responses", R"({"model":"llama-3.1-8b-instant","input":[{"type":"item_reference","id":"rs_x"}]})");
  CHECK(foreignShape.status == 400);
  CHECK(parse(foreignShape.body)["error"]["param"] == "input[0].id");
}

TEST_CASE("/v1/responses: an error a provider's encoding raises in chat terms names the client's input item") {
  FakeHost host({}, ALL_KEYS);
  auto res = host.request("POST", "/v1/responses",
                          R"({"model":"claude-sonnet-4-5","instructions":"Be brief.","input":[
                              {"role":"user","content":"Hello"},
                              {"role":"user","content":[{"type":"input_text","text":"Read this"},
                                {"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}]}]})");
  INFO(res.body);
  REQUIRE(res.status == 400);
  json err = parse(res.body)["error"];
  CHECK(err["param"] == "input[1].content[1].type");
  CHECK(err["message"].get<std::string>().find("messages[") == std::string::npos);
  CHECK(host.fetches.empty());
}
