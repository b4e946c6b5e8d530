"""``statetech import FORMAT FILE...``: parse options, make one library call, print the summary."""

from __future__ import annotations

import json
import sys

import click

from statetech.cli.paths import OutputPath
from statetech.loaders.common import NoProgress

FORMAT_HELP = {
    "usaspending": "USAspending Contracts Prime Award Summaries / Prime Transactions CSV (or the download .zip)",
    "collective-actions": "Collective Actions in Tech actions.csv or actions.json",
    "atlas": "EFF Atlas of Surveillance CSV",
    "ftm": "FollowTheMoney entities, JSON Lines ({id, schema, properties})",
    "littlesis": "LittleSis API responses or bulk JSON (entities and relationships)",
}


class _Bar:
    """A click progress bar sized to the file in bytes, on stderr; shown only on a terminal."""

    def __init__(self) -> None:
        self._bar = None
        self._done = 0

    def start(self, label: str, total: int) -> None:
        self._bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=False,
                                      show_percent=True, show_eta=True, width=30)
        self._bar.__enter__()
        self._done = 0

    def update(self, done: int) -> None:
        if self._bar is not None and done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(FORMAT_HELP)))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and resolve everything, print the counts; write nothing.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Read only the first N records of each file.")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Records written per transaction.")
@click.option("--skip-invalid", is_flag=True,
              help="Skip rows with bad values (reported) instead of refusing the file. A bad header still refuses it.")
@click.option("--review", "review", type=OutputPath(), metavar="PATH",
              help="Where to write uncertain matches for a curator (CSV). Default: statetech-review-FORMAT.csv "
                   "when there are any; a dry run writes it only when this is given.")
@click.option("--strict", is_flag=True,
              help="Refuse a file with an unknown column or key, or a missing optional one (by default: a warning).")
@click.option("--report", "report", type=OutputPath(), metavar="PATH",
              help="Write every skipped row (file, line, reason) to this CSV; the summary lists only the first few.")
@click.option("--source-url", metavar="URL",
              help="Where the file was downloaded from: cited by records that carry no link of their own "
                   "(FtM entities without sourceUrl).")
@click.option("--source-title", metavar="TEXT", help="Title of that source (default: the dataset's name).")
@click.option("--source-date", metavar="YYYY-MM-DD",
              help="Publication date of that source (default: the file's modification date).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_command(app, fmt: str, files: tuple[str, ...], dry_run: bool, limit: int | None,
                   batch_size: int, skip_invalid: bool, review: str | None, strict: bool, report: str | None,
                   source_url: str | None,
                   source_title: str | None, source_date: str | None, quiet: bool, as_json: bool) -> None:
    """Import public data files into the graph, resolving names against the curated records.

    \b
    FORMAT is one of:
      usaspending         USAspending contract downloads (award summaries, transactions)
      collective-actions  Collective Actions in Tech (CSV or JSON)
      atlas               EFF Atlas of Surveillance CSV
      ftm                 FollowTheMoney JSON Lines
      littlesis           LittleSis API / bulk JSON

    Every file is checked first; a wrong header or a bad value stops the import before anything is written.
    Importing the same file again changes nothing.
    """
    from statetech.loaders.importing import DatasetSource, run_import

    fmt = "collective_actions" if fmt == "collective-actions" else fmt
    dataset_source = DatasetSource.checked(source_url, source_title, source_date)
    graph = app.graph()
    show = not quiet and sys.stderr.isatty()
    summary = run_import(graph, fmt, files, dry_run=dry_run, limit=limit, batch_size=batch_size,
                         skip_invalid=skip_invalid, review_path=review, progress=_Bar if show else NoProgress,
                         dataset_source=dataset_source, report_path=report, strict=strict)
    if as_json:
        click.echo(json.dumps({"store": graph.location, **summary.as_dict()}, indent=2))
    else:
        click.echo(format_summary(summary, graph.location))


def format_summary(summary, location: str) -> str:
    """The import summary as text: what was read, what changed (or would), how names matched, what was skipped."""
    lines = []
    verb = "would import into" if summary.dry_run else "imported into"
    lines.append(f"{summary.format}: {verb} {location} ({summary.seconds:.1f}s)"
                 + ("  [dry run: nothing written]" if summary.dry_run else ""))
    lines.append(f"files: {', '.join(summary.files)}")
    lines.append(f"rows read: {summary.rows_read:,}" + (f"   empty rows ignored: {summary.empty_rows:,}"
                                                          if summary.empty_rows else ""))

    def counts(title: str, created, updated, kept) -> None:
        names = sorted(set(created) | set(updated) | set(kept))
        if not names:
            lines.append(f"{title}: none")
            return
        lines.append(f"{title}:")
        for name in names:
            parts = [f"{created.get(name, 0):,} created"]
            if updated.get(name):
                parts.append(f"{updated[name]:,} already present (rewritten)")
            if kept.get(name):
                parts.append(f"{kept[name]:,} already present, kept as they were")
            lines.append(f"  {name:16} " + ", ".join(parts))

    counts("nodes", summary.nodes_created, summary.nodes_updated, summary.nodes_kept)
    counts("relationships", summary.relationships_created, summary.relationships_updated, summary.relationships_kept)
    lines.append(f"sources written: {summary.sources_written:,}")
    if summary.matched:
        lines.append("matched to existing nodes (distinct nodes, by how):")
        for kind, methods in summary.matched.items():
            lines.append(f"  {kind:16} " + ", ".join(f"{n:,} by {m}" for m, n in sorted(methods.items())))
    else:
        lines.append("matched to existing nodes: none")
    if summary.rows_skipped:
        lines.append("rows skipped:")
        for reason, count in sorted(summary.rows_skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {count:>8,}  {reason}")
        total = sum(summary.rows_skipped.values())
        lines.append(f"skipped rows ({len(summary.skipped):,} of {total:,} listed"
                     + (f"; all in {summary.report_path}):" if summary.report_path else
                        ("; --report FILE lists them all):" if total > len(summary.skipped) else "):")))
        lines.extend(f"  {p}" for p in summary.skipped)
    if summary.problems_total:
        lines.append(f"problems ({summary.problems_total:,}, rows skipped because of --skip-invalid):")
        lines.extend(f"  {p}" for p in summary.problems)
        if summary.problems_total > len(summary.problems):
            lines.append(f"  ... and {summary.problems_total - len(summary.problems):,} more")
    if summary.warnings_total:
        lines.append(f"warnings ({summary.warnings_total:,}):")
        lines.extend(f"  {p}" for p in summary.warnings)
        if summary.warnings_total > len(summary.warnings):
            lines.append(f"  ... and {summary.warnings_total - len(summary.warnings):,} more")
    if summary.review_items:
        where = summary.review_path or "not written (dry run; give --review PATH)"
        lines.append(f"uncertain matches for review: {summary.review_items:,} -> {where}")
    return "\n".join(lines)
