"""The session layer: one backend, one client, the token and the session, under every face.

The app (tui/app/), `i2v-flow render` and `i2v-flow watch` (and the app's watch mode) stand on
it; it knows no Textual, no pane and no engine internals (pyproject.toml's contract):

- `backend.py`: `Backend`: the backend's choice (embedded engine, cloud URL, `--api cloud`), the
  embedded engine's process, the one `httpx.AsyncClient` (the `Client` and its siblings), the
  token and the session; uploads, turns, renders and reads, with typed results
- `actions.py`: what changes a session, as typed actions (an upload, words to the agent, a new
  session, an export, a batch), and `action_for`, the router's words made into one
- `results.py`: what comes back: `Connected`, `SessionRef`, `Credits`, `Uploaded`

Nothing is imported here: the app imports `backend.py` alone before its first screen (and before
it launches the engine), the rest when first used; the client (and httpx) load on the first call
that needs them.
"""
