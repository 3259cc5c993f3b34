"""The backend assumes a GUI: its "click the Export button" becomes an action the app takes.

`translate_gui` reads the answer sentence by sentence and returns the actions (in order, each
once) with a note saying what the app does about them:

- `export`: its Export button (导出): run the export
- `status`: "open the X panel" (打开), "preview in the timeline", a button with no match here:
  read the timeline back and show it
- `credits`, `undo`: its Credits and Undo buttons (an Undo offered "if you…" is only named);
  "check your account / billing" (查看账户) is the credits too
- `say:<words>`: a drag and drop edit (拖拽), sent to the assistant as words
- `upload`: "drag your photo here": which file is the person's choice, so only how to upload

A sentence that says not to ("don't click Export yet", 不要) is not acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT = re.compile(r"\b(don'?t|do not|never|no need to|needn'?t)\b|不要|别|无需|不用|不必", re.I)
_IF = re.compile(r"\bif\b|\bunless\b|如果|要是|若", re.I)
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")

_EXPORT = re.compile(
    r"\b(click|press|tap|hit|use)\s+(on\s+)?(the\s+)?[\[\"'“]?(export|download|render)\b"
    r"|\b(export|download|render)[\]\"'”]?\s+button"
    # 导出 alone is also the word a person types ("可以说“导出”", the local engine's own
    # reply): only a button pressed is the GUI's.
    r"|(点击|单击|点一下|按下?)\s*[\[“「\"']?\s*(导出|下载)|(导出|下载)[\]”」\"']?\s*按钮",
    re.I,
)
_PREVIEW = re.compile(r"\bpreview\b.{0,30}\btimeline\b|预览", re.I)
_PANEL = re.compile(
    r"\b(click|open|go to|check)\s+(on\s+)?(the\s+)?[\[\"'“]?([\w ]{1,30}?)[\]\"'”]?\s+"
    r"(panel|tab|sidebar|pane)\b|打开.{0,8}(面板|窗口|标签)",
    re.I,
)
# "check your account / billing" (查看账户、余额): its account pages are the credits here.
_ACCOUNT = re.compile(
    r"\b(check|see|view|visit|go to|look at)\b.{0,30}\b(account|billing|dashboard)\b"
    r"|(查看|检查|前往).{0,10}(账户|账号|计费|余额)",
    re.I,
)
_CLAUSE = re.compile(r",?\s+(?:then|and then|after that)\s+|[;；]|，(?:然后|再)", re.I)
_DRAG = re.compile(r"\bdrag(ging)?\b|\bdrop\b|拖拽|拖动|拖到|拖入", re.I)
# A drag of the person's own files is an upload; any other drag is an edit of the timeline.
_FILES = re.compile(
    r"\b(your|a|the)\s+(own\s+)?(photos?|images?|pictures?|files?|videos?|media|footage)\b"
    r"|\bupload|图片|照片|文件|视频素材|素材|上传",
    re.I,
)
_CLICK = re.compile(
    r"\b(click|press|tap|hit)\s+(on\s+)?(the\s+)?[\[\"'“]?([\w-]+)|点击\s*[\[“「]?(\w{1,4})",
    re.I,
)
_BUTTONS = {
    "credits": "credits",
    "balance": "credits",
    "积分": "credits",
    "余额": "credits",
    "undo": "undo",
    "撤销": "undo",
    "撤回": "undo",
    "upload": "upload",
    "上传": "upload",
}

_SAID = {
    "export": "its Export button: exporting here (/export)",
    "status": "its panels and preview are the Tracks pane: reading the timeline back (/status)",
    "credits": "its Credits button: reading the credits (/credits)",
    "undo": "its Undo button: undoing (/undo)",
    "upload": "to add a file here, press Enter on it in Files, or type /upload PATH",
}


# The same notes for an answer in Chinese: a Chinese reply gets no English line after it.
_SAID_ZH = {
    "export": "它说的“导出”按钮：已在这里导出（/export）",
    "status": "它说的面板和预览就是这里的 Tracks 面板：已读回时间线（/status）",
    "credits": "它说的“积分”按钮：已读取积分（/credits）",
    "undo": "它说的“撤销”按钮：已撤销（/undo）",
    "upload": "在这里添加文件：在 Files 中对文件按 Enter，或输入 /upload 路径",
}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Translation:
    actions: list[str]
    note: str


def _as_words(sentence: str) -> str:
    """A drag and drop edit said as words: "move the title to the top"."""
    s = re.sub(r"\b(drag(ging)?\s+(and|&|n)\s+drop(ping)?|drag(ging)?)\b", "move", sentence)
    s = re.sub(r"\bDrag\b", "Move", s)
    s = re.sub(r"拖拽|拖动|拖", "移动", s)
    s = re.sub(r"^\s*(simply|just|then|now|you can|please|请|可以)\s*,?\s*", "", s, flags=re.I)
    s = s.strip().rstrip(".。!！")
    return s[:1].upper() + s[1:]


def _sentence_actions(sentence: str) -> list[str]:
    if _NOT.search(sentence):
        return []
    found: list[str] = []
    if _EXPORT.search(sentence):
        found.append("export")
    if _DRAG.search(sentence):
        if _FILES.search(sentence):
            found.append("upload")
        else:  # only its own clause: "drag the title up, then open X" sends "move the title up"
            clauses = _CLAUSE.split(sentence)
            found.append("say:" + _as_words(next(c for c in clauses if _DRAG.search(c))))
    if (m := _PANEL.search(sentence)) is not None:
        name = (m.group(4) or "").lower()
        found.append("credits" if name in ("credits", "credit", "balance") else "status")
    if _PREVIEW.search(sentence):
        found.append("status")
    if _ACCOUNT.search(sentence) and "credits" not in found:
        found.append("credits")
    if not found:
        for m in _CLICK.finditer(sentence):
            button = (m.group(4) or m.group(5) or "").lower()
            found.append(_BUTTONS.get(button, "status"))
        if not found and re.search(r"点击|打开", sentence):
            found.append("status")
    if "undo" in found and _IF.search(sentence):
        # Offered ("if you don't like it, click Undo"): named, never done for the person.
        found = [a for a in found if a != "undo"] + ["undo?"]
    return found


def translate_gui(text: str) -> Translation:
    actions: list[str] = []
    offered_undo = False
    for sentence in _SENTENCE.findall(text):
        for action in _sentence_actions(sentence):
            if action == "undo?":
                offered_undo = True
            elif action not in actions:
                actions.append(action)
    # Edits first, the export last: the clip has what the assistant asked to be moved.
    actions.sort(key=lambda a: 0 if a.startswith("say:") else 2 if a == "export" else 1)
    zh = bool(_HAN.search(text))  # the note in the answer's language
    said = []
    for action in actions:
        if action.startswith("say:"):
            words = action[4:]
            said.append(
                f"它说的拖拽，已作为文字发送：“{words}”"
                if zh
                else f'its drag and drop, sent as words: "{words}"'
            )
        else:
            said.append((_SAID_ZH if zh else _SAID)[action])
    if offered_undo and "undo" not in actions:
        said.append("它说的“撤销”按钮在这里是 /undo" if zh else "its Undo button is /undo here")
    if zh:
        return Translation(actions, "；".join(said) + "。" if said else "")
    note = ("; ".join(said) + ".") if said else ""
    return Translation(actions, note[:1].upper() + note[1:])
