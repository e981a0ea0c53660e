"""Replacing a generated section of a Markdown file (docs/results.md, the README), shared by the report scripts."""
import os


def write_section(results_md, begin, end, lines, heading):
    """Puts `lines` (which start with `begin` and end with `end`) in place of the text between the two markers of the
    Markdown file `results_md`, or appends them under `heading` if the markers are missing. Written atomically."""
    text = open(results_md).read() if os.path.exists(results_md) else "# Results\n"
    block = "\n".join(lines)
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n" + block + "\n"
    with open(results_md + ".tmp", "w") as f:
        f.write(text)
    os.replace(results_md + ".tmp", results_md)
