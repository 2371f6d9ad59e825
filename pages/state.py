"""Choices that survive leaving a page and reloading the app.

Streamlit forgets a widget's value once a run does not draw it (another page is shown), so every kept widget
has a mirror outside widget state: `remember_choices` (run by app.py before each page) copies the values of
the widgets drawn last run into it, and `keep` puts a value back before its widget is drawn again. Choices
worth bookmarking also live in the URL (`?set=demo&a=...`): a reload or a shared link starts from them.
A kept widget is drawn without its own default value (the default goes to `keep`), as Streamlit asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

MIRROR = "_kept_choices"  # widget key -> its last value, for as long as the browser session lasts
KEYS = "_kept_keys"  # every kept widget key met in this session
URL_KEYS = "_url_choices"  # widget key -> URL parameter, for the widgets of the page being shown
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
    if url:
        st.session_state.setdefault(URL_KEYS, {})[key] = url
    if key in st.session_state:
        return key
    value = mirror.get(key, _MISSING)
    if value is _MISSING and url and url in st.query_params:
        value = _parsed(url, parse, multiple=isinstance(default, list))
    if value is not _MISSING and options is not None and not _offered(value, options):
        value = _MISSING
    if value is _MISSING:
        value = default
    if value is not None:
        st.session_state[key] = value
    return key


def remember(key: str, value: Any) -> None:
    """Keep a choice that is not a widget (a position in a queue, say) for the rest of the session."""
    st.session_state.setdefault(MIRROR, {})[key] = value


def recall(key: str, default: Any = None) -> Any:
    return st.session_state.get(MIRROR, {}).get(key, default)


def remember_choices() -> None:
    """Copy the kept widgets' values into the mirror (before Streamlit drops those of an undrawn page)."""
    mirror: dict[str, Any] = st.session_state.setdefault(MIRROR, {})
    for key in st.session_state.get(KEYS, set()):
        if key in st.session_state:
            mirror[key] = st.session_state[key]
    st.session_state[URL_KEYS] = {}


def publish_choices() -> None:
    """Write the shown page's bookmarkable choices into the URL (page changes clear it)."""
    for key, name in st.session_state.get(URL_KEYS, {}).items():
        value = st.session_state.get(key)
        if value is None or value == "" or value == []:
            st.query_params.pop(name, None)
        elif isinstance(value, (list, tuple)):
            st.query_params[name] = [str(v) for v in value]
        else:
            st.query_params[name] = str(value)
        st.session_state.setdefault(MIRROR, {})[key] = value


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
