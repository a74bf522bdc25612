// The baseline for scripts/bench: a bare worker that forwards the request to
// the same upstream with no gateway logic at all.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.UPSTREAM_URL + url.pathname.replace(/^\/v1/, ''), {
      method: request.method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.OPENAI_API_KEY}` },
      body: request.body,
    });
  },
};
