"""Keep the rendered block of nats.conf files in step with the code.

``python -m foxtrot.common.local.nats_conf FILE...`` (``make nats-config``) replaces the
block between the BEGIN and END markers (or the placeholder line) with the ingest partition
mappings of ``foxtrot.common.subjects`` and the users of ``foxtrot.common.access``, whose
passwords are ``$FOXTROT_NATS_<USER>_PASSWORD``, read by nats-server from its environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

from foxtrot.common.access import ADMIN, USERS, render_authorization
from foxtrot.common.subjects import ingest_mappings

__all__ = ["BEGIN", "END", "password_variables", "render_mappings", "rendered_block", "update"]

BEGIN: Final = "# BEGIN RENDERED: by make nats-config from foxtrot.common.subjects and .access"
END: Final = "# END RENDERED"
_PLACEHOLDER: Final = "# AUTHORIZATION: rendered by make nats-config"


def password_variables() -> dict[str, str]:
    """Each NATS user and the environment variable that holds its password."""
    names = [user.name for user in USERS] + [ADMIN]
    return {name: f"FOXTROT_NATS_{name.upper()}_PASSWORD" for name in names}


def render_mappings() -> str:
    """The ``mappings`` block that spreads ingest subjects over the ingest partitions."""
    lines = [f"  {json.dumps(src)}: {json.dumps(dst)}" for src, dst in ingest_mappings().items()]
    return (
        "# Ingest partitions: each instrument's input lands on one partition subject, which\n"
        "# one market_data replica at a time consumes (see foxtrot.common.subjects).\n"
        "mappings = {\n" + "\n".join(lines) + "\n}\n"
    )


def rendered_block() -> str:
    """The marked block: ingest partition mappings and the authorization block."""
    variables = {name: f"${var}" for name, var in password_variables().items()}
    return f"{BEGIN}\n{render_mappings()}{render_authorization(variables)}{END}\n"


def update(text: str) -> str:
    """``text`` with its authorization block (or placeholder) replaced by the current one."""
    if BEGIN in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END + "\n")
        return head + rendered_block() + tail
    if _PLACEHOLDER in text:
        head, _, rest = text.partition(_PLACEHOLDER)
        return head + rendered_block() + rest.partition("\n")[2]
    raise ValueError(f"no {BEGIN!r} block or placeholder to replace")


def main(paths: list[str]) -> int:
    """Rewrite each file in place."""
    for name in paths:
        path = Path(name)
        path.write_text(update(path.read_text()))
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
