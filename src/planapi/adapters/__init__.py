"""Adapters: storage and other outside concerns, implementing the application's ports."""
