"""``statetech fetch SOURCE``: download (or reuse from the cache) a public dataset, then import it like ``import``."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from statetech.cli.paths import OutputPath
from statetech.loaders.common import NoProgress


def _common(fmt: str):
    """Options every source shares: where the cache is, whether to touch the network, and the import options."""

    def decorate(command):
        options = [
            click.option("--cache", "cache", type=click.Path(file_okay=False), metavar="DIR",
                         help="Download cache (default: the per-user data folder, or STATETECH_CACHE)."),
            click.option("--offline", is_flag=True, help="Use only the cache; fail if the request was never fetched."),
            click.option("--refresh", is_flag=True, help="Download again even when the cache holds this request."),
            click.option("--url", "url", metavar="URL",
                         help=f"Base URL of the source (default: {_default_url(fmt)}; or {_url_env(fmt)})."),
            click.option("--download-only", is_flag=True, help="Fetch into the cache and stop; import nothing."),
            click.option("--dry-run", is_flag=True, help="Fetch, check and resolve everything, print the counts; "
                                                         "write nothing to the graph."),
            click.option("--skip-invalid", is_flag=True,
                         help="Skip rows with bad values (reported) instead of refusing the file."),
            click.option("--review", "review", type=OutputPath(), metavar="PATH",
                         help=f"Where to write uncertain matches (CSV). Default: statetech-review-{fmt}.csv."),
            click.option("--report", "report", type=OutputPath(), metavar="PATH",
                         help="Write every skipped row (file, line, reason) to this CSV."),
            click.option("--strict", is_flag=True,
                         help="Refuse a file with an unknown column or key, or a missing optional one (default: a warning)."),
            click.option("--retries", type=click.IntRange(min=0, max=20), default=4, show_default=True,
                         help="Extra attempts after a 429, a 5xx, a timeout or a cut connection."),
            click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                         help="Seconds without an answer before an attempt counts as failed."),
            click.option("--quiet", "-q", is_flag=True, help="No progress bars."),
            click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _default_url(fmt: str) -> str:
    from statetech.loaders.remote import DEFAULT_URLS

    return DEFAULT_URLS[fmt]


def _url_env(fmt: str) -> str:
    from statetech.loaders.remote import URL_ENV

    return URL_ENV[fmt]


def _run(app, fmt: str, fetch, opts: dict) -> None:
    """Fetch with a polite client, then hand the cached files to the same import as ``statetech import``."""
    from statetech.cli.imports import _Bar, format_summary
    from statetech.cli.terminal import terminal_safe
    from statetech.loaders.importing import DatasetSource, run_import
    from statetech.loaders.remote import HttpClient, Politeness, default_cache_dir, token_headers

    show = not opts["quiet"] and sys.stderr.isatty()
    progress = _Bar if show else NoProgress
    client = HttpClient(Politeness(retries=opts["retries"], timeout=opts["timeout"]), offline=opts["offline"],
                        progress=progress, headers=token_headers() if fmt == "littlesis" else None)
    cache = Path(opts["cache"]) if opts["cache"] else default_cache_dir()
    fetched = fetch(client=client, cache=cache, url=opts["url"], refresh=opts["refresh"])
    fetched.requests = client.requests
    fetched.bytes_downloaded = client.bytes_downloaded
    report = {"fetch": fetched.as_dict()}
    lines = [_format_fetch(fetched)]
    if not opts["download_only"]:
        graph = app.graph()
        dataset_source = DatasetSource(url=fetched.source_url, title=fetched.source_title,
                                       published=fetched.source_published) if fetched.source_url else None
        summary = run_import(graph, fmt, [str(f) for f in fetched.files], dry_run=opts["dry_run"],
                             skip_invalid=opts["skip_invalid"], review_path=opts["review"], progress=progress,
                             report_path=opts.get("report"), strict=opts.get("strict", False),
                             dataset_source=dataset_source)
        report.update({"store": graph.location, **summary.as_dict()})
        lines.append(format_summary(summary, graph.location))
    click.echo(json.dumps(report, indent=2, default=str) if opts["as_json"] else terminal_safe("\n".join(lines)))


def _format_fetch(fetched) -> str:
    how = "from the cache (no download)" if fetched.from_cache else (
        f"downloaded {fetched.bytes_downloaded:,} bytes in {fetched.requests:,} requests")
    lines = [f"fetched {fetched.format}: {how}", f"cache: {fetched.folder}"]
    lines.extend(f"  {note}" for note in fetched.notes)
    lines.extend(f"warning: {w}" for w in fetched.warnings)
    return "\n".join(lines)


@click.group("fetch")
def fetch_group() -> None:
    """Download public datasets into a cache and import them, with the same summary as 'import'.

    \b
    SOURCE is one of:
      usaspending         contract awards of an agency, through the USAspending API (search + download)
      collective-actions  the Collective Actions in Tech dataset (CSV or JSON)
      atlas               the EFF Atlas of Surveillance CSV
      littlesis           one LittleSis entity and its relationships, through the LittleSis API

    A re-run of the same request imports from the cache without downloading; --offline insists on it. A failed or
    partial download never reaches the graph; an interrupted one resumes.
    """


@fetch_group.command("usaspending")
@click.option("--agency", required=True, metavar="NAME",
              help="Awarding agency or sub-agency: name, abbreviation or code (e.g. 'Department of Homeland "
                   "Security', ICE, 7012).")
@click.option("--sub-agency", metavar="NAME", help="Awarding sub-agency within --agency.")
@click.option("--recipient", metavar="TEXT", help="Recipient name or UEI.")
@click.option("--naics", multiple=True, metavar="CODE", help="NAICS code (repeatable).")
@click.option("--psc", multiple=True, metavar="CODE", help="Product/service code (repeatable).")
@click.option("--since", metavar="YYYY-MM-DD", help="Awards with activity on or after this date (earliest 2007-10-01).")
@click.option("--until", metavar="YYYY-MM-DD", help="... and on or before this date (default: today).")
@_common("usaspending")
@click.pass_obj
def fetch_usaspending(app, agency, sub_agency, recipient, naics, psc, since, until, **opts) -> None:
    """Contract awards of an agency from USAspending.gov, imported like 'import usaspending'."""
    from statetech.loaders.remote import AwardQuery
    from statetech.loaders.remote import fetch_usaspending as fetch

    query = AwardQuery(agency=agency, sub_agency=sub_agency, recipient=recipient, naics=tuple(naics),
                       psc=tuple(psc), since=since, until=until).checked()
    _run(app, "usaspending", functools.partial(fetch, query), opts)


@fetch_group.command("collective-actions")
@_common("collective_actions")
@click.pass_obj
def fetch_collective_actions(app, **opts) -> None:
    """The Collective Actions in Tech dataset (actions.csv; give --url .../actions.json for the JSON)."""
    from statetech.loaders.remote import fetch_dataset_file

    _run(app, "collective_actions", functools.partial(fetch_dataset_file, "collective_actions"), opts)


@fetch_group.command("atlas")
@_common("atlas")
@click.pass_obj
def fetch_atlas(app, **opts) -> None:
    """The EFF Atlas of Surveillance CSV export."""
    from statetech.loaders.remote import fetch_dataset_file

    _run(app, "atlas", functools.partial(fetch_dataset_file, "atlas"), opts)


@fetch_group.command("littlesis")
@click.argument("entity_id", type=click.IntRange(min=1), metavar="ID")
@_common("littlesis")
@click.pass_obj
def fetch_littlesis(app, entity_id: int, **opts) -> None:
    """One LittleSis entity (by its numeric id) and its relationships."""
    from statetech.loaders.remote import fetch_littlesis as fetch

    _run(app, "littlesis", functools.partial(fetch, entity_id), opts)
