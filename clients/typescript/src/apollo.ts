// Apollo Client 4 for planapi, correct with its defaults:
// - InMemoryCache needs no typePolicies/keyFields (only the generated `possibleTypes`, so
//   fragments on interfaces and unions match when read from the cache): every object's `id` is a global id of that
//   object as of its version, so `plan(version: 1)` and the latest plan never share a cache
//   entry (CHANGELOG.md; the stable keys are `planId` and `nodeId`).
// - HttpLink sends `Accept: application/graphql-response+json` first, so a request the server
//   refuses (400) comes back as GraphQL errors with the server's message.
// - Subscriptions go over graphql-ws (`graphql-transport-ws`) at the same /graphql; the token
//   travels in `connection_init` (browsers cannot set headers on a WebSocket).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient, type Client as WsClient } from "graphql-ws";
import { OperationTypeNode } from "graphql";
import possibleTypes from "./gql/possible-types.js";

export const ACCEPT = "application/graphql-response+json, application/json;q=0.9";

export interface PlanApiOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:8000/graphql`. */
  url: string;
  /** An API token (`planapi tokens create`) or an OIDC access token; none: anonymous. */
  token?: string | undefined;
  /** A WebSocket implementation where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
}

export function websocketUrl(url: string): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
  return parsed.toString();
}

export function authorization(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export function createWsClient(options: PlanApiOptions): WsClient {
  return createClient({
    url: websocketUrl(options.url),
    connectionParams: () => authorization(options.token),
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    lazy: true,
    retryAttempts: 5,
  });
}

export function createApolloClient(options: PlanApiOptions): {
  client: ApolloClient;
  ws: WsClient;
} {
  const http = new HttpLink({
    uri: options.url,
    headers: { accept: ACCEPT, ...authorization(options.token) },
  });
  const ws = createWsClient(options);
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return (
        definition.kind === "OperationDefinition" &&
        definition.operation === OperationTypeNode.SUBSCRIPTION
      );
    },
    new GraphQLWsLink(ws),
    http,
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }) }), ws };
}
