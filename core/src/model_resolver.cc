#include "gw/model_resolver.h"
#include "gw/stable_sort.h"

#include <algorithm>
#include <cctype>

namespace gw {

namespace {

char lower(char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool containsFolded(std::string_view hay, std::string_view needle) {
  if (needle.size() < 3 || needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && lower(hay[i + k]) == lower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

ApiError notFound(const Config& c, std::string_view name, ModelKind kind) {
  std::string message = "The model '" + std::string(name) + "' does not exist or you do not have access to it.";
  std::vector<std::string> close = closeMatches(c, name, kind);
  if (!close.empty()) {
    message += " Did you mean ";
    for (size_t i = 0; i < close.size(); ++i) {
      if (i > 0) message += i + 1 == close.size() ? " or " : ", ";
      message += "'" + close[i] + "'";
    }
    message += "?";
  }
  ApiError e = invalidRequest(std::move(message), "model", "model_not_found");
  e.status = 404;
  return e;
}

}  // namespace

std::vector<std::string> closeMatches(const Config& c, std::string_view name, ModelKind kind) {
  if (name.size() > 256) return {};
  struct Candidate {
    size_t score;
    const std::string* id;
  };
  std::vector<Candidate> found;
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  for (const auto& m : c.models) {
    if (!m.enabled || m.kind != kind) continue;
    size_t best = editDistance(name, m.id);
    for (const auto& a : m.aliases) best = std::min(best, editDistance(name, a));
    if (containsFolded(m.id, name) || containsFolded(name, m.id)) best = std::min<size_t>(best, 2);
    if (best <= limit) found.push_back({best, &m.id});
  }
  stableSort(found, [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
  std::vector<std::string> out;
  for (size_t i = 0; i < found.size() && i < 3; ++i) out.push_back(*found[i].id);
  return out;
}

ApiError resolveModel(const Config& c, std::string_view name, ModelKind kind, Target& out) {
  const ModelConfig* m = c.model(name);
  if (m != nullptr && m->enabled) {
    const ProviderConfig* p = c.provider(m->provider);
    if (p == nullptr || !p->enabled) {
      ApiError e = invalidRequest("The model '" + std::string(name) + "' is unavailable: its provider '" + m->provider +
                                      "' is disabled.",
                                  "model", "model_not_available");
      e.status = 404;
      return e;
    }
    if (m->kind != kind) {
      return invalidRequest(kind == ModelKind::Chat
                                ? "The model '" + m->id + "' is an embedding model; use it with /v1/embeddings."
                                : "The model '" + m->id + "' is not an embedding model.",
                            "model", "model_not_supported");
    }
    out.model = m;
    out.provider = p;
    out.upstream = m->upstream;
    out.price = m->price;
    return {};
  }
  // `<provider>/<model>` on a self-hosted provider: any model it serves.
  size_t slash = name.find('/');
  if (slash != std::string_view::npos && slash + 1 < name.size()) {
    const ProviderConfig* p = c.provider(name.substr(0, slash));
    if (p != nullptr && p->selfHosted && p->enabled) {
      out.provider = p;
      out.upstream = std::string(name.substr(slash + 1));
      for (const auto& row : c.models)
        if (row.provider == p->id && row.upstream == out.upstream && row.enabled) out.model = &row;
      out.price = Price{};
      out.price.known = true;  // self-hosted: free
      return {};
    }
  }
  // Passed to the default provider as named, unless it is switched off.
  if (const ProviderConfig* fallback = c.provider(c.defaultProvider);
      c.allowUnknownModels && kind == ModelKind::Chat && fallback != nullptr && fallback->enabled) {
    out.provider = fallback;
    out.upstream = std::string(name);
    return {};
  }
  return notFound(c, name, kind);
}

}  // namespace gw
