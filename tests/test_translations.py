"""The catalogues are complete and match the code: every text people read is in them, in
every language, reviewed (no fuzzy entry), with the same placeholders and each language's
typography; and no template or refusal shows text that bypasses them."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, nodes

from shared.errors import KNOWN
from shared.i18n import BACKOFFICE_LANGUAGES, DEFAULT_LANGUAGE, LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
#: the languages of each domain (English is the msgids)
DOMAINS = {"messages": LANGUAGES, "backoffice": BACKOFFICE_LANGUAGES}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "problem": (2,), "plural_problem": (2, 3),
            "translate": (2,), "translate_plural": (2, 3)}
CATALOGUES = [(domain, language) for domain, languages in DOMAINS.items() for language in languages if language != DEFAULT_LANGUAGE]


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def extracted(domain: str) -> set[str]:
    """The msgids of `domain` as `make translations` extracts them from the code now."""
    with open(LOCALES_DIR / f"{domain}.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {name: spec if spec else (1,) for name, spec in KEYWORDS.items()}
    return {_key(message) for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
            if _key(message)}


def catalogue(domain: str, language: str):
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    assert path.exists(), f"{path} is missing: `pybabel init` it (README, Translations)"
    with open(path, "rb") as file:
        return read_po(file, locale=language)


@pytest.mark.parametrize(("domain", "language"), CATALOGUES)
def test_every_entry_is_translated_and_reviewed(domain: str, language: str) -> None:
    messages = [message for message in catalogue(domain, language) if message.id]
    untranslated = [_key(m.id) for m in messages if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [_key(m.id) for m in messages if m.fuzzy]
    assert not untranslated, f"{language}/{domain}: untranslated: {untranslated}"
    assert not fuzzy, f"{language}/{domain}: fuzzy (to review): {fuzzy}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogues_hold_exactly_the_texts_of_the_code(domain: str) -> None:
    """A new or changed text must be translated (`make translations`), a removed one removed."""
    in_code = extracted(domain)
    for language in DOMAINS[domain]:
        if language == DEFAULT_LANGUAGE:
            continue
        in_catalogue = {_key(message.id) for message in catalogue(domain, language) if message.id}
        assert not in_code - in_catalogue, f"{language}/{domain}: not in the catalogue: {sorted(in_code - in_catalogue)}"
        assert not in_catalogue - in_code, f"{language}/{domain}: no longer in the code: {sorted(in_catalogue - in_code)}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


@pytest.mark.parametrize(("domain", "language"), CATALOGUES)
def test_translations_keep_the_placeholders(domain: str, language: str) -> None:
    for message in catalogue(domain, language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            assert found <= wanted and found >= set(PLACEHOLDER.findall(ids[-1])) - {"%(num)d"}, (
                f"{language}/{domain}: {ids[0]!r} -> {string!r}")


#: what each language's typography never has: (pattern, why)
TYPOGRAPHY = {
    "fr": [(r"[ ][:;!?»]|«[ ]", "a non-breaking space (U+00A0, or U+202F before ; ! ?) goes before : ; ! ? » and after «"),
           (r"(?<=\w)'(?=\w)", "the apostrophe is ’"), (r'"', "quotes are « »")],
    "de": [(r'"', "quotes are „…“"), (r"«|»", "quotes are „…“")],
    "es": [(r'"', "quotes are «…»"), (r"(?<=\w)'(?=\w)", "the apostrophe is ’")],
    "it": [(r'"', "quotes are «…»"), (r"(?<=\w)'(?=\w)", "the apostrophe is ’")],
    "pt": [(r'"', "quotes are «…»"), (r"(?<=\w)'(?=\w)", "the apostrophe is ’")],
}


@pytest.mark.parametrize(("domain", "language"), CATALOGUES)
def test_each_language_has_its_typography(domain: str, language: str) -> None:
    for message in catalogue(domain, language):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings if message.id else ():
            # markup and code samples keep ASCII
            prose = re.sub(r"<[^>]*>|`[^`]*`|https?://\S+|Content-Type: \S+|Authorization: [^)]*", "", string)
            for pattern, rule in TYPOGRAPHY[language]:
                assert not re.search(pattern, prose), f"{language}/{domain}: {rule}: {string!r}"


# --- text outside the catalogue -----------------------------------------------------------------

#: names that are the same in every language
NAMES = {"EU-POLNET", "Efus", "EFUS", "SIRET", "IBAN", "BIC", "PDF", "XLSX", "CSV", "UTC"}


def _visible_text(source: str) -> str:
    source = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", source)
    source = re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", " ", source)  # addresses
    source = re.sub(r"(?s)<!--.*?-->|<[^>]*>|&\w+;|&#\d+;", " ", source)
    # fragments of tags that templates assemble: attributes, and boolean ones
    source = re.sub(r'[\w-]+="[^"]*"|\b(required|checked|selected|disabled|novalidate|autofocus|hidden)\b', " ", source)
    return " ".join(word for word in re.findall(r"[^\W\d_][\w’'-]+", source) if word not in NAMES)


def templates() -> list[Path]:
    found = []
    for path in sorted([*(ROOT / "services").glob("*/templates/**/*"), *(ROOT / "shared" / "templates").glob("**/*")]):
        if path.suffix in {".html", ".txt"}:
            found.append(path)
    return found


@pytest.mark.parametrize("path", templates(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_templates_show_no_text_outside_the_catalogue(path: Path) -> None:
    environment = Environment(loader=FileSystemLoader(str(path.parent)), extensions=["jinja2.ext.i18n"])
    tree = environment.parse(path.read_text(encoding="utf-8"))
    text = _visible_text(" ".join(node.data for node in tree.find_all(nodes.TemplateData)))
    assert not text, f"{path.name} shows text outside the catalogue: {text!r}"


REFUSALS = {"ApiError", "NotFound", "Conflict", "Forbidden", "ValidationError", "error_response", "flash", "abort"}
WRAPPERS = {"problem", "plural_problem", "_", "gettext", "ngettext", "N_", "refusal", "translate", "translate_plural"}
MARSHMALLOW = {message for _, message, _ in KNOWN}


def _bare_texts(node: ast.AST) -> list[str]:
    """String literals in `node` that no catalogue call wraps."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in WRAPPERS:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if re.search(r"[A-Za-z]{2}", node.value) and " " in node.value.strip() else []
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(node)]
    if isinstance(node, ast.Dict):
        return [text for value in node.values for text in _bare_texts(value)]
    return [text for child in ast.iter_child_nodes(node) for text in _bare_texts(child)]


