"""The Argos Translate adapter's own logic: installing packages from the operator's
directory (once, skipping broken files), the pairs it reports (with pivots), the guard
on what it translates, and a clear word when argostranslate is missing.

argostranslate itself (with torch and stanza) and its model files cannot be installed
here, so `FakeArgos` stands in for the parts of its modules the adapter uses: the
settings it redirects, `package.install_from_path` (which unzips the file into the
package directory, as Argos does) and `translate.get_installed_languages` (languages
whose translations chain through a middle language, as Argos's CompositeTranslation
with `t1` and `t2` does). Real translation by Argos is not tested.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from portside.ai.argos import INSTALLED_MARK, ArgosTranslator, package_problem
from portside.domain.translation import LanguagePair, TranslationFailed


class _Language:
    def __init__(self, code: str) -> None:
        self.code = code
        self.translations_from: list[Any] = []


class _Direct:
    def __init__(self, source: _Language, target: _Language, fake: FakeArgos) -> None:
        self.from_lang, self.to_lang, self.fake = source, target, fake

    def translate(self, text: str) -> str:
        self.fake.calls.append((self.from_lang.code, self.to_lang.code, text))
        return self.fake.model(self.from_lang.code, self.to_lang.code, text)


class _Composite:
    def __init__(self, t1: Any, t2: Any) -> None:
        self.t1, self.t2 = t1, t2
        self.from_lang, self.to_lang = t1.from_lang, t2.to_lang

    def translate(self, text: str) -> str:
        return str(self.t2.translate(self.t1.translate(text)))


class FakeArgos:
    def __init__(self, model: Callable[[str, str, str], str] | None = None) -> None:
        self.settings = SimpleNamespace(package_data_dir=Path("/nowhere"), package_dirs=[])
        self.package = SimpleNamespace(install_from_path=self._install)
        self.translate = SimpleNamespace(get_installed_languages=self._languages)
        self.model = model or (lambda source, target, text: f"{text} ({source}>{target})")
        self.installed: list[str] = []
        self.calls: list[tuple[str, str, str]] = []

    def _install(self, path: Path) -> None:
        self.installed.append(path.name)
        with zipfile.ZipFile(path) as archive:
            archive.extractall(self.settings.package_data_dir)

    def _languages(self) -> list[_Language]:
        languages: dict[str, _Language] = {}
        for directory in self.settings.package_dirs:
            for package in sorted(p for p in Path(directory).iterdir() if p.is_dir()):
                about = json.loads((package / "metadata.json").read_text())
                source = languages.setdefault(about["from_code"], _Language(about["from_code"]))
                target = languages.setdefault(about["to_code"], _Language(about["to_code"]))
                source.translations_from.append(_Direct(source, target, self))
        for language in languages.values():
            language.translations_from.append(_Direct(language, language, self))  # identity
        for language in languages.values():
            reachable = {t.to_lang.code for t in language.translations_from}
            for first in list(language.translations_from):
                for second in first.to_lang.translations_from:
                    if second.to_lang.code not in reachable:
                        language.translations_from.append(_Composite(first, second))
                        reachable.add(second.to_lang.code)
        return list(languages.values())


def argos_package(directory: Path, source: str, target: str) -> Path:
    path = directory / f"translate-{source}_{target}-1_0.argosmodel"
    with zipfile.ZipFile(path, "w") as archive:
        about = {"package_version": "1.0", "from_code": source, "to_code": target}
        archive.writestr(f"translate-{source}_{target}/metadata.json", json.dumps(about))
        archive.writestr(f"translate-{source}_{target}/model/model.bin", b"weights")
    return path


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    directory = tmp_path / "argos-files"
    directory.mkdir()
    argos_package(directory, "zh", "en")
    argos_package(directory, "en", "de")
    (directory / "broken.argosmodel").write_bytes(b"not a zip")
    with zipfile.ZipFile(directory / "empty.argosmodel", "w") as archive:
        archive.writestr("readme.txt", "no metadata")
    (directory / "notes.txt").write_text("not a package")
    return directory


async def test_packages_are_installed_once_and_pairs_include_pivots(
    packages: Path, tmp_path: Path
) -> None:
    fake = FakeArgos()
    argos = ArgosTranslator(packages, tmp_path / "installed", load=lambda: fake)
    await argos.prepare()
    assert fake.installed == ["translate-en_de-1_0.argosmodel", "translate-zh_en-1_0.argosmodel"]
    assert fake.settings.package_data_dir == tmp_path / "installed"
    assert sorted(argos.skipped) == [
        "broken.argosmodel: not a zip archive",
        "empty.argosmodel: no metadata.json in it",
    ]
    assert argos.pairs() == [
        LanguagePair("en", "de"),
        LanguagePair("zh", "de", via="en"),
        LanguagePair("zh", "en"),
    ]
    assert argos.provider == "argos"
    argos.close()

    # The next start installs nothing it installed before, unless the file changed.
    again = FakeArgos()
    argos_package(packages, "en", "de")
    second = ArgosTranslator(packages, tmp_path / "installed", load=lambda: again)
    await second.prepare()
    assert again.installed == ["translate-en_de-1_0.argosmodel"]
    assert json.loads((tmp_path / "installed" / INSTALLED_MARK).read_text()).keys() == {
        "translate-en_de-1_0.argosmodel",
        "translate-zh_en-1_0.argosmodel",
    }
    second.close()


async def test_a_pivot_translates_through_the_middle_language_and_passes_the_guard(
    packages: Path, tmp_path: Path
) -> None:
    canned = {
        ("zh", "en"): "Your order LP-10023 has shipped.",
        ("en", "de"): "Ihre Bestellung LP-10023 wurde versandt.",
    }
    fake = FakeArgos(lambda source, target, _text: canned[(source, target)])
    argos = ArgosTranslator(packages, tmp_path / "installed", load=lambda: fake)
    await argos.prepare()
    out = await argos.translate("您的订单 LP-10023 已经发货了。", source="zh", target="de")
    assert out == "Ihre Bestellung LP-10023 wurde versandt."
    assert [(s, t) for s, t, _ in fake.calls] == [("zh", "en"), ("en", "de")]
    with pytest.raises(TranslationFailed) as failed:
        await argos.translate("Guten Tag", source="de", target="zh")
    assert failed.value.reason == "no_pair"
    assert "German (de) to Chinese (zh)" in failed.value.message
    argos.close()


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (lambda _s, _t, _text: "Ihre Bestellung wurde versandt.", "refused"),  # lost LP-10023
        (lambda _s, _t, text: text, "refused"),  # handed back as it was
        (lambda _s, _t, _text: 1 / 0, "failed"),
    ],
)
async def test_what_argos_gets_wrong_is_no_translation(
    packages: Path, tmp_path: Path, model: Callable[[str, str, str], str], reason: str
) -> None:
    argos = ArgosTranslator(packages, tmp_path / "installed", load=lambda: FakeArgos(model))
    await argos.prepare()
    with pytest.raises(TranslationFailed) as failed:
        await argos.translate("Your order LP-10023 has shipped.", source="en", target="de")
    assert failed.value.reason == reason
    argos.close()


async def test_a_directory_without_packages_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    argos = ArgosTranslator(empty, tmp_path / "installed", load=FakeArgos)
    for _ in range(2):  # the reason stays until the server restarts
        with pytest.raises(TranslationFailed) as failed:
            await argos.prepare()
        assert failed.value.reason == "not_set_up"
        assert f"no Argos Translate language package in {empty}" in failed.value.message
    missing = ArgosTranslator(tmp_path / "nope", tmp_path / "installed", load=FakeArgos)
    with pytest.raises(TranslationFailed, match="not a directory"):
        await missing.prepare()
    argos.close()
    missing.close()


@pytest.mark.skipif(
    importlib.util.find_spec("argostranslate") is not None,
    reason="argostranslate is installed here",
)
async def test_without_argostranslate_the_operator_is_told_to_install_the_extra(
    packages: Path, tmp_path: Path
) -> None:
    argos = ArgosTranslator(packages, tmp_path / "installed")  # the real import
    with pytest.raises(TranslationFailed) as failed:
        await argos.prepare()
    assert failed.value.reason == "not_set_up"
    assert "pip install 'portside[argos]'" in failed.value.message
    argos.close()


def test_a_package_is_checked_before_argos_sees_it(tmp_path: Path) -> None:
    assert package_problem(argos_package(tmp_path, "ja", "en")) is None
    bad = tmp_path / "bad.argosmodel"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("p/metadata.json", json.dumps({"from_code": "ja"}))
    assert package_problem(bad) == "its metadata.json names no from_code and to_code"


async def test_argos_failing_to_start_is_said_not_raised(packages: Path, tmp_path: Path) -> None:
    def broken() -> Any:
        raise RuntimeError("libtorch_cpu.so: cannot open shared object file")

    argos = ArgosTranslator(packages, tmp_path / "installed", load=broken)
    with pytest.raises(TranslationFailed) as failed:
        await argos.prepare()
    assert failed.value.reason == "not_set_up"
    assert "could not start: libtorch_cpu.so" in failed.value.message
    argos.close()
