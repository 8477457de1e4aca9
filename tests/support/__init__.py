"""Real stand-ins of outside services that tests and benchmarks start on loopback."""
