"""One module per `tinyface` subcommand; cli/main.py registers them explicitly."""
