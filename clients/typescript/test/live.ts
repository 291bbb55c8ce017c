// The live server the tests talk to: started by tests/clients/test_typescript_kit.py (a temp
// SQLite file, seeded with the Baku draft) or by hand, then PLANAPI_URL=http://…/graphql and
// PLANAPI_ADMIN_TOKEN=planapi_… (`planapi tokens create --name kit --role admin`).
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createApolloClient, type PlanApiOptions } from "../src/apollo.js";
import {
  KitAmendDocument,
  KitPlanDocument,
  type AmendPlanInput,
  type PlanChangeInput,
} from "../src/gql/graphql.js";

export const PLAN = "baku-2026";
export const PRIORITY = "priority-affordable-connectivity";

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run through tests/clients/test_typescript_kit.py`);
  return value;
}

export function options(token?: string): PlanApiOptions {
  return { url: required("PLANAPI_URL"), token, webSocketImpl: WebSocket };
}

export function adminToken(): string {
  return required("PLANAPI_ADMIN_TOKEN");
}

let counter = 0;

/** A change adding a new outcome under PRIORITY, with an id no other test uses. */
export function newOutcome(title: string): { id: string; change: PlanChangeInput } {
  counter += 1;
  const id = `outcome-kit-${process.pid}-${Date.now()}-${counter}`;
  return {
    id,
    change: { addNode: { kind: "OUTCOME", id, parentId: PRIORITY, title } },
  };
}

/** An amendment of PLAN on top of `expectedVersion`, on TDAG's authority unless `extra` says. */
export function amendment(
  expectedVersion: number,
  changes: PlanChangeInput[],
  extra: Partial<AmendPlanInput> = {},
): AmendPlanInput {
  return {
    planId: PLAN,
    expectedVersion,
    authority: "TDAG",
    rationale: "client kit test",
    changes,
    ...extra,
  };
}

/** Amend the plan as the admin, on top of whatever version is latest; the new version. */
export async function amend(title: string): Promise<{ version: number; outcomeId: string }> {
  const { client } = createApolloClient(options(adminToken()));
  try {
    const latest = await client.query({
      query: KitPlanDocument,
      variables: { id: PLAN },
      fetchPolicy: "network-only",
    });
    const version = latest.data?.plan?.version;
    assert.ok(version, "the plan exists");
    const outcome = newOutcome(title);
    const result = await client.mutate({
      mutation: KitAmendDocument,
      variables: {
        input: amendment(version, [outcome.change], { rationale: `client kit test: ${title}` }),
      },
    });
    const applied = result.data?.amendPlan;
    assert.equal(applied?.__typename, "AmendmentApplied", JSON.stringify(applied));
    return { version: applied.plan.version, outcomeId: outcome.id };
  } finally {
    client.stop();
  }
}
