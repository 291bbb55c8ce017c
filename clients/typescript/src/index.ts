export { createApolloClient, createWsClient, websocketUrl, ACCEPT } from "./apollo.js";
export type { PlanApiOptions } from "./apollo.js";
export { createUrqlClient } from "./urql.js";
export * from "./gql/graphql.js";
