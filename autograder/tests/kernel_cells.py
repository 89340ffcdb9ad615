"""Running cells in a real Jupyter kernel from a test (nbclient), as a student's notebook does."""

import os
from contextlib import contextmanager
from pathlib import Path


def run_cell(client, nb, source):
    """Append a code cell holding ``source`` to ``nb``, run it in ``client``'s kernel and return
    (stdout, stderr, error outputs) of that cell."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    out = "".join(o["text"] for o in cell.outputs
                  if o["output_type"] == "stream" and o["name"] == "stdout")
    err = "".join(o["text"] for o in cell.outputs
                  if o["output_type"] == "stream" and o["name"] == "stderr")
    errors = [o for o in cell.outputs if o["output_type"] == "error"]
    return out, err, errors


@contextmanager
def student_kernel(submission):
    """A running kernel whose working folder is ``submission`` and which imports its coursework
    and, through a link made in it, the course's autograder (as a student's clone does); yields
    (client, nb) for ``run_cell``."""
    import nbformat
    from nbclient import NotebookClient

    from autograder.paths import REPO_ROOT

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(submission)}})
    (Path(submission) / "autograder").symlink_to(REPO_ROOT / "autograder")
    with client.setup_kernel(env={**os.environ, "PYTHONPATH": str(submission)}):
        yield client, nb
