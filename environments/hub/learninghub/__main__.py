"""`python3 -m learninghub serve|migrate`."""

from learninghub.cli import main

raise SystemExit(main())
