"""Deployment files stay consistent with the code: BentoCloud configs, Kubernetes, env, Locust.

No server is started. BentoCloud configs are checked with BentoML's own client schema (the
one `bentoml deployment create -f` uses), and env names against transcrevai.settings.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from transcrevai.pipeline import run_pipeline
from transcrevai.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
CLOUD = {"cpu": DEPLOY / "bentocloud-cpu.yaml", "gpu": DEPLOY / "bentocloud-gpu.yaml"}
# read by BentoML or the image entrypoint, not by Settings (documented in env.example too)
PLATFORM_VARS = {
    "PORT",
    "BENTOML_DO_NOT_TRACK",
    "BENTOML_HOME",
    "BENTOML_RESULT_STORE",
    "BENTOML_CONFIG_OVERRIDES",
}
RUNNERS = ("whisper_runner", "diarization_runner")
SETTING_VARS = {name.upper() for name in Settings.model_fields}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d is not None]


def k8s_objects() -> dict[str, dict[str, Any]]:
    """Kubernetes manifests by kind (each kind appears once in deploy/k8s)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_all(path):
            assert doc["kind"] not in out, f"two {doc['kind']} manifests"
            out[doc["kind"]] = doc
    return out


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "env.example").read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_every_yaml_in_deploy_parses() -> None:
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert len(files) >= 9
    for path in files:
        docs = load_all(path)
        assert docs and all(isinstance(d, dict) for d in docs), path


