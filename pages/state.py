"""Choices that survive leaving a page and reloading the app.

Streamlit forgets a widget's value once a run does not draw it (another page is shown), so every kept widget
has a mirror outside widget state: `remember_choices` (run by app.py before each page) copies the values of
the widgets drawn last run into it, and `keep` puts a value back before its widget is drawn again. Choices
worth bookmarking also live in the URL (`?set=demo&a=...`): `keep` writes them there on every run (a page
change clears the URL's parameters), and a reload or a shared link starts from them.
A kept widget is drawn without its own default value (the default goes to `keep`), as Streamlit asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

MIRROR = "_kept_choices"  # widget key -> its last value, for as long as the browser session lasts
KEYS = "_kept_keys"  # every kept widget key met in this session
NOTICES = "_notices"  # confirmation toasts waiting for the next run
_MISSING = object()


def keep(
    key: str,
    default: Any = None,
    *,
    url: str | None = None,
    options: Sequence[Any] | None = None,
    parse: Callable[[str], Any] = str,
) -> str:
    """Before drawing widget `key`: give it its last value (this session's, else the URL's, else `default`).

    `options` drops a remembered value the widget no longer offers; `parse` reads the URL's text (int, ...).
    Returns `key`, to pass on to the widget.
    """
    mirror: dict[str, Any] = st.session_state.setdefault(MIRROR, {})
    st.session_state.setdefault(KEYS, set()).add(key)
    if key not in st.session_state:
        _restore(key, mirror, default, url, options, parse)
    if url:
        _publish(url, st.session_state.get(key))
    return key


def _restore(
    key: str, mirror: dict[str, Any], default: Any, url: str | None, options: Sequence[Any] | None, parse: Any
) -> None:
    value = mirror.get(key, _MISSING)
    if value is _MISSING and url and url in st.query_params:
        value = _parsed(url, parse, multiple=isinstance(default, list))
    if value is not _MISSING and options is not None and not _offered(value, options):
        value = _MISSING
    if value is _MISSING:
        value = default
    if value is not None:
        st.session_state[key] = value


def remember_choices() -> None:
    """Copy the kept widgets' values into the mirror (before Streamlit drops those of an undrawn page)."""
    mirror: dict[str, Any] = st.session_state.setdefault(MIRROR, {})
    for key in st.session_state.get(KEYS, set()):
        if key in st.session_state:
            mirror[key] = st.session_state[key]


def _publish(name: str, value: Any) -> None:
    """Write a bookmarkable choice into the URL (an empty one leaves it)."""
    if value is None or value == "" or value == []:
        st.query_params.pop(name, None)
    elif isinstance(value, (list, tuple)):
        if st.query_params.get_all(name) != [str(v) for v in value]:
            st.query_params[name] = [str(v) for v in value]
    elif st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


def _parsed(name: str, parse: Callable[[str], Any], *, multiple: bool) -> Any:
    try:
        return [parse(v) for v in st.query_params.get_all(name)] if multiple else parse(st.query_params[name])
    except ValueError:
        return _MISSING


def _offered(value: Any, options: Sequence[Any]) -> bool:
    return all(v in options for v in value) if isinstance(value, list) else value in options


def notify(text: str, icon: str = ":material/check_circle:") -> None:
    """A confirmation toast that survives the `st.rerun()` after an action (one shown right before it is lost)."""
    st.session_state.setdefault(NOTICES, []).append((text, icon))


def show_notices() -> None:
    """Show the toasts of the actions of the last run (app.py's sidebar calls it on every page)."""
    for text, icon in st.session_state.pop(NOTICES, []):
        st.toast(text, icon=icon)
