"""One module per `tinyface` subcommand; tinyface/cli.py registers them explicitly."""