@pytest.fixture(scope="module")
def service_names() -> set[str]:
    """The @bentoml.service names of the entry service and its runners, from the code."""
    code = (
        "import json; from service import TranscrevAI as S; "
        "print(json.dumps([S.name, *[d.on.name for d in S.dependencies.values()]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("variant", sorted(CLOUD))
def test_bentocloud_config_scales_every_service_to_zero(
    variant: str, service_names: set[str]
) -> None:
    from bentoml._internal.cloud.schemas.schemasv2 import DeploymentConfigSchema
    from bentoml._internal.utils.cattr import bentoml_cattr

    cfg = yaml.safe_load(CLOUD[variant].read_text("utf-8"))
    assert cfg["name"] == f"transcrevai-{variant}"
    assert cfg["bento"].startswith("transcrevai")
    body = {k: v for k, v in cfg.items() if k not in ("name", "bento", "cluster")}
    parsed = bentoml_cattr.structure(body, DeploymentConfigSchema)
    # the schema ignores unknown keys; a round trip that drops one reveals a typo
    round_trip = bentoml_cattr.unstructure(parsed)
    round_trip.setdefault("access_authorization", parsed.access_authorization)  # default: omitted
    assert round_trip == body
    assert (
        set(parsed.services)
        == service_names
        == {
            "transcrevai",
            "whisper_runner",
            "diarization_runner",
        }
    )
    scaling: dict[str, Any] = {}
    for name, svc in parsed.services.items():
        assert svc.instance_type and svc.scaling and svc.scaling.policy, name
        scaling[name] = svc.scaling
        assert svc.scaling.min_replicas == 0, name
        assert (svc.scaling.max_replicas or 0) >= 1, name
        assert svc.scaling.policy.scale_up_behavior in ("fast", "stable"), name
        traffic = (svc.config_overrides or {})["traffic"]
        assert traffic["external_queue"] is True and traffic["concurrency"] >= 1, name
    # job records live on the entry replica's disk (see the comment in the file)
    assert scaling["transcrevai"].max_replicas == 1
    # a service with a @bentoml.task defaults to concurrency 1: no cross-request batching
    entry = body["services"]["transcrevai"]["config_overrides"]["traffic"]["concurrency"]
    assert entry >= 8
    # ...but each request keeps up to max_in_flight chunk calls open, and BentoML's client
    # pool to a runner has 100 connections (aiohttp's default) that /readyz also waits on
    in_flight = inspect.signature(run_pipeline).parameters["max_in_flight"].default
    assert entry * in_flight <= 100


@pytest.mark.parametrize("variant", sorted(CLOUD))
def test_bentocloud_overrides_are_valid_service_config(variant: str) -> None:
    import schema
    from bentoml._internal.configuration.v2 import _SERVICE_CONFIG

    cfg = yaml.safe_load(CLOUD[variant].read_text("utf-8"))
    for name, svc in cfg["services"].items():
        try:
            schema.Schema(_SERVICE_CONFIG).validate(svc["config_overrides"])
        except schema.SchemaError as exc:
            pytest.fail(f"{variant}/{name}: {exc}")


def cloud_envs(cfg: dict[str, Any], service: str) -> dict[str, str]:
    """Environment one service sees: global envs, then its own (which win)."""
    envs = {e["name"]: e["value"] for e in cfg.get("envs", [])}
    envs.update({e["name"]: e["value"] for e in cfg["services"][service].get("envs", [])})
    return envs


def test_gpu_variant_uses_cuda_float16_and_bigger_batches() -> None:
    cpu = yaml.safe_load(CLOUD["cpu"].read_text("utf-8"))
    gpu = yaml.safe_load(CLOUD["gpu"].read_text("utf-8"))
    cpu_w, gpu_w = cloud_envs(cpu, "whisper_runner"), cloud_envs(gpu, "whisper_runner")
    assert (cpu_w["WHISPER_DEVICE"], cpu_w["WHISPER_COMPUTE_TYPE"]) == ("cpu", "int8")
    assert (gpu_w["WHISPER_DEVICE"], gpu_w["WHISPER_COMPUTE_TYPE"]) == ("cuda", "float16")
    assert int(gpu_w["WHISPER_MAX_BATCH_SIZE"]) > int(cpu_w["WHISPER_MAX_BATCH_SIZE"])
    assert gpu["services"]["whisper_runner"]["instance_type"].startswith("gpu.")
    assert gpu["services"]["whisper_runner"]["config_overrides"]["resources"]["gpu"] == 1
    # the entry service and diarization stay on CPU instances
    for name in ("transcrevai", "diarization_runner"):
        assert gpu["services"][name]["instance_type"].startswith("cpu."), name


def deploy_env_sets() -> dict[str, dict[str, str]]:
    sets = {}
    for variant, path in CLOUD.items():
        cfg = yaml.safe_load(path.read_text("utf-8"))
        for service in cfg["services"]:
            sets[f"{variant}/{service}"] = cloud_envs(cfg, service)
    sets["k8s/configmap"] = dict(k8s_objects()["ConfigMap"]["data"])
    return sets


def test_deploy_env_names_are_known_and_values_valid() -> None:
    for where, envs in deploy_env_sets().items():
        unknown = set(envs) - SETTING_VARS - PLATFORM_VARS
        assert not unknown, f"{where}: unknown env vars {sorted(unknown)}"
        values = {k.lower(): v for k, v in envs.items() if k in SETTING_VARS}
        Settings.model_validate(values)  # raises on a value the service would refuse at start


def test_deploy_configs_queue_instead_of_shedding_load() -> None:
    """BentoML's batch dispatcher answers 503 to calls it expects to wait past max_latency_ms;
    under overload that failed most jobs of a 50-user load test with the code defaults."""
    for where, envs in deploy_env_sets().items():
        for name in ("WHISPER_MAX_LATENCY_MS", "DIARIZATION_MAX_LATENCY_MS"):
            assert int(envs[name]) >= 600_000, f"{where}: {name}={envs[name]}"


def test_deploy_configs_keep_runner_connections_open() -> None:
    """BentoML's client recycles its session to a runner every 100 calls / 300 s by default and
    cuts the calls in flight; each deploy target must raise both limits for both runners."""
    configmap = json.loads(k8s_objects()["ConfigMap"]["data"]["BENTOML_CONFIG_OVERRIDES"])
    example = json.loads(env_example()["BENTOML_CONFIG_OVERRIDES"])
    assert example == configmap
    views = {"k8s": {r: configmap["services"][r]["runner_connection"] for r in RUNNERS}}
    for variant, path in CLOUD.items():
        svcs = yaml.safe_load(path.read_text("utf-8"))["services"]
        views[variant] = {r: svcs[r]["config_overrides"]["runner_connection"] for r in RUNNERS}
    for where, conns in views.items():
        for runner, conn in conns.items():
            assert conn["max_requests"] >= 10**6, (where, runner)
            assert conn["max_age"] >= 24 * 3600, (where, runner)
    # /readyz must not queue behind jobs in that pool (Kubernetes would drop a busy pod)
    assert configmap["services"]["transcrevai"]["runner_probe"] == {"enabled": False}


def test_env_example_matches_settings_both_ways() -> None:
    pairs = env_example()
    names = set(pairs)
    assert SETTING_VARS - names == set(), "settings missing from deploy/env.example"
    assert names - SETTING_VARS == PLATFORM_VARS, "env.example names that are no setting"
    # the documented values are the real defaults
    parsed = Settings.model_validate({k.lower(): v for k, v in pairs.items() if k in SETTING_VARS})
    for field, info in Settings.model_fields.items():
        got, default = getattr(parsed, field), info.default
        if isinstance(default, Path):
            got = Path(str(got)).expanduser()
        assert got == default, f"{field.upper()}: env.example says {got!r}, default {default!r}"


def test_deployment_guide_lists_every_setting() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text("utf-8")
    missing = [name for name in sorted(SETTING_VARS) if f"`{name}`" not in guide]
    assert not missing, f"docs/deployment.md lacks {missing}"


def test_gpu_bentofile_mirrors_bentofile() -> None:
    cpu = yaml.safe_load((ROOT / "bentofile.yaml").read_text("utf-8"))
    gpu = yaml.safe_load((DEPLOY / "bentofile-gpu.yaml").read_text("utf-8"))
    assert gpu["name"] == "transcrevai-gpu" and gpu["docker"]["cuda_version"].startswith("12")
    for key in set(cpu) | set(gpu):
        if key in ("name", "envs"):
            continue
        if key == "docker":
            rest = {k: v for k, v in gpu["docker"].items() if k != "cuda_version"}
            assert rest == cpu["docker"]
        else:
            assert gpu.get(key) == cpu.get(key), key
    assert {e["name"] for e in gpu["envs"]} == {e["name"] for e in cpu["envs"]}


def test_k8s_deployment_probes_and_wiring() -> None:
    objs = k8s_objects()
    dep, svc, cm, pvc = (
        objs["Deployment"],
        objs["Service"],
        objs["ConfigMap"],
        objs["PersistentVolumeClaim"],
    )
    pod = dep["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port_names == {"http": 3000}
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] in ("/readyz", "/livez")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in port_names, probe
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    # Service → pods → port
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["ports"][0]["targetPort"] in port_names
    # env from the ConfigMap, API keys from an optional Secret
    refs = {k: v["name"] for e in container["envFrom"] for k, v in e.items()}
    assert refs["configMapRef"] == cm["metadata"]["name"]
    assert refs["secretRef"] == "transcrevai-keys"
    # JOBS_DIR sits on the PersistentVolumeClaim
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert list(claims.values()) == [pvc["metadata"]["name"]]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    jobs_mount = Path(mounts[next(iter(claims))])
    assert jobs_mount in Path(cm["data"]["JOBS_DIR"]).parents
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]


