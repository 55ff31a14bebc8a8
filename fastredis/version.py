"""The Redis version fastredis answers as (INFO, HELLO), and its own version."""

REDIS_VERSION = "7.2.4"
FASTREDIS_VERSION = "0.1.0"
