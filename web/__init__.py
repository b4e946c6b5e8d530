"""The browser explorer: `statetech serve` (routes, templates, static assets) over the same library as the CLI."""
