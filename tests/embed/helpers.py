"""What the embed tests share besides fixtures: the snippet, screenshots, axe-core, focus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots" / "embed"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def require(path: Path | str, how: str) -> None:
    if not Path(path).exists():
        message = f"{path} is missing: {how}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def snippet(service_url: str, slug: str, lang: str = "en", kind: str = "event", orders_url: str = "") -> str:
    """The snippet a website owner pastes into a CMS page (README, services/registration/embed.py);
    a publication's `<noscript>` link goes to the orders service, at `orders_url`."""
    if kind == "publication":
        fallback = f'<a href="{orders_url}/publications/{slug}/order?lang={lang}">Order / Commander</a>'
    else:
        fallback = f'<a href="{service_url}/events/{slug}/register?lang={lang}">Register / S\'inscrire</a>'
    return (
        f'<div data-eupolnet-{kind}="{slug}" data-lang="{lang}"></div>\n'
        f'<script src="{service_url}/embed.js" defer></script>\n'
        f"<noscript>{fallback}</noscript>"
    )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/embed/ (for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, selector: str) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations inside the element `selector` (shadow DOM included)."""
    require(AXE, "run `npm ci` at the repository root (make test does)")
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script>: our pages' CSP refuses inline ones
    return page.evaluate(
        """async ([selector, tags]) => {
            const result = await axe.run(document.querySelector(selector), {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}));
        }""",
        [selector, WCAG_TAGS],
    )


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations Chromium reports on `page` from now on (filled as they come)."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    return found


def focused(page) -> str:
    """The id (or tag) of the focused element, looking into shadow roots."""
    return page.evaluate(
        """() => {
            let element = document.activeElement;
            while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
            return element ? (element.id || element.tagName.toLowerCase()) : null;
        }"""
    )
