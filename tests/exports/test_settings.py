"""The CSV export's processes are an operator's choice, made in the environment."""

import subprocess
import sys

from tests.policyflow.helpers import BASE_DIR, production_environment


def test_the_csv_exports_processes_and_part_size_are_read_from_the_environment():
    env = production_environment()
    env.update(EXPORTS_CSV_PROCESSES="1", EXPORTS_CSV_PART_ROWS="120000")
    shown = (
        "import django; django.setup(); from exports.conf import setting; "
        "print(setting('EXPORTS_CSV_PROCESSES'), setting('EXPORTS_CSV_PART_ROWS'))"
    )

    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", shown],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "120000"]
