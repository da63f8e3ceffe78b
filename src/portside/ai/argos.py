"""Argos Translate: offline translation with language packages installed from files.

The operator puts `.argosmodel` files (one per language pair, e.g. zh -> en, en -> de)
in a directory and names it with PORTSIDE_ARGOS_PACKAGES. Portside installs them into
its own data directory (`argos-packages/`), never downloads anything, and translates
on one worker thread: the CPU is shared with everything else the server does. Argos
Translate chains packages on its own (zh -> en -> de with the two packages above);
`pairs()` says which pairs are reachable and through which language.

argostranslate pulls in stanza and torch, so it is not a dependency: it is the optional
extra `portside[argos]`, imported only when a store chooses Argos. Without it, or
without any package installed, a store that chooses Argos is told why.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from portside.domain.grounding import translation_problem
from portside.domain.translation import (
    FAILED,
    NO_PAIR,
    NOT_SET_UP,
    REFUSED,
    LanguagePair,
    TranslationFailed,
    pair_name,
)

log = logging.getLogger(__name__)

# Which package files were installed, by name, with their size and time: a file is
# installed again only when it changes.
INSTALLED_MARK = ".portside-installed.json"
NOT_INSTALLED = (
    "Argos Translate is not installed on this server: its operator installs it with "
    "pip install 'portside[argos]'"
)


def load_argos() -> Any:
    """The argostranslate package, imported now (it takes seconds: torch, stanza)."""
    try:
        argos = importlib.import_module("argostranslate")
        for name in ("settings", "package", "translate"):
            importlib.import_module(f"argostranslate.{name}")
    except ImportError as exc:
        raise TranslationFailed(NOT_SET_UP, NOT_INSTALLED) from exc
    return argos


class ArgosTranslator:
    provider = "argos"

    def __init__(
        self, package_dir: Path, install_dir: Path, *, load: Callable[[], Any] = load_argos
    ) -> None:
        self.package_dir = package_dir
        self.install_dir = install_dir
        self._load = load
        self._lock = asyncio.Lock()
        # One translation at a time: a model uses every core it is given.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argos")
        self._ways: dict[tuple[str, str], tuple[Any, str | None]] | None = None
        self._problem: str | None = None
        # Package files that could not be installed, each with why.
        self.skipped: list[str] = []

    async def prepare(self) -> None:
        """Import Argos and install the packages, once; raises TranslationFailed
        (NOT_SET_UP) with why there is nothing to translate with."""
        async with self._lock:
            if self._ways is None and self._problem is None:
                loop = asyncio.get_running_loop()
                try:
                    self._ways = await loop.run_in_executor(self._worker, self._prepare)
                except TranslationFailed as exc:
                    self._problem = exc.message
                except Exception as exc:  # torch or a package failing to load, say
                    log.exception("Argos Translate could not start")
                    self._problem = f"Argos Translate could not start: {exc}"
        if self._problem is not None:
            raise TranslationFailed(NOT_SET_UP, self._problem)

    def _prepare(self) -> dict[tuple[str, str], tuple[Any, str | None]]:
        argos = self._load()
        self.skipped = install_packages(argos, self.package_dir, self.install_dir)
        for problem in self.skipped:
            log.warning("Argos package not installed: %s", problem)
        found = ways(argos.translate.get_installed_languages())
        if not found:
            why = f" ({'; '.join(self.skipped)})" if self.skipped else ""
            raise TranslationFailed(
                NOT_SET_UP, f"no Argos Translate language package in {self.package_dir}{why}"
            )
        return found

    def pairs(self) -> list[LanguagePair] | None:
        known = (self._ways or {}).items()
        pairs = [LanguagePair(source, target, via) for (source, target), (_, via) in known]
        return sorted(pairs, key=lambda pair: (pair.source, pair.target))

    async def translate(self, text: str, *, source: str, target: str) -> str:
        way = (self._ways or {}).get((source, target))
        if way is None:
            raise TranslationFailed(
                NO_PAIR, f"no Argos Translate package translates {pair_name(source, target)}"
            )
        loop = asyncio.get_running_loop()
        try:
            translated = await loop.run_in_executor(self._worker, way[0].translate, text)
        except Exception as exc:  # whatever the model does, it is no translation
            raise TranslationFailed(FAILED, f"Argos Translate failed: {exc}") from None
        if not isinstance(translated, str):
            raise TranslationFailed(FAILED, "Argos Translate gave no text")
        problem = translation_problem(text, translated, target)
        if problem is not None:
            raise TranslationFailed(REFUSED, problem)
        return translated

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def install_packages(argos: Any, package_dir: Path, install_dir: Path) -> list[str]:
    """Install the `.argosmodel` files of `package_dir` into `install_dir` (those new or
    changed since last time); the files skipped, each with why."""
    if not package_dir.is_dir():
        raise TranslationFailed(
            NOT_SET_UP, f"PORTSIDE_ARGOS_PACKAGES names {package_dir}, which is not a directory"
        )
    install_dir.mkdir(parents=True, exist_ok=True)
    # Argos reads where its packages live from the environment when first imported;
    # Portside's go to its own data directory instead, whatever the environment says.
    argos.settings.package_data_dir = install_dir
    argos.settings.package_dirs = [install_dir]
    mark = install_dir / INSTALLED_MARK
    try:
        done = json.loads(mark.read_text())
    except (OSError, ValueError):
        done = {}
    skipped = []
    for path in sorted(package_dir.glob("*.argosmodel")):
        stat = path.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        if done.get(path.name) == stamp:
            continue
        problem = package_problem(path)
        if problem is None:
            try:
                argos.package.install_from_path(path)
            except Exception as exc:  # a broken file must not stop the others
                problem = f"Argos could not install it: {exc}"
        if problem is not None:
            skipped.append(f"{path.name}: {problem}")
            continue
        done[path.name] = stamp
    mark.write_text(json.dumps(done, indent=1, sort_keys=True))
    return skipped


def package_problem(path: Path) -> str | None:
    """Why `path` is not an Argos translation package (a zip archive with a
    metadata.json naming from_code and to_code in its top directory), or None."""
    if not zipfile.is_zipfile(path):
        return "not a zip archive"
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count("/") <= 1]
        metadata = [n for n in names if n.rsplit("/", 1)[-1] == "metadata.json"]
        if not metadata:
            return "no metadata.json in it"
        try:
            about = json.loads(archive.read(metadata[0]))
        except ValueError:
            return "its metadata.json is not JSON"
    if not isinstance(about, dict) or not about.get("from_code") or not about.get("to_code"):
        return "its metadata.json names no from_code and to_code"
    return None


def ways(languages: list[Any]) -> dict[tuple[str, str], tuple[Any, str | None]]:
    """(from, to) -> (Argos translation, the language it pivots through or None), from
    argostranslate.translate.get_installed_languages(). Argos adds a chained translation
    (its CompositeTranslation, with `t1` and `t2`) wherever no package goes directly; a
    direct one always wins."""
    found: dict[tuple[str, str], tuple[Any, str | None]] = {}
    for language in languages:
        for way in language.translations_from:
            target = way.to_lang.code
            if target == language.code:
                continue  # Argos's identity translation
            first = getattr(way, "t1", None)
            via = None if first is None else first.to_lang.code
            key = (language.code, target)
            if key not in found or (via is None and found[key][1] is not None):
                found[key] = (way, via)
    return found
