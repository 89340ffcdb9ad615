"""Where things are: the repository root, the reference package, the student stubs."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
REFERENCE_PACKAGE = SOLUTIONS_DIR / "coursework"
STUBS_PACKAGE = REPO_ROOT / "coursework"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
HIDDEN_DIR = PACKAGE_DIR / "hidden"
MISTAKES_DIR = PACKAGE_DIR / "mistakes"
RECORDED_DIR = PACKAGE_DIR / "recorded"  # reference outputs stored as data (student release)
