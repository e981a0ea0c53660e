#!/usr/bin/env python3
"""Lists import cycles between the source files of each crate under crates/ (exit 1 if any).

A file imports another when one of its `use` declarations (outside #[cfg(test)] modules) names an item of the other:
`use crate::a::b`, `use super::x`, `use self::x`, a declared child module (`pub use child::Item`), or a group
(`use crate::{a, b::c}`), or when its code names a path `crate::a::b` outright. A `mod` declaration alone is not an
import. Run from the repository root: `python3 scripts/import_cycles.py`.
"""
import os
import re
import sys


def module_of(root, path):
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def expand(tree):
    """`a::{b, c::{d}}` -> [a::b, a::c::d]"""
    tree = tree.strip()
    m = re.match(r"^(.*?)\{(.*)\}$", tree, re.S)
    if not m:
        return [tree]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    return [p for it in items if it.strip() for p in expand(prefix + it.strip())]


def main():
    found = False
    for crate in sorted(os.listdir("crates")):
        root = f"crates/{crate}/src"
        if not os.path.isdir(root):
            continue
        files = {}
        for d, _, fs in os.walk(root):
            for f in fs:
                if f.endswith(".rs"):
                    files[module_of(root, os.path.join(d, f))] = os.path.join(d, f)
        edges = {k: set() for k in files}
        for mod, path in files.items():
            text = open(path).read().split("#[cfg(test)]")[0]
            children = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text, re.M))
            code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # string literals name no module
            code = re.sub(r"//[^\n]*", "", code)
            decls = []
            for indent, decl in re.findall(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", code, re.M):
                if indent and decl.startswith("super"):
                    continue  # inside an inline module: `super` is this file
                decls.append(decl)
            # Paths written out in code, `crate::a::b(...)`, import as much as a `use` does.
            decls += re.findall(r"(?<![\w:])(crate(?:::\w+)+)", code)
            for decl in decls:
                for p in expand(decl):
                    segs = [s for s in re.split(r"\s*::\s*", p.split(" as ")[0].strip()) if s]
                    if not segs:
                        continue
                    if segs[0] == "crate":
                        full = segs[1:]
                    elif segs[0] == "super":
                        full = list(mod[:-1]) + segs[1:]
                    elif segs[0] == "self":
                        full = list(mod) + segs[1:]
                    elif segs[0] in children:
                        full = list(mod) + segs
                    else:
                        continue  # another crate
                    for n in range(len(full), -1, -1):
                        target = tuple(full[:n])
                        if target in files:
                            if target != mod:
                                edges[mod].add(target)
                            break
        cycles = set()

        def visit(node, path):
            for nxt in edges[node]:
                if nxt in path:
                    cyc = path[path.index(nxt):]
                    i = cyc.index(min(cyc))
                    cycles.add(tuple(cyc[i:] + cyc[:i]))
                elif len(path) < 12:
                    visit(nxt, path + [nxt])

        for k in files:
            visit(k, [k])
        for c in sorted(cycles):
            found = True
            names = [files[m].removeprefix(root + "/") for m in c]
            print(f"{crate}: " + " -> ".join(names + names[:1]))
    if not found:
        print("no import cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
