"""Helpers the practice-page tests share: page scripts and small Selenium waits.

A plain module, not a pytest plugin, so the tests can import it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

# A paste as a user's clipboard makes it: text/plain, plus any other types given.
PASTE_JS = """
const [el, text, extra] = arguments;
el.focus();
const data = new DataTransfer();
data.setData('text/plain', text);
for (const [type, value] of Object.entries(extra || {})) data.setData(type, value);
el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                               cancelable: true}));
"""
EXEC_COMMAND_JS = """
const [el, text] = arguments;
el.focus();
return document.execCommand('insertText', false, text);
"""


def css(driver: WebDriver, selector: str) -> list[WebElement]:
    """All elements matching ``selector`` (an empty list means absent)."""
    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_until(
    driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 10
) -> Any:
    """Poll ``condition`` until it is truthy; the page works asynchronously."""
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def js(driver: WebDriver, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)
