"""What hubchaos writes that holds secrets, readable by its owner only.

- `files`: the state directory (0700) and files written atomically as 0600;
- `journal`: run journals, written 0600 with passwords redacted (as reports are).

The stack's own password (hubchaos.stack.credentials) is kept with these rules.
"""
