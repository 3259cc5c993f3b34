"""`i2v-flow completion bash|zsh|fish`: a completion script made from the command's own parsers,
so it never falls behind a flag, and needs nothing installed.

It completes the commands, each command's flags, a flag's choices (`--quality d` → draft),
folders where a folder is wanted (`watch`, `--out DIR`) and files elsewhere; zsh and fish also
show each command's and flag's description.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FUNC = "_i2v_flow"
SHELLS = ("bash", "zsh", "fish")


def script(parsers: dict[str, argparse.ArgumentParser], shell: str = "bash") -> str:
    """`parsers`: the command name ("" for the app itself) to its parser."""
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](parsers)


def _bash(parsers: dict[str, argparse.ArgumentParser]) -> str:
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


def _visible(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.help != argparse.SUPPRESS]


def _about(action: argparse.Action | argparse.ArgumentParser) -> str:
    """A short description: the help's first clause, without its %(default)s parts."""
    text = action.description if isinstance(action, argparse.ArgumentParser) else action.help
    text = " ".join(str(text or "").split())
    for cut in (" (", "; ", ". "):
        text = text.split(cut, 1)[0]
    if len(text) > 60:
        text = text[:58].rsplit(" ", 1)[0].rstrip(",:") + "…"
    return text.rstrip(".") if "%(" not in text else ""


# ---- zsh -------------------------------------------------------------------------------------


def _zq(text: str) -> str:
    """Single-quoted for zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_action(kind: str) -> str:
    if kind.startswith("words:"):
        return "(" + kind.removeprefix("words:") + ")"
    return {"dirs": "_files -/", "files": "_files"}.get(kind, " ")


def _zsh_specs(parser: argparse.ArgumentParser, positionals: bool = True) -> list[str]:
    """`_arguments` specs for a parser's flags (and arguments, with `positionals`)."""
    specs: list[str] = []
    for action in _visible(parser):
        about = _about(action).replace("[", "(").replace("]", ")")
        if not action.option_strings:
            if not positionals:
                continue
            what = str(action.metavar or action.dest).lower().replace(":", "")
            times = "*" if action.nargs in ("+", "*") else ""
            spec = f"{times}:{what}:{_zsh_action(_kind(action))}"
            specs.append(_zq(spec))
            continue
        names = action.option_strings
        value = ""
        if action.nargs != 0:
            what = str(action.metavar or action.dest).lower().replace(":", "")
            value = f":{what}:{_zsh_action(_kind(action))}"
        excl = f"({' '.join(names)})" if len(names) > 1 else ""
        if len(names) > 1:
            specs.append(_zq(excl) + "{" + ",".join(names) + "}" + _zq(f"[{about}]{value}"))
        else:
            specs.append(_zq(f"{names[0]}[{about}]{value}"))
    return specs


def _zsh(parsers: dict[str, argparse.ArgumentParser]) -> str:
    commands = [c for c in parsers if c]
    described = " ".join(_zq(f"{c}:{_about(parsers[c]).replace(':', '')}") for c in commands)
    cases: list[str] = []
    for name, parser in parsers.items():
        if not name:
            continue
        specs = " \\\n            ".join(_zsh_specs(parser))
        cases.append(f"        ({name})\n            _arguments -s : \\\n            {specs} ;;")
    top = " \\\n        ".join(_zsh_specs(parsers[""], positionals=False))
    lines = [
        "#compdef i2v-flow",
        '# i2v-flow completion for zsh: eval "$(i2v-flow completion zsh)" in ~/.zshrc (after',
        "# compinit), or save it as _i2v-flow in a folder of $fpath",
        f"{FUNC}() {{",
        "    local cmd='' i",
        "    for ((i = 2; i < CURRENT; i++)); do",
        f'        case "${{words[i]}}" in ({"|".join(commands)})',
        '            cmd="${words[i]}"; break ;;',
        "        esac",
        "    done",
        '    if [[ -z "$cmd" ]]; then',
        f"        local -a commands=({described})",
        "        _arguments -s : \\",
        f"        {top} \\",
        "            '1: :->first' && return",
        "        _describe -t commands command commands",
        "        _files -/",
        "        return",
        "    fi",
        "    shift $((i - 1)) words",
        "    (( CURRENT -= i - 1 ))",
        '    case "$cmd" in',
        *cases,
        "    esac",
        "}",
        f'if [[ "${{funcstack[1]}}" == _i2v-flow ]]; then {FUNC} "$@"; '
        f"else compdef {FUNC} i2v-flow; fi",
        "",
    ]
    return "\n".join(lines)


# ---- fish ------------------------------------------------------------------------------------


def _fq(text: str) -> str:
    """Single-quoted for fish."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_value(kind: str) -> str:
    if kind.startswith("words:"):
        return f" -x -a {_fq(kind.removeprefix('words:'))}"
    if kind == "dirs":
        return " -x -a '(__fish_complete_directories)'"
    if kind == "files":
        return " -r -F"
    return " -x"


def _fish(parsers: dict[str, argparse.ArgumentParser]) -> str:
    commands = [c for c in parsers if c]
    fn = "__i2v_flow_command_is"
    lines = [
        "# i2v-flow completion for fish: i2v-flow completion fish > "
        "~/.config/fish/completions/i2v-flow.fish",
        f"function {fn}  # the command typed so far (none: '') is $argv[1]",
        "    set -l found ''",
        "    for t in (commandline -opc)[2..-1]",
        f"        if contains -- $t {' '.join(commands)}",
        "            set found $t",
        "            break",
        "        end",
        "    end",
        '    test "$found" = "$argv[1]"',
        "end",
        "complete -c i2v-flow -f",
    ]
    for c in commands:
        lines.append(f"complete -c i2v-flow -n '{fn} \"\"' -a {c} -d {_fq(_about(parsers[c]))}")
    for name, parser in parsers.items():
        cond = f"-n '{fn} {name or chr(34) * 2}'"
        for action in _visible(parser):
            kind = _kind(action)
            if not action.option_strings:
                if kind == "dirs":
                    lines.append(f"complete -c i2v-flow {cond} -a '(__fish_complete_directories)'")
                elif kind == "files":
                    lines.append(f"complete -c i2v-flow {cond} -F")
                elif kind.startswith("words:"):
                    words = _fq(kind.removeprefix("words:"))
                    lines.append(f"complete -c i2v-flow {cond} -a {words}")
                continue
            names = ""
            for o in action.option_strings:
                names += f" -l {o[2:]}" if o.startswith("--") else f" -s {o[1:]}"
            value = "" if action.nargs == 0 else _fish_value(kind)
            about = _about(action)
            desc = f" -d {_fq(about)}" if about else ""
            lines.append(f"complete -c i2v-flow {cond}{names}{value}{desc}")
    return "\n".join(lines) + "\n"
