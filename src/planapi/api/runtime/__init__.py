"""The GraphQL runtime around strawberry: GraphQL over HTTP with its response cache, persisted
queries and batches, and what every operation passes before and while it runs (NUL refusal,
shape, parsing off the loop, cached validation, root-field guards, the cost budget, compiled
execution, fast input decoding, answers for a database out of reach)."""
