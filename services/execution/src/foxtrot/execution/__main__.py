"""``python -m foxtrot.execution [migrate]``: run execution, or apply its migrations."""

from __future__ import annotations

import sys

from foxtrot.common.persistence import upgrade_schema
from foxtrot.common.runtime import serve
from foxtrot.execution.app import MIGRATIONS, SCHEMA, create_app
from foxtrot.execution.config import ExecutionSettings


def main() -> None:
    """Run until SIGTERM, or with ``migrate`` bring the schema to head and exit."""
    settings = ExecutionSettings()
    if sys.argv[1:] == ["migrate"]:
        if not settings.database_url:
            sys.exit("set DATABASE_URL to migrate")
        upgrade_schema(settings.database_url, MIGRATIONS, SCHEMA)
        return
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
