#!/usr/bin/env python3
"""Docs check: render the documentation pages to HTML with their outputs and look at them in headless Chromium.

Quarto (what `nbdev-docs` needs) cannot be installed on our build machines, and the notebooks are committed without
outputs. So, after `nbdev-proc-nbs` has written `_proc/`, this script:

1. executes the notebooks of the pages given by `--execute` (default: index, 06_bmsa, 09a_explorer) the way the tests
   do (nbdev's `CaptureShell`, in `nbs/`, skipping the cells flagged with the project's `tst_flags`, `slow` and
   `notest`, each cell under a timeout), and runs nbdev's own docs processor (`FilterDefaults`, exactly what
   `nbdev-proc-nbs` applies) on the result; the processed cells must match `_proc/`'s. Other pages are taken from
   `_proc/` as they are (prose, equations, code and `show_doc` output, but no cell outputs);
2. renders every page to HTML with nbconvert, doing what Quarto does with nbdev's page options (the title and
   description from the front matter, `echo: false`, `output: false`, `include: false`, option lines hidden), with
   MathJax 3 from the npm registry, kept locally (the CDN nbconvert uses by default is not reachable offline);
3. loads each page in headless Chromium and reads back the rendered DOM: every Markdown heading must be there, every
   equation typeset by MathJax (no MathJax error, no TeX source left in the text), every PNG output an `<img>` with
   PNG data that the browser decoded, plus a few page-specific expectations (`EXPECT`); it saves screenshots.

A notebook that fails to execute, a page that fails to render and any failed check make it exit with status 1.
Missing tools are installed on first use: nbconvert with pip, Chromium with apt-get, MathJax with npm.

Usage: `.venv/bin/python scripts/docs_check.py [--pages P ...] [--execute P ... | all | none] [--out DIR]`
(or `bash scripts/docs_check.sh`, which also runs `nbdev-proc-nbs` if `_proc/` is missing). Output goes to
`_proc/_docs_check/`: `<page>.html`, `<page>.png` screenshots and the executed notebooks.
"""
import argparse, base64, json, os, re, shutil, subprocess, sys, tempfile, time, traceback
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_VERSION = '3.2.2'
CACHE = Path(os.environ.get('BMSA_DOCS_CACHE', Path.home() / '.cache' / 'bmsa-docs-check'))
DEFAULT_EXECUTE = ['index', '06_bmsa', '09a_explorer']
DEFAULT_SCREENSHOTS = ['index', '06_bmsa', '09a_explorer']
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--allow-file-access-from-files', '--hide-scrollbars', '--virtual-time-budget=20000']

# Page-specific expectations, on top of the generic checks (headings, equations and figures found in the notebook).
EXPECT = {
    'index':   dict(headings=['bmsa', 'Install', 'Quick start', 'Where to go next'],
                    text=['Dynamic sparse training', 'train_loss', 'valid_loss', 'connections']),
    '06_bmsa': dict(headings=['BMSA: Brain-Mimetic Synapse Adjustment', '1. Strikes: the matrix (Eq. 1)',
                              '3. Growth: P, N and the median (Eqs. 2 and 3)', '4. The BMSA callback'],
                    min_math=8, min_display=3, min_png=1, text=['update_strikes', 'eligible_for_growth']),
    '09a_explorer': dict(headings=['Topology explorer', 'The widget'], min_png=1),
}

def log(msg): print(f"[docs-check] {msg}", flush=True)
class CheckFailed(Exception): pass

# ----------------------------------------------------------------------------------------------------- tools
def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)

def ensure_nbconvert():
    try:
        import nbconvert  # noqa: F401
        return
    except ImportError: pass
    log("installing nbconvert (pip)")
    run([sys.executable, '-m', 'pip', 'install', '-q', 'nbconvert>=7.16'])

