"""Open the built documentation site in a real browser (Debian's headless Chromium, driven by Playwright)
and check what a reader would meet:

- every page loads with no console error, no uncaught exception and no failed request;
- every image on it loaded (has a size);
- the search index loads and a search finds the lesson pages;
- the API reference has an entry for every public name of gilkit, gilkit.dask and gilkit.shell.

It saves screenshots of the home page and of lesson 1 (``--screenshots DIR``) and exits 1 naming every
problem.

    mkdocs build --strict && python docs/check_site.py [--site site] [--browser /usr/bin/chromium]
"""

import argparse
import functools
import http.server
import importlib
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

#: The pages to photograph, and the names of their screenshots.
SCREENSHOTS = {"": "docs-home.png", "lessons/01-threads/": "docs-lesson-threads.png"}
#: The modules whose every public name the reference must show, and the page that shows it.
REFERENCE = {"gilkit": "reference/gilkit/", "gilkit.dask": "reference/dask/", "gilkit.shell": "reference/shell/"}
#: A word every lesson page holds; the search must find at least one page for it.
SEARCH_WORD = "convoy"


@contextmanager
def serving(site: Path) -> Iterator[str]:
    """The site over HTTP on a free local port (the search index is fetched, which file:// forbids)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def pages(site: Path) -> list[str]:
    """Every page of the site, as paths relative to its root ("" for the home page)."""
    found = []
    for html in sorted(site.rglob("index.html")):
        relative = html.parent.relative_to(site).as_posix()
        found.append("" if relative == "." else relative + "/")
    return found


def check_page(page: Page, url: str) -> list[str]:
    """Load one page; what went wrong on it."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400 else None)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    broken = page.eval_on_selector_all(
        "img", "images => images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    problems += [f"image did not load: {src}" for src in broken]
    return problems


def check_search(page: Page, root: str) -> list[str]:
    page.goto(root, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.keyboard.type(SEARCH_WORD)  # as a reader types: the search listens to keys, not to a filled value
    try:
        page.wait_for_selector(".md-search-result__item", timeout=10_000)
    except Exception:
        return [f"the search for {SEARCH_WORD!r} found nothing (is search/search_index.json served?)"]
    hits = page.locator(".md-search-result__item").count()
    return [] if hits else [f"the search for {SEARCH_WORD!r} found nothing"]


def check_reference(site: Path) -> list[str]:
    problems = []
    for module_name, page in REFERENCE.items():
        html = (site / page / "index.html").read_text()
        anchors = set(re.findall(r'id="([\w.]+)"', html))
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if f"{module_name}.{name}" not in anchors:
                problems.append(f"{page}: no entry for {module_name}.{name}")
    return problems


def run(site: Path, browser_path: str, screenshots: Path | None) -> list[str]:
    problems = check_reference(site)
    with serving(site) as root, sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            all_pages = pages(site)
            for relative in all_pages:
                page = context.new_page()
                problems += [f"/{relative}: {problem}" for problem in check_page(page, root + relative)]
                if screenshots is not None and relative in SCREENSHOTS:
                    page.screenshot(path=str(screenshots / SCREENSHOTS[relative]))
                page.close()
            page = context.new_page()
            problems += check_search(page, root)
            page.close()
        finally:
            browser.close()
    print(f"{len(all_pages)} pages checked in {browser_path}; {len(problems)} problems")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="the built site (default: site)")
    parser.add_argument("--browser", default=shutil.which("chromium") or "/usr/bin/chromium",
                        help="the Chromium to drive (default: chromium on PATH)")
    parser.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                        help="save screenshots of the home page and lesson 1 here")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        parser.error(f"no built site in {args.site}: run mkdocs build --strict first")
    problems = run(args.site, args.browser, args.screenshots)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
