"""The schema's types and their resolvers: plans, nodes, amendments, readings, the event feed,
the Merkle logs' fields, subscriptions, refetching by global id, inputs, typed errors, scalars,
and the context every resolver reaches (assembled into a schema by `api.schema`)."""
