"""The deployment artifacts stay deployable.

Kubernetes manifests validate against the API schemas that kubernetes-validate ships (offline),
every kustomization points at files that exist, the overlays render to what they promise
(when kustomize or kubectl is installed), and docker-compose.yml and the Dockerfile keep
their shape. Fast and offline: no Docker engine, no cluster.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
NATS_CONF = ROOT / "deploy" / "nats" / "nats.conf"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# The oldest Kubernetes release the manifests must work on (schemas ship with kubernetes-validate).
K8S_VERSION = "1.31.0"

# Kubernetes / compose name -> (Python module, HTTP port for /healthz, /readyz, /metrics).
SERVICES = {
    "market-data": ("market_data", 8084),
    "strategy": ("strategy", 8081),
    "risk": ("risk", 8082),
    "execution": ("execution", 8083),
    "gateway": ("gateway", 8000),
}
NATS_SECRET = "foxtrot-nats-credentials"
DATABASE_SECRET = "foxtrot-database"
# Services that keep state in PostgreSQL, each with its own schema and migration.
STATEFUL = frozenset({"execution", "market-data", "risk", "strategy"})

Doc = dict[str, Any]


# --- helpers ----------------------------------------------------------------------------------


def load_docs(path: Path) -> list[Doc]:
    """The non-empty YAML documents of a file."""
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def base_resources() -> list[tuple[str, Doc]]:
    """(file, document) for every resource the base kustomization lists."""
    kustomization = load_docs(BASE / "kustomization.yaml")[0]
    return [(entry, doc) for entry in kustomization["resources"] for doc in load_docs(BASE / entry)]


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(workload: Doc) -> Doc:
    containers: list[Doc] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def env_of(c: Doc) -> dict[str, Any]:
    """A container's env as name -> value (or the valueFrom mapping)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def nats_password_key(module: str) -> str:
    return f"FOXTROT_NATS_{module.upper()}_PASSWORD"


