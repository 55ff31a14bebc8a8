"""``python -m fastredis`` runs the server, like ``fastredis-server``."""

from .cli import main

if __name__ == "__main__":
    main()
