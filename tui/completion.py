"""`i2v-flow completion bash`: a bash completion script made from the command's own parsers, so
it never falls behind a flag, and needs nothing installed.

It completes the commands, each command's flags, a flag's choices (`--quality d` → draft),
folders where a folder is wanted (`watch`, `--out DIR`) and files elsewhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FUNC = "_i2v_flow"


def script(parsers: dict[str, argparse.ArgumentParser]) -> str:
    """`parsers`: the command name ("" for the app itself) to its parser."""
    commands = " ".join(name for name in parsers if name)
    cases_opts: list[str] = []
    cases_values: list[str] = []
    cases_args: list[str] = []
    for name, parser in parsers.items():
        opts: list[str] = []
        for action in parser._actions:  # argparse's own record of every argument
            if action.help == argparse.SUPPRESS:
                continue
            if not action.option_strings:
                kind = _kind(action)
                words = f" {commands}" if not name else ""
                cases_args.append(f'        "{name}") {_compgen(kind, words)} ;;')
                continue
            opts += action.option_strings
            if action.nargs == 0:
                continue
            pattern = "|".join(f'"{name}:{o}"' for o in action.option_strings)
            cases_values.append(f"        {pattern}) {_compgen(_kind(action))} return ;;")
        if not name:
            opts += [c for c in parsers if c]
        cases_opts.append(f'        "{name}") opts="{" ".join(opts)}" ;;')
    lines = [
        '# i2v-flow completion for bash: eval "$(i2v-flow completion bash)" in ~/.bashrc',
        f"{FUNC}_paths() {{  # one name a line: a name with spaces stays one reply",
        "    local IFS=$'\\n'",
        '    COMPREPLY+=($(compgen "$1" -- "$cur"))',
        "}",
        f"{FUNC}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" opts="" i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        f'        case "${{COMP_WORDS[i]}}" in {"|".join(c for c in parsers if c)})',
        '            cmd="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$cmd:$prev" in',
        *cases_values,
        "    esac",
        '    case "$cmd" in',
        *cases_opts,
        "    esac",
        '    if [[ "$cur" == -* ]]; then',
        '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$cmd" in',
        *cases_args,
        "    esac",
        "}",
        f"complete -o filenames -F {FUNC} i2v-flow",
        "",
    ]
    return "\n".join(lines)


def _kind(action: argparse.Action) -> str:
    """What a value is: its choices, a folder, a file, or free text (nothing to offer)."""
    if action.choices:
        return "words:" + " ".join(str(c) for c in action.choices)
    metavar = str(action.metavar or action.dest).upper()
    if "DIR" in metavar or action.dest in ("folder", "data"):
        return "dirs"
    if action.type is Path or action.dest == "images":
        return "files"
    return "text"


def _compgen(kind: str, extra: str = "") -> str:
    if kind.startswith("words:"):
        words = kind.removeprefix("words:") + extra
        return f'COMPREPLY=($(compgen -W "{words}" -- "$cur"));'
    if kind in ("dirs", "files"):
        more = f' COMPREPLY+=($(compgen -W "{extra.strip()}" -- "$cur"));' if extra else ""
        return f"COMPREPLY=(); {FUNC}_paths -{kind[0]};{more}"
    return "COMPREPLY=();"
