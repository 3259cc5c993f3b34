"""Our event-stream reader against httpx-sse's (through its public API) as the outside judge:
the same events from any stream, however the network cuts it into chunks."""

from __future__ import annotations

import itertools

import httpx
from httpx_sse import EventSource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.client.sse import EventReader, LineSplitter
from tui.client.turn import _sse_line
from tui.core.protocol import Heartbeat, TextChunk


def ours(chunks: list[str]) -> list[str]:
    lines, reader, out = LineSplitter(), EventReader(), []
    for chunk in chunks:
        for line in lines.feed(chunk):
            if (data := reader.line(line)) is not None:
                out.append(data)
    for line in [*lines.flush(), ""]:
        if (data := reader.line(line)) is not None:
            out.append(data)
    return out


def theirs(stream: str) -> list[str]:
    resp = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=stream.encode()
    )
    return [sse.data for sse in EventSource(resp).iter_sse()]


def cut(text: str, points: list[int]) -> list[str]:
    points = sorted({p % (len(text) + 1) for p in points})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


field_line = st.one_of(
    st.builds(lambda v: f"data: {v}", st.text(st.characters(exclude_characters="\r\n"))),
    st.builds(lambda v: f"data:{v}", st.text("ab :{}", max_size=5)),
    st.builds(lambda v: f"event: {v}", st.sampled_from(["message", "ping", ""])),
    st.builds(lambda v: f": {v}", st.text("ping ", max_size=5)),
    st.just("id: 7"),
    st.just("retry: 100"),
    st.just(""),
)


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],  # a loaded CI machine is not a failure
)
@given(
    st.lists(field_line, max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.integers(0, 10_000), max_size=6),
)
def test_same_events_as_httpx_sse_however_the_stream_is_cut(lines, eol, points):
    stream = "".join(line + eol for line in lines) + eol
    # Events with data only: httpx-sse also dispatches blocks of just `id:`/`retry:` (with empty
    # data), which the standard does not; to a turn both would be heartbeats.
    assert [d for d in ours(cut(stream, points)) if d] == [d for d in theirs(stream) if d]


def test_a_crlf_split_between_chunks_is_one_line_end():
    # "data: a" CR | (empty chunk) | LF "data: b" CRLF CRLF: one event of two lines.
    assert ours(["data: a\r", "", "\ndata: b\r\n\r\n"]) == ["a\nb"]


def test_comments_are_heartbeats_and_data_becomes_events():
    reader = EventReader()
    assert _sse_line(reader, ": ping") == [Heartbeat()]
    assert _sse_line(reader, 'data: {"type": "text", "content": "Hi", "partial": true}') == []
    assert _sse_line(reader, "") == [TextChunk("Hi")]
