"""Production settings refuse to start half-configured and pass Django's deployment checklist."""

import subprocess
import sys

import pytest

from .helpers import BASE_DIR

REQUIRED = ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SITE_URL", "EMAIL_URL"]


def run(args, env, timeout=120):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def import_production(env):
    return run(["-c", "import policyflow.settings.production"], env)


@pytest.mark.skipif(
    (BASE_DIR / ".env").exists(), reason="a local .env file supplies the missing variables"
)
@pytest.mark.parametrize("variable", REQUIRED)
def test_production_refuses_to_start_without_a_required_variable(production_env, variable):
    del production_env[variable]

    result = import_production(production_env)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert f"Production needs the environment variable {variable}." in result.stderr


@pytest.mark.parametrize("variable", REQUIRED)
def test_production_treats_an_empty_variable_as_missing(production_env, variable):
    # Compose passes a variable that is unset on the host as an empty string.
    production_env[variable] = ""

    result = import_production(production_env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: Production needs the environment variable {variable}." in (
        result.stderr
    )


def test_production_starts_when_the_required_variables_are_set(production_env):
    result = import_production(production_env)

    assert result.returncode == 0, result.stderr


def test_production_passes_the_deployment_checklist_without_warnings(production_env):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env, timeout=180
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_collects_static_files_as_the_image_build_does(production_env, tmp_path):
    # The Dockerfile runs collectstatic with the production settings and a throwaway database URL.
    production_env.update(STATIC_ROOT=str(tmp_path), DATABASE_URL="sqlite://:memory:")

    # viewflow's Material assets (49 MB) are not used by PolicyFlow's own templates.
    result = run(
        ["manage.py", "collectstatic", "--noinput", "-v0", "--ignore", "viewflow/*"],
        production_env,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "css" / "policyflow.css").exists()
    # WhiteNoise serves the compressed copies it made at build time.
    assert (tmp_path / "css" / "policyflow.css.gz").exists()


def test_the_csv_exports_processes_and_part_size_are_read_from_the_environment(production_env):
    production_env.update(EXPORTS_CSV_PROCESSES="1", EXPORTS_CSV_PART_ROWS="120000")
    shown = (
        "import django; django.setup(); from exports.conf import setting; "
        "print(setting('EXPORTS_CSV_PROCESSES'), setting('EXPORTS_CSV_PART_ROWS'))"
    )

    result = run(["-c", shown], production_env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "120000"]
