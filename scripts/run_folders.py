"""Finding the finished run folders of a script's sweep, shared by lost_classes_report.py and class_death_report.py."""
import json
import os
import re


def finished_runs(out, pattern, needs):
    """[(match, folder, summary)] for each folder under `out` whose name matches the regular expression `pattern`,
    whose summary.json says `finished` and which holds the file `needs`, in the order of the names."""
    found = []
    for name in sorted(os.listdir(out)):
        m = re.fullmatch(pattern, name)
        folder = os.path.join(out, name)
        if not m or not os.path.exists(os.path.join(folder, needs)):
            continue
        try:
            with open(os.path.join(folder, "summary.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            continue
        if summary.get("status") == "finished":
            found.append((m, folder, summary))
    return found
