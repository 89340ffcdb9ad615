"""Running cells in a real Jupyter kernel from a test (nbclient), as a student's notebook does."""


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
