"""The plan domain: plain Python, no framework, no I/O."""
