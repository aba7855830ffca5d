"""Checks the shipped scoring notebook (composed by src/tasks/evaluate/notebook-compose.ts) for
test/spark/notebook-compose.test.ts. Reads {"composed": <text>, "main": <evaluate_models.py>, "modules": {<name>: <text>}}
from stdin and prints a JSON report: whether it compiles, the top-level names defined by more than one of the pieces,
the imported names the composed source does not define, and what executing it defines."""

import ast
import json
import sys


def top_level_names(text, inlined):
    """Names a module binds at top level: {name: kind}, kind 'import:<module>' for an import binding."""
    names = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.setdefault(node.name, []).append("def")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.setdefault(n.id, []).append("assign")
        elif isinstance(node, ast.Import):
            for a in node.names:
                names.setdefault(a.asname or a.name.split(".")[0], []).append("import:" + a.name)
        elif isinstance(node, ast.ImportFrom) and node.module not in inlined:
            for a in node.names:
                names.setdefault(a.asname or a.name, []).append("import:%s.%s" % (node.module, a.name))
    return names


def main():
    data = json.load(sys.stdin)
    inlined = set(data["modules"])
    report = {"compiles": True, "clashes": [], "undefined": [], "defined_after_exec": []}
    try:
        code = compile(data["composed"], "evaluate_models.py", "exec")
    except SyntaxError as e:
        report["compiles"] = False
        report["error"] = str(e)
        json.dump(report, sys.stdout)
        return
    pieces = {"evaluate_models": top_level_names(data["main"], inlined)}
    for name, text in data["modules"].items():
        pieces[name] = top_level_names(text, inlined)
    owners = {}
    for piece, names in pieces.items():
        for name, kinds in names.items():
            owners.setdefault(name, []).append((piece, kinds))
    for name, entries in sorted(owners.items()):
        if len(entries) < 2:
            continue
        kinds = set(k for _, ks in entries for k in ks)
        # The same module imported under the same name in two pieces binds the same object: no clash.
        if len(kinds) == 1 and next(iter(kinds)).startswith("import:"):
            continue
        report["clashes"].append([name, [p for p, _ in entries]])
    imported = []
    for node in ast.parse(data["main"]).body:
        if isinstance(node, ast.ImportFrom) and node.module in inlined:
            imported += [(node.module, a.name) for a in node.names]
    composed_names = top_level_names(data["composed"], inlined)
    report["undefined"] = ["%s.%s" % (m, n) for m, n in imported if n not in composed_names or n not in pieces[m]]
    namespace = {"__name__": "composed_notebook"}
    exec(code, namespace)
    report["defined_after_exec"] = sorted(n for _, n in imported if callable(namespace.get(n)) or n in namespace)
    report["imported"] = sorted(n for _, n in imported)
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
