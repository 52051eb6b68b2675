"""Builds the Teams app package: `python manifest/build.py` writes `appPackage.zip` in the repo root.

Reads from the environment:
- `MICROSOFT_APP_ID` (required): the bot's Azure app id, a GUID. It is the manifest's `botId`,
  and its `id` too unless `TEAMS_APP_ID` (a GUID) gives the Teams app an id of its own;
- `BOT_ENDPOINT` (required): the public https URL of the bot's `/api/messages`; its host goes
  into `validDomains`;
- `APP_DEVELOPER_NAME`, `APP_WEBSITE_URL`, `APP_PRIVACY_URL`, `APP_TERMS_URL` (required): who publishes
  the app, as Teams shows it on the app's About page: the organisation's name (at most 32 characters) and
  the https URLs of its support website, privacy statement and terms of use. Placeholders (example.com and
  the other example domains, `Your company`, ...) are refused: Teams would link users to nowhere;
- `APP_VERSION` (optional): the package version, `major.minor.patch`; pyproject.toml's otherwise.

It fills `manifest.template.json`, checks what Teams enforces beyond the JSON schema (command
lists, https links, the icons' sizes, the outline icon white on transparent, localization keys that
name a text of the manifest), validates the manifest and its localization files (`vi.json`, named in
its `localizationInfo`) against Microsoft's schemas with `validate.js` (Node, offline, the schemas
shipped in the pinned `@microsoft/app-manifest` package) and writes the zip: manifest.json, color.png,
outline.png and the localization files at its root. Any problem stops the build with a message saying
what to fix. The texts themselves (names, descriptions, the command menu, in every language) come
from the bot: `write_texts.py` writes them into the template and the localization files.

Standard library only, so it runs before the venv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import tomllib
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATE = HERE / "manifest.template.json"
VALIDATOR = HERE / "validate.js"
OUTPUT = ROOT / "appPackage.zip"
INSTALL = "npm ci --prefix manifest --no-audit --no-fund"

GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]*)\}")
ICON_SIZES = {"color.png": (192, 192), "outline.png": (32, 32)}

# The publisher of the app (the manifest's `developer`), as Teams shows it on the app's About page:
# setting -> what to set it to.
DEVELOPER = {
    "APP_DEVELOPER_NAME": "your organisation's name, at most 32 characters",
    "APP_WEBSITE_URL": "the https URL of your support website",
    "APP_PRIVACY_URL": "the https URL of your privacy statement",
    "APP_TERMS_URL": "the https URL of your terms of use",
}
MAX_DEVELOPER_NAME = 32  # the schema's limit on developer.name
# Hosts that only stand in for a real one in examples and templates: the example domains (RFC 2606, RFC 6761)
# and the companies of Microsoft's samples. An app linking to them sends its users nowhere.
PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "example.edu", "contoso.com", "fabrikam.com")
PLACEHOLDER_TLDS = ("example", "test", "invalid", "localhost", "local")
PLACEHOLDER_NAME = re.compile(r"\b(?:example|placeholder|change ?me|todo|tbd|your (?:company|organi[sz]ation|name))\b"
                              r"|[<>]|\$\{", re.IGNORECASE)

# What Teams enforces on bot command lists (the v1.30 schema allows more, the Teams client not).
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128
# A localization key: the JSON path of the manifest text it translates (`bots[0].commandLists[1].commands[3].title`).
LOCALIZED_PATH = re.compile(r"^[A-Za-z]+(?:\[\d+\])?(?:\.[A-Za-z]+(?:\[\d+\])?)*$")
NOT_A_PATH = {"$schema", "localizationKeys"}


class BuildError(Exception):
    """A problem that stops the build; its message says what to fix."""


# --- settings --------------------------------------------------------------------------------


def _guid(env: Mapping[str, str], name: str, meaning: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise BuildError(f"{name} is not set: export {meaning} (a GUID like 00000000-0000-0000-0000-000000000000)")
    if not GUID.match(value):
        raise BuildError(f"{name} is not a GUID: {value!r} (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value


def bot_domain(endpoint: str) -> str:
    """The host of BOT_ENDPOINT, which must be the public https URL of the bot's /api/messages."""
    example = "https://bot.example.com/api/messages"
    if not endpoint:
        raise BuildError(f"BOT_ENDPOINT is not set: export the public https URL of the bot's /api/messages, "
                         f"like {example}")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as error:
        raise BuildError(f"BOT_ENDPOINT is not a URL: {error}") from None
    if parts.username or parts.password:  # said without echoing the URL, which holds a secret
        raise BuildError("BOT_ENDPOINT must not carry a user name or password")
    if parts.scheme != "https" or not host:
        raise BuildError(f"BOT_ENDPOINT must be an https URL with a host, like {example}; got {endpoint!r}")
    if parts.query or parts.fragment:
        raise BuildError(f"BOT_ENDPOINT must not carry a query or a fragment: {endpoint!r}")
    if not parts.path.rstrip("/").endswith("/api/messages"):
        raise BuildError(f"BOT_ENDPOINT must end with /api/messages, the bot's route: {endpoint!r}")
    return host.lower()


