"""OpenAIClient: the one owner of a browser session, and the ONLY selenium importer.

The audit found WebDriver code copied into several components; now every browser is
created, driven and quit here (docs/architecture.md#layers). One client is one browser: the pool
(:mod:`dreamscape_tui.core.pool`) keeps several and hands them to workers.

How the chat page is driven follows docs/architecture.md#one-prompt: the model is
chosen by URL; the prompt is inserted with a synthetic paste (Enter would send a
multi-line prompt in pieces); an answer is done when the stop button has appeared and
is gone again (never "the text stopped changing": answers pause for seconds); code is
read from ``pre code``; error elements become typed errors. Every wait polls one small
script per tick with ``WebDriverWait``, so there are no fixed sleeps and each tick costs
one round trip.
None of those steps needs a selenium type: they run in the client's base,
:class:`~dreamscape_tui.core.pagesession.PageSession`, and the page modules it uses;
here only the WebDriver remains.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import urllib3
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.file_detector import LocalFileDetector
from selenium.webdriver.remote.webdriver import WebDriver

from dreamscape_tui.core import browser as proc
from dreamscape_tui.core import chatpage as chat
from dreamscape_tui.core import display, pagecheck, userdata
from dreamscape_tui.core.browser import SessionHealth
from dreamscape_tui.core.chatflow import interruptible
from dreamscape_tui.core.config import SessionsConfig, WebchatConfig
from dreamscape_tui.core.errors import ModelError, PageError, SessionUnavailable
from dreamscape_tui.core.interrupt import Interrupt, raise_if_set
from dreamscape_tui.core.pagesession import PageSession
from dreamscape_tui.core.profiles import Profile

__all__ = ["OpenAIClient", "SessionHealth"]

logger = logging.getLogger(__name__)

POLL_S = 0.05
"""Polling interval of every wait: one small script per tick."""


_SECRETS = proc.QuietFilter()  # selenium's DEBUG wire log prints cookie values: not on our watch
logging.getLogger("selenium.webdriver.remote.remote_connection").addFilter(_SECRETS)


def _process_ids(driver: WebDriver | None) -> list[int]:
    """The process tree under a local driver's chromedriver (empty for remote)."""
    pid = getattr(getattr(getattr(driver, "service", None), "process", None), "pid", None)
    return proc.process_tree(pid) if isinstance(pid, int) else []


def _first_line(exc: BaseException) -> str:
    text = exc.msg if isinstance(exc, WebDriverException) and exc.msg else str(exc)
    return (text or type(exc).__name__).strip().splitlines()[0][:300]


