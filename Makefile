.PHONY: build test bench lint clean

build:
	python setup.py build_ext --inplace

test: build
	python -m pytest -q

bench: build
	python -m pytest benchmarks -q --benchmark-only
	python benchmarks/redis_benchmark.py

lint:
	ruff check fastredis tests benchmarks
	mypy

clean:
	rm -rf build fastredis/*.so fastredis/*.c
