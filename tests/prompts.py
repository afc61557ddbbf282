"""Prompt text that breaks sloppy clients, shared by the page and client tests."""

from __future__ import annotations


def big_prompt() -> str:
    """~20 KB of code-like text with everything a sloppy client would mangle.

    Tabs, trailing spaces, blank and whitespace-only lines, leading spaces, non-ASCII
    and astral-plane characters, HTML-looking text and backticks.
    """
    block = [
        "def function_{i}(value):   ",
        "\tif value > {i}:\t# a tab-indented comment",
        "        return value * {i}    ",
        "",
        "    ",
        '# ünïcode ✓ 🎉 {i} \\ "quotes" <b>&amp;</b> `ticks`',
        "",
        "",
    ]
    lines = ["   leading spaces on the first line"]
    i = 0
    while sum(len(line) + 1 for line in lines) < 20_000:
        lines += [line.format(i=i) for line in block]
        i += 1
    return "\n".join(lines) + "\n\n"
