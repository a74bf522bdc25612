// Loading the config: the bundled files with a KV override merged over them
// (objects member by member, rows by id, null deletes), validation naming
// the field, and the environment.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/config.h"

namespace {

gw::Result<gw::Config> load(const std::string& override) {
  return gw::loadConfig(gw::testing::bundledConfig(), override, gw::Environment{});
}

std::string error(const std::string& override) {
  auto c = load(override);
  return c.ok() ? std::string() : c.status().message;
}

}  // namespace

TEST_CASE("an override changes one field of a row and keeps the rest of it and of the catalog") {
  auto base = load("");
  REQUIRE(base.ok());
  auto c = load(R"({"models":[{"id":"gpt-4o","price":{"output":12},"quality":90},
                               {"id":"house","provider":"openai","upstream":"gpt-4o-mini","aliases":["h"]}],
                    "gateway":{"max_retries":4},
                    "providers":[{"id":"openrouter","headers":{"x-title":"Acme"}}]})");
  REQUIRE(c.ok());
  const gw::ModelConfig* m = c.value().model("gpt-4o");
  REQUIRE(m != nullptr);
  CHECK(m->price.output == 12000000);
  CHECK(m->price.input == 2500000);       // the rest of the price object stays
  CHECK(m->price.cachedInput == 1250000);
  CHECK(m->quality == 90);
  CHECK(m->contextWindow == 128000);
  CHECK(c.value().models.size() == base.value().models.size() + 1);
  CHECK(c.value().model("h")->upstream == "gpt-4o-mini");
  CHECK(c.value().maxRetries == 4);
  CHECK(c.value().requestTimeoutMs == base.value().requestTimeoutMs);
  const gw::ProviderConfig* p = c.value().provider("openrouter");
  REQUIRE(p->headers.size() == 1);
  CHECK(p->headers[0].second == "Acme");
  CHECK(p->baseUrl == "https://openrouter.ai/api/v1");
}

TEST_CASE("null in an override deletes the member, so the bundled default applies again") {
  auto c = load(R"({"models":[{"id":"gpt-4o","price":{"cached_input":null},"capabilities":null}]})");
  REQUIRE(c.ok());
  const gw::ModelConfig* m = c.value().model("gpt-4o");
  CHECK(m->price.cachedInput == m->price.input);
  CHECK(m->capabilities == gw::CAP_STREAMING);
}

TEST_CASE("an invalid config or override names the field at fault") {
  CHECK(error(R"({"gateway":{"max_retries":"many"}})") == "gateway.max_retries: expected an integer");
  CHECK(error(R"({"gateway":{"max_retries":2.5}})") == "gateway.max_retries: expected an integer");
  CHECK(error(R"({"gateway":[]})") == "gateway: expected an object");
  CHECK(error(R"({"providers":"none"})") == "providers: expected a non-empty array");
  CHECK(error(R"({"models":{}})") == "models: expected an array");
  CHECK(error(R"({"models":[{"id":"x"}]})").find(".provider: is required") != std::string::npos);
  CHECK(error(R"({"models":[{"id":"x","provider":"nope"}]})").find("unknown provider 'nope'") != std::string::npos);
  CHECK(error(R"({"models":[{"id":"gpt-4o","fallbacks":["a","b","c","d","e","f","g","h","i"]}]})")
            .find("expected an array of at most 8 model names") != std::string::npos);
  CHECK(error(R"({"models":[{"id":"gpt-4o","fallbacks":["no-such-model"]}]})")
            .find("'no-such-model' is not another registered model") != std::string::npos);
  CHECK(error(R"({"providers":[{"id":"openai","quirks":{"rename":{"model":"m"}}}]})")
            .find("this field cannot be renamed") != std::string::npos);
  CHECK(error(R"({"providers":[{"id":"openai","base_url":"ftp://x"}]})").find("expected an http(s) URL") !=
        std::string::npos);
  CHECK(error("[1]") == "override: expected a JSON object");
  CHECK(error("{") == "override: expected a JSON object");
  CHECK_FALSE(gw::loadConfig("nope", "", {}).ok());
}

TEST_CASE("the environment document and the names the host should collect") {
  auto env = gw::parseEnvironment(R"({"vars":{"A":"1","B":2},"secrets":["OPENAI_API_KEY",3],"digests":{"ADMIN_API_KEY":"ab"}})");
  REQUIRE(env.ok());
  CHECK(env.value().vars.size() == 1);
  CHECK(env.value().secrets.count("OPENAI_API_KEY") == 1);
  CHECK(env.value().digests.at("ADMIN_API_KEY") == "ab");
  CHECK_FALSE(gw::parseEnvironment("[]").ok());

  auto names = gw::configEnvNames(gw::testing::bundledConfig());
  REQUIRE(names.ok());
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  CHECK(has(names.value().secrets, "OPENAI_API_KEY"));
  CHECK(has(names.value().secrets, "AI_GATEWAY_API_KEY"));  // vercel's api_key_env
  CHECK(has(names.value().vars, "AZURE_OPENAI_BASE_URL"));
  CHECK(has(names.value().vars, "AZURE_OPENAI_API_VERSION"));
}
