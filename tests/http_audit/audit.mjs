// The graphql-http audit (the GraphQL over HTTP spec, as its reference implementation reads it)
// against a live server: `node audit.mjs http://127.0.0.1:8000/graphql [Authorization]`.
// Prints one JSON object: the counts per status and every result that is not ok, with the
// requirement level (MUST/SHOULD/MAY) the audit's name starts with. Exit 0 whatever it finds:
// the caller (tests/e2e/test_graphql_over_http_audit.py) decides what must hold.
import { auditServer } from "graphql-http";

const [url, authorization] = process.argv.slice(2);
if (!url) {
  console.error("usage: node audit.mjs URL [AUTHORIZATION]");
  process.exit(2);
}

const fetchFn = authorization
  ? (input, init = {}) =>
      fetch(input, { ...init, headers: { ...(init.headers ?? {}), authorization } })
  : fetch;

const results = await auditServer({ url, fetchFn });
const counts = {};
const failures = [];
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== "ok") {
    failures.push({
      id: result.id,
      level: result.name.split(" ")[0],
      name: result.name,
      status: result.status,
      reason: result.reason,
      responseStatus: result.response.status,
      contentType: result.response.headers.get("content-type"),
      body: (await result.response.text()).slice(0, 300),
    });
  }
}
console.log(JSON.stringify({ total: results.length, counts, failures }, null, 2));
