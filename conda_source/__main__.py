from conda_source.cli import entry

entry()
