.PHONY: test train test-slow reproduce clean
test:        ## environment if missing, notebooks in sync, every notebook + tests/ under pytest, docs smoke test
	bash scripts/test.sh
test-slow:   ## the same, running the cells flagged `slow` too
	bash scripts/test.sh --flags slow
train:       ## environment if missing, then 3 epochs of BMSA on Fashion-MNIST with a per-epoch table
	bash scripts/train.sh
reproduce:   ## the paper's experiments (long; resumable): SET, AccSET, BMSA on Fashion-MNIST and CIFAR-10, with figures
	bash scripts/reproduce.sh
clean:
	rm -rf _proc _docs .pytest_cache
