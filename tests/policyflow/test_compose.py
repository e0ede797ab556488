"""docker-compose.yml and the Dockerfile, checked for what they mean (no Docker engine or
Compose on this machine).

The compose file is parsed and its variables interpolated as Compose does; what can run here
without an engine does run: the production settings with Compose's environment, the image's
build steps in a copy of the build context, the healthcheck commands against a real gunicorn,
a real Celery worker, the local PostgreSQL and Redis, and the image's dependency set.
"""

import fnmatch
import graphlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support import free_port
from tests.support.workers import wait_until

from .helpers import BASE_DIR, VENV_BIN, production_environment

APP_SERVICES = ["web", "worker", "beat", "migrate"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


# --- Compose's variable interpolation -----------------------------------------------------

VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>\w+))")


class RefusedToStart(Exception):
    """Compose's `${NAME:?message}` (or `${NAME?message}`) found the variable missing."""


def interpolate(value, variables: dict[str, str]):
    """``value`` (a string, list or mapping from the compose file) as Compose evaluates it
    against the shell's and .env's ``variables`` (the Compose specification's interpolation)."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"]
        current = variables.get(name)
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":?", "?") and missing:
            raise RefusedToStart(f"{name}: {arg}")
        if op in (":-", "-") and missing:
            return arg
        return current or ""

    return VARIABLE.sub(substitute, value)


def mandatory_variables(compose: dict) -> set[str]:
    """The variables without which Compose refuses to start: found by leaving each out."""
    text = (BASE_DIR / "docker-compose.yml").read_text()
    names = {m["name"] or m["bare"] for m in VARIABLE.finditer(text) if m[0] != "$$"}
    everything = {name: "x" for name in names}
    refused = set()
    for name in names:
        try:
            interpolate(compose, {k: v for k, v in everything.items() if k != name})
        except RefusedToStart:
            refused.add(name)
    return refused


# Values an operator would put in .env (README, "Deploying").
OPERATOR_ENV = {
    "SECRET_KEY": "s" * 60,
    "ALLOWED_HOSTS": "policyflow.example.se",
    "SITE_URL": "https://policyflow.example.se",
    "EMAIL_URL": "smtp+tls://user:password@smtp.example.se:587",
    "POSTGRES_PASSWORD": "0123456789abcdef",
}


def production_settings(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Import the settings DJANGO_SETTINGS_MODULE names in ``environment`` (nothing else from
    this shell) and print what the services' addresses and storage resolved to."""
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "print(json.dumps({'database': settings.DATABASES['default']['HOST'],"
        " 'broker': settings.CELERY_BROKER_URL, 'media': str(settings.MEDIA_ROOT)}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- docker-compose.yml -------------------------------------------------------------------


def test_every_dependency_can_be_met_and_the_services_start_in_an_order(services):
    """A `depends_on` names a service that exists and can meet the condition (a healthcheck to
    be healthy, a one-shot command to complete), and there is no cycle."""
    graph = {}
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):
            depends_on = {other: {"condition": "service_started"} for other in depends_on}
        graph[name] = set(depends_on)
        for other, how in depends_on.items():
            assert other in services, f"{name} depends on an unknown service {other}"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[other], f"{other} can never be healthy"
            if how["condition"] == "service_completed_successfully":
                assert services[other].get("restart") == "no", f"{other} is restarted, not done"

    order = list(graphlib.TopologicalSorter(graph).static_order())  # CycleError on a cycle

    assert order.index("migrate") < min(order.index(name) for name in ("web", "worker", "beat"))


