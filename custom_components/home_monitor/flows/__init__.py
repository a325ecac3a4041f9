"""Config and options flow steps, one module per source."""
