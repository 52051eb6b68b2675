"""What arrives from Teams is untrusted: its text and card data are cleaned once, on the way in.

Teams' JSON can carry characters no one means to type (NUL, escape sequences, a vertical tab pasted
from a document, lone surrogates). XML-RPC cannot carry them at all (XML 1.0), PostgreSQL refuses
NUL, and a lone surrogate cannot even be encoded for Redis, so a note containing one would fail
half-way through a command. `cleaned` drops them as a turn enters the bot (`TicketBot.on_turn`),
before anything reads it; tabs and line breaks are kept (Windows line ends become `\n`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.edge import MAX_DEPTH
from bot.turn import Incoming

# Everything outside XML 1.0's Char production (control characters but tab and line feed,
# surrogates, U+FFFE and U+FFFF); carriage returns are turned into line feeds first.
_NOT_TEXT = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str) -> str:
    return _NOT_TEXT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_data(value: Any, *, depth: int = 0) -> Any:
    """Card data (Action.Submit / Action.Execute): every string in it cleaned, keys included. The edge refused
    anything nested deeper than MAX_DEPTH (bot.edge); deeper still raises ValueError here, never RecursionError."""
    if depth > MAX_DEPTH:
        raise ValueError(f"card data nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_data(item, depth=depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_data(item, depth=depth + 1) for item in value]
    return value


def cleaned(incoming: Incoming) -> Incoming:
    """The turn with its typed text, card data, verb, sender's name and quoted message cleaned."""
    quoted = incoming.quoted
    if quoted is not None:
        quoted = replace(quoted, text=clean_text(quoted.text), link=clean_text(quoted.link),
                         author=replace(quoted.author, name=clean_text(quoted.author.name)))
    return replace(incoming, text=clean_text(incoming.text), value=clean_data(incoming.value),
                   verb=clean_text(incoming.verb), sender=replace(incoming.sender,
                                                                  name=clean_text(incoming.sender.name)),
                   quoted=quoted)