def ensure_chromium():
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe: return exe
    if os.geteuid() != 0: raise CheckFailed("chromium is not installed: `sudo apt-get install -y chromium`")
    log("installing chromium (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    cmd = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        run(['apt-get', 'update', '-qq'], env=env)
        run(cmd, env=env, stdout=subprocess.DEVNULL)
    exe = shutil.which('chromium')
    if not exe: raise CheckFailed("chromium did not install")
    return exe

def ensure_mathjax():
    "MathJax 3 from the npm registry, in a cache folder outside the repository; return its folder."
    folder = CACHE / f'mathjax-{MATHJAX_VERSION}'
    mj = folder / 'node_modules' / 'mathjax'
    if (mj / 'es5' / 'tex-chtml.js').exists(): return mj
    npm = shutil.which('npm')
    if not npm:
        if os.geteuid() != 0: raise CheckFailed("npm is needed to install MathJax: `sudo apt-get install -y npm`")
        log("installing npm (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'npm'], env=env, stdout=subprocess.DEVNULL)
        npm = shutil.which('npm')
    log(f"installing mathjax@{MATHJAX_VERSION} (npm) into {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    run([npm, 'install', '--prefix', str(folder), '--no-audit', '--no-fund', '--no-save', '--no-package-lock',
         '--loglevel=error', f'mathjax@{MATHJAX_VERSION}'], stdout=subprocess.DEVNULL)
    if not (mj / 'es5' / 'tex-chtml.js').exists(): raise CheckFailed("MathJax did not install")
    return mj

# ------------------------------------------------------------------------------------ execute and process
def _execute(src, dst, skip_flags, cell_timeout):
    "Child process: run notebook `src` as the tests do (in its folder, flagged cells skipped) and write it to `dst`."
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell
    from execnb.shell import CaptureShell
    from fastcore.nbio import write_nb
    src = Path(src).resolve()
    os.environ['IN_TEST'] = '1'
    sys.path.insert(0, str(src.parent.parent))
    nb = NBProcessor(src, rm_directives=False, process=True).nb
    skip = _skip_cell(nb, skip_flags, [])
    code = [c for c in nb.cells if c.cell_type == 'code']
    skipped = [c for c in code if skip(c)]
    flagged = [c for c in skipped if set(skip_flags) & set(getattr(c, 'directives_', {}) or {})]
    k = CaptureShell(src)
    os.chdir(src.parent)
    try: k.run_all(nb, exc_stop=True, preproc=skip, cell_timeout=cell_timeout)
    except BaseException:
        sys.stderr.write((k.prettytb(fname=src) or traceback.format_exc()) + '\n')
        sys.exit(1)
    write_nb(nb, dst)
    print(f"ran {len(code) - len(skipped)} code cells, skipped {len(flagged)} flagged {'/'.join(skip_flags)}")

def _process(src, dst):
    "Child process: apply nbdev's docs processors (what nbdev-proc-nbs does) to `src`, write `dst`."
    from fastcore.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    nb = read_nb(src)
    FilterDefaults()(nb)
    write_nb(nb, dst)

def child(args, timeout, cwd):
    "Run this script's own subcommand `args` in a fresh process; raise CheckFailed with its output if it fails."
    env = dict(os.environ, MPLBACKEND='Agg')
    try:
        p = subprocess.run([sys.executable, __file__] + args, cwd=cwd, env=env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired: raise CheckFailed(f"{' '.join(args[:2])}: no result within {timeout} s")
    if p.returncode != 0:
        tail = '\n'.join(p.stdout.strip().splitlines()[-40:])
        raise CheckFailed(f"{args[0]} of {Path(args[1]).name} failed:\n{tail}")
    return p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ''

def sources(nb):
    return [(c['cell_type'], ''.join(c['source']) if isinstance(c['source'], list) else c['source']) for c in nb['cells']]

# -------------------------------------------------------------------------------- what Quarto would do
def _options(source):
    "nbdev's `#| key: value` cell options (after processing) and the source without them."
    opts, lines = {}, source.split('\n')
    body = [l for l in lines if not l.startswith('#|')]
    for l in lines:
        if l.startswith('#|'):
            k, _, v = l[2:].strip().partition(':')
            opts[k.strip()] = v.strip().lower()
    return opts, '\n'.join(body).strip('\n')

def _carriage_returns(text):
    "Stream text as a notebook shows it: of each line, what follows its last carriage return (progress bars' last frame)."
    lines = [l.rstrip('\r').split('\r')[-1] if '\r' in l else l for l in text.split('\n')]
    return '\n'.join(l.rstrip() for l in lines if l.strip() not in ('', '█') or '\r' not in text)

def quarto_like(nb):
    "The page as Quarto shows it: front matter as the title, `echo`/`output`/`include` options applied, options hidden."
    import nbformat, yaml
    cells = []
    for c in nb.cells:
        c.metadata.pop('execution', None)          # execnb's timings, not valid nbformat metadata
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            fm = yaml.safe_load(c.source.strip().strip('-')) or {}
            d = str(fm.get('description', '')).strip()
            if d and d[-1] not in '.!?:)':     # a warning only: it does not fail the check
                log(f"WARNING: the description ends mid-sentence ('…{d[-40:]}'): nbdev keeps only the first line "
                    "of a notebook's '> ' summary, so write it on one line")
            md = f"# {fm.get('title', '')}\n\n" + (f"> {fm['description']}" if fm.get('description') else '')
            cells.append(nbformat.v4.new_markdown_cell(md))
            continue
        if c.cell_type == 'code':
            for o in c.get('outputs', []):
                if o.output_type == 'stream': o.text = _carriage_returns(o.text)
                md = o.get('data', {}).get('text/markdown')                # show_doc's Pandoc link attributes
                if md: o['data']['text/markdown'] = re.sub(r'(\]\([^)]*\))\{[^}]*\}', r'\1', md)
            opts, c.source = _options(c.source)
            if opts.get('include') == 'false': continue
            if opts.get('output') == 'false': c.outputs = []
            if opts.get('echo') == 'false' or not c.source.strip():
                c.metadata.setdefault('tags', []).append('remove_input')
            if not c.source.strip() and not c.outputs: continue
        cells.append(c)
    nb.cells = cells
    return nb

TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']], processEscapes: true},
  options: {ignoreHtmlClass: 'tex2jax_ignore', processHtmlClass: 'tex2jax_process'}
};
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{% block body_footer %}
<script>
// The docs check reads this attribute back from the DOM Chromium dumps.
(function () {
  const loaded = document.readyState === 'complete' ? Promise.resolve() : new Promise(r => window.addEventListener('load', r));
  const typeset = (window.MathJax && MathJax.startup) ? MathJax.startup.promise : Promise.resolve();
  Promise.all([loaded, typeset]).then(() => {
    const imgs = Array.from(document.images);
    document.body.setAttribute('data-docs-check', JSON.stringify({
      mathjax: (window.MathJax && MathJax.version) || null,
      math: document.querySelectorAll('mjx-container').length,
      display: document.querySelectorAll('mjx-container[display="true"]').length,
      merror: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent),
      images: imgs.length,
      broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 40)),
      height: document.documentElement.scrollHeight}));
    // ?focus=figure: for a screenshot of the first figure, hide the cells before it, but the one just before.
    const focus = new URLSearchParams(location.search).get('focus');
    const target = focus === 'figure' ? document.querySelector('img') : null;
    const cells = Array.from(document.querySelectorAll('.jp-Cell'));
    const at = target ? cells.indexOf(target.closest('.jp-Cell')) : -1;
    cells.slice(0, Math.max(0, at - 1)).forEach(c => c.style.display = 'none');
  });
})();
</script>
</main>
</body>
{% endblock body_footer %}
"""

def to_html(nb, mathjax_url):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    exporter = HTMLExporter(config=c, template_name='lab', template_file='docs_check.html.j2',
                            extra_loaders=[DictLoader({'docs_check.html.j2': TEMPLATE})],
                            exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.mathjax_url = mathjax_url
    exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    html, _ = exporter.from_notebook_node(nb)
    return html

# ------------------------------------------------------------------------------------------------- checks
def _plain(md):
    "Heading text as the browser shows it, without equations (MathJax's output is skipped when reading the DOM)."
    md = re.sub(r'\$\$.+?\$\$|\$[^$]+\$', ' ', md)
    md = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', md)
    md = re.sub(r'[`*_]', '', md)
    return ' '.join(md.replace('¶', ' ').split())

def expectations(nb):
    "Headings, equations and PNG outputs the page must show, read off the notebook."
    headings, math, displayed, png = [], 0, 0, 0
    for c in nb.cells:
        if c.cell_type == 'markdown':
            text = re.sub(r'```.*?```', '', c.source, flags=re.S)
            headings += [_plain(m) for m in re.findall(r'^#{1,6}\s+(.+)$', text, flags=re.M)]
            text = re.sub(r'`[^`]*`', '', text)
            display = re.findall(r'\$\$.+?\$\$', text, flags=re.S)
            inline = re.findall(r'(?<![\\$])\$[^$\n]+?(?<!\\)\$', re.sub(r'\$\$.+?\$\$', '', text, flags=re.S))
            math += len(display) + len(inline); displayed += len(display)
        if c.cell_type == 'code':
            png += sum('image/png' in o.get('data', {}) for o in c.get('outputs', []))
    return dict(headings=[h for h in headings if h], math=math, displayed=displayed, png=png)

class DomReader(HTMLParser):
    "What a reader sees in the rendered DOM: headings, visible text, images, tables, the check attribute."
    hidden = {'script', 'style', 'mjx-container', 'textarea', 'svg'}     # not text a reader sees as such
    literal = {'pre', 'code'}                                           # code: shown, but may contain '$' and TeX
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings, self.text, self.images, self.tables, self.check = [], [], [], 0, None
        self._hidden, self._literal, self._heading = 0, 0, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'body' and a.get('data-docs-check'): self.check = json.loads(a['data-docs-check'])
        if tag == 'img': self.images.append(a.get('src', ''))
        if tag == 'table': self.tables += 1
        if tag in self.hidden: self._hidden += 1
        if tag in self.literal: self._literal += 1
        if re.fullmatch(r'h[1-6]', tag): self._heading = []
    def handle_endtag(self, tag):
        if tag in self.hidden: self._hidden = max(0, self._hidden - 1)
        if tag in self.literal: self._literal = max(0, self._literal - 1)
        if re.fullmatch(r'h[1-6]', tag) and self._heading is not None:
            self.headings.append(' '.join(''.join(self._heading).replace('¶', ' ').split())); self._heading = None
    def handle_data(self, data):
        if self._hidden: return
        if self._heading is not None: self._heading.append(data)
        if not self._literal: self.text.append(data)

TEX_LEFT = re.compile(r'\$\$|\$[^$\s][^$]*?\$|\\(?:frac|left|right|mathrm|times|varepsilon|theta|text)\b')

def check_page(name, dom, expected, executed):
    "The failures of one page's rendered DOM against what its notebook and `EXPECT` say it must show."
    r = DomReader(); r.feed(dom)
    fails, info = [], r.check
    if info is None: return [f"{name}: the page's check script did not run (JavaScript error or MathJax failed to load?)"]
    exp = EXPECT.get(name, {})
    for h in expected['headings'] + [_plain(h) for h in exp.get('headings', [])]:
        if not any(h in got for got in r.headings): fails.append(f"{name}: heading {h!r} is missing")
    need_math = max(expected['math'], exp.get('min_math', 0))
    if need_math and not info['mathjax']: fails.append(f"{name}: MathJax did not load")
    if info['math'] < need_math: fails.append(f"{name}: {info['math']} equations typeset, expected at least {need_math}")
    need_display = max(expected['displayed'], exp.get('min_display', 0))
    if info['display'] < need_display: fails.append(f"{name}: {info['display']} display equations typeset, expected at least {need_display}")
    if info['merror']: fails.append(f"{name}: {len(info['merror'])} equations failed to typeset: MathJax says {info['merror'][:3]}")
    text = ' '.join(' '.join(r.text).split())
    left = sorted(set(m.group(0) for m in TEX_LEFT.finditer(text)))
    if left: fails.append(f"{name}: TeX left untypeset in the text: {left[:5]}")
    pngs = [s for s in r.images if s.startswith('data:image/png;base64,')]
    for s in pngs:
        if not base64.b64decode(s.split(',', 1)[1][:64] + '==')[:8] == b'\x89PNG\r\n\x1a\n': fails.append(f"{name}: an image is not PNG data")
    need_png = max(expected['png'], exp.get('min_png', 0) if executed else 0)    # no outputs unless executed
    if len(pngs) < need_png: fails.append(f"{name}: {len(pngs)} PNG figures on the page, expected at least {need_png}")
    if info['broken']: fails.append(f"{name}: {len(info['broken'])} images failed to load: {info['broken'][:3]}")
    if r.tables < exp.get('min_tables', 0): fails.append(f"{name}: {r.tables} tables, expected at least {exp['min_tables']}")
    for t in exp.get('text', []):
        if t not in text and t not in dom: fails.append(f"{name}: text {t!r} is missing")
    if 'Traceback (most recent call last)' in dom: fails.append(f"{name}: the page shows a Python traceback")
    log(f"{name}: {len(r.headings)} headings, {info['math']} equations typeset by MathJax {info['mathjax']} "
        f"({info['display']} displayed), {len(pngs)} PNG figures, {r.tables} tables, page height {info['height']} px"
        + (' -- FAILED' if fails else ' -- ok'))
    return fails

def chromium(exe, args, timeout=90):
    with tempfile.TemporaryDirectory(prefix='docs-check-chromium-') as profile:
        p = subprocess.run([exe] + CHROMIUM_FLAGS + [f'--user-data-dir={profile}'] + args, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0: raise CheckFailed(f"chromium failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout

# ---------------------------------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--pages', nargs='*', help="pages to check, by notebook name (default: every notebook in nbs/)")
    p.add_argument('--execute', nargs='*', default=None,
                   help=f"pages whose notebooks are executed for their outputs: names, 'all' or 'none' (default: {' '.join(DEFAULT_EXECUTE)})")
    p.add_argument('--screenshots', nargs='*', default=DEFAULT_SCREENSHOTS, help="pages to take screenshots of")
    p.add_argument('--out', default=str(ROOT / '_proc' / '_docs_check'), help="output folder")
    p.add_argument('--timeout', type=int, default=600, help="seconds a notebook may take to execute")
    p.add_argument('--cell-timeout', type=int, default=300, help="seconds a cell may take to execute")
    args = p.parse_args(argv)
    start = time.time()
    import tomllib
    cfg = tomllib.loads((ROOT / 'pyproject.toml').read_text()).get('tool', {}).get('nbdev', {})
    nbs, proc = ROOT / cfg.get('nbs_path', 'nbs'), ROOT / '_proc'
    skip_flags = cfg.get('tst_flags', 'notest slow').split()
    if not (proc / 'index.ipynb').exists(): raise CheckFailed("_proc/index.ipynb is missing: run nbdev-proc-nbs first (scripts/docs_check.sh does)")
    names = args.pages or sorted(f.stem for f in nbs.glob('*.ipynb') if not f.name.startswith(('_', '.')))
    execute = DEFAULT_EXECUTE if args.execute is None else args.execute
    execute = names if execute == ['all'] else [] if execute == ['none'] else [n for n in execute if n in names]
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'executed').mkdir(exist_ok=True)

    ensure_nbconvert()
    exe, mathjax = ensure_chromium(), ensure_mathjax()
    link = out / 'mathjax'
    if link.is_symlink() or link.exists(): link.unlink() if link.is_symlink() else shutil.rmtree(link)
    link.symlink_to(mathjax, target_is_directory=True)
    log(f"tools ready in {time.time() - start:.0f} s: {subprocess.run([exe, '--version'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()}, "
        f"MathJax {MATHJAX_VERSION}; executing {', '.join(execute) or 'none'}")
    import nbformat
    failures = []
    for name in names:
        t0 = time.time()
        try:
            if not (proc / f'{name}.ipynb').exists(): raise CheckFailed(f"{name}: _proc/{name}.ipynb is missing (stale _proc? run nbdev-proc-nbs)")
            page = proc / f'{name}.ipynb'
            note = 'from _proc'
            if name in execute:
                executed, processed = out / 'executed' / f'{name}.ipynb', out / f'{name}.ipynb'
                note = child(['_execute', str(nbs / f'{name}.ipynb'), str(executed), ' '.join(skip_flags), str(args.cell_timeout)],
                             args.timeout, cwd=nbs)
                child(['_process', str(executed), str(processed)], args.timeout, cwd=ROOT)
                if sources(json.loads(processed.read_text())) != sources(json.loads(page.read_text())):
                    raise CheckFailed(f"{name}: the executed page's cells differ from _proc/{name}.ipynb: _proc is stale, run nbdev-proc-nbs")
                page = processed
            nb = quarto_like(nbformat.read(page, as_version=4))
            expected = expectations(nb)
            html = out / f'{name}.html'
            html.write_text(to_html(nb, 'mathjax/es5/tex-chtml.js'))
            dom = chromium(exe, ['--dump-dom', html.as_uri()])
            fails = check_page(name, dom, expected, executed=name in execute)
            failures += fails
            if name in args.screenshots and not fails:
                shots = [('', f'{name}.png')] + ([('?focus=figure', f'{name}-figure.png')] if expected['png'] else [])
                for query, fname in shots:
                    chromium(exe, [f'--screenshot={out / fname}', '--window-size=1280,1600', html.as_uri() + query])
                    log(f"{name}: screenshot {out / fname}")
            log(f"{name}: {note}, {time.time() - t0:.0f} s")
        except CheckFailed as e:
            failures.append(str(e)); log(f"{name}: FAILED")
    log(f"{len(names)} pages in {time.time() - start:.0f} s")
    if failures:
        print("\nDOCS CHECK FAILED:\n" + '\n'.join(f"- {f}" for f in failures), file=sys.stderr)
        return 1
    log(f"all {len(names)} pages passed; HTML and screenshots in {out}")
    return 0

if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '_execute':
        _execute(sys.argv[2], sys.argv[3], sys.argv[4].split(), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == '_process':
        _process(sys.argv[2], sys.argv[3])
    else:
        try: sys.exit(main())
        except CheckFailed as e:
            print(f"\nDOCS CHECK FAILED:\n- {e}", file=sys.stderr); sys.exit(1)
