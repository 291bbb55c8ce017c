// Types for every document the repository sends: the kit's own (src/documents/) and the trusted
// documents (schema/trusted-documents.json: the auditor page's and the README's), against the
// committed SDL. The client preset runs `typescript` + `typescript-operations` into one module
// without duplicate identifiers, and emits TypedDocumentNode objects both Apollo and urql infer
// result and variable types from.
import { readFileSync, readdirSync } from "node:fs";
import type { CodegenConfig } from "@graphql-codegen/cli";

interface Manifest {
  operations: { name: string; body: string }[];
}

const trusted = JSON.parse(
  readFileSync(new URL("../../schema/trusted-documents.json", import.meta.url), "utf8"),
) as Manifest;

// An operation defined in src/documents/ wins over a manifest entry of the same name (codegen
// refuses two operations with one name), so the kit's documents may be trusted documents too.
const kitDir = new URL("./src/documents/", import.meta.url);
const kitNames = new Set(
  readdirSync(kitDir)
    .filter((file) => file.endsWith(".graphql"))
    .flatMap((file) =>
      [...readFileSync(new URL(file, kitDir), "utf8").matchAll(
        /\b(?:query|mutation|subscription)\s+(\w+)/g,
      )].map((match) => match[1]),
    ),
);
const trustedBodies = trusted.operations
  .filter((op) => !op.name.split("+").some((name) => kitNames.has(name)))
  .map((op) => op.body);

const config: CodegenConfig = {
  schema: "../../schema/planapi.graphql",
  documents: ["src/documents/**/*.graphql", ...trustedBodies],
  ignoreNoDocuments: false,
  // ES modules with explicit `.js` extensions, as Node and `moduleResolution: NodeNext` need.
  emitLegacyCommonJSImports: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // The wire formats the schema states (@specifiedBy): strings, parsed where a screen
        // needs it — Decimal must stay a string, a JS number would round it.
        scalars: {
          Date: "string",
          DateTime: "string",
          Decimal: "string",
          JSON: "unknown",
        },
        // A scalar added to the schema fails codegen until it is mapped here, rather than
        // silently becoming `any`.
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: false,
      },
    },
    // Which object types implement each interface and union (PlanNode, UserError, the result
    // unions): Apollo's InMemoryCache needs it to match a fragment on an abstract type, or it
    // reads such fragments back from the cache as missing data.
    "src/gql/possible-types.ts": {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
  },
};

export default config;
