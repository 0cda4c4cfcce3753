"""The layer rule, checked by import-linter: core, infra, store, services never import Qt."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the dev extras"
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_what_spawned_helpers_run_imports_no_orm() -> None:
    """The import wizard's and export dialog's spawned helpers (infra.forking.SpawnedCall) must
    start fast: the modules they run may not pull SQLAlchemy in (~0.4 s of imports)."""
    modules = ("crmcompanion.store.staging", "crmcompanion.store.search_aside",
               "crmcompanion.store.export_cells")
    code = (f"import sys; import {', '.join(modules)}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'PySide6')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_app_module_imports_no_phone_library_at_start() -> None:
    """phonenumbers costs ~20 ms to import: the first paint does without it (parsing a
    number imports it on first use)."""
    code = ("import sys; import crmcompanion.app, crmcompanion.services.container; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'phonenumbers'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_background_task_imports_no_import_export_service() -> None:
    """Every task the window starts makes a cancel token; made from services.import_export,
    the session's first task (Today's "moved to at risk", 3 s after start) imported the CSV,
    vCard and iCalendar code and the bulk loaders on the GUI thread: ~100-150 ms on whatever
    the user did then (issue 13, the benchmark's one slow search keystroke per run)."""
    code = ("import sys; from crmcompanion.ui.workers import BackgroundTask; "
            "task = BackgroundTask(lambda state: None); "
            "assert not task.state.cancelled; "
            "print(sorted(m for m in sys.modules if m in ('crmcompanion.services.import_export', "
            "'crmcompanion.core.csv_import', 'crmcompanion.core.vcard')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
