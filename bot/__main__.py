"""`python -m bot`: the command line (see bot.cli)."""

from .cli import main

raise SystemExit(main())
