"""TLS contexts from the ``tls-*`` configs, on Python's ``ssl`` (uvloop does the record layer).

Why shaped so: Redis builds one server context (``tls-port`` listeners, and the
master side of TLS replication) and one client context (a replica connecting to
its master with ``tls-replication yes``) from the same configs, and rebuilds both
whenever one of them is set at run time.  A context is always built whole and
only swapped in once it loaded, so a bad ``CONFIG SET tls-cert-file`` leaves the
running configuration as it was and answers Redis' error.  The listeners read the
current context when they are (re)opened; the server re-opens the TLS listeners
after a change, so new connections see it and open ones keep theirs.

Python's ``ssl`` has no call for TLS 1.3 ciphersuites nor for switching the
session cache off; both are set on the context's ``SSL_CTX`` through ``ctypes``
(the ``_ssl`` extension is linked with the same libssl).
"""

from __future__ import annotations

import ctypes
import ssl
from typing import Any

TLS_CONFIGS = ("tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
               "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir",
               "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers",
               "tls-session-caching", "tls-session-cache-size", "tls-session-cache-timeout", "tls-auth-clients")

_PROTOCOLS = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1, "tlsv1.2": ssl.TLSVersion.TLSv1_2,
              "tlsv1.3": ssl.TLSVersion.TLSv1_3}


class TLSError(Exception):
    """The TLS configuration can't be applied; the text is what Redis logs."""


def _libssl() -> Any:
    try:
        return ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]
    except (OSError, AttributeError):
        return None


_LIB = _libssl()


def _ssl_ctx_ptr(ctx: ssl.SSLContext) -> int:
    """The ``SSL_CTX *`` inside a PySSLContext (the first field after PyObject_HEAD)."""
    return ctypes.c_void_p.from_address(id(ctx) + ctypes.sizeof(ctypes.c_ssize_t) * 2).value or 0


def _set_ciphersuites(ctx: ssl.SSLContext, suites: str) -> None:
    fn = getattr(_LIB, "SSL_CTX_set_ciphersuites", None) if _LIB is not None else None
    if fn is None:
        raise TLSError("Failed to configure ciphersuites: not supported by this OpenSSL")
    fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    fn.restype = ctypes.c_int
    if fn(_ssl_ctx_ptr(ctx), suites.encode()) != 1:
        raise TLSError(f"Failed to configure ciphersuites: {suites}")


def _session_cache(ctx: ssl.SSLContext, enabled: bool, size: int, timeout: int) -> None:
    """SSL_CTX_set_session_cache_mode / sess_set_cache_size / set_timeout (SSL_CTX_ctrl)."""
    ctrl = getattr(_LIB, "SSL_CTX_ctrl", None) if _LIB is not None else None
    settimeout = getattr(_LIB, "SSL_CTX_set_timeout", None) if _LIB is not None else None
    if ctrl is None:
        return
    ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    ctrl.restype = ctypes.c_long
    ptr = _ssl_ctx_ptr(ctx)
    set_cache_mode, set_cache_size = 44, 42  # SSL_CTRL_SET_SESS_CACHE_MODE, SSL_CTRL_SET_SESS_CACHE_SIZE
    if enabled:
        ctrl(ptr, set_cache_mode, 0x0002, None)  # SSL_SESS_CACHE_SERVER
        ctrl(ptr, set_cache_size, size, None)
        if settimeout is not None:
            settimeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
            settimeout(ptr, timeout)
    else:
        ctrl(ptr, set_cache_mode, 0, None)  # SSL_SESS_CACHE_OFF
        ctx.options |= ssl.OP_NO_TICKET


def _protocols(text: str) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    words = text.lower().split()
    if not words:
        return ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    versions = []
    for w in words:
        v = _PROTOCOLS.get(w)
        if v is None:
            raise TLSError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and "
                           "'TLSv1.3'.")
        versions.append(v)
    return min(versions), max(versions)


def _load(ctx: ssl.SSLContext, cfg: Any, cert: str, key: str, password: str, client: bool) -> None:
    if not cert or not key:
        raise TLSError("No tls-cert-file configured!" if not cert else "No tls-key-file configured!")
    try:
        ctx.load_cert_chain(cert, key, password or None)
    except (OSError, ssl.SSLError) as e:
        what = "client certificate" if client else "server certificate"
        raise TLSError(f"Failed to load {what} or private key: {e}") from None
    ca_file, ca_dir = cfg["tls-ca-cert-file"], cfg["tls-ca-cert-dir"]
    if ca_file or ca_dir:
        try:
            ctx.load_verify_locations(ca_file or None, ca_dir or None)
        except (OSError, ssl.SSLError) as e:
            raise TLSError(f"Failed to configure CA certificate(s) file/directory: {e}") from None
    if cfg["tls-ciphers"]:
        try:
            ctx.set_ciphers(cfg["tls-ciphers"])
        except ssl.SSLError:
            raise TLSError(f"Failed to configure ciphers: {cfg['tls-ciphers']}") from None
    if cfg["tls-ciphersuites"]:
        _set_ciphersuites(ctx, cfg["tls-ciphersuites"])
    ctx.minimum_version, ctx.maximum_version = _protocols(cfg["tls-protocols"])


def server_context(cfg: Any) -> ssl.SSLContext:
    """The context of the TLS listeners (tlsConfigure's server half)."""
    auth = cfg["tls-auth-clients"]
    if auth != "no" and not cfg["tls-ca-cert-file"] and not cfg["tls-ca-cert-dir"]:
        raise TLSError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                       "tls-replication or tls-auth-clients are enabled!")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.options |= ssl.OP_NO_COMPRESSION
    ctx.options |= getattr(ssl, "OP_SINGLE_DH_USE", 0) | getattr(ssl, "OP_SINGLE_ECDH_USE", 0)
    if cfg["tls-prefer-server-ciphers"]:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    _load(ctx, cfg, cfg["tls-cert-file"], cfg["tls-key-file"], cfg["tls-key-file-pass"], client=False)
    if cfg["tls-dh-params-file"]:
        try:
            ctx.load_dh_params(cfg["tls-dh-params-file"])
        except (OSError, ssl.SSLError) as e:
            raise TLSError(f"Failed to load {cfg['tls-dh-params-file']}: {e}") from None
    ctx.verify_mode = {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "no": ssl.CERT_NONE}[auth]
    _session_cache(ctx, cfg["tls-session-caching"], cfg["tls-session-cache-size"], cfg["tls-session-cache-timeout"])
    return ctx


def client_context(cfg: Any) -> ssl.SSLContext:
    """The context a replica connects to its master with (tls-client-* or the server certificate)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # Redis verifies the peer's chain, not its name
    cert = cfg["tls-client-cert-file"] or cfg["tls-cert-file"]
    key = cfg["tls-client-key-file"] or cfg["tls-key-file"]
    password = cfg["tls-client-key-file-pass"] if cfg["tls-client-cert-file"] else cfg["tls-key-file-pass"]
    if not cfg["tls-ca-cert-file"] and not cfg["tls-ca-cert-dir"]:
        raise TLSError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                       "tls-replication or tls-auth-clients are enabled!")
    if cert and key:
        _load(ctx, cfg, cert, key, password, client=True)
    else:
        ctx.load_verify_locations(cfg["tls-ca-cert-file"] or None, cfg["tls-ca-cert-dir"] or None)
        ctx.minimum_version, ctx.maximum_version = _protocols(cfg["tls-protocols"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def is_tls_transport(transport: Any) -> bool:
    return transport is not None and transport.get_extra_info("sslcontext") is not None