def placeholder_host(url: str) -> str | None:
    """The host of `url` when it is an example or test domain, else None."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if host.rsplit(".", 1)[-1] in PLACEHOLDER_TLDS or any(
            host == domain or host.endswith("." + domain) for domain in PLACEHOLDER_DOMAINS):
        return host
    return None


def is_placeholder_name(name: str) -> bool:
    return not name.strip() or PLACEHOLDER_NAME.search(name) is not None


def _developer_setting(env: Mapping[str, str], name: str) -> str:
    """One of the DEVELOPER settings, checked; a problem is one line naming the setting and how to set it."""
    value = env.get(name, "").strip()
    how = f"export {name}=<{DEVELOPER[name]}> before `make package`"
    if not value:
        raise BuildError(f"{name} is not set: {how}")
    if name == "APP_DEVELOPER_NAME":
        if is_placeholder_name(value):
            raise BuildError(f"{name} is a placeholder ({value!r}): {how}")
        if len(value) > MAX_DEVELOPER_NAME:
            raise BuildError(f"{name} has {len(value)} characters, Teams allows {MAX_DEVELOPER_NAME}: {how}")
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise BuildError(f"{name} is not a URL: {how}") from None
    if parts.username or parts.password:  # said without echoing the URL, which holds a secret
        raise BuildError(f"{name} must not carry a user name or password: {how}")
    if parts.scheme != "https" or not host:
        raise BuildError(f"{name} must be an https URL with a host, not {value!r}: {how}")
    placeholder = placeholder_host(value)
    if placeholder:
        raise BuildError(f"{name} is a placeholder ({placeholder} is an example or test domain): {how}")
    return value


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def settings_from(env: Mapping[str, str]) -> dict[str, str]:
    """The placeholder values of the template, from the environment."""
    bot_id = _guid(env, "MICROSOFT_APP_ID", "the bot's Azure app id")
    teams_app_id = _guid(env, "TEAMS_APP_ID", "the Teams app id") if env.get("TEAMS_APP_ID", "").strip() else bot_id
    version = env.get("APP_VERSION", "").strip() or project_version()
    if not SEMVER.match(version):
        raise BuildError(f"APP_VERSION must be major.minor.patch like 1.0.0, not {version!r}")
    values = {
        "BOT_ID": bot_id,
        "TEAMS_APP_ID": teams_app_id,
        "BOT_DOMAIN": bot_domain(env.get("BOT_ENDPOINT", "").strip()),
        "APP_VERSION": version,
    }
    return values | {name: _developer_setting(env, name) for name in DEVELOPER}


# --- the manifest ----------------------------------------------------------------------------


def fill(node: Any, values: Mapping[str, str]) -> Any:
    """The template with every `${NAME}` in its strings replaced (JSON-safe: strings only)."""
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if isinstance(node, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise BuildError(f"the template uses ${{{name}}}, which build.py does not fill "
                                 f"(it fills {', '.join(sorted(values))})")
            return values[name]

        return PLACEHOLDER.sub(replace, node)
    return node


def render(template: Path, values: Mapping[str, str]) -> dict[str, Any]:
    try:
        data = json.loads(template.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BuildError(f"cannot read the template {template}: {error}") from None
    manifest = fill(data, values)
    if not isinstance(manifest, dict):
        raise BuildError(f"{template} must hold a JSON object")
    return manifest


def teams_problems(manifest: Mapping[str, Any]) -> list[str]:
    """What Teams rejects or mishandles although the JSON schema lets it through."""
    problems: list[str] = []
    developer = manifest.get("developer") or {}
    for key, url in developer.items():
        if not key.endswith("Url"):
            continue
        if not str(url).startswith("https://"):
            problems.append(f"developer.{key} must be an https URL, not {url!r}")
        elif host := placeholder_host(str(url)):
            problems.append(f"developer.{key} points at a placeholder: {host} is an example or test domain")
    if is_placeholder_name(str(developer.get("name", ""))):
        problems.append(f"developer.name is a placeholder: {developer.get('name', '')!r}")
    bots = manifest.get("bots") or []
    if len(bots) != 1:
        problems.append(f"the package must declare exactly one bot, not {len(bots)}")
        return problems
    bot = bots[0]
    scopes = list(bot.get("scopes") or [])
    lists = list(bot.get("commandLists") or [])
    for scope in scopes:
        found = [entry for entry in lists if scope in (entry.get("scopes") or [])]
        if len(found) != 1:
            problems.append(f"bot scope {scope!r} needs exactly one commandLists entry, not {len(found)}")
    for index, entry in enumerate(lists):
        where = f"commandLists[{index}] ({', '.join(entry.get('scopes') or [])})"
        extra = set(entry.get("scopes") or []) - set(scopes)
        if extra:
            problems.append(f"{where} lists scopes the bot does not have: {', '.join(sorted(extra))}")
        commands = entry.get("commands") or []
        if len(commands) > MAX_COMMANDS:
            problems.append(f"{where} has {len(commands)} commands; Teams shows at most {MAX_COMMANDS}")
        titles = [str(command.get("title", "")) for command in commands]
        if len(set(titles)) != len(titles):
            problems.append(f"{where} repeats a command title")
        for command in commands:
            title, description = str(command.get("title", "")), str(command.get("description", ""))
            if not title or len(title) > MAX_TITLE:
                problems.append(f"{where}: command title {title!r} must have 1 to {MAX_TITLE} characters")
            if not description or len(description) > MAX_DESCRIPTION:
                problems.append(f"{where}: the description of {title!r} must have 1 to {MAX_DESCRIPTION} "
                                f"characters, not {len(description)}")
    return problems


def localization_files(manifest: Mapping[str, Any]) -> dict[str, str]:
    """languageTag -> file name, from the manifest's `localizationInfo`."""
    info = manifest.get("localizationInfo") or {}
    return {str(entry.get("languageTag", "")): str(entry.get("file", ""))
            for entry in info.get("additionalLanguages") or []}


