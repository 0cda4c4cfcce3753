"""How text a user typed (or a file brought in) is shown among the app's own text.

Three things go wrong when such text reaches a widget as it is:
- markup: a QLabel, a message box or a tooltip in Qt's default format renders `<b>`,
  `<font size=7>` or `<img src="file:///...">` (and loads that local file); so every label that
  shows user data is plain text (`plain_label`, `plain`), message boxes are built plain
  (`ask`, `tell`) and tooltips are escaped (`plain_tooltip`);
- bidi spill: an unterminated right-to-left override (U+202E) or plain right-to-left letters
  reorder the app's words and numbers after them ("ceD 60 · yadhtriB"); user text embedded
  in a sentence of ours is isolated (`embed`: U+2068 FSI ... U+2069 PDI);
- long unbroken runs (a 200-character name, a 2,000-character URL) give a word-wrapping label
  a minimum width of the whole run, so dialogs and panels grow past the screen; `breakable`
  gives such runs zero-width break opportunities, for display only.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

logger = logging.getLogger(__name__)

ZWSP = "\u200b"
FSI, PDI = "\u2068", "\u2069"
ISOLATE_OPENERS = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
# A run without a break opportunity longer than LONG_RUN (ordinary words and most emails are
# shorter, and never touched) gets one every BREAK_EVERY characters: six wide bold letters of
# a heading still fit the narrow profile panel (sixteen needed 353 px of its 287).
LONG_RUN = 28
BREAK_EVERY = 6
# Characters that make a text need isolation: right-to-left letters and the explicit
# embedding, override and isolate controls.
_RTL_CLASSES = frozenset({"R", "AL", "RLE", "LRE", "RLO", "LRO", "PDF", "RLI", "LRI", "FSI",
                          "PDI"})


def needs_isolation(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in text)


def embed(text: str) -> str:
    """`text` isolated from the sentence around it, when it could reorder that sentence.

    Within an isolate, PDI closes every embedding and override the text left open; isolates
    the text itself left open are closed first, so our PDI closes our FSI. Plain left-to-right
    text comes back as it is.
    """
    if not needs_isolation(text):
        return text
    open_isolates = 0
    for ch in text:
        if ch in ISOLATE_OPENERS:
            open_isolates += 1
        elif ch == PDI and open_isolates:
            open_isolates -= 1
    return FSI + text + PDI * open_isolates + PDI


def _joins(before: str, after: str) -> bool:
    """True where a break would split a character: a combining mark, a joiner, a selector."""
    return (
        unicodedata.combining(after) != 0
        or unicodedata.category(after) in ("Mn", "Me", "Cf", "Sk")
        or before == "\u200d"
        or "\ufe00" <= after <= "\ufe0f"
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin-tone modifiers
    )


def _cut(run: str) -> str:
    out: list[str] = []
    since_break = 0
    previous = ""
    for ch in run:
        if ch == ZWSP:
            since_break = 0
        elif since_break >= BREAK_EVERY and not _joins(previous, ch):
            out.append(ZWSP)
            since_break = 0
        since_break += 1
        out.append(ch)
        previous = ch
    return "".join(out)


_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")


def breakable(text: str) -> str:
    """`text` with a zero-width space every few characters inside very long unbroken runs,
    so a word-wrapping widget can wrap it anywhere; ordinary text comes back unchanged."""
    if len(text) <= LONG_RUN:
        return text
    return _LONG_RUN.sub(lambda match: _cut(match.group()), text)


HEADLINE_LIMIT = 80  # characters of user text in a heading; the rest is in its tooltip


def clipped(text: str, limit: int = HEADLINE_LIMIT) -> str:
    """`text` cut to about `limit` characters with an ellipsis, never inside a character
    made of several code points (a base letter and its marks)."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and _joins(text[cut - 1], text[cut]):
        cut -= 1
    return text[:cut] + "…"


def headline(text: str) -> str:
    """User text in a heading (large type, in a sentence of ours): a very long name is cut
    (a 200-character name would fill the dialog), wraps anywhere, and is isolated."""
    return embed(breakable(clipped(text)))


def shown(text: str) -> str:
    """User text on its own (a label of its own): breakable."""
    return breakable(text)


def embedded(text: str) -> str:
    """User text inside a sentence of the app's: breakable and isolated."""
    return embed(breakable(text))


def plain(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "", object_name: str = "", wrap: bool = True,
                selectable: bool = False) -> QLabel:
    """A label that never renders markup and wraps its (user) text."""
    label = plain(QLabel(text))
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        label.setObjectName(object_name)
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip that shows `text` literally (Qt renders a tooltip that looks like HTML)."""
    if "<" not in text and "&" not in text:
        return text
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


def message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
                buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
                default: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton,
                ) -> QMessageBox:
    """A message box whose text is plain (QMessageBox's static functions render markup)."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    fit_to_screen(box)
    return box


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """Yes/No (No by default) as a plain-text message box; True for Yes."""
    box = message_box(parent, QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                      QMessageBox.StandardButton.No)
    box.exec()
    answer = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
    box.deleteLater()
    return answer


def tell(parent: QWidget | None, title: str, text: str,
         icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> None:
    box = message_box(parent, icon, title, text)
    box.exec()
    box.deleteLater()


def fit_to_screen(widget: QWidget) -> None:
    """Keep a window no larger than the available area of its screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    widget.setMaximumSize(area.width(), area.height())
