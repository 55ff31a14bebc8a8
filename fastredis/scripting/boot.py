"""The Lua side of the runtime: sandbox, the ``redis`` table, error handler, reply classifier.

Kept as one Lua chunk (run once per Lua state, before any user code) so the sandbox is built
exactly like Redis' ``luaRegisterRedisAPI`` + ``scriptingInit``: the libraries Redis loads, its
allow list of globals, the error handler that records ``source``/``line``, and global protection.
Stock Lua 5.1 has no read-only tables (Redis patches its Lua for that), so the thread's global
environment becomes an empty proxy whose metamethods raise Redis' errors, and the library tables
are replaced by read-only proxies.  Python callables arrive in the table ``P``.
"""

BOOT = r"""
local P = ...
local REAL = _G
local unwrap = P.unwrap
local type, error, rawget, rawset, rawequal, setmetatable, getmetatable, tostring, tonumber, select, unpack,
      pairs, next, xpcall, pcall, loadstring, setfenv, getfenv, load =
      type, error, rawget, rawset, rawequal, setmetatable, getmetatable, tostring, tonumber, select, unpack,
      pairs, next, xpcall, pcall, loadstring, setfenv, getfenv, load
local getinfo, sethook = debug.getinfo, debug.sethook
local floor = math.floor
local concat = table.concat

-- the globals scripts see (Redis' allow lists); the real globals table stays lupa's
local G = {}
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'xpcall', 'tostring', 'setmetatable', 'next',
                       'assert', 'tonumber', 'rawequal', 'collectgarbage', 'getmetatable', 'rawset', 'pcall',
                       'type', 'select', 'unpack', 'gcinfo', 'pairs', 'rawget', 'ipairs', '_VERSION', 'error'}) do
  G[name] = REAL[name]
end
local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end
G.string, G.math, G.table, G.coroutine = copy(string), copy(math), copy(table), copy(coroutine)
G.os = {clock = os.clock}
local math = G.math

-- the error handler: Redis' __redis__err__handler, skipping this chunk's own frames
local function errh(err)
  local lvl = 2
  local i = getinfo(lvl, 'nSl')
  while i and (i.what == 'C' or i.source == '=fastredis') do
    lvl = lvl + 1
    i = getinfo(lvl, 'nSl')
  end
  if type(err) == 'userdata' then
    local t, positional = unwrap(err)
    if positional then
      if i and i.currentline > 0 then t = i.short_src .. ':' .. i.currentline .. ': ' .. t end
      err = t
    elseif t then
      err = t
    end
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- luaPushErrorBuff: "-CODE msg" or "msg" -> {err="CODE msg"}
local function err_table(s)
  local code, msg
  if s:sub(1, 1) == '-' then
    local sp = s:find(' ', 1, true)
    if sp then
      code, msg = s:sub(2, sp - 1), s:sub(sp + 1)
    else
      code, msg = 'ERR', s:sub(2)
    end
  else
    code, msg = 'ERR', s
  end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end

local redis = {}
-- call/pcall are the Python callables themselves: a C boundary, so "return redis.call(...)" keeps
-- the caller's frame (source and line in error replies), as with Redis' C functions
redis.call = P.call
redis.pcall = P.pcall

redis.error_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return err_table('wrong number or type of arguments')
  end
  if s:sub(1, 1) ~= '-' then s = '-' .. s end
  return err_table(s)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return err_table('wrong number or type of arguments')
  end
  return {ok = s}
end

redis.sha1hex = P.sha1hex
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.log = P.log
redis.setresp = P.setresp
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.set_repl = P.setrepl
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end

redis.acl_check_cmd = P.acl_check

redis.REDIS_VERSION = P.version
redis.REDIS_VERSION_NUM = P.version_num

if P.register_function then
  redis.register_function = P.register_function
end

G.redis = redis

-- Redis 7's deterministic math.random (redisLrand48)
math.random = P.random
math.randomseed = P.randomseed

-- Redis' pcall: an error table from redis.call comes back as its message
local lua_pcall = pcall
local function pack(...) return select('#', ...), {...} end
G.pcall = function(...)
  local n, r = pack(lua_pcall(...))
  if not r[1] then
    local e = r[2]
    if type(e) == 'userdata' then
      local t, positional = unwrap(e)
      if positional then
        local i = getinfo(2, 'Sl')
        if i and i.currentline > 0 then t = i.short_src .. ':' .. i.currentline .. ': ' .. t end
        e = t
      elseif t then
        e = t
      end
    end
    if type(e) == 'table' then
      local m = e.err
      if type(m) == 'string' or type(m) == 'number' then return false, m end
    end
    return false, e
  end
  return unpack(r, 1, n)
end

-- libraries implemented outside Lua (cjson, cmsgpack, bit, struct)
for name, lib in pairs(P.libs) do G[name] = lib end

-- global protection
local protected = setmetatable({}, {__mode = 'k'})
local function ro_error() error('Attempt to modify a readonly table', 2) end
local function readonly(t)
  local proxy = setmetatable({}, {__index = t, __newindex = ro_error, __metatable = false})
  protected[proxy] = true
  return proxy
end
local ENV  -- defined below
G.loadstring = function(...)
  local f, e = loadstring(...)
  if f then setfenv(f, ENV) end
  return f, e
end
G.load = function(...)
  local f, e = load(...)
  if f then setfenv(f, ENV) end
  return f, e
end
G.getfenv = function(f)
  if f == nil then f = 1 end
  if type(f) == 'number' and f > 0 then f = f + 1 end
  local e = getfenv(f)
  if rawequal(e, REAL) then return ENV end
  return e
end
G.setfenv = function(f, t)
  if type(f) == 'number' and f > 0 then f = f + 1 end
  if f == 0 then error('Attempt to modify a readonly table', 2) end
  return setfenv(f, t)
end
G.rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'os', 'redis', 'cjson', 'bit', 'struct',
                       'cmsgpack'}) do
  if type(rawget(G, name)) == 'table' then G[name] = readonly(G[name]) end
end

setmetatable(G, {
  __index = function(t, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
})
local ENV_MT = {__index = G, __newindex = ro_error, __metatable = false}
ENV = setmetatable({}, ENV_MT)
protected[ENV] = true

-- what library code sees while FUNCTION LOAD runs it (function_lua.c's library API)
local function missing(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local load_redis = setmetatable({
  register_function = redis.register_function, log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}, {__index = missing})
local LOAD_API = setmetatable({redis = readonly(load_redis)}, {__index = missing})
G._G = ENV

-- the reply classifier (luaReplyToRedisReply's table cases, raw lookups)
local function classify(t)
  local v = rawget(t, 'err')
  if type(v) == 'string' then return 'err', v, rawget(t, 'ignore_error_stats_update') == true end
  v = rawget(t, 'ok')
  if type(v) == 'string' then return 'ok', v end
  v = rawget(t, 'double')
  if type(v) == 'number' then return 'double', v end
  v = rawget(t, 'big_number')
  if type(v) == 'string' then return 'big', v end
  v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local f, s = rawget(v, 'format'), rawget(v, 'string')
    if type(f) == 'string' and type(s) == 'string' then return 'verb', f, s end
  end
  v = rawget(t, 'map')
  if type(v) == 'table' then return 'map', v end
  v = rawget(t, 'set')
  if type(v) == 'table' then return 'set', v end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  if n <= 4000 then return 'arr', n, unpack(t, 1, n) end
  return 'bigarr', n
end

-- error information of a failed run (luaExtractErrorInformation)
local function errinfo(e)
  if type(e) ~= 'table' then
    if type(e) == 'string' or type(e) == 'number' then return 'ERR ' .. tostring(e) end
    return nil
  end
  local m, s, l = e.err, e.source, e.line
  if type(m) ~= 'string' and type(m) ~= 'number' then m = nil end
  if type(s) ~= 'string' and type(s) ~= 'number' then s = nil end
  if type(l) ~= 'string' and type(l) ~= 'number' then l = nil end
  return m, s, l, e.ignore_error_stats_update == true
end

-- the script timeout hook (luaMaskCountHook)
local pyhook = P.hook
local killed_msg
local function hook()
  if pyhook() then
    -- every line of user code now fails (a pcall cannot catch it for good), this file's lines not
    sethook(function()
      local i = getinfo(2, 'S')
      if i and i.source ~= '=fastredis' then error(err_table(killed_msg), 0) end
    end, 'l')
    error(err_table(killed_msg), 0)
  end
end

local function sethook_for(count, msg)
  killed_msg = msg
  if count > 0 then sethook(hook, '', count) end
end

-- EVAL: KEYS and ARGV are globals of the real table (read through ENV)
local function run_eval(f, nkeys, ...)
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select('#', ...) do argv[i - nkeys] = all[i] end
  rawset(G, 'KEYS', keys)
  rawset(G, 'ARGV', argv)
  return xpcall(f, errh)
end

-- FCALL: the function gets (keys, args)
local function run_function(f, nkeys, ...)
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select('#', ...) do argv[i - nkeys] = all[i] end
  return xpcall(function() return f(keys, argv) end, errh)
end

local function compile(body, name)
  local f, e = loadstring(body, name)
  if f then
    setfenv(f, ENV)
    return f
  end
  return nil, e
end

-- run a function library's code with only the library API visible
local function load_library(f)
  ENV_MT.__index = LOAD_API
  local ok, err = pcall(f)
  ENV_MT.__index = G
  if not ok and type(err) == 'userdata' then
    local t = unwrap(err)
    if t then err = t end
  end
  return ok, err
end

local function mk(k, v) return {[k] = v} end
local function mk_verbatim(f, s) return {verbatim_string = {format = f, string = s}} end
local function mk_set(t)
  local s = {}
  for i = 1, #t do s[t[i]] = true end
  return {set = s}
end


return {
  run_eval = run_eval, run_function = run_function, compile = compile, classify = classify,
  errinfo = errinfo, err_table = err_table, sethook = sethook_for, clearhook = sethook,
  load_library = load_library, mk = mk, mk_verbatim = mk_verbatim,
  mk_set = mk_set, gc_count = function() return collectgarbage('count') end,
}
"""
