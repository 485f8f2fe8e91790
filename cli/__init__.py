"""The command line, `tinyface ...`: the top layer, over the pipeline and the core library."""