def test_k8s_autoscalers_target_the_deployment() -> None:
    objs = k8s_objects()
    name = objs["Deployment"]["metadata"]["name"]
    hpa = objs["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert hpa["spec"]["minReplicas"] >= 1  # an HPA cannot reach zero; KEDA does that
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    so, route = objs["ScaledObject"], objs["InterceptorRoute"]
    assert so["spec"]["scaleTargetRef"]["name"] == name and so["spec"]["minReplicaCount"] == 0
    (trigger,) = so["spec"]["triggers"]
    assert trigger["type"] == "external-push"
    assert trigger["metadata"]["interceptorRoute"] == route["metadata"]["name"]
    assert route["spec"]["target"]["service"] == objs["Service"]["metadata"]["name"]
    assert route["spec"]["target"]["port"] == objs["Service"]["spec"]["ports"][0]["port"]


def test_kustomization_lists_existing_files_without_both_autoscalers() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))
    for res in kust["resources"]:
        assert (K8S / res).is_file(), res
    assert "hpa.yaml" in kust["resources"] and "keda-http.yaml" not in kust["resources"]


LOCUST_PROBE = """
import json, runpy, sys, tempfile, wave
from pathlib import Path
mod = runpy.run_path("deploy/locustfile.py")
from locust import HttpUser
tmp = Path(tempfile.mkdtemp())
with wave.open(str(tmp / "a.wav"), "wb") as w:   # 1.5 s of 16 kHz silence
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(bytes(48000))
(tmp / "b.mp3").write_bytes(b"x"); (tmp / "notes.txt").write_text("x")
(tmp / "clips.json").write_text(json.dumps({"b.mp3": 42.0}))
clips = {c.path.name: c.seconds for c in mod["load_clips"](tmp)}
ledger = mod["Ledger"]()
c = mod["load_clips"](tmp)[0]
for i in ("j1", "j2", "j3"):
    ledger.submitted(i, c, diarize=False)
ledger.finished("j1", "done"); ledger.finished("j2", "failed", {"code": "x"})
s = ledger.summary()
users = {n: {"http": issubclass(u, HttpUser), "tasks": len(u.tasks), "fixed": u.fixed_count}
         for n, u in mod.items() if n in ("JobUser", "SyncUser", "ProbeUser")}
print(json.dumps({"clips": clips, "users": users,
                  "ledger": [s["submitted"], s["completed"], s["failed"], s["pending"]]}))
"""


def test_locustfile_defines_users_and_counts_jobs() -> None:
    # a subprocess: importing locust monkey-patches the standard library (gevent)
    out = subprocess.run(
        [sys.executable, "-c", LOCUST_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["clips"] == {"a.wav": 1.5, "b.mp3": 42.0}
    users = got["users"]
    assert set(users) == {"JobUser", "SyncUser", "ProbeUser"}
    assert all(u["http"] and u["tasks"] == 1 for u in users.values())
    assert users["ProbeUser"]["fixed"] == 1
    assert got["ledger"] == [3, 1, 1, ["j3"]]
