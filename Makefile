.PHONY: build test bench bench-compare bench-baseline lint clean

build:
	python setup.py build_ext --inplace

test: build
	python -m pytest -q

bench: build
	python -m pytest benchmarks -q --benchmark-only
	python benchmarks/redis_benchmark.py

# codec micro-benchmarks: fail on a >25% regression against benchmarks/baselines or when slower than hiredis
bench-compare: build
	python benchmarks/bench_compare.py

bench-baseline: build
	python benchmarks/bench_compare.py --save

lint:
	ruff check fastredis tests benchmarks
	mypy

clean:
	rm -rf build fastredis/*.so fastredis/*.c
