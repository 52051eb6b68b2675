"""The e-mail templates: Jinja2 files a team edits without touching code.

`profiles/templates/<kind>.<language>.j2` ship for every kind in English and Vietnamese; a profile's own
versions in `profiles/templates/<profile name>/` win over them, file by file (so a team can add a
language, or reword one kind). A template is plain text (no HTML escaping); it may set its e-mail's
subject with `{% set subject = "..." %}`. Templates run in Jinja's sandbox with strict undefined
variables: a mistake in one is reported with its file and line, never half-rendered. Files added or
edited are used from the next draft on, without a restart.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from bot.drafts.model import DraftKind
from bot.i18n import tr
from bot.process import PROFILES_DIR, ProcessProfile

TEMPLATES_DIR = PROFILES_DIR / "templates"
SUFFIX = ".j2"
_ROOT = PROFILES_DIR.parent


class TemplateProblem(Exception):
    """A template that cannot be used; the message names its file and line."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def template_dirs(profile: ProcessProfile) -> tuple[Path, ...]:
    """Where a profile's templates are looked for, the profile's own first."""
    return TEMPLATES_DIR / profile.name, TEMPLATES_DIR


def template_name(kind: DraftKind, language: str) -> str:
    return f"{kind.value}.{language}{SUFFIX}"


def languages(profile: ProcessProfile, kind: DraftKind) -> tuple[str, ...]:
    """The languages a kind has a template in, for this profile (`en`, `vi`...)."""
    found = {path.name.removeprefix(f"{kind.value}.").removesuffix(SUFFIX)
             for folder in template_dirs(profile) if folder.is_dir() for path in folder.glob(f"{kind.value}.*{SUFFIX}")}
    return tuple(sorted(language for language in found if re.fullmatch(r"[a-z]{2,3}", language)))


@cache
def _environment(dirs: tuple[Path, ...]) -> SandboxedEnvironment:
    # No template cache: a file a team adds or edits counts from the next draft (compiling one takes < 10 ms).
    return SandboxedEnvironment(loader=jinja2.FileSystemLoader([str(d) for d in dirs]), autoescape=False,
                                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=False, cache_size=0)


def render(profile: ProcessProfile, kind: DraftKind, language: str, values: dict[str, Any]) -> Rendered:
    """The draft's subject and text, or TemplateProblem saying where the template is wrong."""
    environment = _environment(template_dirs(profile))
    name = template_name(kind, language)
    try:
        template = environment.get_template(name)
    except jinja2.TemplateSyntaxError as error:
        raise _problem(error.filename or name, error.lineno, error.message or str(error)) from None
    except jinja2.TemplateNotFound:
        raise TemplateProblem(tr("There is no template {name} in {folder}.", name=name,
                                 folder=_shown(str(TEMPLATES_DIR)))) from None
    try:
        try:
            module = template.make_module(values)
        except Exception:  # whatever a template does wrong; rewritten so that it points at the template's line
            environment.handle_exception()
    except Exception as error:
        file, line = _where(error, template.filename or name)
        raise _problem(file, line, str(error)) from None
    subject = " ".join(str(getattr(module, "subject", "")).split())
    return Rendered(subject=subject, text=_tidy(str(module)))


def _where(error: BaseException, fallback: str) -> tuple[str, int | None]:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(SUFFIX)]
    return (frames[-1].filename, frames[-1].lineno) if frames else (fallback, None)


def _problem(file: str, line: int | None, error: str) -> TemplateProblem:
    if line is None:
        return TemplateProblem(tr("The template {file} has an error: {error}", file=_shown(file), error=error))
    return TemplateProblem(tr("The template {file} has an error at line {line}: {error}", file=_shown(file),
                              line=line, error=error))


def _shown(file: str) -> str:
    path = Path(file)
    return str(path.relative_to(_ROOT)) if path.is_relative_to(_ROOT) else file


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one empty line in a row, no empty lines around the text."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
