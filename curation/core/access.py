"""Who may do what when the app is served to a team with sign-in.

Alone on 127.0.0.1 the curator may do everything. Served to a team, the signed-in identity (the e-mail the
identity provider vouches for) gets the role the `[access]` allow-list of `workbench.toml` gives it; someone not
on the list gets nothing, and file paths typed into the app must lie under the folders the admin allows.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["judge", "curator", "admin"]
Action = Literal["judge", "ingest", "filter", "embed", "settings", "finetune"]

ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    "judge": frozenset({"judge"}),
    "curator": frozenset({"judge", "ingest", "filter", "embed"}),
    "admin": frozenset({"judge", "ingest", "filter", "embed", "settings", "finetune"}),
}
ACTION_NAMES: dict[str, str] = {
    "judge": "judge query/passage pairs",
    "ingest": "load content",
    "filter": "run rules and LLM jobs",
    "embed": "embed and build maps",
    "settings": "change settings",
    "finetune": "fine-tune retrievers",
}


class AccessSettings(BaseModel):
    """[access]: the allow-list of a team's app (identities as the identity provider gives them: e-mails)."""

    admins: list[str] = Field(default_factory=list, description="may do everything, settings and fine-tuning too")
    curators: list[str] = Field(
        default_factory=list, description="may judge, load content, run rules and LLM jobs, embed"
    )
    judges: list[str] = Field(default_factory=list, description="may only judge")
    allowed_folders: list[str] = Field(
        default_factory=list, description="folders whose files may be read by path in a team's app (Load, Fine-tune)"
    )


class AccessDenied(Exception):
    """A signed-in person asked for something their role does not allow."""


def role_of(access: AccessSettings, identity: str) -> Role | None:
    """The highest role the allow-list gives an identity (case-insensitive), or None when it is not listed."""
    who = identity.strip().lower()
    for role, names in (("admin", access.admins), ("curator", access.curators), ("judge", access.judges)):
        if who in {n.strip().lower() for n in names}:
            return role  # type: ignore[return-value]
    return None


def permits(role: Role, action: Action) -> bool:
    return action in ROLE_ACTIONS[role]


def require(role: Role, action: Action) -> None:
    """AccessDenied naming the role and what it may not do."""
    if not permits(role, action):
        raise AccessDenied(f"your role ({role}) may not {ACTION_NAMES[action]}; ask an admin of this workspace")


def allowed_path(access: AccessSettings, path: Path) -> Path:
    """The path, resolved, when it lies under an allowed folder; AccessDenied otherwise (links are followed
    first, so a link cannot lead out)."""
    resolved = path.expanduser().resolve()
    folders = [Path(f).expanduser().resolve() for f in access.allowed_folders]
    if not any(resolved == folder or resolved.is_relative_to(folder) for folder in folders):
        where = ", ".join(str(f) for f in folders) or "none are allowed ([access] allowed_folders is empty)"
        raise AccessDenied(f"{path} is outside the folders this app may read: {where}")
    return resolved


def is_local_address(address: str) -> bool:
    """Whether binding `address` keeps the app on this machine (a loopback address or localhost)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip()).is_loopback
    except ValueError:
        return False


AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


class ServingRefused(Exception):
    """The app would be served beyond this machine without sign-in, or sign-in is configured wrongly."""


def sign_in_file(address: str, auth: Path | None, workspace_root: Path, access: AccessSettings) -> Path | None:
    """The secrets file that configures sign-in (Streamlit's `[auth]`), checked; None when the app stays local
    without it. Refused: a non-local address without sign-in, a file inside the workspace (credentials stay out
    of it), an `[auth]` section missing a key, or sign-in with nobody on the allow-list."""
    if auth is None:
        if is_local_address(address):
            return None
        raise ServingRefused(
            f"refusing to serve on {address} without sign-in: anyone on the network could read every file path "
            "and LLM key of this machine; pass --auth FILE (a secrets.toml with an [auth] section for your OIDC "
            "provider) or keep the default address 127.0.0.1"
        )
    auth = auth.expanduser().resolve()
    if auth.is_relative_to(workspace_root.resolve()):
        raise ServingRefused(f"{auth} is inside the workspace; keep sign-in secrets outside it")
    try:
        section = tomllib.loads(auth.read_text(encoding="utf-8")).get("auth", {})
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ServingRefused(f"cannot read the sign-in file {auth}: {err}") from err
    missing = [key for key in AUTH_KEYS if not section.get(key)]
    if missing:
        raise ServingRefused(f"{auth}: [auth] lacks {', '.join(missing)}")
    if not (access.admins or access.curators or access.judges):
        raise ServingRefused(
            "sign-in is configured but nobody may use the app: add identities to [access] admins, curators or "
            "judges in workbench.toml"
        )
    return auth
