"""`python -m api` is the `kern` command, also where the script is not on PATH."""

from api.cli import main

main()
