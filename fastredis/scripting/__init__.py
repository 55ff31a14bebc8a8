"""Lua scripting (EVAL, FUNCTION) on lupa's Lua 5.1: runtime, sandbox, libraries, script cache."""

from collections.abc import Callable
from typing import Any

# what an idle Lua state and an empty function library context take in Redis 7.2
_IDLE_EVAL_VM = 31744
_IDLE_FUNCTIONS_VM = 32768
_FUNCTIONS_OVERHEAD = 184


def script_memory_fields(ctx: Any, human: Callable[[int], str]) -> list[tuple[str, Any]]:
    """INFO memory's scripting fields (used_memory_lua, number_of_cached_scripts, ...)."""
    st = ctx.scripting
    pending = ctx.extras.get("rdb_functions")
    if st is None and pending:
        from .lua import scripting_state

        st = scripting_state(ctx)
    if st is None:
        vm_eval, scripts_eval, nscripts, nfuncs, nlibs = _IDLE_EVAL_VM, 0, 0, 0, 0
        vm_funcs, funcs_mem = _IDLE_FUNCTIONS_VM, _FUNCTIONS_OVERHEAD
    else:
        vm_eval = st.memory_lua() or _IDLE_EVAL_VM
        nscripts = len(st.scripts)
        scripts_eval = st.scripts_bytes + 56 * nscripts
        fs = st.functions
        nfuncs, nlibs = len(fs.functions), len(fs.libraries)
        vm_funcs = fs.memory() or _IDLE_FUNCTIONS_VM
        funcs_mem = _FUNCTIONS_OVERHEAD + sum(len(lib.code) + 64 * (1 + len(lib.functions))
                                              for lib in fs.libraries.values())
    return [
        ("used_memory_lua", vm_eval),
        ("used_memory_vm_eval", vm_eval),
        ("used_memory_lua_human", human(vm_eval)),
        ("used_memory_scripts_eval", scripts_eval),
        ("number_of_cached_scripts", nscripts),
        ("number_of_functions", nfuncs),
        ("number_of_libraries", nlibs),
        ("used_memory_vm_functions", vm_funcs),
        ("used_memory_vm_total", vm_eval + vm_funcs),
        ("used_memory_vm_total_human", human(vm_eval + vm_funcs)),
        ("used_memory_functions", funcs_mem),
        ("used_memory_scripts", scripts_eval + funcs_mem),
        ("used_memory_scripts_human", human(scripts_eval + funcs_mem)),
    ]