class OpenAIClient(PageSession):
    """One browser session on a chat web page: start it, ask it, check it, quit it.

    Checking and asking are :class:`PageSession`'s; this class gives it the tab."""

    def __init__(
        self,
        sessions: SessionsConfig,
        webchat: WebchatConfig,
        *,
        session_id: str = "s1",
        extra_args: Sequence[str] = (),
    ) -> None:
        """Remember the configuration; no browser runs until :meth:`start`.

        ``extra_args`` are Chromium flags added after the pool's own when this client
        starts a browser (the tests route one through a recording proxy); they are
        never sent to a browser we attach to.
        """
        self.sessions = sessions
        self.webchat = webchat  # public so selectors can be swapped when the page drifts
        self.session_id = session_id
        self.extra_args = tuple(extra_args)
        self.driver_kind: Literal["local", "remote"] = (
            "remote" if sessions.driver == "remote" else "local"
        )
        self._attached = self.driver_kind == "local" and bool(sessions.debugger_address)
        self._driver: WebDriver | None = None
        self._profile: Path | None = None
        self._user_data: userdata.UserDataDir | None = None
        self._display = False  # whether this client holds the virtual display
        self._own_tab = ""  # attached: the tab we opened in the user's browser

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Create the WebDriver (local Chromium, Grid, or attach); no-op if running."""
        if self._driver is not None:
            return
        try:
            driver = self._create_remote() if self.driver_kind == "remote" else self._create_local()
        except ModelError:
            self._remove_profile()
            raise
        except Exception as exc:  # selenium, urllib3, OS: all mean "no browser"
            self._remove_profile()
            where = (
                f"on Selenium Grid at {self.sessions.remote_url} (check [sessions] remote_url)"
                if self.driver_kind == "remote"
                else "locally"
            )
            raise SessionUnavailable(
                f"could not start browser session {self.session_id} {where}: {_first_line(exc)}"
            ) from exc
        self._driver = driver
        with self._translate("setting the page-load timeout"):
            driver.set_page_load_timeout(self.sessions.page_load_timeout_s)

    def launch_options(self, profile: Path | None) -> webdriver.ChromeOptions:
        """Options for a browser we start: a local Chromium on ``profile``, or (``None``)
        a Selenium Grid session. Both are quiet (see the quiet lists in
        :mod:`dreamscape_tui.core.browser`): no traffic but the pages we load."""
        options = webdriver.ChromeOptions()
        if profile is not None:
            options.binary_location = proc.find_browser(self.sessions.browser)
            headless = display.browser_mode(self.sessions.headless) == "headless"
        else:  # a Grid node's display is not ours to find: "auto" is headless there
            headless = self.sessions.headless is not False
        flags = proc.chromium_flags(
            headless=headless,
            profile=None if profile is None else str(profile),
            local=profile is not None,
            extra=self.extra_args,
        )
        for flag in flags:
            options.add_argument(flag)
        options.add_experimental_option("prefs", proc.chromium_prefs())
        return options

    def attach_options(self) -> webdriver.ChromeOptions:
        """Options for attaching to the user's own browser (``debugger_address``): where
        it listens, nothing else. Its flags and preferences are the user's; we change none."""
        options = webdriver.ChromeOptions()
        options.debugger_address = self.sessions.debugger_address
        return options

    def _create_local(self) -> WebDriver:
        """A browser we start (on our virtual display if ``headless = "auto"`` chose
        one), or, attached, a tab of our own in the user's browser."""
        screen = None
        if self._attached:
            proc.check_debugger(self.sessions.debugger_address)  # a clear line, at once
            options = self.attach_options()
        else:
            options = self.launch_options(self._make_profile())
            if display.browser_mode(self.sessions.headless) == "xvfb":
                screen = display.acquire_display()
                self._display = True
        service = Service(
            executable_path=proc.find_chromedriver(self.sessions.chromedriver),
            env=proc.driver_env(screen),
        )
        driver = webdriver.Chrome(service=service, options=options)
        if self._attached:  # leave the user's tabs as they are: work in one of our own
            try:
                driver.switch_to.new_window("tab")
                self._own_tab = driver.current_window_handle
            except BaseException:
                driver.service.stop()  # never the browser
                raise
        return driver

    def _create_remote(self) -> WebDriver:
        options = self.launch_options(None)
        timeout = int(max(self.sessions.start_timeout_s, self.sessions.page_load_timeout_s + 30))
        config = ClientConfig(remote_server_addr=self.sessions.remote_url, timeout=timeout)
        return webdriver.Remote(
            command_executor=self.sessions.remote_url, options=options, client_config=config
        )

    def _make_profile(self) -> Path:
        """This session's profile: persistent for a remote home_url, else temporary
        (see :func:`~dreamscape_tui.core.userdata.make_profile`)."""
        self._user_data = userdata.make_profile(self.sessions.profile_dir, self.session_id,
                                                self.sessions.home_url)
        self._profile = self._user_data.path
        return self._profile

    def _remove_profile(self) -> None:
        """Once our browser is gone: unlock our profile (deleting it if temporary) and
        let go of the virtual display."""
        user_data, self._user_data, self._profile = self._user_data, None, None
        held, self._display = self._display, False
        try:
            if user_data is not None:
                user_data.release()
        finally:
            if held:
                display.release_display()

    @property
    def profile_dir(self) -> Path | None:
        """The profile directory this session's Chromium uses (None: remote/attached)."""
        return self._profile

    def process_ids(self) -> list[int]:
        """chromedriver and the Chromium processes it started (local only; Linux /proc)."""
        return _process_ids(self._driver)

    def is_alive(self) -> bool:
        """Cheap liveness check: the driver still answers for its window."""
        driver = self._driver
        if driver is None:
            return False
        process = getattr(getattr(driver, "service", None), "process", None)
        if process is not None and process.poll() is not None:
            return False
        try:
            return bool(driver.window_handles)
        except Exception:
            return False

    def quit(self) -> None:
        """End the driver (also on Grid) and remove our temp profile; never raises.

        Attached, only the tab we opened is closed (never the user's last one) and
        chromedriver stops: the user's browser keeps running, as it was."""
        driver, self._driver = self._driver, None
        if driver is not None:
            pids = [] if self._attached else _process_ids(driver)
            try:
                if self._attached:
                    tab, self._own_tab = self._own_tab, ""
                    with contextlib.suppress(Exception):
                        tabs = driver.window_handles
                        if tab in tabs and len(tabs) > 1:
                            driver.switch_to.window(tab)
                            driver.close()
                    driver.service.stop()  # type: ignore[attr-defined]  # leave the browser
                else:
                    driver.quit()
            except Exception as exc:
                logger.debug("quitting session %s: %s", self.session_id, _first_line(exc))
                with contextlib.suppress(Exception):
                    driver.service.stop()  # type: ignore[attr-defined]
            if self._profile is not None and pids:
                proc.kill_processes(pids, str(self._profile))  # survivors of a crashed browser
        with contextlib.suppress(Exception):
            self._remove_profile()

    # -- errors -----------------------------------------------------------------------

    def _require(self) -> WebDriver:
        if self._driver is None:
            raise SessionUnavailable(f"browser session {self.session_id} is not running")
        return self._driver

    @contextlib.contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn driver/transport failures into typed errors; a dead browser is
        SessionUnavailable so the pool knows to replace it."""
        try:
            yield
        except ModelError:
            raise
        except (WebDriverException, urllib3.exceptions.HTTPError, OSError) as exc:
            line = _first_line(exc)
            if proc.looks_dead(line) or not self.is_alive():
                raise SessionUnavailable(
                    f"browser session {self.session_id} is gone ({action}): {line}"
                ) from exc
            raise PageError(f"{action} failed: {line}") from exc

    # -- page helpers -----------------------------------------------------------------

    def _tab(self, driver: WebDriver) -> _Tab:
        return _Tab(driver, remote=self.driver_kind == "remote")

    def _current_tab(self) -> _Tab:
        return self._tab(self._require())

    def _load(self, url: str, profile: str, until: float,
              interrupt: Interrupt | None = None) -> tuple[_Tab, Profile]:
        """Load ``url`` and find its DOM profile (the model's, or detected: ``auto``).

        ``driver.get`` is one blocking WebDriver call (chromedriver runs one command at
        a time, so nothing can stop it from here); the interrupt is checked after it."""
        raise_if_set(interrupt, "loading the chat page")
        driver = self._require()
        self._navigate(driver, url)
        tab = self._tab(driver)
        checked = interruptible(tab, interrupt)
        return tab, pagecheck.detect_profile(checked, profile, self.webchat.selectors, until)

    def _navigate(self, driver: WebDriver, url: str) -> None:
        """Load ``url``; a navigation failure is a PageError naming the URL."""
        try:
            driver.get(url)
        except TimeoutException as exc:
            with contextlib.suppress(WebDriverException):
                driver.execute_script("window.stop();")
            raise PageError(
                f"loading {url} timed out after {self.sessions.page_load_timeout_s:g}s"
            ) from exc
        except WebDriverException as exc:
            line = _first_line(exc)
            if proc.looks_dead(line):
                raise
            raise PageError(f"could not load {url}: {line}") from exc

    # -- cookies ----------------------------------------------------------------------

    def add_cookies(self, cookies: list[dict[str, Any]], url: str | None = None) -> None:
        """Add cookies after loading ``url`` (default home_url): Selenium can only set
        cookies for the domain the browser is on. Cookies for other domains are skipped
        (their names are logged, never their values)."""
        target = url or self.sessions.home_url
        host = (urlsplit(target).hostname or "").lower()
        skipped: list[str] = []
        with self._translate("adding cookies"), _SECRETS.quiet():
            driver = self._require()
            self._navigate(driver, target)
            for cookie in cookies:
                prepared = chat.cookie_for_host(cookie, host)
                if prepared is None:
                    skipped.append(str(cookie.get("name", "?")))
                    continue
                try:
                    driver.add_cookie(prepared)
                except WebDriverException as exc:
                    if proc.looks_dead(_first_line(exc)):
                        raise
                    skipped.append(str(cookie.get("name", "?")))
        if skipped:
            logger.warning(
                "session %s: skipped %d cookie(s) not valid for %s: %s",
                self.session_id, len(skipped), host, ", ".join(skipped),
            )

    def export_cookies(self) -> list[dict[str, Any]]:
        """The cookies of the current site (home_url if the browser is on no site)."""
        with self._translate("exporting cookies"), _SECRETS.quiet():
            driver = self._require()
            if not str(driver.current_url).startswith(("http://", "https://")):
                self._navigate(driver, self.sessions.home_url)
            return [dict(c) for c in driver.get_cookies()]

    def delete_cookies(self) -> None:
        """Forget the current site's cookies (log this session out of it)."""
        with self._translate("deleting cookies"):
            self._require().delete_all_cookies()


class _Tab:
    """The :class:`~dreamscape_tui.core.chatflow.PageDriver` of one WebDriver tab."""

    def __init__(self, driver: WebDriver, *, remote: bool) -> None:
        self.driver = driver
        self.remote = remote

    def script(self, js: str, *args: Any) -> Any:
        return self.driver.execute_script(js, *args)

    def async_script(self, js: str, timeout_s: float, *args: Any) -> Any:
        self.driver.set_script_timeout(timeout_s)
        return self.driver.execute_async_script(js, *args)

    def upload(self, selectors: Sequence[str], path: str) -> bool:
        """Give ``path`` to the page's file input (uploaded to the node on Grid)."""
        if self.remote:
            self.driver.file_detector = LocalFileDetector()
        for selector in selectors:
            found = self.driver.find_elements(By.CSS_SELECTOR, selector)
            if found:
                found[0].send_keys(path)
                return True
        return False
