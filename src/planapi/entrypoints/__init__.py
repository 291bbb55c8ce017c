"""Ways in: the ASGI app and the `planapi` command line."""
