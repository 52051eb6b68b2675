"""Writes the app's texts into the Teams manifest template and its localization files, from the bot itself.

    .venv/bin/python manifest/write_texts.py

The name, the descriptions, the command menu and the message actions are the bot's (`bot/teams_app.py`: the
menu's descriptions are the commands' help summaries), translated by the bot's catalogue
(`bot/locales/<language>/`). This writes them into `manifest.template.json` (English, with `localizationInfo`
naming one file per other language the bot speaks) and `<language>.json` beside it, keyed as Microsoft's
localization schema keys them (`bots[0].commandLists[1].commands[3].description`). Run it after changing a
command's summary or its translation; tests/test_manifest.py fails while the committed files differ from what it
writes.

It needs the bot's packages (the venv); `build.py` then packages the files with the standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.bot import build_router  # noqa: E402
from bot.i18n import ENGLISH, shipped  # noqa: E402
from bot.teams_app import MENU, MESSAGE_ACTIONS, listing, menu_title  # noqa: E402

TEMPLATE = HERE / "manifest.template.json"
DEFAULT_LANGUAGE_TAG = "en-us"
LOCALIZATION_SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.Localization.schema.json"
NAMES = ("name.short", "name.full", "description.short", "description.full")


def texts(language: str) -> dict[str, str]:
    return listing(build_router().commands, language)


def english_manifest(template: dict[str, Any], english: dict[str, str], languages: list[str]) -> dict[str, Any]:
    """The template with the English texts, every command list holding the menu, and one localization file
    per other language."""
    manifest = dict(template)
    manifest["name"] = {"short": english["name.short"], "full": english["name.full"]}
    manifest["description"] = {"short": english["description.short"], "full": english["description.full"]}
    bot = manifest["bots"][0]
    bot["commandLists"] = [{**entry, "commands": [{"title": menu_title(name), "description": english[f"menu.{name}"]}
                                                  for name in MENU]} for entry in bot["commandLists"]]
    manifest["composeExtensions"] = [{"botId": bot["botId"], "commands": [
        {"id": action, "type": "action", "title": english[f"action.{action}.title"],
         "description": english[f"action.{action}.description"], "context": ["message"], "fetchTask": True}
        for action in MESSAGE_ACTIONS]}]
    manifest["localizationInfo"] = {
        "defaultLanguageTag": DEFAULT_LANGUAGE_TAG,
        "additionalLanguages": [{"languageTag": language, "file": f"{language}.json"} for language in languages],
    }
    return manifest


def localization(manifest: dict[str, Any], said: dict[str, str]) -> dict[str, Any]:
    """One language's file: the name, the descriptions and each command list's menu, in that language."""
    found: dict[str, Any] = {"$schema": LOCALIZATION_SCHEMA.format(version=manifest["manifestVersion"])}
    found |= {key: said[key] for key in NAMES}
    for index, entry in enumerate(manifest["bots"][0]["commandLists"]):
        for position, command in enumerate(entry["commands"]):
            name = command["title"].removeprefix(menu_title(""))
            found[f"bots[0].commandLists[{index}].commands[{position}].description"] = said[f"menu.{name}"]
    for position, command in enumerate(manifest["composeExtensions"][0]["commands"]):
        for text in ("title", "description"):
            found[f"composeExtensions[0].commands[{position}].{text}"] = said[f"action.{command['id']}.{text}"]
    return found


def files(template: dict[str, Any]) -> dict[str, str]:
    """File name -> content, for the template and each localization file."""
    languages = [language for language in shipped() if language != ENGLISH]
    manifest = english_manifest(template, texts(ENGLISH), languages)
    written = {TEMPLATE.name: manifest}
    written |= {f"{language}.json": localization(manifest, texts(language)) for language in languages}
    return {name: json.dumps(content, indent=2, ensure_ascii=False) + "\n" for name, content in written.items()}


def main() -> int:
    for name, content in files(json.loads(TEMPLATE.read_text(encoding="utf-8"))).items():
        (HERE / name).write_text(content, encoding="utf-8")
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
