"""Sign-in and roles when the app is served to a team (`sde-workbench app --auth FILE`).

With Streamlit's `[auth]` configured, nobody sees a page before signing in with the OIDC provider; the curator
is then the signed-in identity (no typed name), and the `[access]` allow-list of the workspace decides which
pages they get. Alone on 127.0.0.1 (no `[auth]`), everything stays as it was.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from curation.core import AccessDenied, Action, Role, Workspace, allowed_path, is_local_address, permits, role_of

ROLE = "_signed_in_role"


def team_mode() -> bool:
    """Whether sign-in is configured (Streamlit's secrets hold an `[auth]` section)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def role() -> Role | None:
    """The signed-in person's role; None when the app is not served to a team."""
    return st.session_state.get(ROLE) if team_mode() else None


def may(action: Action) -> bool:
    """Whether the person using the app may do `action` (always, when the app is not served to a team)."""
    current = role()
    return current is None or permits(current, action)


def gate(ws: Workspace) -> None:
    """Before any page: refuse a non-local address without sign-in, ask to sign in, and set the curator to the
    signed-in identity with the role the allow-list gives it (someone not on it gets no page)."""
    if not team_mode():
        address = st.get_option("server.address")
        if address and not is_local_address(address):
            st.error(f"This app is served on {address} without sign-in. Start it with `sde-workbench app --auth FILE`.")
            st.stop()
        return
    if not st.user.is_logged_in:
        st.title("SDE Workbench")
        st.write("This workspace is shared by a team: sign in to judge and curate under your own name.")
        if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
            st.login()
        st.stop()
    identity = str(st.user.get("email") or st.user.get("sub") or "")
    granted = role_of(ws.settings.access, identity)
    if granted is None:
        st.error(f"{identity} is not on this workspace's allow-list; ask an admin to add you to [access].")
        if st.button("Sign out", key="sign_out_refused"):
            st.logout()
        st.stop()
    st.session_state["curator"] = identity
    st.session_state[ROLE] = granted


def signed_in_panel() -> None:
    """The sidebar's identity in a team's app: who is signed in, their role, and a way out."""
    st.caption("Signed in as")
    st.markdown(f"**{st.session_state.get('curator', '')}** · {role()}")
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        st.logout()


def readable_path(ws: Workspace, path: Path) -> Path | None:
    """A typed path the app may read: any path alone on this machine, only allowed folders for a team (else an
    error is shown and None returned)."""
    if not team_mode():
        return path
    try:
        return allowed_path(ws.settings.access, path)
    except AccessDenied as err:
        st.error(str(err))
        return None
