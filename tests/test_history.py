"""tui/app/history.py: each session's conversation kept per backend, in order, damage skipped."""

from __future__ import annotations

from pathlib import Path

from tui.app.history import Entry, History


def test_entries_come_back_in_order_per_backend_and_session(tmp_path: Path) -> None:
    local = History(tmp_path, "local")
    cloud = History(tmp_path, "https://mega-api-prod.nemovideo.ai")
    for i in range(50):
        local.append("12", Entry("user", f"message {i}"))
    local.append("12", Entry("tool", "set_title", args={"text": "春季促销"}))
    local.append("13", Entry("error", "out of credits", hint="top up"))
    cloud.append("12", Entry("assistant", "**Done**"))
    local.close()
    cloud.close()
    got = History(tmp_path, "local").load("12")
    assert [e.text for e in got[:50]] == [f"message {i}" for i in range(50)]
    assert got[-1] == Entry("tool", "set_title", args={"text": "春季促销"})
    assert History(tmp_path, "local").load("13") == [Entry("error", "out of credits", "top up")]
    assert History(tmp_path, "https://mega-api-prod.nemovideo.ai").load("12") == [
        Entry("assistant", "**Done**")
    ]
    assert History(tmp_path, "local").load("99") == []
    # Backends with the same session ids never share a file, and the names stay readable.
    assert cloud.path("12").parent != local.path("12").parent
    assert cloud.path("12").parent.name.startswith("https_mega-api-prod.nemovideo.ai-")


def test_only_the_tail_of_a_long_session_and_damaged_lines_are_skipped(tmp_path: Path) -> None:
    h = History(tmp_path, "local")
    for i in range(10):
        h.append("7", Entry("status", f"line {i}"))
    h.close()
    path = h.path("7")
    with path.open("a", encoding="utf-8") as f:
        f.write('{"kind": "user", "text": "cut by a cra')  # a crash mid-line
        f.write("\nnot json\n")
        f.write('{"kind": "unknown", "text": "from a newer version"}\n')
        f.write('{"text": "no kind"}\n')
    f2 = History(tmp_path, "local")
    f2.append("7", Entry("user", "after the damage"))
    f2.close()
    got = History(tmp_path, "local").load("7", keep=3)
    assert [e.text for e in got] == ["line 8", "line 9", "after the damage"]


def test_an_entry_after_close_is_still_kept(tmp_path: Path) -> None:
    # The app's last answer can land after the writer stopped at exit (seen on CI, Python 3.13:
    # "cannot schedule new futures after shutdown"); it is written, not lost, not raised.
    h = History(tmp_path, "local")
    h.append("7", Entry("user", "before"))
    h.close()
    h.append("7", Entry("assistant", "after the close")).result(timeout=5)
    assert [e.text for e in History(tmp_path, "local").load("7")] == ["before", "after the close"]
