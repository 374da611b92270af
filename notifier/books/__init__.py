"""The books: the YAML files in `data/`, loaded into a typed model and checked."""
