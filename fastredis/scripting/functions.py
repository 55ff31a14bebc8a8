"""Function libraries (Redis 7 functions): FUNCTION LOAD/DELETE/FLUSH/DUMP/RESTORE, FCALL.

Libraries live in their own Lua state (``LuaEngine(functions=True)``).  Library code runs once at
load time with only the library API visible (``redis.register_function``, ``redis.log``, the
version fields), as Redis' function_lua.c does; the registered callbacks later run with the
normal sandbox.  Libraries are kept as their source text, which is also what the RDB
(``RDB_OPCODE_FUNCTION2``), FUNCTION DUMP and the AOF carry.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import executor as _executor
from .._resp import ReplyError, string2ll
from .lua import FLAG_NAMES, LuaEngine

if TYPE_CHECKING:
    from .scripts import ScriptingState

_NAME_RE = re.compile(rb"^[A-Za-z0-9_]+$")
LOAD_TIMEOUT = 0.5  # seconds, Redis' LOAD_TIMEOUT_MS


@dataclass
class Function:
    name: bytes
    fn: Any
    description: bytes | None
    flags: int

    def __post_init__(self) -> None:
        self.sname = self.name.decode("utf-8", "replace")


@dataclass
class Library:
    name: bytes
    code: bytes
    functions: dict[bytes, Function] = field(default_factory=dict)


class Functions:
    """The function libraries of a server and their Lua state."""

    def __init__(self, state: ScriptingState) -> None:
        self.state = state
        self.server = state.server
        self._engine: LuaEngine | None = None
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}  # lower-cased name -> function
        self.owner: dict[bytes, bytes] = {}  # lower-cased function name -> library name

    @property
    def engine(self) -> LuaEngine:
        if self._engine is None:
            self._engine = LuaEngine(self.server, functions=True)
        return self._engine

    def count_functions(self) -> int:
        return len(self.functions)

    def memory(self) -> int:
        return self._engine.used_memory() if self._engine is not None else 0

    # -- load --------------------------------------------------------------------

    def create(self, code: bytes, replace: bool) -> Library:
        """functionsCreateWithLibraryCtx: compile and run ``code``; ReplyError on failure."""
        name = extract_metadata(code)
        if not _NAME_RE.match(name):
            raise ReplyError("ERR Library names can only contain letters, numbers, or underscores(_) and must "
                             "be at least one character long")
        old = self.libraries.get(name)
        if old is not None and not replace:
            raise ReplyError(b"ERR Library '%s' already exists" % name)
        lib = self.compile_library(name, code)
        for fname in lib.functions:
            owner = self.owner.get(fname.lower())
            if owner is not None and owner != name:
                raise ReplyError(b"ERR Function %s already exists" % fname)
        if old is not None:
            self._unlink(old)
        self._link(lib)
        return lib

    def compile_library(self, name: bytes, code: bytes) -> Library:
        engine = self.engine
        body = code[code.find(b"\n"):]  # keep the newline: line numbers stay the user's
        fn = engine.compile(body, b"@user_function")
        if isinstance(fn, bytes):
            raise ReplyError(b"ERR Error compiling function: " + fn.replace(b"\n", b" "))
        lib = Library(name, code)
        engine.loading_library = lib
        engine.load_deadline = time.monotonic() + LOAD_TIMEOUT
        engine.sethook(100000, b"FUNCTION LOAD timeout")
        try:
            res = engine.load_library(fn)
        finally:
            engine.reset_hook()
            engine.loading_library = None
            engine.load_deadline = 0.0
        if type(res) is not tuple:
            res = (res,)
        if not res[0]:
            info = engine.errinfo(res[1] if len(res) > 1 else None)
            msg = info[0] if isinstance(info, tuple) else info
            if msg is None:
                msg = b"unknown error"
            raise ReplyError(b"ERR Error registering functions: " + _b(msg).replace(b"\n", b" "))
        if not lib.functions:
            raise ReplyError("ERR No functions registered")
        return lib

    def _link(self, lib: Library) -> None:
        self.libraries[lib.name] = lib
        for fname, f in lib.functions.items():
            self.functions[fname.lower()] = f
            self.owner[fname.lower()] = lib.name

    def _unlink(self, lib: Library) -> None:
        self.libraries.pop(lib.name, None)
        for fname in lib.functions:
            self.functions.pop(fname.lower(), None)
            self.owner.pop(fname.lower(), None)

    def delete(self, name: bytes) -> None:
        lib = self.libraries.get(name)
        if lib is None:
            raise ReplyError("ERR Library not found")
        self._unlink(lib)

    def flush(self) -> None:
        self.libraries = {}
        self.functions = {}
        self.owner = {}
        self._engine = None

    def codes(self) -> list[bytes]:
        return [lib.code for lib in self.libraries.values()]

    def restore(self, codes: list[bytes], policy: str = "APPEND") -> None:
        """Load libraries from an RDB or a FUNCTION RESTORE payload, all or nothing."""
        saved = (self.libraries, self.functions, self.owner, self._engine)
        if policy == "FLUSH":
            self.flush()
        try:
            for code in codes:
                name = extract_metadata(code)
                if name in self.libraries and policy == "APPEND":
                    raise ReplyError(b"ERR Library %s already exists" % name)
                self.create(code, replace=policy in ("REPLACE", "FLUSH"))
        except ReplyError:
            self.libraries, self.functions, self.owner, self._engine = saved
            raise

    def replace_all(self, codes: list[bytes]) -> None:
        """The RDB loader's hand-over: the loaded libraries replace the current ones."""
        self.flush()
        for code in codes:
            try:
                self.create(code, replace=True)
            except ReplyError as e:
                self.server.log("warning", "Failed loading library from RDB: %s"
                                % e.message.decode("utf-8", "replace"))

    def call(self, c: Any, argv: list[bytes], ro: bool) -> Any:
        if c.server.monitors:
            _executor.feed_monitors(c, argv)
        functions = self.functions
        f = functions.get(argv[1]) or functions.get(argv[1].lower())
        if f is None:
            raise ReplyError("ERR Function not found")
        numkeys = string2ll(argv[2])
        if numkeys is None:
            raise ReplyError("ERR Bad number of keys provided")
        if numkeys > len(argv) - 3:
            raise ReplyError("ERR Number of keys can't be greater than number of args")
        if numkeys < 0:
            raise ReplyError("ERR Number of keys can't be negative")
        self.state.prepare(c, f.flags, ro)
        read_only = ro or bool(f.flags & 1)
        return self.engine.run(c, f.fn, f.sname, f.flags, read_only, False, argv, numkeys)