def test_every_long_running_service_can_be_seen_unhealthy(services):
    for name, service in services.items():
        if service.get("restart") != "no":
            assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_every_volume_a_service_mounts_is_declared_and_every_declared_one_is_used(
    compose, services
):
    mounted = set()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if not source.startswith((".", "/", "~")):  # not a bind mount
                mounted.add(source)

    assert mounted == set(compose["volumes"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_settings_start_on_compose_environment_and_reach_its_services(
    compose, services, name
):
    """The environment Compose gives the service, interpolated with an operator's .env, is one
    the settings module it names starts with; the database and broker hosts are services of
    this file, and uploads go to a named volume shared by the services that handle files."""
    environment = interpolate(services[name]["environment"], OPERATOR_ENV)
    environment = {key: str(value) for key, value in environment.items()}

    result = production_settings(environment)

    assert result.returncode == 0, result.stderr[-3000:]
    resolved = json.loads(result.stdout)
    assert resolved["database"] in services and "healthcheck" in services[resolved["database"]]
    assert urlsplit(resolved["broker"]).hostname in services
    if name in ("web", "worker"):  # web stores uploads, the worker reads them for emails
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts.get(resolved["media"]) in compose["volumes"], mounts


def test_compose_refuses_to_start_without_each_variable_production_refuses_to_start_without(
    compose, services
):
    """Derived by running the production settings without each variable in turn: whatever they
    refuse to start without, Compose asks the operator for, rather than passing it empty."""
    templates = services["web"]["environment"]
    web = {k: str(v) for k, v in interpolate(templates, OPERATOR_ENV).items()}
    refused_by_production = set()
    for variable in web:
        if not VARIABLE.search(str(templates[variable])):
            continue  # Compose's own fixed value (a service address), never the operator's
        result = production_settings({**web, variable: ""})  # an unset ${VAR:-} arrives empty
        if result.returncode != 0:
            assert "ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
            refused_by_production.add(variable)
    assert refused_by_production  # the settings do refuse something
    mandatory = mandatory_variables(compose)

    fed_by_operator = set()
    for variable in refused_by_production:
        # The variable itself, or the operator's variables its value is built from.
        template = templates[variable]
        feeding = {m["name"] or m["bare"] for m in VARIABLE.finditer(template) if m[0] != "$$"}
        assert feeding and feeding <= mandatory, (variable, template)
        fed_by_operator |= feeding
    # And the other way: nothing Compose asks for is one production would quietly default.
    assert fed_by_operator == mandatory
    for variable in mandatory:
        with pytest.raises(RefusedToStart, match=variable):
            interpolate(compose, {k: v for k, v in OPERATOR_ENV.items() if k != variable})


def test_with_no_web_port_set_only_the_web_service_is_published_and_on_loopback(services):
    published = {
        name: interpolate(service["ports"], {})
        for name, service in services.items()
        if "ports" in service
    }

    assert list(published) == ["web"]
    for mapping in published["web"]:
        host_ip, _host_port, container_port = mapping.rsplit(":", 2)
        assert host_ip == "127.0.0.1" and container_port == "8000"


# --- The image's build steps --------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (BASE_DIR / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def build_context(destination: Path) -> None:
    """Copy what `docker build` would send: the checkout minus .dockerignore's patterns."""
    patterns = [
        line.strip()
        for line in (BASE_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(BASE_DIR)
        out = set()
        for name in names:
            path = (relative / name).as_posix().removeprefix("./")
            for pattern in patterns:
                if fnmatch.fnmatch(path, pattern) or (
                    pattern.startswith("**/") and fnmatch.fnmatch(name, pattern[3:])
                ):
                    out.add(name)
        return out

    shutil.copytree(BASE_DIR, destination, ignore=ignored, symlinks=True)


def test_the_images_translation_and_static_steps_build_from_the_build_context(tmp_path):
    """The Dockerfile's RUN steps after `COPY . .` that use manage.py, run here on a copy of
    the build context with the image's ENV: the Swedish catalogue compiles and the static files
    (the project's and Django's) are collected, so nothing they need is left out of the image."""
    instructions = dockerfile_instructions()
    copy_all = instructions.index(("COPY", ". ."))
    steps = [
        args for name, args in instructions[copy_all:] if name == "RUN" and "manage.py" in args
    ]
    env_line = next(args for name, args in instructions if name == "ENV")
    image_env = dict(re.findall(r"(\w+)=(\S+)", env_line))
    context = tmp_path / "app"
    build_context(context)
    environment = {
        **image_env,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",  # the image's /opt/venv
        "HOME": str(tmp_path),
    }

    assert steps
    for step in steps:
        result = subprocess.run(
            ["sh", "-c", step],
            cwd=context,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]

    assert (context / "locale" / "sv" / "LC_MESSAGES" / "django.mo").stat().st_size > 0
    collected = context / "staticfiles"
    assert (collected / "css" / "policyflow.css").exists()
    assert (collected / "admin" / "css" / "base.css").exists()


def test_image_dependencies_cover_everything_production_imports(tmp_path, production_env):
    """`uv sync --locked --no-dev`, as in the image, is enough for web, worker and beat."""
    uv = BASE_DIR / ".uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("the Makefile's uv is not installed (.uv/)")
    venv = tmp_path / "venv"
    subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--offline", "--quiet", "--python", "python3.11"],
        cwd=BASE_DIR,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"},
        check=True,
        timeout=300,
    )
    assert not (venv / "bin" / "pytest").exists()  # the dev group stayed out
    script = (
        "import django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "from policyflow.celery import app; app.loader.import_default_modules();"
        "import policyflow.logs, runpy; runpy.run_path('gunicorn.conf.py')"
    )
    production_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"

    result = subprocess.run(
        [venv / "bin" / "python", "-c", script],
        cwd=BASE_DIR,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]


# --- The healthchecks, run against the real servers ---------------------------------------


def healthcheck_argv(service: dict) -> list[str]:
    """The healthcheck as the container runs it (Compose turns `$$` into `$`)."""
    kind, *rest = service["healthcheck"]["test"]
    rest = [part.replace("$$", "$") for part in rest]
    return ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest


def run_healthcheck(service: dict, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        healthcheck_argv(service),
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# The web container's ALLOWED_HOSTS, with the leading-dot form the healthcheck must handle.
WEB_ALLOWED_HOSTS = ".example.se,localhost"


@pytest.fixture(scope="module")
def gunicorn(services, tmp_path_factory):
    """Compose's web command on a free local port, serving; yields (port, path of its log)."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = production_environment()
    env.update(
        ALLOWED_HOSTS=WEB_ALLOWED_HOSTS,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),  # the image's is collected at build
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            services["web"]["command"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: serves(port), timeout=180, interval=0.5, why=log.read_text)
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(port: int, path: str, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def serves(port: int) -> bool:
    try:
        status = get(port, "/accounts/login/", {"Host": "localhost", "X-Forwarded-Proto": "https"})
    except OSError:
        return False
    return status == 200


def run_web_healthcheck(services, port: int) -> subprocess.CompletedProcess:
    # The container's gunicorn listens on 8000, the test's on a free port.
    argv = healthcheck_argv(services["web"])
    argv[-1] = argv[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "ALLOWED_HOSTS": WEB_ALLOWED_HOSTS,
    }
    return subprocess.run(argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)


def test_web_healthcheck_passes_when_gunicorn_serves_django(services, gunicorn):
    port, _ = gunicorn

    result = run_web_healthcheck(services, port)

    assert result.returncode == 0, result.stderr


def test_web_healthcheck_fails_when_nothing_listens(services):
    result = run_web_healthcheck(services, free_port())

    assert result.returncode != 0


def test_access_log_never_shows_a_token_from_a_query_string_a_path_or_a_referrer(gunicorn):
    port, log = gunicorn
    token = "Zz-9_" + uuid.uuid4().hex  # shaped like secrets.token_urlsafe(32)
    headers = {
        "Host": "policyflow.example.se",
        "X-Forwarded-Proto": "https",
        "Referer": f"https://policyflow.example.se/l/open/?t={token}",
    }
    paths = [
        f"/l/open/?t={token}",  # the emailed task link
        f"/reset/MQ/{token}/",  # a token in a path, as Django's password-reset links carry it
        f"/accounts/login/?next=/l/open/%3Ft%3D{token}",
    ]
    for path in paths:
        get(port, path, headers)  # an unknown token answers an error page: the log is what matters

    wait_until(
        lambda: log.read_text().count('"GET /') >= 3, timeout=120, interval=0.5, why=log.read_text
    )
    text = log.read_text()
    assert token not in text
    assert '"GET /l/open/"' in text
    assert '"GET /reset/MQ/[redacted]/" 404' in text
    assert '"GET /accounts/login/" 200' in text


@pytest.fixture
def celery_worker_process(services, production_env, tmp_path):
    """Compose's worker command with a unique node name, consuming a queue no test uses."""
    hostname = f"pf-healthcheck-{uuid.uuid4().hex[:8]}"
    command = [*services["worker"]["command"], "-n", f"celery@{hostname}", "-Q", hostname]
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=production_env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield hostname, log
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_worker_healthcheck_gets_an_answer_from_the_running_worker(
    services, production_env, celery_worker_process
):
    hostname, log = celery_worker_process
    production_env["HOSTNAME"] = hostname  # what the container's shell sees
    wait_until(lambda: "ready." in log.read_text(), timeout=120, interval=0.5, why=log.read_text)

    result = run_healthcheck(services["worker"], production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout


def test_beat_healthcheck_passes_when_the_broker_answers(services, production_env):
    result = run_healthcheck(services["beat"], production_env)

    assert result.returncode == 0, result.stderr


def test_beat_healthcheck_fails_when_the_broker_does_not_answer(services, production_env):
    production_env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"

    result = run_healthcheck(services["beat"], production_env)

    assert result.returncode != 0


@pytest.mark.parametrize(("name", "program"), [("postgres", "pg_isready"), ("redis", "redis-cli")])
def test_database_and_broker_healthchecks_pass_against_the_local_servers(services, name, program):
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed here")

    result = run_healthcheck(services[name], {"PATH": os.environ["PATH"]})

    assert result.returncode == 0, result.stdout + result.stderr
