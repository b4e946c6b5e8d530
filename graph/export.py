"""Graph exports for other tools: GEXF and GraphML (Gephi, yEd, Cytoscape), node-link JSON, CSV tables, and FtM.

Every format keeps what an investigator needs to check a claim: node kinds, relationship types, dates, confidence and
the sources (ids and URLs) of every node and relationship. GEXF, GraphML and CSV cells hold scalars only, so list
values (sources, aliases, ...) are written as JSON arrays; :func:`read_export` turns them back into lists, so an
exported file loads into networkx as the same graph :meth:`Subgraph.to_networkx` gives.

Two names are renamed on the way out because the formats reserve them: GEXF and Gephi's edge tables use ``type``
for directed/undirected, so the relationship type travels as ``rel_type`` (and as the edge ``label``); ``label`` is
the node's name, which Gephi shows.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from statetech.graph.errors import StatetechError
from statetech.graph.spreadsheet import neutralise, tidy_number
from statetech.graph.subgraph import Subgraph

FORMATS = ("gexf", "graphml", "json", "csv", "ftm")
SUFFIXES = {"gexf": ".gexf", "graphml": ".graphml", "json": ".json", "csv": "", "ftm": ".ftm.json"}
# Attributes that hold lists in the model; exported as JSON arrays where a format allows only scalars.
LIST_ATTRIBUTES = frozenset({"sources", "aliases", "external_ids", "source_urls"})
CSV_TABLES = ("nodes", "edges", "sources")


class ExportError(StatetechError):
    """An export could not be written as asked."""


def export(sub: Subgraph, fmt: str, out: str | Path, formula_guard: bool = True) -> list[Path]:
    """Write ``sub`` in ``fmt`` to ``out`` (a file; a folder for csv; '-' for stdout); returns the files written.

    ``formula_guard``: CSV cells a spreadsheet would run as a formula are neutralised (:mod:`.spreadsheet`)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        if str(out) == "-":
            raise ExportError("csv writes three files (nodes.csv, edges.csv, sources.csv); give --out FOLDER")
        return write_csv(sub, Path(out), formula_guard)
    writer, binary = _STREAM_WRITERS[fmt]
    if str(out) == "-":
        writer(sub, sys.stdout.buffer if binary else sys.stdout)
        return []
    path = Path(out)
    partial = path.with_name(path.name + ".partial")  # a failed export leaves no half-written file behind
    try:
        with partial.open("wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as stream:
            writer(sub, stream)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return [path]


# ---- networkx ----------------------------------------------------------------------------------------------------


def export_graph(sub: Subgraph):
    """A MultiDiGraph whose attributes are all scalars, ready for the GEXF and GraphML writers.

    Nodes carry ``kind``, ``label`` (the name) and every property; edges carry ``id``, ``rel_type``, ``label`` and
    every property; both carry ``sources`` and ``source_urls`` as JSON arrays.
    """
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.graph["title"] = sub.title
    if sub.focus:
        graph.graph["focus"] = sub.focus
    rows_n = [dict(_node_attributes(sub, node_id)) for node_id in sub.nodes]
    rows_e = [dict(_edge_attributes(sub, edge)) for edge in sub.edges]
    _unify_numeric_types(rows_n)
    _unify_numeric_types(rows_e)
    for node_id, attrs in zip(sub.nodes, rows_n):
        graph.add_node(node_id, **{k: _scalar(v) for k, v in attrs.items()})
    for edge, attrs in zip(sub.edges, rows_e):
        graph.add_edge(edge.source, edge.target, key=edge.id, **{k: _scalar(v) for k, v in attrs.items()})
    return graph


def _node_attributes(sub: Subgraph, node_id: str) -> dict[str, Any]:
    node = sub.nodes[node_id]
    attrs: dict[str, Any] = {"kind": node.kind, "label": node.name}
    attrs.update({k: v for k, v in node.properties.items() if k not in ("id", "kind") and v is not None})
    attrs["sources"] = node.sources
    attrs["source_urls"] = _source_urls(sub, node.sources)
    if sub.truncated.get(node_id):
        attrs["neighbours_left_out"] = sub.truncated[node_id]
    return attrs


def _edge_attributes(sub: Subgraph, edge) -> dict[str, Any]:
    attrs: dict[str, Any] = {"id": edge.id, "rel_type": edge.type, "label": edge.type}
    attrs.update({k: v for k, v in edge.properties.items()
                  if k not in ("id", "from", "to", "type") and v is not None})
    attrs["sources"] = edge.sources
    attrs["source_urls"] = _source_urls(sub, edge.sources)
    return attrs


def _source_urls(sub: Subgraph, ids: list[str]) -> list[str]:
    return [str(sub.sources[sid]["url"]) for sid in ids if sid in sub.sources and sub.sources[sid].get("url")]


def _scalar(value: Any) -> Any:
    value = tidy_number(value)
    if isinstance(value, (list, tuple, set, dict)):
        return json.dumps(list(value) if isinstance(value, (tuple, set)) else value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _unify_numeric_types(rows: list[dict[str, Any]]) -> None:
    """One XML type per attribute: an attribute that is an int on one record and a float on another becomes float."""
    floats = {k for row in rows for k, v in row.items() if isinstance(v, float)}
    for row in rows:
        for key in floats & row.keys():
            if isinstance(row[key], int) and not isinstance(row[key], bool):
                row[key] = float(row[key])


# Characters XML 1.0 cannot hold at all (not even escaped): most C0 controls, lone surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: Any) -> Any:
    return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value


def _xml_safe(graph):
    """The graph with every string that XML cannot hold cleaned (U+FFFD), so the file always parses: networkx
    writes such characters as they are, and one ESC in a name from a public dataset made the whole export unreadable
    to Gephi. JSON and CSV exports keep the exact text."""
    graph.graph.update({k: _xml_text(v) for k, v in graph.graph.items()})
    for _, attrs in graph.nodes(data=True):
        attrs.update({k: _xml_text(v) for k, v in attrs.items()})
    for _, _, attrs in graph.edges(data=True):
        attrs.update({k: _xml_text(v) for k, v in attrs.items()})
    if any(_NOT_XML.search(str(n)) for n in graph.nodes):
        import networkx as nx

        graph = nx.relabel_nodes(graph, {n: _xml_text(n) for n in graph.nodes})
    return graph


def write_gexf(sub: Subgraph, stream: IO[bytes]) -> None:
    import networkx as nx

    nx.write_gexf(_xml_safe(export_graph(sub)), stream, version="1.2draft")


def write_graphml(sub: Subgraph, stream: IO[bytes]) -> None:
    import networkx as nx

    nx.write_graphml(_xml_safe(export_graph(sub)), stream, infer_numeric_types=True)


def write_json(sub: Subgraph, stream: IO[str]) -> None:
    """networkx node-link JSON (``nx.node_link_graph(data, edges="edges")`` reads it), lists kept as lists, and the
    full Source records under ``graph.sources``."""
    import networkx as nx

    graph = sub.to_networkx()
    graph.graph.update({"title": sub.title, "focus": sub.focus, "truncated": dict(sub.truncated),
                        "sources": {sid: sub.sources[sid] for sid in sorted(sub.sources)}})
    data = nx.node_link_data(graph, edges="edges")
    json.dump(data, stream, ensure_ascii=False, indent=1, default=str)
    stream.write("\n")


def csv_tables(sub: Subgraph, formula_guard: bool = True) -> dict[str, str]:
    """nodes.csv and edges.csv in Gephi's spreadsheet-import layout (Id/Label; Source/Target/Type/Id/Label), plus
    sources.csv with the full Source records."""
    graph = export_graph(sub)
    node_rows = [{"Id": node_id, **attrs} for node_id, attrs in graph.nodes(data=True)]
    edge_rows = [{"Source": u, "Target": v, "Type": "Directed", "Id": attrs["id"],
                  **{k: val for k, val in attrs.items() if k != "id"}}
                 for u, v, attrs in graph.edges(data=True)]
    for row in node_rows:
        row["Label"] = row.pop("label")
    for row in edge_rows:
        row["Label"] = row.pop("label")
    source_rows = [{"id": sid, **{k: _scalar(v) for k, v in record.items() if k != "id"}}
                   for sid, record in sorted(sub.sources.items())]
    return {
        "nodes": _csv_text(node_rows, ["Id", "Label", "kind"], formula_guard),
        "edges": _csv_text(edge_rows, ["Source", "Target", "Type", "Id", "Label", "rel_type"], formula_guard),
        "sources": _csv_text(source_rows, ["id", "title", "publisher", "published", "url"], formula_guard),
    }


def write_csv(sub: Subgraph, folder: Path, formula_guard: bool = True) -> list[Path]:
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file; csv export writes nodes.csv, edges.csv and sources.csv into a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in csv_tables(sub, formula_guard).items():
        path = folder / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def _csv_text(rows: list[dict[str, Any]], leading: list[str], formula_guard: bool = True) -> str:
    columns = list(leading) + sorted({k for row in rows for k in row} - set(leading))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {k: "" if row.get(k) is None else row[k] for k in columns}
        writer.writerow({k: neutralise(v) for k, v in cells.items()} if formula_guard else cells)
    return buffer.getvalue()


def write_ftm(sub: Subgraph, stream: IO[str]) -> None:
    """FollowTheMoney entities, one JSON object per line (:mod:`statetech.graph.ftm_export`)."""
    from statetech.graph.ftm_export import write_ftm as ftm_writer

    ftm_writer(sub, stream)


_STREAM_WRITERS: dict[str, tuple[Callable[[Subgraph, Any], None], bool]] = {
    "gexf": (write_gexf, True),
    "graphml": (write_graphml, True),
    "json": (write_json, False),
    "ftm": (write_ftm, False),
}


# ---- reading back ------------------------------------------------------------------------------------------------


def read_export(path: str | Path, fmt: str | None = None):
    """Load an export (gexf, graphml or json) into a networkx MultiDiGraph shaped like :meth:`Subgraph.to_networkx`:
    ``type`` on edges, lists as lists, no format-only attributes (``label``, ``rel_type``, ``source_urls``)."""
    import networkx as nx

    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    if fmt == "gexf":
        raw = nx.read_gexf(path)
    elif fmt == "graphml":
        raw = nx.read_graphml(path, force_multigraph=True)
    else:
        raise ExportError(f"read_export reads gexf, graphml or json, not {fmt!r}")
    graph = nx.MultiDiGraph(title=raw.graph.get("title", ""))
    for node_id, attrs in raw.nodes(data=True):
        attrs = _unscalar(attrs)
        attrs.pop("label", None)
        attrs.pop("source_urls", None)
        attrs.pop("neighbours_left_out", None)
        graph.add_node(node_id, **attrs)
    # networkx reads a file without parallel edges as a DiGraph; the edge id attribute is the key either way.
    triples = (raw.edges(keys=True, data=True) if raw.is_multigraph()
               else ((u, v, None, attrs) for u, v, attrs in raw.edges(data=True)))
    for u, v, key, attrs in triples:
        attrs = _unscalar(attrs)
        edge_id = attrs.get("id", key)
        attrs["id"] = edge_id
        attrs["type"] = attrs.pop("rel_type")
        attrs.pop("label", None)
        attrs.pop("source_urls", None)
        graph.add_edge(u, v, key=edge_id, **attrs)
    return graph


def _unscalar(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if key in LIST_ATTRIBUTES and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out
