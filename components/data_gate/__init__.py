"""DataGate: stops the run before pair generation and training when the data is bad."""