def _text_at(manifest: Mapping[str, Any], path: str) -> Any:
    """The value at a localization key's JSON path, or None when the manifest has nothing there."""
    node: Any = manifest
    for part in path.split("."):
        name, _, index = part.partition("[")
        node = node.get(name) if isinstance(node, Mapping) else None
        if index:
            position = int(index.rstrip("]"))
            node = node[position] if isinstance(node, list) and position < len(node) else None
    return node


def localization_problems(manifest: Mapping[str, Any], folder: Path) -> list[str]:
    """What Teams would not show: a missing file, a key naming no text of the manifest, a command description
    over Teams' limit (the schema allows localized ones longer than the client shows)."""
    problems: list[str] = []
    info = manifest.get("localizationInfo") or {}
    files = localization_files(manifest)
    if len(files) != len(info.get("additionalLanguages") or []):
        problems.append("localizationInfo lists a language twice")
    if str(info.get("defaultLanguageTag", "")).lower() in {tag.lower() for tag in files}:
        problems.append("localizationInfo lists the default language as an additional one")
    for tag, name in files.items():
        if Path(name).name != name or not name.endswith(".json"):
            problems.append(f"the localization file of {tag} must be a .json file beside the manifest, not {name!r}")
            continue
        try:
            strings = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            problems.append(f"{name} (language {tag}) cannot be read from {folder}: {error}")
            continue
        if not isinstance(strings, dict):
            problems.append(f"{name} must hold a JSON object")
            continue
        for key, text in strings.items():
            if key in NOT_A_PATH:
                continue
            original = _text_at(manifest, key) if LOCALIZED_PATH.match(key) else None
            if not isinstance(original, str):
                problems.append(f"{name}: {key!r} names no text of the manifest")
            elif key.endswith(".description") and ".commands[" in key and not 1 <= len(str(text)) <= MAX_DESCRIPTION:
                problems.append(f"{name}: {key} must have 1 to {MAX_DESCRIPTION} characters, not {len(str(text))}")
    return problems


