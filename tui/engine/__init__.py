"""The embedded local engine: HTTP server, deterministic agent and CPU renderer.

Nothing under this package imports textual: the engine runs in its own process.
"""
