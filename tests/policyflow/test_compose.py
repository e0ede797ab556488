"""docker-compose.yml and the Dockerfile, read as files (no Docker engine on this machine).

What can run here without an engine does run: the healthcheck commands against a real gunicorn,
a real Celery worker, the local PostgreSQL and Redis, and the image's dependency set.
"""

import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import uuid

import pytest
import yaml

from tests.support import free_port
from tests.support.workers import wait_until

from .helpers import BASE_DIR, VENV_BIN, production_environment

APP_SERVICES = ["web", "worker", "beat"]
LONG_RUNNING = ["web", "worker", "beat", "postgres", "redis"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (BASE_DIR / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def arguments_of(dockerfile, instruction: str) -> list[str]:
    return [arguments for name, arguments in dockerfile if name == instruction]


def healthcheck_argv(service: dict) -> list[str]:
    """The healthcheck as the container runs it (Compose turns `$$` into `$`)."""
    kind, *rest = service["healthcheck"]["test"]
    rest = [part.replace("$$", "$") for part in rest]
    return ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest


def run_healthcheck(service: dict, env: dict, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        healthcheck_argv(service),
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- docker-compose.yml -------------------------------------------------------------------


def test_compose_runs_the_five_services_and_a_one_shot_migration(services):
    assert set(services) == {*LONG_RUNNING, "migrate"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(services, name):
    healthcheck = services[name]["healthcheck"]

    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert {"interval", "timeout", "retries"} <= set(healthcheck)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_after_healthy_postgres_and_redis_and_the_migration(services, name):
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_migration_waits_for_a_healthy_postgres(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_data_and_uploads_live_in_named_volumes(compose, services):
    assert {"postgres-data", "media"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in ("web", "worker"):
        assert "media:/var/lib/policyflow/media" in services[name]["volumes"]
        assert services[name]["environment"]["MEDIA_ROOT"] == "/var/lib/policyflow/media"


def test_web_runs_gunicorn_with_the_production_settings(services):
    web = services["web"]

    assert web["command"][0] == "gunicorn" and web["command"][-1] == "policyflow.wsgi"
    assert web["command"][1:3] == ["--config", "gunicorn.conf.py"]
    assert web["environment"]["DJANGO_SETTINGS_MODULE"] == "policyflow.settings.production"


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_run_celery_with_the_policyflow_app(services, name):
    command = services[name]["command"]

    assert command[:4] == ["celery", "-A", "policyflow", name]
    # policyflow/celery.py would fall back to the development settings.
    assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == (
        "policyflow.settings.production"
    )


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_services_reach_postgres_and_redis_by_service_name(services, name):
    environment = services[name]["environment"]

    assert re.fullmatch(r"postgres://policyflow:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/policyflow",
                        environment["DATABASE_URL"])  # fmt: skip
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert services[name]["env_file"] == [{"path": ".env", "required": False}]


@pytest.mark.parametrize("variable", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "EMAIL_URL"])
def test_compose_refuses_to_start_without_a_required_variable(services, variable):
    # `${VAR:?message}`: Compose stops with the message instead of starting with an empty value.
    for name in [*APP_SERVICES, "migrate"]:
        assert services[name]["environment"][variable].startswith(f"${{{variable}:?")


def test_only_the_web_service_is_published_and_on_loopback_by_default(services):
    assert services["web"]["ports"] == ["${WEB_PORT:-127.0.0.1:8000}:8000"]
    assert [name for name in services if "ports" in services[name]] == ["web"]


# --- Dockerfile and .dockerignore ---------------------------------------------------------


def test_image_is_python_3_11_slim(dockerfile):
    assert arguments_of(dockerfile, "FROM") == ["python:3.11-slim"]


def test_image_installs_the_makefiles_uv_and_exactly_the_locked_production_dependencies(
    dockerfile,
):
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (BASE_DIR / "Makefile").read_text(), re.M)
    steps = [f"{name} {arguments}" for name, arguments in dockerfile]
    install_uv = next(i for i, step in enumerate(steps) if "pip install" in step)
    copy_lock = steps.index("COPY pyproject.toml uv.lock ./")
    sync = next(i for i, step in enumerate(steps) if "uv sync" in step)

    assert f"uv=={uv_version.group(1)}" in steps[install_uv]
    assert install_uv < copy_lock < sync
    assert {"--locked", "--no-dev"} <= set(shlex.split(steps[sync]))


def test_image_has_gettext_and_pango_and_builds_translations_and_static_files(dockerfile):
    commands = " ".join(arguments_of(dockerfile, "RUN"))

    assert {"gettext", "libpango-1.0-0", "libpangoft2-1.0-0"} <= set(commands.split())
    assert "manage.py compilemessages" in commands
    assert "manage.py collectstatic --noinput" in commands


def test_image_runs_as_an_unprivileged_user(dockerfile):
    users = arguments_of(dockerfile, "USER")

    assert users and users[-1] not in {"root", "0"}
    last_user = max(i for i, (name, _) in enumerate(dockerfile) if name == "USER")
    assert all(name != "RUN" for name, _ in dockerfile[last_user:])


def test_image_serves_with_the_same_gunicorn_command_as_compose(dockerfile, services):
    assert json.loads(arguments_of(dockerfile, "CMD")[-1]) == services["web"]["command"]


def test_build_context_leaves_out_secrets_and_local_state():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()

    assert {".env", ".git", ".venv", ".uv", "var/*", "staticfiles"} <= set(ignored)


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
        wait_until(lambda: serves(port), timeout=90, interval=0.5, why=log.read_text)
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(port: int, path: str, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
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
        lambda: log.read_text().count('"GET /') >= 3, timeout=10, interval=0.5, why=log.read_text
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

    result = run_healthcheck(services[name], {"PATH": os.environ["PATH"]}, timeout=30)

    assert result.returncode == 0, result.stdout + result.stderr
