.PHONY: test train test-slow reproduce lab clean
test:        ## environment if missing, notebooks in sync, every notebook + tests/ under pytest, docs smoke test
	bash scripts/test.sh
test-slow:   ## the same, running the cells flagged `slow` too
	bash scripts/test.sh --flags slow
train:       ## environment if missing, then 3 epochs of BMSA on Fashion-MNIST with a per-epoch table
	bash scripts/train.sh
reproduce:   ## the paper's experiments (long; resumable): SET, AccSET, BMSA on Fashion-MNIST and CIFAR-10, with figures
	bash scripts/reproduce.sh
lab:         ## Jupyter Lab from .venv, opening the tutorial in nbs/ (installs the `jupyter` extra on first use); LAB_ARGS=--no-browser etc.
	bash scripts/setup_env.sh
	.venv/bin/python -c "import jupyterlab" 2>/dev/null || .venv/bin/pip install -q -e ".[dev,jupyter]"
	cd nbs && ../.venv/bin/jupyter lab $(LAB_ARGS) 11_tutorial.ipynb
clean:
	rm -rf _proc _docs .pytest_cache