def test_refusals_and_notices_come_from_the_catalogue() -> None:
    """Every refusal the services raise, and every notice of the back office, is a
    `problem(...)` or a `_()` text (marshmallow's own messages are translated by KNOWN)."""
    bare = []
    for path in sorted((ROOT / "services").rglob("*.py")) + sorted((ROOT / "shared").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in REFUSALS:
                for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
                    bare += [f"{path.relative_to(ROOT)}:{node.lineno}: {text}" for text in _bare_texts(argument)
                             if text not in MARSHMALLOW]
    assert not bare, "texts outside the catalogue:\n" + "\n".join(bare)


PLONE_LOCALES = ROOT / "plugins" / "eupolnet.plone" / "src" / "eupolnet" / "plone" / "locales"


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != DEFAULT_LANGUAGE])
def test_the_plone_add_on_speaks_the_six_languages(language: str) -> None:
    """Its catalogue (Plone's own i18n: zope.i18n loads the committed .mo) holds every text of its .pot."""
    with open(PLONE_LOCALES / "eupolnet.plone.pot", "rb") as file:
        wanted = {message.id for message in read_po(file) if message.id}
    with open(PLONE_LOCALES / language / "LC_MESSAGES" / "eupolnet.plone.po", "rb") as file:
        catalogue = read_po(file, locale=language)
    translated = {message.id for message in catalogue if message.id and message.string and not message.fuzzy}
    assert wanted - translated == set()
    assert (PLONE_LOCALES / language / "LC_MESSAGES" / "eupolnet.plone.mo").exists()
