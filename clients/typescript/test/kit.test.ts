// Real Apollo Client, @urql/core and graphql-ws against a live planapi (see live.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createApolloClient } from "../src/apollo.js";
import { createUrqlClient } from "../src/urql.js";
import {
  AuditDiffDocument,
  KitAmendDocument,
  KitPlanAmendedDocument,
  KitPlanDocument,
  type KitPlanAmendedSubscription,
} from "../src/gql/graphql.js";
import { PLAN, adminToken, amend, amendment, newOutcome, options } from "./live.js";

test("Apollo amends with an admin token and reads the new version back", async () => {
  const { client } = createApolloClient(options(adminToken()));
  try {
    const before = await client.query({ query: KitPlanDocument, variables: { id: PLAN } });
    const version = before.data!.plan!.version;
    const outcome = newOutcome("Affordable broadband for schools");
    const result = await client.mutate({
      mutation: KitAmendDocument,
      variables: {
        input: amendment(version, [outcome.change], {
          rationale: "Agreed at TDAG-26",
          effectiveFrom: "2026-03-01",
        }),
      },
    });
    const applied = result.data!.amendPlan;
    assert.equal(applied.__typename, "AmendmentApplied");
    if (applied.__typename !== "AmendmentApplied") return;
    assert.equal(applied.plan.version, version + 1);
    assert.equal(applied.amendment.actor, "kit-admin");
    assert.equal(applied.amendment.effectiveFrom, "2026-03-01"); // a Date: a string, as mapped

    const after = await client.query({
      query: KitPlanDocument,
      variables: { id: PLAN, version: version + 1 },
    });
    const titles = after.data!.plan!.priorities.flatMap((p) => p.outcomes.map((o) => o.title));
    assert.ok(titles.includes("Affordable broadband for schools"), titles.join(", "));
  } finally {
    client.stop();
  }
});

test("Apollo refuses an amendment without a token, as the schema's Forbidden", async () => {
  const { client } = createApolloClient(options());
  try {
    const outcome = newOutcome("Never stored");
    const result = await client.mutate({
      mutation: KitAmendDocument,
      variables: { input: amendment(1, [outcome.change], { rationale: "anonymous" }) },
      errorPolicy: "all",
    });
    const answer = result.data?.amendPlan;
    const refused = answer?.__typename === "Forbidden" || result.error !== undefined;
    assert.ok(refused, JSON.stringify(result));
  } finally {
    client.stop();
  }
});

test("a subscription over graphql-ws (Apollo's GraphQLWsLink) receives the amendment", async () => {
  const { client, ws } = createApolloClient(options(adminToken()));
  try {
    const received: KitPlanAmendedSubscription["planAmended"][] = [];
    let expected = Number.POSITIVE_INFINITY;
    const arrived = new Promise<KitPlanAmendedSubscription["planAmended"]>((resolve, reject) => {
      // after: 0 replays every version first, so nothing is missed while the socket opens.
      const subscription = client
        .subscribe({ query: KitPlanAmendedDocument, variables: { planId: PLAN, after: 0 } })
        .subscribe({
          next(result) {
            const event = result.data?.planAmended;
            if (!event) return reject(new Error(JSON.stringify(result)));
            received.push(event);
            if (event.version >= expected) {
              subscription.unsubscribe();
              resolve(event);
            }
          },
          error: reject,
        });
      setTimeout(() => reject(new Error(`no event; got ${JSON.stringify(received)}`)), 15_000);
    });
    const { version } = await amend("Announced over graphql-ws");
    expected = version;
    const event = await arrived;
    assert.equal(event.planId, PLAN);
    assert.equal(event.version, version);
    assert.equal(event.amendment.rationale, "client kit test: Announced over graphql-ws");
    assert.ok(event.position > 0);
  } finally {
    client.stop();
    await ws.dispose();
  }
});

test("@urql/core queries and mutates", async () => {
  const urql = createUrqlClient(options(adminToken()));
  const before = await urql.query(KitPlanDocument, { id: PLAN }).toPromise();
  assert.equal(before.error, undefined);
  const version = before.data!.plan!.version;
  const outcome = newOutcome("Added through urql");
  const result = await urql
    .mutation(KitAmendDocument, {
      input: amendment(version, [outcome.change], { authority: "COUNCIL", rationale: "urql" }),
    })
    .toPromise();
  assert.equal(result.error, undefined);
  const applied = result.data!.amendPlan;
  assert.equal(applied.__typename, "AmendmentApplied");

  const stale = urql.mutation(KitAmendDocument, {
    input: amendment(version, [newOutcome("Lost the race").change], { rationale: "too late" }),
  });
  const conflict = (await stale.toPromise()).data!.amendPlan;
  assert.equal(conflict.__typename, "VersionConflict");
  if (conflict.__typename === "VersionConflict") {
    assert.equal(conflict.actualVersion, version + 1);
  }
  const at = await urql.query(KitPlanDocument, { id: PLAN, version: version + 1 }).toPromise();
  assert.equal(at.data!.plan!.version, version + 1);
});

test("Apollo reads fragments on interfaces back from its cache whole (possibleTypes)", async () => {
  const version = (await amend("Shows in the diff")).version;
  const { client } = createApolloClient(options());
  try {
    const variables = { id: PLAN, from: 1, to: version };
    const network = await client.query({ query: AuditDiffDocument, variables });
    const added = network.data!.planDiff!.added;
    assert.ok(added.some((node) => node.title === "Shows in the diff"), JSON.stringify(added));
    // `...AuditNode` is a fragment on the PlanNode interface.
    const cached = client.readQuery({ query: AuditDiffDocument, variables });
    assert.deepEqual(cached, network.data);
  } finally {
    client.stop();
  }
});
