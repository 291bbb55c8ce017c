"""The API in three rooms and the schema that joins them: `types` (the GraphQL types and their
resolvers), `runtime` (the GraphQL runtime around strawberry: transport, cache, limits, guards,
execution), `routes` (plain HTTP routes); `schema` assembles the types and the runtime."""
