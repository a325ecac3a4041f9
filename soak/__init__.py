"""The soak: seven simulated days of Home Monitor inside Home Assistant, with faults."""
