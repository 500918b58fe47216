"""The package's shape: no import cycles, imports only downward, no private names across modules,
no file over 400 lines. Read from the source with `ast` (imports inside functions count too).

The rules:
  - Layers, lowest first (a module may import its own layer or a lower one):
      _threads, autograd, random  →  tensor, tensor_shape  →  kernels, gradcheck  →  functional
      →  init  →  nn  →  optim  →  serialization  →  data  →  variance  →  train  →  reproduce
      →  exercises  →  commands.
    The package facade `tinyrect` (tinyrect/__init__.py) ranks with the highest layer it imports
    (so `import tinyrect as tr` is fine in train.py, not in variance/); `python -m tinyrect`
    (__main__.py) is above everything; _moved.py (the hook behind the old module paths) imports
    no tinyrect module itself and sits at the bottom, with formatting.py (how numbers are printed).
    data/ sits below variance/: the many-draw measurement feeds the digits through its nets.
  - A private name (`_x`, not a dunder) may be imported, or read as `module._x`, only by another
    module of the same subpackage folder (e.g. tinyrect/functional/*); never across folders, and
    never between the top-level modules of tinyrect/ (each is its own unit there).
"""
import ast
import pathlib


ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinyrect"

LAYERS = [  # lowest first; a key names a module or a whole subpackage
    ("tinyrect._threads", "tinyrect.autograd", "tinyrect.random", "tinyrect._moved", "tinyrect.formatting"),
    ("tinyrect.tensor", "tinyrect.tensor_shape"),
    ("tinyrect.kernels", "tinyrect.gradcheck"),
    ("tinyrect.functional",),
    ("tinyrect.init",),
    ("tinyrect.nn",),
    ("tinyrect.optim",),
    ("tinyrect.serialization",),
    ("tinyrect.data",),
    ("tinyrect.variance",),
    ("tinyrect.train",),
    ("tinyrect.reproduce",),
    ("tinyrect.exercises",),
    ("tinyrect.commands",),
    ("tinyrect.__main__",),
]
MAX_LINES = 400

# Violations that predate this test, each owned by a part of the restructuring still in progress.
# A new violation fails the test; so does an entry here that has been fixed (delete it then).
KNOWN = {
}


def check(found: set, kind: str, what: str) -> None:
    """Fail on violations of `kind` not in KNOWN, and on KNOWN ones that are gone."""
    known = {k for k in KNOWN if k.startswith(kind + ": ")}
    new, fixed = sorted(found - known), sorted(known - found)
    assert not new, f"{what}:\n" + "\n".join(new)
    assert not fixed, "fixed, so remove from KNOWN in tests/test_architecture.py:\n" + "\n".join(fixed)


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def layer_of(name: str) -> int:
    if name == "tinyrect":    # the facade: as high as the highest layer it imports
        return max((layer_of(t) for t in GRAPH["tinyrect"]), default=0)
    best, best_len = None, -1
    for level, keys in enumerate(LAYERS):
        for key in keys:
            matches = name == key or name.startswith(key + ".")
            if matches and len(key) > best_len:
                best, best_len = level, len(key)
    if best is None:
        raise KeyError(name)
    return best


def folder_of(name: str) -> str:
    """The subpackage a module belongs to ('' for top-level modules of tinyrect)."""
    package = name if is_package(name) else name.rsplit(".", 1)[0]
    return "" if package == "tinyrect" else package


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def resolve(importer: str, module: str | None, level: int) -> str | None:
    """Absolute name of `from <level dots><module> import ...` inside `importer`."""
    if level == 0:
        return module
    base = importer if is_package(importer) else importer.rsplit(".", 1)[0]
    for _ in range(level - 1):
        base = base.rsplit(".", 1)[0]
    return f"{base}.{module}" if module else base


def imports_of(name: str):
    """(imported module, private names taken from it, line) for every tinyrect import in `name`,
    plus `alias._x` reads of private names through a module imported as `alias`."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "tinyrect" or a.name.startswith("tinyrect."):
                    target = a.name if a.asname else a.name.split(".")[0]
                    aliases[a.asname or a.name.split(".")[0]] = target
                    yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = resolve(name, node.module, node.level)
            if not source or not (source == "tinyrect" or source.startswith("tinyrect.")):
                continue
            plain = []
            for a in node.names:
                sub = f"{source}.{a.name}"
                if sub in MODULES:                       # `from pkg import module`
                    aliases[a.asname or a.name] = sub
                    yield sub, [], node.lineno
                else:
                    plain.append(a.name)
            if plain:
                yield source, [n for n in plain if is_private(n)], node.lineno
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and is_private(node.attr)):
            yield aliases[node.value.id], [node.attr], node.lineno


GRAPH = {name: sorted({target for target, _, _ in imports_of(name) if target in MODULES} - {name})
         for name in MODULES}


def test_every_module_has_a_layer():
    unknown = []
    for name in MODULES:
        try:
            layer_of(name)
        except KeyError:
            unknown.append(name)
    assert not unknown, f"add these modules to LAYERS in {__file__}: {unknown}"


def test_no_import_cycles():
    """Tarjan's strongly connected components: any component with more than one module is a cycle."""
    index, low, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append("cycle: " + ", ".join(sorted(component)))

    for v in GRAPH:
        if v not in index:
            visit(v)
    check(set(cycles), "cycle", "import cycles (modules that import each other, maybe through others)")


def test_imports_go_only_downward():
    upward = set()
    for name in MODULES:
        for target, _, line in imports_of(name):
            if target in MODULES and layer_of(target) > layer_of(name):
                upward.add(f"upward: {MODULES[name].relative_to(ROOT)} imports {target}")
    check(upward, "upward", "imports of a higher layer")


def test_no_private_names_across_modules():
    leaks = set()
    for name in MODULES:
        for target, private, line in imports_of(name):
            if not private or target not in MODULES or target == name:
                continue
            same_folder = folder_of(name) and folder_of(name) == folder_of(target)
            if not same_folder:
                leaks.add(f"private: {MODULES[name].relative_to(ROOT)} uses "
                          f"{target}.{', '.join(private)} (line {line})")
    check(leaks, "private", "private names used across modules")


def test_the_rules_themselves():
    """The checks above can fail: a cycle, an upward import and a private import are all seen."""
    assert layer_of("tinyrect.functional.conv") > layer_of("tinyrect.tensor")
    assert layer_of("tinyrect.commands.cli") > layer_of("tinyrect.reproduce.run")
    assert layer_of("tinyrect.nn") <= layer_of("tinyrect") < layer_of("tinyrect.train")
    assert folder_of("tinyrect.functional.pooling") == folder_of("tinyrect.functional") != ""
    assert folder_of("tinyrect.init") == folder_of("tinyrect.optim") == ""
    assert resolve("tinyrect.functional.pooling", "conv", 1) == "tinyrect.functional.conv"
    assert resolve("tinyrect.nn", "module", 1) == "tinyrect.nn.module"
    assert "tinyrect.autograd" in GRAPH["tinyrect.tensor"]
    assert "tinyrect.tensor" in GRAPH["tinyrect.functional.rectifiers"]


def test_no_file_over_400_lines():
    long = {f"long: {p.relative_to(ROOT)}" for folder in ("tinyrect", "lessons", "tests", "examples")
            for p in sorted((ROOT / folder).rglob("*.py"))
            if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES}
    check(long, "long", f"files over {MAX_LINES} lines (split them)")
