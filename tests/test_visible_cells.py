"""Copy the code cells a reader sees on each docs page into a fresh Python process, in order, and run them.

A cell is visible unless a directive hides it from the rendered page (`#| hide`, `#| exporti`, `#| include: false`,
`#| echo: false`, `#| default_exp`); `#| export` cells are visible, since the page shows them. Visible cells flagged
`#| eval: false` are shown but never run; cells flagged `slow` or `notest` run only with `--flags slow` /
`--flags notest`, as in the notebook tests. Each page runs in a process of its own, in IPython's shell (what a
reader's Jupyter runs), from nbs/, with the environment of the notebook tests (BMSA_DATA, MPLBACKEND=Agg).

Pages in FAST_PAGES run by default; every other page runs only with `--flags slow`.
"""
import json, os, re, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parents[1]
pages = sorted(p for p in (root/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

# The tutorials a new user copies from first; together about a minute on a quiet 2-core machine.
FAST_PAGES = {'index.ipynb', '11_tutorial.ipynb', '12_custom_rule.ipynb'}
PAGE_TIMEOUT_S = 900


def directives(source):
    "The `#|` directives at the top of a cell's `source`, as {name: value} ('' for flags such as `hide`)."
    found = {}
    for line in source.splitlines():
        m = re.match(r'\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$', line)
        if m: found[m[1]] = m[2]
        elif line.strip(): break
    return found


def is_visible(d):
    "Whether a code cell with directives `d` shows its code on the rendered page."
    return not ({'hide', 'exporti', 'default_exp'} & d.keys() or d.get('include') == 'false' or d.get('echo') == 'false')


def visible_cells(page, forced=()):
    "The (notebook cell number, source) of each visible code cell of `page` that is run, in order."
    cells = json.loads(page.read_text())['cells']
    out = []
    for i, c in enumerate(cells, 1):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not src.strip(): continue
        d = directives(src)
        if not is_visible(d) or d.get('eval') == 'false': continue
        if any(flag in d and flag not in forced for flag in ('slow', 'notest')): continue
        out.append((i, src))
    return out


# Runs in the fresh process: reads [page, [[cell number, source], ...]] on stdin, runs the cells in one IPython
# shell, and on the first error prints a marker line with the cell number, then the traceback.
DRIVER = r'''
import json, sys, traceback
from IPython.core.interactiveshell import InteractiveShell
page, cells = json.load(sys.stdin)
shell = InteractiveShell.instance()
shell.showtraceback = lambda *args, **kwargs: None        # we print the traceback ourselves, without colours
for number, source in cells:
    result = shell.run_cell(source, store_history=False)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        print(f'\n@@FAILED-CELL {number}', flush=True)
        print(''.join(traceback.format_exception(error)), flush=True)
        sys.exit(1)
'''


def test_directives():
    assert directives('#| export\ndef f(): pass') == {'export': ''}
    assert directives('#|hide\n#| eval: false\nx = 1\n#| slow') == {'hide': '', 'eval': 'false'}
    assert not is_visible({'hide': ''}) and not is_visible({'exporti': ''}) and not is_visible({'echo': 'false'})
    assert is_visible({'export': ''}) and is_visible({'slow': ''}) and is_visible({})


@pytest.mark.parametrize('page', pages, ids=[p.name for p in pages])
def test_visible_cells_run(page, request):
    forced = request.config.getoption('--flags').split()
    if page.name not in FAST_PAGES and 'slow' not in forced:
        pytest.skip(f'{page.name}: not a fast page; runs with --flags slow')
    cells = visible_cells(page, forced)
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONPATH': str(root)}
    try:
        proc = subprocess.run([sys.executable, '-c', DRIVER], input=json.dumps([page.name, cells]), text=True,
                              capture_output=True, cwd=root/'nbs', env=env, timeout=PAGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f'{page.name}: its visible cells did not finish within {PAGE_TIMEOUT_S} s')
    if proc.returncode == 0: return
    m = re.search(r'@@FAILED-CELL (\d+)\n(.*)', proc.stdout, re.S)
    if not m: pytest.fail(f'{page.name}: the process failed (exit status {proc.returncode}):\n{proc.stderr[-3000:]}')
    number = int(m[1])
    source = dict(cells)[number]
    pytest.fail(f'{page.name}, cell {number} (a reader copying the visible cells in order gets this error):\n'
                f'--- cell source ---\n{source}\n--- traceback ---\n{m[2][-4000:]}', pytrace=False)
