// Needs the server to answer `Accept: application/graphql-response+json` in kind (issue 13
// item 3): Apollo 4 reads a 400 answer's errors only under that media type; under
// application/json it reports "Received status code 400" and hides the server's message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { gql } from "@apollo/client";
import { createApolloClient } from "../src/apollo.js";
import { PLAN, options } from "./live.js";

// Not in src/documents: it must not validate, so codegen would refuse it.
const BAD = gql`
  query KitBadQuery($id: ID!) {
    plan(id: $id) {
      version
      colour
    }
  }
`;

test("Apollo shows the server's message for a bad query", async () => {
  const { client } = createApolloClient(options());
  try {
    await assert.rejects(
      client.query({ query: BAD, variables: { id: PLAN } }),
      (error: unknown) => {
        assert.ok(CombinedGraphQLErrors.is(error), `not GraphQL errors: ${String(error)}`);
        assert.match(error.message, /Cannot query field 'colour' on type 'Plan'/);
        assert.doesNotMatch(error.message, /status code/);
        return true;
      },
    );
  } finally {
    client.stop();
  }
});
