"""The Teams app package: `manifest/build.py` run as a user runs it, in a temporary folder; and its texts,
which `manifest/write_texts.py` writes from the bot's help and catalogue (English and Vietnamese).

Needs Node and `manifest/node_modules` (`npm ci --prefix manifest --no-audit --no-fund`, which
`make test` runs). Independent of the shared conftest: no Redis, no Odoo.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifest"
BUILD = MANIFEST_DIR / "build.py"
VALIDATOR = MANIFEST_DIR / "validate.js"

APP_ID = "8d3c5a44-1b7e-4f0a-9c2d-3e4f5a6b7c8d"
TEAMS_APP_ID = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
ENDPOINT = "https://ticketbot.example.net/api/messages"
DOMAIN = "ticketbot.example.net"
SCOPES = ("personal", "team", "groupChat")
# Who publishes the app (the manifest's `developer`): required, and no placeholder.
DEVELOPER = {"APP_DEVELOPER_NAME": "Ticket Desk IT", "APP_WEBSITE_URL": "https://it.ticketdesk-tests.dev/",
             "APP_PRIVACY_URL": "https://it.ticketdesk-tests.dev/privacy",
             "APP_TERMS_URL": "https://it.ticketdesk-tests.dev/terms?lang=en"}
SETTINGS = {"MICROSOFT_APP_ID": APP_ID, "BOT_ENDPOINT": ENDPOINT, **DEVELOPER}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


build_module = _load("teams_manifest_build", BUILD)
draw_icons = _load("teams_manifest_draw_icons", MANIFEST_DIR / "draw_icons.py")
write_texts = _load("teams_manifest_write_texts", MANIFEST_DIR / "write_texts.py")


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    if shutil.which("node") is None or not (MANIFEST_DIR / "node_modules" / "@microsoft" / "app-manifest").is_dir():
        pytest.fail("the manifest tests need Node and manifest/node_modules: "
                    "run `npm ci --prefix manifest --no-audit --no-fund` (make test does)")


def run_build(out: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    """build.py in a clean environment: only PATH and what the test passes."""
    return subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out), *extra],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True, text=True, check=False, cwd=out.parent,
    )


def validate(manifest_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(VALIDATOR), str(manifest_file)], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "appPackage.zip"
    result = run_build(out, **SETTINGS)
    assert result.returncode == 0, result.stderr
    assert "valid against the v1.30 schema" in result.stdout
    return out


@pytest.fixture(scope="module")
def manifest(package: Path) -> dict[str, Any]:
    with zipfile.ZipFile(package) as archive:
        return json.loads(archive.read("manifest.json"))


def test_the_zip_holds_exactly_the_manifest_the_two_icons_and_the_vietnamese_at_its_root(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png", "vi.json"]
        assert archive.testzip() is None


def test_the_packaged_manifest_validates_against_the_schema(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        archive.extract("manifest.json", tmp_path)
    result = validate(tmp_path / "manifest.json")
    assert result.returncode == 0, result.stderr
    assert "v1.30" in result.stdout and "draft-04" in result.stdout


def test_the_bot_id_app_id_domain_and_version_are_filled(manifest: dict[str, Any]) -> None:
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["$schema"] == "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
    assert manifest["id"] == APP_ID  # the Teams app id defaults to the bot id
    assert manifest["version"] == build_module.project_version()
    assert manifest["validDomains"] == [DOMAIN]
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == sorted(SCOPES)
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert "${" not in json.dumps(manifest)
    assert "webApplicationInfo" not in manifest and "authorization" not in manifest


def test_a_separate_teams_app_id_and_version_can_be_given(tmp_path: Path) -> None:
    out = tmp_path / "appPackage.zip"
    result = run_build(out, **SETTINGS | {"BOT_ENDPOINT": ENDPOINT + "/"}, TEAMS_APP_ID=TEAMS_APP_ID,
                       APP_VERSION="2.3.4")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["id"], manifest["bots"][0]["botId"], manifest["version"]) == (TEAMS_APP_ID, APP_ID, "2.3.4")


def test_each_scope_has_one_command_list_within_teams_limits(manifest: dict[str, Any]) -> None:
    [bot] = manifest["bots"]
    lists = bot["commandLists"]
    assert sorted(scope for entry in lists for scope in entry["scopes"]) == sorted(SCOPES)
    for entry in lists:
        assert len(entry["scopes"]) == 1
        commands = entry["commands"]
        assert 1 <= len(commands) <= 10
        titles = [command["title"] for command in commands]
        assert len(set(titles)) == len(titles)
        for command in commands:
            assert 1 <= len(command["title"]) <= 32, command
            assert 1 <= len(command["description"]) <= 128, command
        assert {"ticket new", "ticket show", "ticket list", "ticket ack", "ticket update", "ticket resolve",
                "ticket help"} <= set(titles)
        assert not any("escalate" in title for title in titles)  # no such command yet


def test_names_and_descriptions_fit_their_limits(manifest: dict[str, Any]) -> None:
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80 and len(manifest["description"]["full"]) <= 4000


def test_the_icons_have_the_sizes_teams_needs(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path)
    color, outline = build_module.read_png(tmp_path / "color.png"), build_module.read_png(tmp_path / "outline.png")
    assert (color.width, color.height) == (192, 192)
    assert (outline.width, outline.height) == (32, 32)
    pixels = color.rgba()
    assert all(alpha == 255 for *_, alpha in pixels)  # a full-colour square, no see-through corners
    assert len({pixel[:3] for pixel in pixels}) > 2  # colours, not just black and white


def test_the_outline_icon_is_white_on_transparent(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        archive.extract("outline.png", tmp_path)
    pixels = build_module.read_png(tmp_path / "outline.png").rgba()
    assert len(pixels) == 32 * 32
    assert all((r, g, b) == (255, 255, 255) for r, g, b, _ in pixels)
    alphas = [a for *_, a in pixels]
    assert alphas[0] == alphas[31] == alphas[-32] == alphas[-1] == 0
    assert 0.2 < sum(1 for a in alphas if a == 0) / len(alphas) < 0.9  # a drawing, not a blank or a block


def test_the_committed_icons_are_what_draw_icons_draws(tmp_path: Path) -> None:
    draw_icons.main(tmp_path)
    for name in ("color.png", "outline.png"):  # pixels, not bytes: another zlib may compress differently
        drawn, committed = build_module.read_png(tmp_path / name), build_module.read_png(MANIFEST_DIR / name)
        assert drawn.rgba() == committed.rgba(), f"{name} is stale: run python manifest/draw_icons.py"


def test_building_twice_gives_the_same_bytes(package: Path, tmp_path: Path) -> None:
    again = tmp_path / "appPackage.zip"
    assert run_build(again, **SETTINGS).returncode == 0
    assert again.read_bytes() == package.read_bytes()


@pytest.mark.parametrize("app_id", [None, "", "  ", "not-a-guid", APP_ID + "0", "{" + APP_ID + "}"])
def test_a_missing_or_malformed_app_id_stops_with_one_line_naming_it(tmp_path: Path, app_id: str | None) -> None:
    env = {"BOT_ENDPOINT": ENDPOINT, **DEVELOPER} | ({} if app_id is None else {"MICROSOFT_APP_ID": app_id})
    result = run_build(tmp_path / "appPackage.zip", **env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "MICROSOFT_APP_ID" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


@pytest.mark.parametrize("endpoint", [None, "http://ticketbot.example.net/api/messages", "https:///api/messages",
                                      "https://ticketbot.example.net/", "https://u:p@ticketbot.example.net/api/messages",
                                      "https://ticketbot.example.net:99999/api/messages"])
def test_a_missing_or_wrong_endpoint_stops_with_one_line_naming_it(tmp_path: Path, endpoint: str | None) -> None:
    env = {"MICROSOFT_APP_ID": APP_ID, **DEVELOPER} | ({} if endpoint is None else {"BOT_ENDPOINT": endpoint})
    result = run_build(tmp_path / "appPackage.zip", **env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_ENDPOINT" in lines[0], result.stderr
    assert "u:p@" not in result.stderr  # a password in the URL is not echoed
    assert not (tmp_path / "appPackage.zip").exists()


def test_the_developer_name_and_urls_are_the_settings(manifest: dict[str, Any]) -> None:
    assert manifest["developer"] == {"name": "Ticket Desk IT", "websiteUrl": "https://it.ticketdesk-tests.dev/",
                                     "privacyUrl": "https://it.ticketdesk-tests.dev/privacy",
                                     "termsOfUseUrl": "https://it.ticketdesk-tests.dev/terms?lang=en"}


def _refused(tmp_path: Path, setting: str, **env: str) -> str:
    """Builds with `env`; asserts the build stopped with one line naming `setting` and how to set it, and no zip."""
    result = run_build(tmp_path / "appPackage.zip", **env)
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0] and f"export {setting}=" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()
    return lines[0]


@pytest.mark.parametrize("setting", sorted(DEVELOPER))
@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_developer_setting_stops_with_one_line_naming_it(tmp_path: Path, setting: str,
                                                                    value: str | None) -> None:
    env = {key: item for key, item in SETTINGS.items() if key != setting}
    said = _refused(tmp_path, setting, **env | ({} if value is None else {setting: value}))
    assert f"{setting} is not set" in said


@pytest.mark.parametrize(("setting", "value", "said"), [
    ("APP_WEBSITE_URL", "https://support-desk.example.com/", "support-desk.example.com is an example or test domain"),
    ("APP_PRIVACY_URL", "https://EXAMPLE.ORG/privacy", "example.org is an example or test domain"),
    ("APP_TERMS_URL", "https://www.example.net/terms", "www.example.net is an example or test domain"),
    ("APP_WEBSITE_URL", "https://helpdesk.contoso.com/", "helpdesk.contoso.com is an example or test domain"),
    ("APP_PRIVACY_URL", "https://desk.test/privacy", "desk.test is an example or test domain"),
    ("APP_TERMS_URL", "https://localhost:8443/terms", "localhost is an example or test domain"),
    ("APP_WEBSITE_URL", "http://it.ticketdesk-tests.dev/", "must be an https URL"),
    ("APP_PRIVACY_URL", "it.ticketdesk-tests.dev/privacy", "must be an https URL"),
    ("APP_TERMS_URL", "https:///terms", "must be an https URL with a host"),
    ("APP_WEBSITE_URL", "https://[::1", "is not a URL"),
    ("APP_PRIVACY_URL", "https://me:s3cret@it.ticketdesk-tests.dev/privacy", "must not carry a user name or password"),
    ("APP_DEVELOPER_NAME", "Your Company", "is a placeholder"),
    ("APP_DEVELOPER_NAME", "Example Corp", "is a placeholder"),
    ("APP_DEVELOPER_NAME", "<developer name>", "is a placeholder"),
    ("APP_DEVELOPER_NAME", "The IT Support Desk of Ticket Desk Inc", "has 38 characters, Teams allows 32"),
])
def test_a_placeholder_or_wrong_developer_setting_stops_with_one_line_naming_it(tmp_path: Path, setting: str,
                                                                                 value: str, said: str) -> None:
    line = _refused(tmp_path, setting, **SETTINGS | {setting: value})
    assert said in line, line
    assert "s3cret" not in line  # a password in the URL is not echoed


def test_the_package_settings_example_is_refused_until_filled_in(tmp_path: Path) -> None:
    """manifest/package.env.example names every developer setting, with values `make package` refuses."""
    example = dict(line.split("=", 1) for line in (MANIFEST_DIR / "package.env.example").read_text(encoding="utf-8")
                   .splitlines()
                   if line and not line.startswith("#"))
    assert set(DEVELOPER) <= set(example)
    for setting in DEVELOPER:
        _refused(tmp_path, setting, **SETTINGS | {setting: example[setting]})


def test_a_template_with_placeholder_developer_details_fails_the_build(tmp_path: Path) -> None:
    template = json.loads((MANIFEST_DIR / "manifest.template.json").read_text(encoding="utf-8"))
    template["developer"] = {"name": "Support Desk (example)", "websiteUrl": "https://support-desk.example.com/",
                             "privacyUrl": "https://support-desk.example.com/privacy",
                             "termsOfUseUrl": "${APP_TERMS_URL}"}
    placeholders = tmp_path / "manifest.template.json"
    placeholders.write_text(json.dumps(template), encoding="utf-8")
    result = run_build(tmp_path / "appPackage.zip", "--template", str(placeholders), **SETTINGS)
    assert result.returncode == 1
    for said in ("developer.websiteUrl points at a placeholder: support-desk.example.com is an example or test domain",
                 "developer.privacyUrl points at a placeholder", "developer.name is a placeholder"):
        assert said in result.stderr, result.stderr
    assert "termsOfUseUrl" not in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


def test_an_unknown_scope_fails_the_schema_validation(tmp_path: Path) -> None:
    template = json.loads((MANIFEST_DIR / "manifest.template.json").read_text(encoding="utf-8"))
    template["bots"][0]["scopes"].append("everyone")
    template["bots"][0]["commandLists"].append({"scopes": ["everyone"], "commands": [{"title": "ticket help",
                                                                                      "description": "help"}]})
    broken = tmp_path / "manifest.template.json"
    broken.write_text(json.dumps(template), encoding="utf-8")
    result = run_build(tmp_path / "appPackage.zip", "--template", str(broken), **SETTINGS)
    assert result.returncode == 1
    assert "does not match the v1.30 schema" in result.stderr
    assert "/bots/0/scopes/3" in result.stderr and '"groupChat"' in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


def test_the_validator_reports_every_schema_fault(manifest: dict[str, Any], tmp_path: Path) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["bots"][0]["isNotificationOnly"] = "no"
    broken["name"]["short"] = "x" * 31
    broken["unknownField"] = True
    del broken["developer"]["privacyUrl"]
    (tmp_path / "manifest.json").write_text(json.dumps(broken), encoding="utf-8")
    result = validate(tmp_path / "manifest.json")
    assert result.returncode == 1
    for fault in ("/bots/0/isNotificationOnly: must be boolean", "/name/short: must NOT have more than 30",
                  '"unknownField"', "/developer: must have required property 'privacyUrl'"):
        assert fault in result.stderr, result.stderr


def test_teams_limits_beyond_the_schema_are_checked(manifest: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(manifest))
    commands = broken["bots"][0]["commandLists"][0]["commands"]
    commands.append({"title": "ticket a command title over 32 chars", "description": "d" * 129})
    broken["bots"][0]["commandLists"].pop()  # groupChat left without a list
    broken["developer"]["websiteUrl"] = "http://support-desk.example.com/"
    problems = "\n".join(build_module.teams_problems(broken))
    assert "11 commands" in problems
    assert "must have 1 to 32 characters" in problems and "must have 1 to 128" in problems
    assert "'groupChat' needs exactly one commandLists entry" in problems
    assert "developer.websiteUrl must be an https URL" in problems


def test_a_coloured_or_opaque_or_wrong_sized_outline_is_refused(tmp_path: Path) -> None:
    shutil.copy(MANIFEST_DIR / "color.png", tmp_path / "color.png")
    white = (255, 255, 255)
    draw_icons.write_png(tmp_path / "outline.png", 32, 32, [(*white, 0)] * 16 * 32 + [(255, 0, 0, 255)] * 16 * 32)
    assert any("not white" in p for p in build_module.icon_problems(tmp_path))
    draw_icons.write_png(tmp_path / "outline.png", 32, 32, [(*white, 255)] * 32 * 32)
    assert any("transparent background" in p for p in build_module.icon_problems(tmp_path))
    draw_icons.write_png(tmp_path / "outline.png", 48, 48, [(*white, 0)] * 48 * 48)
    assert build_module.icon_problems(tmp_path) == ["outline.png is 48x48; Teams needs 32x32"]
    (tmp_path / "color.png").write_bytes(b"not a png")
    assert any("color.png is not a readable PNG" in p for p in build_module.icon_problems(tmp_path))


# --- the texts, in English and Vietnamese -------------------------------------------------------------


def _package_file(package: Path, name: str) -> dict[str, Any]:
    with zipfile.ZipFile(package) as archive:
        return dict(json.loads(archive.read(name)))


def test_the_committed_texts_are_what_write_texts_writes() -> None:
    template = json.loads((MANIFEST_DIR / "manifest.template.json").read_text(encoding="utf-8"))
    written = write_texts.files(template)
    assert set(written) == {"manifest.template.json", "vi.json"}
    for name, content in written.items():
        assert (MANIFEST_DIR / name).read_text(encoding="utf-8") == content, \
            f"manifest/{name} is stale: run .venv/bin/python manifest/write_texts.py"


def test_the_menu_says_what_the_help_says_in_english_and_vietnamese(package: Path,
                                                                      manifest: dict[str, Any]) -> None:
    from bot.bot import build_router
    from bot.i18n import catalogue

    commands, vietnamese = build_router().commands, catalogue("vi")
    strings = _package_file(package, "vi.json")
    assert manifest["localizationInfo"] == {"defaultLanguageTag": "en-us",
                                            "additionalLanguages": [{"languageTag": "vi", "file": "vi.json"}]}
    for index, entry in enumerate(manifest["bots"][0]["commandLists"]):
        for position, command in enumerate(entry["commands"]):
            summary = commands[command["title"].removeprefix("ticket ")].summary
            assert command["description"] == summary.replace("`", "")  # the help's own words, as plain text
            localized = strings[f"bots[0].commandLists[{index}].commands[{position}].description"]
            assert localized == vietnamese[summary].replace("`", "") != command["description"]
    assert strings["name.full"] == vietnamese[manifest["name"]["full"]] != manifest["name"]["full"]
    assert strings["description.short"] == vietnamese[manifest["description"]["short"]]
    assert strings["description.full"] == vietnamese[manifest["description"]["full"]]
    assert strings["name.short"] == manifest["name"]["short"] == "Ticket Desk"  # a name, kept
    assert strings["$schema"].endswith("/v1.30/MicrosoftTeams.Localization.schema.json")
    assert all(isinstance(build_module._text_at(manifest, key), str) for key in strings if key != "$schema")
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"]
    registered = {action for action, opens in build_router()._message_actions}
    assert [c["id"] for c in extension["commands"]] == ["createTicket", "addToTicket"] and registered == {
        "createTicket", "addToTicket"}  # each message action of the manifest has its handlers, and no other
    for position, command in enumerate(extension["commands"]):
        assert command["type"] == "action" and command["context"] == ["message"] and command["fetchTask"] is True
        for text in ("title", "description"):
            localized = strings[f"composeExtensions[0].commands[{position}].{text}"]
            assert localized == vietnamese[command[text]] != command[text]
    assert len(strings) == 1 + 4 + 3 * 10 + 2 * 2  # nothing left in English: every command of every scope, and
    # every message action


def _icons_with(folder: Path, vi: dict[str, Any] | None) -> Path:
    for name in ("color.png", "outline.png"):
        shutil.copy(MANIFEST_DIR / name, folder / name)
    if vi is not None:
        (folder / "vi.json").write_text(json.dumps(vi, ensure_ascii=False), encoding="utf-8")
    return folder


def _vietnamese() -> dict[str, Any]:
    return dict(json.loads((MANIFEST_DIR / "vi.json").read_text(encoding="utf-8")))


def test_a_vietnamese_file_off_its_schema_fails_the_build(tmp_path: Path) -> None:
    vi = _vietnamese() | {"name.short": "x" * 31, "developer.name": "a text of the manifest Teams does not localize"}
    (tmp_path / "icons").mkdir()
    icons = _icons_with(tmp_path / "icons", vi)
    result = run_build(tmp_path / "appPackage.zip", "--icons", str(icons), **SETTINGS)
    assert result.returncode == 1
    assert "vi.json does not match the v1.30 localization schema" in result.stderr, result.stderr
    assert "/name.short: must NOT have more than 30" in result.stderr and '"developer.name"' in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


@pytest.mark.parametrize(("change", "said"), [
    ({"bots[0].commandLists[0].commands[11].description": "Lệnh thứ mười hai"},
     "'bots[0].commandLists[0].commands[11].description' names no text of the manifest"),
    ({"bots[0].commandLists[2].commands[0].description": "Tạo ticket " * 20},
     "bots[0].commandLists[2].commands[0].description must have 1 to 128 characters, not 220"),
    (None, "vi.json (language vi) cannot be read"),
])
def test_what_teams_would_not_show_stops_the_build(tmp_path: Path, change: dict[str, str] | None, said: str) -> None:
    """Beyond the schema: a key that names no text (the schema allows 12 commands in 3 lists), a command
    description over Teams' 128 characters (the schema allows 4000), a missing file."""
    (tmp_path / "icons").mkdir()
    icons = _icons_with(tmp_path / "icons", None if change is None else _vietnamese() | change)
    result = run_build(tmp_path / "appPackage.zip", "--icons", str(icons), **SETTINGS)
    assert result.returncode == 1
    assert said in result.stderr, result.stderr
    assert not (tmp_path / "appPackage.zip").exists()
