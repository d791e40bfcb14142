"""`python -m bot` is the same as the `linkline` command."""

from bot.cli.main import main

main()
