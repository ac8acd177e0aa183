"""The security and reliability battery (docs/security.md): hostile inputs over every output, every reader and
every control, each asserting the guarantee it proves. Run by `make test`; long parts are marked slow."""
