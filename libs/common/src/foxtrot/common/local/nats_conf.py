"""Keep the users block of nats.conf files in step with ``foxtrot.common.access``.

``python -m foxtrot.common.local.nats_conf FILE...`` (``make nats-config``) replaces the
block between the BEGIN and END markers (or the placeholder line) with users whose
passwords are ``$FOXTROT_NATS_<USER>_PASSWORD``, read by nats-server from its environment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from foxtrot.common.access import ADMIN, USERS, render_authorization

__all__ = ["BEGIN", "END", "password_variables", "rendered_block", "update"]

BEGIN: Final = "# BEGIN AUTHORIZATION: rendered by make nats-config from foxtrot.common.access"
END: Final = "# END AUTHORIZATION"
_PLACEHOLDER: Final = "# AUTHORIZATION: rendered by make nats-config"


def password_variables() -> dict[str, str]:
    """Each NATS user and the environment variable that holds its password."""
    names = [user.name for user in USERS] + [ADMIN]
    return {name: f"FOXTROT_NATS_{name.upper()}_PASSWORD" for name in names}


def rendered_block() -> str:
    """The marked authorization block."""
    variables = {name: f"${var}" for name, var in password_variables().items()}
    return f"{BEGIN}\n{render_authorization(variables)}{END}\n"


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
