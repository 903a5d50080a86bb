"""The committed nats.conf files carry exactly the users foxtrot.common.access defines,
and the real nats-server accepts them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from foxtrot.common.local.embedded import nats_server_binary
from foxtrot.common.local.nats_conf import password_variables, rendered_block, update

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = [
    ROOT / "deploy" / "nats" / "nats.conf",
    ROOT / "deploy" / "k8s" / "base" / "nats" / "nats.conf",
]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_nats_conf_has_the_current_users_block(path: Path) -> None:
    assert rendered_block() in path.read_text(), "run `make nats-config`"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_nats_server_accepts_the_committed_config(path: Path, tmp_path: Path) -> None:
    env = {var: f"secret-{user}" for user, var in password_variables().items()}
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_update_replaces_an_old_block_and_keeps_the_rest() -> None:
    stale = f"listen: 1\n{rendered_block().replace('md.v1.ingest.>', 'md.v1.x')}tail: 2\n"
    updated = update(stale)
    assert updated == f"listen: 1\n{rendered_block()}tail: 2\n"


def test_update_refuses_a_file_without_a_block() -> None:
    with pytest.raises(ValueError, match="no"):
        update("listen: 4222\n")
