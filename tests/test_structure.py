"The package's structure: imports point one way (issue 22)."
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / 'bmsa'

def _imported_modules(path):
    "The bmsa modules that the file at `path` imports, at any depth (inside functions too)."
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import): names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ('bmsa.' + (node.module or '')).rstrip('.') if node.level else (node.module or '')
            names = [f"{base}.{a.name}" for a in node.names] if base == 'bmsa' else [base]
        else: continue
        for n in names:                         # 'bmsa.x' or 'bmsa.x.y' -> 'x' when bmsa/x.py exists
            parts = n.split('.')
            if parts[0] == 'bmsa' and len(parts) > 1 and (PACKAGE / f"{parts[1]}.py").exists(): found.add(parts[1])
    return found

def import_graph():
    "module -> the bmsa modules it imports (the generated index and the star-import `all` left out)."
    skip = {'_modidx', 'all', '__init__'}
    return {p.stem: _imported_modules(p) - skip - {p.stem} for p in sorted(PACKAGE.glob('*.py')) if p.stem not in skip}

def import_cycles(graph):
    "Every cycle of `graph`, each as a list of modules starting at its smallest name."
    cycles = set()
    def visit(node, path):
        for nxt in graph.get(node, ()):
            if nxt in path:
                cycle = path[path.index(nxt):]
                i = cycle.index(min(cycle))
                cycles.add(tuple(cycle[i:] + cycle[:i]))
            elif len(path) < len(graph): visit(nxt, path + [nxt])
    for n in graph: visit(n, [n])
    return sorted(cycles)

def test_cycle_finder_finds_a_cycle():
    assert import_cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [('a', 'b', 'c')]
    assert import_cycles({'a': {'b'}, 'b': set()}) == []

def test_no_import_cycle():
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles (counting imports inside functions): " + "; ".join(" -> ".join(c + (c[0],)) for c in cycles)

BACKEND_MODULES = {'masked', 'compressed'}          # each knows its own storage, limits and kernels

def backend_mentions(path, names, classes):
    "(line, what) for each string literal that is a backend name and each name of a backend's layer class in the file."
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.Name) and node.id in classes: found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in classes: found.append((node.lineno, node.attr))
        elif isinstance(node, ast.alias) and node.name in classes: found.append((getattr(node, 'lineno', 0), node.name))
    return found

def test_backend_mentions_are_found(tmp_path):
    f = tmp_path / 'x.py'
    f.write_text("from bmsa.compressed import SparseLinear\nb = 'sparse'\nc = bmsa.masked.MaskedLinear\nd = 'sparsely'\n")
    test = backend_mentions(f, {'sparse'}, {'SparseLinear', 'MaskedLinear'})
    assert sorted(test) == [(1, 'SparseLinear'), (2, "'sparse'"), (3, 'MaskedLinear')]

def test_only_backends_name_backends():
    from bmsa.sparse import SparseLayer, backend_names
    import bmsa.masked, bmsa.compressed
    names = set(backend_names())
    classes = {n for m in (bmsa.masked, bmsa.compressed) for n in m.__all__ if n[0].isupper()}
    assert {'MaskedLinear', 'SparseLinear'} <= classes and {'masked', 'compressed', 'sparse'} <= names
    offenders = {p.stem: backend_mentions(p, names, classes) for p in sorted(PACKAGE.glob('*.py'))
                 if p.stem not in BACKEND_MODULES | {'_modidx', '__init__'}}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"backend names outside the backend modules: {offenders}"

RULE_OPTIONS = ('epsilon', 'zeta', 'k', 'strikes_to_remove', 'target', 'count', 'median', 'sampling', 'growth', 'distribution',
                'init', 'alpha', 'delta_t', 'end_fraction')

def literal_defaults(path, names=RULE_OPTIONS):
    "(line, parameter) for each parameter in `names` whose default is written out as a literal instead of read from bmsa.paper."
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
        args = node.args.args + node.args.kwonlyargs
        defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults + node.args.kw_defaults
        for a, d in zip(args, defaults):
            if a.arg in names and isinstance(d, ast.Constant) and d.value is not None: found.append((node.lineno, a.arg))
    return found

def test_each_default_stands_once():
    offenders = {p.stem: literal_defaults(p) for p in sorted(PACKAGE.glob('*.py')) if p.stem not in ('_modidx', 'paper')}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"defaults written out instead of read from bmsa.paper: {offenders}"

def test_signatures_list_every_option():
    import inspect
    from bmsa.dst import DynamicSparseTraining
    from bmsa.set import SET
    from bmsa.accset import AccSET
    from bmsa.bmsa import BMSA
    from bmsa.rigl import RigL, BMSARigL
    for cls in (SET, AccSET, BMSA, RigL, BMSARigL):
        params = inspect.signature(cls).parameters
        assert not any(p.kind == p.VAR_KEYWORD for p in params.values()), f"{cls.__name__} hides options behind **kwargs"
        for parent in cls.__mro__[1:]:
            if issubclass(parent, DynamicSparseTraining):
                missing = set(inspect.signature(parent).parameters) - set(params) - ({'zeta'} if cls is BMSARigL else set())
                assert not missing, f"{cls.__name__} does not show {parent.__name__}'s options {missing}"
    assert {'strikes_to_remove', 'median', 'k', 'target', 'zeta', 'epsilon', 'backend', 'seed'} <= set(inspect.signature(BMSA).parameters)
    test = BMSA(zeta=0.2, k=-0.5, strikes_to_remove=2)
    assert (test.zeta, test.k, test.strikes_to_remove, test.growth_k) == (0.2, -0.5, 2, -0.5)

def export_cell_sizes():
    "(notebook, lines, source) of every export cell: its lines of code, without directives and blank lines."
    import json, re
    cells = []
    for p in sorted((PACKAGE.parent / 'nbs').glob('*.ipynb')):
        for c in json.loads(p.read_text())['cells']:
            src = ''.join(c['source']) if c['cell_type'] == 'code' else ''
            if not re.match(r'\s*#\|\s*exports?\s*$', src.split('\n')[0]): continue
            body = [l for l in src.split('\n') if l.strip() and not l.startswith('#|')]
            cells.append((p.name, len(body), src))
    return cells

def test_export_cells_are_cut_one_idea_each():
    import statistics
    cells = export_cell_sizes()
    assert len(cells) > 100
    assert statistics.median(n for _, n, _ in cells) <= 8
    long = [(nb, n, src.split('\n')[1][:60]) for nb, n, src in cells if n > 40 and 'kept whole' not in src]
    assert not long, f"export cells over 40 lines without a reason in the cell: {long}"

def test_each_backend_view_implements_the_connections_protocol():
    import inspect, torch
    from torch import nn
    from bmsa.sparse import Connections, SparseLayer
    from bmsa.masked import sparsify
    members = [n for n in dir(Connections) if not n.startswith('_') or n == '__len__']
    members = [n for n in members if n not in dir(object) or n == '__len__']
    assert {'positions', 'weights', 'remove', 'add', 'removed_empty', 'sample_empty'} <= set(members)
    for name in SparseLayer.backends:
        model = sparsify(nn.Sequential(nn.Linear(4, 3)), epsilon=1, backend=name, generator=torch.Generator().manual_seed(0))
        view = model[0].connection_view()
        assert isinstance(view, Connections), name
        missing = [n for n in members if not hasattr(type(view), n) and not hasattr(view, n)]
        assert not missing, f"the {name} backend's view lacks {missing}"
