"""``NeutralizeHTML``: the last preprocessor of ``nbgrader autograde`` in the course's
configuration, so that an autograded notebook is safe to render however it was autograded.

``python -m autograder nbgrader autograde`` and ``sync`` neutralize the autograded notebooks
(``nbgrader_safety.neutralize``), but an instructor may press the Formgrader's own "autograde"
button, which runs nbgrader alone: without this step, a student's markdown such as
``<img src=x onerror=...>`` would then reach the Formgrader's pages unchanged, where it runs with
the instructor's rights. The course's ``nbgrader_config.py`` appends this class to
``Autograde.autograde_preprocessors`` and sets ``NeutralizeHTML.course_root``; the course's own
markdown is read from ``source/<assignment>/<notebook>.ipynb``.
"""

from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from . import nbgrader_safety


class NeutralizeHTML(Preprocessor):
    """Show student markup as text and keep only safe output types (``neutralize``)."""

    enabled = Bool(True).tag(config=True)
    course_root = Unicode("", help="the course folder (CourseDirectory.root)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
        assignment, notebook = info.get("assignment"), info.get("notebook")
        own = set()
        if self.course_root and assignment and notebook:
            own = nbgrader_safety.course_cells(
                Path(self.course_root) / "source" / assignment / f"{notebook}.ipynb")
        if nbgrader_safety.neutralize(nb, own):
            # a replaced cell is a plain dict: later steps read attributes (cell.cell_type)
            nb.cells = [nbformat.from_dict(cell) for cell in nb.cells]
            self.log.warning(
                "%s/%s/%s.ipynb held HTML or script outside the course's own cells: shown as "
                "text, or removed from outputs (it would run in the Formgrader)",
                info.get("student", "?"), assignment, notebook)
        return nb, resources