def validate(doc: Doc, where: str) -> None:
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{where}: {doc['kind']}/{doc['metadata']['name']} at {path}: {exc.message}")


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run(
        [*command, str(OVERLAYS[overlay])], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kustomize build {overlay} failed:\n{result.stderr}"
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def is_pinned(image: str) -> bool:
    """``name:tag`` with a tag other than ``latest`` (a registry's port is not a tag)."""
    repository, _, tag = image.rpartition(":")
    return bool(repository) and bool(tag) and tag != "latest" and "/" not in tag


def nats_routes(server_conf: str) -> list[str]:
    return re.findall(r"nats://[\w.-]+:6222", server_conf)


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: str) -> str:
    """A compose value with each ${VAR:-default} replaced by its default."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value)


@functools.cache
def compose() -> Doc:
    return load_docs(COMPOSE)[0]


# --- Kubernetes: files and schemas ---------------------------------------------------------------


def test_the_target_kubernetes_version_has_schemas() -> None:
    assert K8S_VERSION in all_versions()


@pytest.mark.parametrize(
    ("entry", "doc"),
    [
        pytest.param(entry, doc, id=f"{entry}:{doc['kind']}/{doc['metadata']['name']}")
        for entry, doc in base_resources()
    ],
)
def test_base_resources_are_valid_kubernetes(entry: str, doc: Doc) -> None:
    validate(doc, f"base/{entry}")


@pytest.mark.parametrize(
    "kustomization", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S))
)
def test_every_file_a_kustomization_names_exists(kustomization: Path) -> None:
    spec = load_docs(kustomization)[0]
    here = kustomization.parent
    missing = []
    for entry in spec.get("resources", []):
        target = here / entry
        if not (target.is_file() or (target / "kustomization.yaml").is_file()):
            missing.append(entry)
    for patch in spec.get("patches", []):
        if "path" in patch and not (here / patch["path"]).is_file():
            missing.append(patch["path"])
        if "path" not in patch and "patch" not in patch:
            missing.append(f"patch without path or body: {patch}")
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        for entry in generator.get("files", []) + generator.get("envs", []):
            if not (here / entry.split("=", 1)[-1]).is_file():
                missing.append(entry)
    assert not missing, f"{kustomization.relative_to(ROOT)} names missing files: {missing}"


def test_patch_files_name_their_targets() -> None:
    for kustomization in kustomizations():
        for patch in load_docs(kustomization)[0].get("patches", []):
            if "path" not in patch:
                continue
            for doc in load_docs(kustomization.parent / patch["path"]):
                assert {"apiVersion", "kind", "metadata"} <= doc.keys(), patch["path"]
                assert doc["metadata"].get("name"), patch["path"]


def test_market_data_is_the_only_autoscaled_workload() -> None:
    targets = []
    for path in K8S.rglob("*.yaml"):
        for doc in load_docs(path):
            if doc.get("kind") == "HorizontalPodAutoscaler" and "$patch" not in doc:
                ref = doc["spec"].get("scaleTargetRef")
                if ref is not None:
                    targets.append((ref["kind"], ref["name"]))
    assert targets == [("Deployment", "market-data")]


def test_market_data_has_a_disruption_budget() -> None:
    pdbs = by_kind([doc for _, doc in base_resources()], "PodDisruptionBudget")
    selector = pdbs["market-data"]["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "market-data"}


def test_single_replica_services_never_overlap_during_a_rollout() -> None:
    # Two strategy pods would split each instance's consumers and both send its orders;
    # two execution pods would run two simulated venues on one database.
    deployments = by_kind([doc for _, doc in base_resources()], "Deployment")
    for name in ("strategy", "execution"):
        assert deployments[name]["spec"]["strategy"] == {"type": "Recreate"}, name


@pytest.mark.parametrize("name", SERVICES)
def test_service_deployments_follow_the_contract(name: str) -> None:
    docs = [doc for _, doc in base_resources()]
    module, port = SERVICES[name]
    deployment = by_kind(docs, "Deployment")[name]
    pod = deployment["spec"]["template"]
    c = container(deployment)
    env = env_of(c)

    assert c["image"].split(":")[0] == "foxtrot"
    assert c["command"] == ["python", "-m", f"foxtrot.{module}"]
    assert [p["containerPort"] for p in c["ports"]] == [port]
    assert env["FOXTROT_HTTP_PORT"] == str(port)
    assert env["OTEL_SERVICE_NAME"] == f"foxtrot-{name}"
    assert env["FOXTROT_NATS_USER"] == module
    assert env["FOXTROT_NATS_PASSWORD"] == {
        "secretKeyRef": {"name": NATS_SECRET, "key": nats_password_key(module)}
    }
    assert {"configMapRef": {"name": "foxtrot-config"}} in c["envFrom"]
    if name in STATEFUL:
        assert env["DATABASE_URL"] == {
            "secretKeyRef": {"name": DATABASE_SECRET, "key": "DATABASE_URL"}
        }
    else:
        assert "DATABASE_URL" not in env

    http_port = {p["name"]: p["containerPort"] for p in c["ports"]}["http"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert http_port == port
    assert {"cpu", "memory"} <= c["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= c["resources"]["limits"].keys()
    assert pod["spec"]["terminationGracePeriodSeconds"] == 30
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }

    service = by_kind(docs, "Service")[name]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_each_stateful_service_has_a_migration_job(name: str) -> None:
    job = by_kind([doc for _, doc in base_resources()], "Job")[f"{name}-migrate"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    module = name.replace("-", "_")
    assert c["command"] == ["python", "-m", f"foxtrot.{module}", "migrate"]
    assert env_of(c)["DATABASE_URL"] == {
        "secretKeyRef": {"name": DATABASE_SECRET, "key": "DATABASE_URL"}
    }


def test_secrets_in_base_are_placeholders_with_every_key_used() -> None:
    secrets = by_kind([doc for _, doc in base_resources()], "Secret")
    for secret in secrets.values():
        for key, value in secret["stringData"].items():
            assert "change-me" in value, f"{key} in base must stay a placeholder"
    nats_keys = set(secrets[NATS_SECRET]["stringData"])
    expected = {nats_password_key(m) for m, _ in SERVICES.values()}
    assert nats_keys == expected | {nats_password_key("ingest"), nats_password_key("admin")}
    assert set(secrets[DATABASE_SECRET]["stringData"]) == {"DATABASE_URL"}


def test_nats_statefulset_reads_its_config_and_credentials() -> None:
    docs = [doc for _, doc in base_resources()]
    nats = by_kind(docs, "StatefulSet")["nats"]
    c = container(nats)
    assert nats["spec"]["serviceName"] == "nats"
    assert by_kind(docs, "Service")["nats"]["spec"]["clusterIP"] == "None"
    assert {"secretRef": {"name": NATS_SECRET}} in c["envFrom"]
    assert c["args"] == ["--config", "/etc/nats/server.conf"]
    routes = nats_routes((BASE / "nats" / "server.conf").read_text())
    assert routes == [f"nats://nats-{i}.nats:6222" for i in range(nats["spec"]["replicas"])]


# --- NATS configuration ------------------------------------------------------------------------


def test_the_kubernetes_copy_of_nats_conf_is_identical() -> None:
    copy = BASE / "nats" / "nats.conf"
    assert copy.read_text() == NATS_CONF.read_text(), (
        f"{copy.relative_to(ROOT)} must be a copy of {NATS_CONF.relative_to(ROOT)} "
        "(kustomize cannot read files outside its directory)"
    )


def test_nats_conf_has_the_shared_settings() -> None:
    text = NATS_CONF.read_text()
    assert re.search(r"^listen:\s*0\.0\.0\.0:4222$", text, re.M)
    assert re.search(r"^http:\s*8222$", text, re.M)
    assert re.search(r"^max_payload:\s*8MB$", text, re.M)
    assert re.search(r"^jetstream\s*\{[^}]*store_dir:\s*/data", text, re.M | re.S)
    assert re.search(r"^\s*(#\s*AUTHORIZATION|authorization\s*[{:])", text, re.M)


def test_every_password_nats_conf_reads_is_provided() -> None:
    referenced = set(re.findall(r"\$(FOXTROT_NATS_\w+_PASSWORD)", NATS_CONF.read_text()))
    compose_env = set(compose()["services"]["nats"]["environment"])
    secret = by_kind([doc for _, doc in base_resources()], "Secret")[NATS_SECRET]
    assert referenced <= compose_env
    assert referenced <= set(secret["stringData"])


# --- Kubernetes: rendered overlays ---------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_to_valid_kubernetes(overlay: str) -> None:
    docs = rendered(overlay)
    for doc in docs:
        validate(doc, f"overlays/{overlay}")
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "foxtrot", doc["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_images_are_pinned(overlay: str) -> None:
    for doc in rendered(overlay):
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            image = container(doc)["image"]
            assert is_pinned(image), image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_references_resolve(overlay: str) -> None:
    docs = rendered(overlay)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        spec = doc["spec"]["template"]["spec"]
        for c in spec["containers"]:
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in names
                if "secretRef" in source:
                    assert ("Secret", source["secretRef"]["name"]) in names
            for value in env_of(c).values():
                if isinstance(value, dict) and "secretKeyRef" in value:
                    assert ("Secret", value["secretKeyRef"]["name"]) in names
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in names


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        (
            "dev",
            {"nats": 1, "market-data": 1, "strategy": 1, "risk": 1, "execution": 1, "gateway": 1},
        ),
        # strategy and execution keep state in memory (strategy instances, the simulated
        # venue's book): one replica each until they partition it.
        (
            "prod",
            {"nats": 3, "market-data": 3, "strategy": 1, "risk": 1, "execution": 1, "gateway": 2},
        ),
    ],
)
def test_overlay_replicas(overlay: str, expected: dict[str, int]) -> None:
    docs = rendered(overlay)
    workloads = by_kind(list(docs), "Deployment") | by_kind(list(docs), "StatefulSet")
    assert {name: w["spec"]["replicas"] for name, w in workloads.items()} == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_nats_routes_match_its_replicas(overlay: str) -> None:
    docs = list(rendered(overlay))
    replicas = by_kind(docs, "StatefulSet")["nats"]["spec"]["replicas"]
    (config,) = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("nats-config")
    ]
    routes = nats_routes(config["data"]["server.conf"])
    assert config["data"]["nats.conf"] == NATS_CONF.read_text()
    if replicas == 1:
        assert routes == []
        assert "cluster" not in re.sub(r"#.*", "", config["data"]["server.conf"])
    else:
        assert routes == [f"nats://nats-{i}.nats:6222" for i in range(replicas)]


def test_prod_autoscales_market_data_and_exposes_only_the_gateway() -> None:
    docs = list(rendered("prod"))
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert list(hpas) == ["market-data"]
    assert (
        hpas["market-data"]["spec"]["minReplicas"],
        hpas["market-data"]["spec"]["maxReplicas"],
    ) == (2, 8)
    backends = [
        path["backend"]["service"]["name"]
        for ingress in by_kind(docs, "Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == ["gateway"]


def test_dev_has_no_autoscaler_or_ingress() -> None:
    kinds = {d["kind"] for d in rendered("dev")}
    assert not kinds & {"HorizontalPodAutoscaler", "Ingress"}


# --- docker-compose.yml ------------------------------------------------------------------------

# Services without a healthcheck, and why.
NO_HEALTHCHECK = {
    "nats": "nats:2.15 is a scratch image: no shell or HTTP client to run a check with",
    "migrate": "one-shot: its exit code is its health",
}


def test_compose_has_the_platform() -> None:
    assert set(compose()["services"]) == {"nats", "postgres", "migrate", *SERVICES}


def test_compose_images_are_pinned() -> None:
    for name, service in compose()["services"].items():
        assert "image" in service, f"{name} has no image"
        image = interpolate(service["image"])
        assert is_pinned(image), f"{name}: {image}"


def test_compose_services_have_healthchecks() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name in NO_HEALTHCHECK:
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name}: no healthcheck"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_contract(name: str) -> None:
    services = compose()["services"]
    module, port = SERVICES[name]
    service = services[name]
    env = service["environment"]

    assert service["command"] == ["python", "-m", f"foxtrot.{module}"]
    assert "build" in service
    assert service["image"] == services["migrate"]["image"]
    assert env["NATS_URL"] == "nats://nats:4222"
    assert env["FOXTROT_HTTP_PORT"] == str(port)
    assert env["OTEL_SERVICE_NAME"] == f"foxtrot-{name}"
    assert env["FOXTROT_NATS_USER"] == module
    # The password the service sends is the one the NATS server is given for that user.
    password_key = nats_password_key(module)
    assert env["FOXTROT_NATS_PASSWORD"] == services["nats"]["environment"][password_key]
    assert env["FOXTROT_NATS_PASSWORD"].startswith(f"${{{password_key}:-")
    if name in STATEFUL:
        assert env["DATABASE_URL"] == services["migrate"]["environment"]["DATABASE_URL"]
    else:
        assert "DATABASE_URL" not in env
    assert service["depends_on"]["nats"]["condition"] in ("service_started", "service_healthy")
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert f"http://localhost:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_compose_migrate_and_gateway() -> None:
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == [
        "sh",
        "-c",
        "python -m foxtrot.execution migrate && python -m foxtrot.market_data migrate"
        " && python -m foxtrot.risk migrate && python -m foxtrot.strategy migrate",
    ]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert interpolate(migrate["environment"]["DATABASE_URL"]).endswith("@postgres:5432/foxtrot")
    assert [interpolate(p).rsplit(":", 2)[-2:] for p in services["gateway"]["ports"]] == [
        ["8000", "8000"]
    ]
    market_data = services["market-data"]["environment"]
    assert (market_data["FOXTROT_REPLAY_SOURCE"], market_data["FOXTROT_REPLAY_SPEED"]) == (
        "synthetic",
        "60",
    )


def test_compose_nats_uses_the_shared_config() -> None:
    nats = compose()["services"]["nats"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in nats["volumes"]}
    assert (ROOT / mounts["/etc/nats/nats.conf"]).resolve() == NATS_CONF
    command = nats["command"]
    assert command[command.index("-c") + 1] == "/etc/nats/nats.conf"
    # nats-server refuses to start when the store directory is set both ways.
    if "store_dir" in NATS_CONF.read_text():
        assert not {"-sd", "--store_dir"} & set(command)


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_is_pinned_lean_and_unprivileged() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    latest = [line for line in lines if re.search(r":latest\b", line)]
    assert latest == ["COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in lines
    syncs = [line for line in lines if "uv sync" in line]
    assert syncs
    assert all("--frozen" in s and "--no-dev" in s for s in syncs)
    users = [line.split()[1].split(":")[0] for line in lines if line.startswith("USER ")]
    assert users, "the image must switch to an unprivileged user"
    assert users[-1] != "0"
    assert users[-1].isdigit(), "a numeric uid lets runAsNonRoot verify it"
