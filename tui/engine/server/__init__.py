"""The embedded engine's HTTP service: the cloud protocol on loopback (Starlette + uvicorn).

Every answer but the event stream and the MP4 is the engine envelope `{"code", "message", "data"}`
with a fitting HTTP status; a request the engine cannot use gets a 4xx that says what is wrong,
never a bare 500.

Where things are:

- `engine.py`: the Engine (state, the route table, start-up and shutdown)
- `serve.py`: `serve()`, the socket and uvicorn around an Engine
- `guard.py`: what every request passes (Host check, bearer token, error envelope)
- `ratelimit.py`, `envelope.py`, `sse.py`: requests per second; the envelope and JSON bodies;
  event-stream frames and heartbeats
- `drafts.py`: which timelines the engine renders, and their price
- `routes/`: the endpoints, one module per family (tokens, sessions and state, upload, the agent
  turn, credits, render and download)
"""

from tui.engine.server.drafts import MAX_SECONDS
from tui.engine.server.engine import WARM_AFTER, Engine
from tui.engine.server.envelope import BAD, JSON_LIMIT, ApiFailure
from tui.engine.server.ratelimit import RATE_PER_SECOND
from tui.engine.server.routes.render import MAX_ACTIVE_RENDERS
from tui.engine.server.routes.turn import MAX_TEXT
from tui.engine.server.routes.upload import MAX_FILES
from tui.engine.server.serve import serve
from tui.engine.server.sse import HEARTBEAT_SECONDS

__all__ = [
    "BAD",
    "HEARTBEAT_SECONDS",
    "JSON_LIMIT",
    "MAX_ACTIVE_RENDERS",
    "MAX_FILES",
    "MAX_SECONDS",
    "MAX_TEXT",
    "RATE_PER_SECOND",
    "WARM_AFTER",
    "ApiFailure",
    "Engine",
    "serve",
]
