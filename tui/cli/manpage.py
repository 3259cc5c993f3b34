"""`i2v-flow man`: the manual page (roff, section 1), made from the parsers' own help so it says
what `--help` says; what no parser knows (files, environment, exit status) is written here.

    i2v-flow man > i2v-flow.1 && man -l i2v-flow.1
"""

from __future__ import annotations

import argparse
import functools

WIDTH = 76

FILES = r"""
.TP
.I ~/.config/image-to-video-in-flow/config.toml
Settings (TOML): \fBprompt\fR, \fBquality\fR, \fBout\fR, \fBapi\fR, \fBpreview\fR,
\fBnotifications\fR (false: the app does not tell when an export or a watched image ends
while you look elsewhere), \fBpreview_auto\fR. Flags win over the environment, which wins over the
file, which wins over the built-in defaults. \fBi2v-flow config\fR shows each setting and
where it came from.
.TP
.I ~/.local/share/image-to-video-in-flow/
State (or \fBI2V_FLOW_HOME\fR): \fIclient.json\fR, \fIhistory/\fR, \fIwatch.db\fR, the
preview's last draft in \fIpreview/\fR and the embedded engine's \fIengine/\fR folder.
"""

ENVIRONMENT = r"""
.TP
.B I2V_FLOW_CONFIG
The settings file to read instead of the default one (it must exist).
.TP
.B I2V_FLOW_API
The backend URL, as \fB\-\-api\fR.
.TP
.B NEMO_TOKEN
The NemoVideo cloud's token; selects the cloud unless a URL is given.
.TP
.B I2V_FLOW_PREVIEW
The app's image preview: auto, pixels or blocks.
.TP
.B I2V_FLOW_HOME
Where state lives.
.TP
.B NO_COLOR
No colour in the app.
"""

EXIT_STATUS = r"""
0 on success (the app: a normal quit); 1 on a failure, with one \fBerror:\fR line on standard
error (\fBrender \-\-json\fR: also a JSON object on standard output); 2 on a usage error or a
settings file that is wrong (the line is named); 130 when interrupted.
"""


def page(parsers: dict[str, argparse.ArgumentParser], version: str) -> str:
    """`parsers`: the command name ("" for the app itself) to its parser."""
    app = parsers[""]
    for parser in parsers.values():  # the page's width, not the terminal's
        parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    out = [
        f'.TH I2V-FLOW 1 "" "i2v-flow {version}" "User Commands"',
        ".SH NAME",
        r"i2v-flow \- turn still images into short H.264 video clips",
        ".SH SYNOPSIS",
    ]
    for parser in parsers.values():
        usage = " ".join(parser.format_usage().removeprefix("usage: ").split())
        out += [".PP", _text(usage)]
    out += [".SH DESCRIPTION", _text(app.description or "")]
    for name, parser in parsers.items():
        out.append(f'.SH "{(name or "THE APP").upper()}"')
        help_text = parser.format_help().split("\n\n", 1)[1].strip("\n")  # without the usage
        out += [".nf", *(_line(line) for line in help_text.splitlines()), ".fi"]
    out += [".SH FILES", FILES.strip(), ".SH ENVIRONMENT", ENVIRONMENT.strip()]
    out += [".SH EXIT STATUS", EXIT_STATUS.strip(), ""]
    return "\n".join(out)


def _text(s: str) -> str:
    """Plain words as roff reads them: backslashes and dashes escaped, characters past ASCII
    named (groff reads bytes), and no control line."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    s = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in s)
    return "\\&" + s if s.startswith((".", "'")) else s


def _line(s: str) -> str:
    """A line of the help kept as is (in .nf), an empty one kept as a blank line."""
    return _text(s) if s.strip() else ".sp"
