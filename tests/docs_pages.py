"""Checks that Swagger UI and ReDoc load everything from the server that serves them."""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

PAGES = ("/docs", "/redoc")


class _Assets(HTMLParser):
    """The scripts, stylesheets and icons a page makes the browser fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def page_assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def assert_docs_served_locally(base_url: str) -> None:
    """Each page and every asset it references answer 200 from ``base_url`` itself.

    A browser without internet shows a blank page if any of them points elsewhere.
    """
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for page in PAGES:
            answer = http.get(page)
            assert answer.status_code == 200, (page, answer.text)
            assert "://" not in answer.text, f"{page} names another host:\n{answer.text}"
            assets = page_assets(answer.text)
            assert any(url.endswith(".js") for url in assets), (page, assets)
            if page == "/docs":
                assert any(url.endswith(".css") for url in assets), (page, assets)
            for url in assets:
                target = urlsplit(urljoin(base_url + page, url))
                assert target.netloc == urlsplit(base_url).netloc, (page, url)
                asset = http.get(target.path)
                assert asset.status_code == 200, (page, url, asset.status_code)
                assert len(asset.content) > 1000, (page, url, len(asset.content))
