"""Plain HTTP routes beside GraphQL: bulk ingest of readings, plan documents and diffs, the
event feed as NDJSON, and the Merkle logs' checkpoints and proofs."""
