"""``python -m foxtrot.execution [migrate]``: run the execution service, or apply its migrations."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.execution.app import MIGRATIONS, SCHEMA, create_app
from foxtrot.execution.config import ExecutionSettings


def main() -> None:
    """Run until SIGTERM (or, with ``migrate``, bring the schema to head)."""
    run_service(create_app, ExecutionSettings(), (MIGRATIONS, SCHEMA))


if __name__ == "__main__":
    main()
