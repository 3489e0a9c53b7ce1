"""The docs render the notebooks' committed outputs (Quarto does not execute them), so those outputs must be there.
Checks on every page, for the cells that are not flagged `slow`: a cell that draws (pyplot, or a `plot_*`/`show_*`
call as its last statement) has an image output, and a cell that ends with a value to show (a table, a tensor, a
print) has an output. `scripts/execute_nbs.sh`
regenerates them."""
import ast, json, re
from pathlib import Path
import pytest

root = Path(__file__).resolve().parents[1]
pages = sorted(p for p in (root / 'nbs').glob('*.ipynb') if not p.name.startswith('_'))
pyplot = re.compile(r'^\s*(fig, \w+ = |_, \w+ = )?plt\.(plot|subplots|figure|imshow|hist|bar)\b', re.M)
shown = re.compile(r'^(\w+\.)*(plot_\w+|show_(topology|layer_state|batch|results)|show_batch|show_results)\(')

def draws(source):
    "Whether a cell leaves a figure for the page: a pyplot figure, or a drawing call as its last statement."
    if source.lstrip().startswith(('#| export', '#|export')): return False
    try: body = ast.parse('\n'.join(l for l in source.splitlines() if not l.startswith(('#|', '%', '!')))).body
    except SyntaxError: body = []
    if body and all(isinstance(b, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)) for b in body): return False
    lines = [l for l in source.splitlines() if l.strip() and not l.lstrip().startswith('#')]
    last = lines[-1].strip() if lines else ''
    if last.startswith('if ') and ':' in last: last = last.split(':', 1)[1].strip()
    return bool(pyplot.search(source)) or bool(shown.match(last))

def flags(source):
    return {f for line in source.splitlines() if line.startswith('#|') for f in line[2:].split()}

def code_cells(page):
    return [c for c in json.loads(page.read_text())['cells'] if c['cell_type'] == 'code']

def has_image(cell):
    return any('image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {}) for o in cell.get('outputs', []))

def shows_value(source):
    "Whether a cell ends with a bare name, attribute or subscript (a table, a tensor, a summary), or a print."
    code = '\n'.join(l for l in source.splitlines() if not l.startswith(('#|', '%', '!')))
    try: body = ast.parse(code).body
    except SyntaxError: return False
    if not body or not isinstance(body[-1], ast.Expr) or source.rstrip().endswith(';'): return False
    value = body[-1].value
    if isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)): return True
    return isinstance(value, ast.Call) and getattr(value.func, 'id', None) == 'print'

@pytest.mark.parametrize('page', pages, ids=[p.name for p in pages])
def test_committed_outputs(page):
    cells = code_cells(page)
    fast = [c for c in cells if not flags(''.join(c['source'])) & {'slow', 'notest', 'eval:', 'hide'}]
    missing = [i for i, c in enumerate(cells) if c in fast and draws(''.join(c['source'])) and not has_image(c)]
    assert not missing, (f"{page.name}: code cells {missing} draw a figure but have no image output committed; "
                         f"run `bash scripts/execute_nbs.sh nbs/{page.name}` and commit the notebook")
    silent = [i for i, c in enumerate(cells) if c in fast and shows_value(''.join(c['source'])) and not c.get('outputs')]
    assert not silent, (f"{page.name}: code cells {silent} end with a value to show but have no output committed; "
                        f"run `bash scripts/execute_nbs.sh nbs/{page.name}` and commit the notebook")

local_path = re.compile(r'(/site-packages/|/\.venv/|/work/main/|/home/\w+/|/Users/\w+/|/root/|/tmp/tmp\w+|/tmp/pytest)')

@pytest.mark.parametrize('page', pages, ids=[p.name for p in pages])
def test_outputs_carry_no_local_path(page):
    "Committed outputs never show the absolute paths of the machine they ran on (issue 24)."
    found = []
    for i, cell in enumerate(code_cells(page)):
        for o in cell.get('outputs', []):
            text = ''.join(o.get('text', '')) + json.dumps(o.get('data', {}).get('text/plain', '')) + ''.join(o.get('traceback', []))
            found += [f"cell {i}: {m.group(0)}" for m in local_path.finditer(text)]
    assert not found, found[:5]
