"""The browser the practice-page DOM tests drive with plain Selenium.

They share the started client's browser (``chat_client`` in tests/browser_fixtures.py),
so a run starts no extra Chromium. The page tests must not depend on the client
working, though: if that client cannot start (it is being changed, or is broken), they
fall back to a headless Chromium of their own, started once and quit at the end.
A test module loads these fixtures with ``pytest_plugins = ["tests.practice_driver"]``
(plugin fixtures are global, so every module shares one fallback browser).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser_fixtures import plain_chromium


@pytest.fixture(scope="session")
def own_chromium() -> Iterator[WebDriver]:
    """A headless Chromium of the page tests' own (only when the client's is unusable)."""
    with plain_chromium() as browser:
        yield browser


@pytest.fixture
def page_driver(request: pytest.FixtureRequest, practice: object) -> Iterator[WebDriver]:
    """The shared client's WebDriver, or our own browser if that client failed to start.

    Depends on ``practice`` so the shared server is reset before and after each test.
    """
    try:
        browser: WebDriver = request.getfixturevalue("client")._require()
    except Exception as exc:  # any client failure: fall back (the client's tests report it)
        warnings.warn(f"practice page tests use their own Chromium: the client failed ({exc!r})",
                      stacklevel=1)
        browser = request.getfixturevalue("own_chromium")
        yield browser
        browser.delete_all_cookies()
        return
    yield browser