# --- icons -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    color_type: int  # 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    bit_depth: int
    interlaced: bool
    data: bytes  # the decompressed, still filtered image data

    @property
    def has_alpha(self) -> bool:
        return self.color_type in (4, 6)

    def rgba(self) -> list[tuple[int, int, int, int]]:
        """The pixels, row by row, of an 8-bit non-interlaced grey, RGB, grey+alpha or RGBA image."""
        channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(self.color_type)
        if channels is None or self.bit_depth != 8 or self.interlaced:
            raise ValueError(f"colour type {self.color_type} at {self.bit_depth} bits"
                             f"{' interlaced' if self.interlaced else ''} is not decoded here")
        pixels = []
        for row in _unfilter(self.data, self.width, self.height, channels):
            for x in range(0, len(row), channels):
                px = row[x : x + channels]
                grey_or_rgb = (px[0], px[0], px[0]) if channels < 3 else (px[0], px[1], px[2])
                alpha = px[-1] if channels in (2, 4) else 255
                pixels.append((*grey_or_rgb, alpha))
        return pixels


def read_png(path: Path) -> Png:
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not a PNG file")
    pos, header, idat = 8, None, bytearray()
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4 or zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"corrupt {kind.decode('latin-1')} chunk")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise ValueError("no IHDR or IDAT chunk")
    width, height, bit_depth, color_type, _, _, interlace = header
    return Png(width, height, color_type, bit_depth, interlace == 1, zlib.decompress(bytes(idat)))


