"""Built-in dlviz plugins, one plugin a module."""
