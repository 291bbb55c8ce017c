"""Use cases: commands in, events out, through the ports the adapters implement."""
