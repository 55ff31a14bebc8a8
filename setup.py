"""Build the Cython extension(s); metadata lives in pyproject.toml."""
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("fastredis._resp", ["fastredis/_resp.pyx"], extra_compile_args=["-O3"]),
    Extension("fastredis._native", ["fastredis/_native.pyx"], extra_compile_args=["-O3"]),
    Extension("fastredis._dispatch", ["fastredis/_dispatch.pyx"], extra_compile_args=["-O3"]),
    Extension("fastredis.persistence._rdbfast", ["fastredis/persistence/_rdbfast.pyx"], extra_compile_args=["-O3"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
)