def _b(v: Any) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


def extract_metadata(code: bytes) -> bytes:
    """functionExtractLibMetaData: the library name from ``#!lua name=...``."""
    from .._resp import split_args

    if not code.startswith(b"#!"):
        raise ReplyError("ERR Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise ReplyError("ERR Invalid library metadata")
    parts = split_args(code[:end])
    if not parts:
        raise ReplyError("ERR Invalid library metadata")
    engine = parts[0][2:]
    name: bytes | None = None
    for p in parts[1:]:
        if p[:5].lower() == b"name=":
            if name is not None:
                raise ReplyError("ERR Invalid metadata value, name argument was given multiple times")
            name = p[5:]
            continue
        raise ReplyError(b"ERR Invalid metadata value given: " + p)
    if name is None:
        raise ReplyError("ERR Library name was not given")
    if engine.upper() != b"LUA":
        if not _NAME_RE.match(name):
            raise ReplyError("ERR Library names can only contain letters, numbers, or underscores(_) and must "
                             "be at least one character long")
        raise ReplyError(b"ERR Engine '%s' not found" % engine)
    return name


def register_function(engine: LuaEngine, lib: Library, args: tuple[Any, ...]) -> bytes | None:
    """redis.register_function's argument rules (luaRegisterFunctionReadArgs); an error or None."""
    from lupa.lua51 import lua_type

    if len(args) < 1 or len(args) > 2:
        return b"wrong number of arguments to redis.register_function"
    name: bytes | None = None
    desc: bytes | None = None
    callback: Any = None
    flags = 0
    if len(args) == 1:
        t = args[0]
        if lua_type(t) != "table":
            return (b"calling redis.register_function with a single argument is only applicable to Lua table "
                    b"(representing named arguments).")
        for k, v in t.items():
            if isinstance(k, (int, float)):
                k = b"%.14g" % k
            if not isinstance(k, bytes):
                return b"named argument key given to redis.register_function is not a string"
            key = k.lower()
            if key == b"function_name":
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = b"%.14g" % v
                if not isinstance(v, bytes):
                    return b"function_name argument given to redis.register_function must be a string"
                name = v
            elif key == b"description":
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = b"%.14g" % v
                if not isinstance(v, bytes):
                    return b"description argument given to redis.register_function must be a string"
                desc = v
            elif key == b"callback":
                if lua_type(v) != "function":
                    return b"callback argument given to redis.register_function must be a function"
                callback = v
            elif key == b"flags":
                if lua_type(v) != "table":
                    return b"flags argument to redis.register_function must be a table representing function flags"
                for _, fl in v.items():
                    bit = FLAG_NAMES.get(fl.decode("utf-8", "replace")) if isinstance(fl, bytes) else None
                    if bit is None:
                        return b"unknown flag given"
                    flags |= bit
            else:
                return b"unknown argument given to redis.register_function"
        if name is None:
            return b"redis.register_function must get a function name argument"
        if callback is None:
            return b"redis.register_function must get a callback argument"
    else:
        name, callback = args
        if isinstance(name, (int, float)) and not isinstance(name, bool):
            name = b"%.14g" % name
        if not isinstance(name, bytes):
            return b"first argument to redis.register_function must be a string"
        if lua_type(callback) != "function":
            return b"second argument to redis.register_function must be a function"
    if not _NAME_RE.match(name):
        return (b"Library names can only contain letters, numbers, or underscores(_) and must be at least one "
                b"character long")
    if name in lib.functions:
        return b"Function already exists in the library"
    lib.functions[name] = Function(name, callback, desc, flags)
    return None


# -- FUNCTION DUMP / RESTORE payloads ---------------------------------------------

def dump_payload(codes: list[bytes]) -> bytes:
    from ..persistence.crc64 import crc64
    from ..persistence.rdb import OP_FUNCTION2, RDB_VERSION, _string

    body = b"".join(bytes((OP_FUNCTION2,)) + _string(code, True) for code in codes)
    body += struct.pack("<H", RDB_VERSION)
    return body + struct.pack("<Q", crc64(0, body))


def parse_payload(payload: bytes) -> list[bytes]:
    from ..persistence.rdb import OP_FUNCTION2, Reader, verify_payload

    if not verify_payload(payload):
        raise ReplyError("ERR DUMP payload version or checksum are wrong")
    r = Reader(payload, 0, len(payload) - 10)
    codes = []
    try:
        while r.pos < r.end:
            op = r.byte()
            if op != OP_FUNCTION2:
                raise ReplyError("ERR given type is not a function")
            codes.append(bytes(r.string()))
    except ReplyError:
        raise
    except Exception:
        raise ReplyError("ERR failed loading the given functions payload") from None
    return codes