def _unfilter(data: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride = width * bpp
    if len(data) < height * (stride + 1):
        raise ValueError("truncated image data")
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        kind = data[y * (stride + 1)]
        line = bytearray(data[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            up_left = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
            elif kind != 0:
                raise ValueError(f"unknown PNG filter {kind}")
        previous = bytes(line)
        rows.append(previous)
    return rows


def icon_problems(icons: Path) -> list[str]:
    """color.png 192x192; outline.png 32x32, white on a transparent background."""
    problems: list[str] = []
    for name, (width, height) in ICON_SIZES.items():
        path = icons / name
        if not path.is_file():
            problems.append(f"{name} is missing from {icons} (python manifest/draw_icons.py draws it)")
            continue
        try:
            png = read_png(path)
        except (OSError, ValueError, zlib.error) as error:
            problems.append(f"{name} is not a readable PNG: {error}")
            continue
        if (png.width, png.height) != (width, height):
            problems.append(f"{name} is {png.width}x{png.height}; Teams needs {width}x{height}")
            continue
        if name != "outline.png":
            continue
        if not png.has_alpha or png.bit_depth != 8 or png.interlaced:
            problems.append("outline.png must be an 8-bit, non-interlaced PNG with an alpha channel "
                            "(RGBA or grey+alpha) so its background can be transparent")
            continue
        try:
            pixels = png.rgba()
        except (ValueError, zlib.error) as error:
            problems.append(f"outline.png is not a readable PNG: {error}")
            continue
        corners = [pixels[0], pixels[width - 1], pixels[-width], pixels[-1]]
        if any(alpha for *_, alpha in corners):
            problems.append("outline.png needs a transparent background: its corners are not transparent")
        coloured = sum(1 for r, g, b, a in pixels if a and (r, g, b) != (255, 255, 255))
        if coloured:
            problems.append(f"outline.png must be white on transparent: {coloured} visible pixels are not white")
        if not any(alpha for *_, alpha in pixels):
            problems.append("outline.png is empty: every pixel is transparent")
    return problems


# --- validation and packaging ----------------------------------------------------------------


def validate(manifest_file: Path, localizations: list[Path] | None = None) -> str:
    """Runs validate.js on the manifest and its localization files; returns its report, raises BuildError when
    one is invalid."""
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not on PATH: the schema check needs Node.js 20 or later")
    if not (HERE / "node_modules" / "@microsoft" / "app-manifest").is_dir():
        raise BuildError(f"manifest/node_modules is missing: run `{INSTALL}` (or `make test`)")
    result = subprocess.run([node, str(VALIDATOR), str(manifest_file), *map(str, localizations or [])],
                            capture_output=True, text=True, cwd=HERE, check=False)
    if result.returncode != 0:
        raise BuildError((result.stderr or result.stdout).strip() or f"validate.js failed ({result.returncode})")
    return result.stdout.strip()


def write_zip(out: Path, manifest_bytes: bytes, icons: Path, localizations: list[str] | None = None) -> None:
    """manifest.json, the two icons and the localization files at the root; fixed timestamps, so the same
    input gives the same bytes. Written beside `out` and moved into place, so a failed build leaves no half
    zip."""
    out.parent.mkdir(parents=True, exist_ok=True)
    entries = [("manifest.json", manifest_bytes)] + [(name, (icons / name).read_bytes())
                                                     for name in (*ICON_SIZES, *(localizations or []))]
    fd, partial = tempfile.mkstemp(prefix=".appPackage-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, content in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; a package is not a secret
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def build(env: Mapping[str, str], out: Path = OUTPUT, template: Path = TEMPLATE, icons: Path = HERE) -> str:
    values = settings_from(env)
    manifest = render(template, values)
    problems = teams_problems(manifest) + icon_problems(icons) + localization_problems(manifest, icons)
    if problems:
        raise BuildError("the package would not install in Teams:\n" + "\n".join(f"  {p}" for p in problems))
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    localizations = list(localization_files(manifest).values())
    with tempfile.TemporaryDirectory(prefix="teams-manifest-") as scratch:
        manifest_file = Path(scratch) / "manifest.json"
        manifest_file.write_bytes(manifest_bytes)
        report = validate(manifest_file, [icons / name for name in localizations])
    write_zip(out, manifest_bytes, icons, localizations)
    return (f"{report}\nwrote {out}: Teams app {values['TEAMS_APP_ID']} version {values['APP_VERSION']}, "
            f"bot {values['BOT_ID']} at {values['BOT_DOMAIN']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the zip (default: %(default)s)")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="manifest template (default: %(default)s)")
    parser.add_argument("--icons", type=Path, default=HERE,
                        help="folder of color.png, outline.png and the localization files (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        print(build(os.environ, out=args.out, template=args.template, icons=args.icons))
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
