"""The command layer: one module per command, and what they share (`common`).

Only this package speaks the command line: flags, `python -m gan_tf.<command>`, exit codes.
The libraries below it raise errors that name settings by their `Config` field; the commands
turn those into flag advice.
"""
