"""The ``maillage`` command line: load, analyse, query, export, serve.

Every sub-command has ``--help``. Errors that maillage raises on purpose are printed as one
clear message (no traceback) and end with a non-zero status: 2 for bad input, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from maillage.errors import InputError, MaillageError
from maillage.settings import REPO_ROOT, Settings, get_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="maillage",
    help="Stakeholder network analyzer for industry-cluster secretariats.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
neo4j_app = typer.Typer(help="Run the local Neo4j server (built from Maven Central).", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")

console = Console()
err_console = Console(stderr=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _store(settings: Settings | None = None):
    from graph import open_store

    return open_store(settings or get_settings())


# ---- information ----------------------------------------------------------------------
@app.command()
def info() -> None:
    """Show which store maillage uses and what the graph holds."""
    settings = get_settings()
    with _store(settings) as store:
        counts = store.counts()
        console.print(f"Store: {store.describe()}")
        table = Table("kind", "type", "count")
        for t, n in sorted(counts["nodes"].items()):
            table.add_row("node", t, str(n))
        for t, n in sorted(counts["relationships"].items()):
            table.add_row("relationship", t, str(n))
        console.print(table)


# ---- the local Neo4j ------------------------------------------------------------------
def _neo4j_script(action: str) -> None:
    script = REPO_ROOT / "scripts" / "neo4j-local"
    if not script.exists():
        raise MaillageError(f"{script} is missing: the local Neo4j launcher ships with the repository checkout.")
    code = subprocess.call([str(script), action])
    if code not in (0, 3) or (action != "status" and code != 0):
        raise typer.Exit(code)
    if action == "status":
        raise typer.Exit(code)


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Build when needed and start the local Neo4j server, waiting until it answers."""
    _neo4j_script("start")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j server."""
    _neo4j_script("stop")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j server runs (exit 0) or not (exit 3)."""
    _neo4j_script("status")


# ---- load -----------------------------------------------------------------------------
def _print_summary(summary) -> None:
    table = Table("", "created", "updated", "unchanged", "removed", title="Import " + summary.import_id[:8])
    table.add_row("organizations", str(summary.organizations_created), str(summary.organizations_updated),
                  str(summary.organizations_unchanged), str(summary.organizations_removed))
    table.add_row("relationships", str(summary.relationships_created), str(summary.relationships_updated),
                  str(summary.relationships_unchanged), str(summary.relationships_removed))
    console.print(table)
    if summary.by_type:
        by_type = Table("type", "created or updated", title="By type")
        for t, n in sorted(summary.by_type.items()):
            by_type.add_row(t, str(n))
        console.print(by_type)


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="CSV files or folders, an XLSX workbook, JSON or JSON Lines files.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only; write nothing.")] = False,
    replace_source: Annotated[bool, typer.Option("--replace-source", help="Remove what earlier imports of the same files created that they no longer hold.")] = False,
    merge_duplicates: Annotated[bool, typer.Option("--merge-duplicates", help="Merge probable duplicate records (keeping the provenance of both).")] = False,
    bulk: Annotated[bool, typer.Option("--bulk", help="First load of an empty local Neo4j (scripts/neo4j-local) with Neo4j's bulk importer: far faster for millions of rows; the server restarts while it runs.")] = False,
) -> None:
    """Validate files and load them into the graph as one all-or-nothing import."""
    import loaders
    from loaders.limits import Limits
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from maillage.errors import ValidationFailed

    settings = get_settings()
    with _store(settings) as store:
        try:
            plan = loaders.prepare_import(
                paths,
                known_ids=store.existing_ids,
                known_organizations=store.organization_names,
                merge_duplicates=merge_duplicates,
                limits=Limits(max_file_bytes=settings.import_max_bytes),
            )
        except ValidationFailed as err:
            # Imported text is printed as text: never let rich read it as markup.
            err_console.print(loaders.format_problems(err.problems), markup=False, highlight=False)
            warnings = getattr(err, "warnings", None)
            if warnings:
                err_console.print(loaders.format_problems(warnings, warnings=True), markup=False, highlight=False)
            err_console.print(f"{len(err.problems)} problem(s) found: nothing was written.", markup=False, highlight=False)
            raise typer.Exit(2) from None
        if plan.warnings:
            err_console.print(loaders.format_problems(plan.warnings, warnings=True), markup=False, highlight=False)
        if len(plan.duplicates):
            console.print(loaders.format_duplicates(plan.duplicates), markup=False, highlight=False)
        n_orgs, n_rels = len(plan.organizations), len(plan.relationships)
        console.print(f"Valid: {n_orgs} organizations and {n_rels} relationships from {', '.join(map(str, plan.files))}.", markup=False, highlight=False)
        if dry_run:
            console.print("Dry run: nothing was written.")
            return
        if bulk:
            _print_summary(_bulk_load(settings, store, plan, replace_source=replace_source))
            return
        total = n_orgs + n_rels
        if total > 20_000 and sys.stderr.isatty():
            with Progress(TextColumn("writing"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeRemainingColumn(), console=err_console) as bar:
                task = bar.add_task("write", total=total)
                summary = store.upsert(
                    organizations=plan.organizations, relationships=plan.relationships, source=plan.source,
                    replace_source=replace_source, progress=lambda done, _total: bar.update(task, completed=done),
                )
        else:
            summary = store.upsert(organizations=plan.organizations, relationships=plan.relationships,
                                   source=plan.source, replace_source=replace_source)
        _print_summary(summary)


def _bulk_load(settings: Settings, store, plan, *, replace_source: bool):
    """``maillage load --bulk``: the plan through Neo4j's bulk importer into the local server."""
    from graph.bulk import bulk_load
    from graph.neo4j_store import Neo4jStore

    if not isinstance(store, Neo4jStore) or (settings.neo4j_uri and settings.neo4j_uri != settings.local_uri()):
        raise InputError(f"--bulk builds the database of the local Neo4j server (scripts/neo4j-local, "
                         f"{settings.local_uri()}), which it stops while the importer runs; the store here is "
                         f"{store.describe()}. Load without --bulk.")
    if replace_source:
        raise InputError("--bulk only loads an empty graph, where --replace-source has nothing to replace; drop one.")
    store.close()  # the server restarts; bulk_load opens its own connections
    return bulk_load(lambda: _store(settings), plan.organizations, plan.relationships, source=plan.source,
                     neo4j_home=settings.neo4j_home, neo4j_port=settings.neo4j_port,
                     log=lambda msg: err_console.print(f"bulk: {msg}", markup=False, highlight=False))


# ---- query ----------------------------------------------------------------------------
def _parse_params(params: list[str]) -> dict:
    out = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param {item!r}: expected NAME=VALUE (VALUE read as JSON when it parses, else text)")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@app.command()
def query(
    cypher: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="NAME=VALUE (JSON or text); repeatable.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds before the query is stopped.")] = None,
    row_cap: Annotated[Optional[int], typer.Option("--row-cap", help="Most rows returned.")] = None,
) -> None:
    """Run a read-only Cypher query (Neo4j refuses writes) and print the rows."""
    settings = get_settings()
    with _store(settings) as store:
        res = store.run_query(cypher, _parse_params(param or []), timeout=timeout or settings.query_timeout,
                              row_cap=row_cap or settings.query_row_cap)
    import pandas as pd

    frame = pd.DataFrame(res.rows, columns=res.columns)
    _emit(frame, fmt)
    if res.truncated:
        err_console.print(f"(stopped at {len(res.rows)} rows; raise --row-cap to see more)")


def _emit(frame, fmt: OutputFormat) -> None:
    """Print a DataFrame as a table, JSON records or CSV (formula-safe)."""
    if fmt == OutputFormat.json:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, date_format="iso", default_handler=str) + "\n")
    elif fmt == OutputFormat.csv:
        from loaders.export import safe_frame

        sys.stdout.write(safe_frame(frame).to_csv(index=False))
    else:
        table = Table(*[Text(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            table.add_row(*[Text(_cell(v)) for v in row])
        console.print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# ---- web view ---------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (default MAILLAGE_HOST: 127.0.0.1). Any other than loopback needs MAILLAGE_TOKENS.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on (default MAILLAGE_PORT: 8000).", min=1, max=65535)] = None,
) -> None:
    """Serve the web view and the JSON API, and print the URL to open."""
    import socket

    import uvicorn

    from api.app import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    try:
        web = create_app(settings, host=host)
    except MaillageError as err:
        err_console.print(Text("Error: ", style="bold red") + Text(str(err)), highlight=False)
        raise typer.Exit(1) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as err:
        sock.close()
        err_console.print(Text("Error: ", style="bold red") + Text(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port."), highlight=False)
        raise typer.Exit(1) from None
    # Listening before the URL is printed: whoever waits for the line can connect at once
    # (early connections wait in the backlog until uvicorn accepts them).
    shown = f"[{host}]" if ":" in host else host
    console.print(f"maillage is serving http://{shown}:{port}/", highlight=False, soft_wrap=True)
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", proxy_headers=False, server_header=False))
    server.run(sockets=[sock])


# ---- analyses -------------------------------------------------------------------------
class AnalysisName(str, Enum):
    gaps = "gaps"
    coverage = "coverage"
    brokers = "brokers"
    overlaps = "overlaps"
    duplicates = "duplicates"
    communities = "communities"
    all = "all"


class Lang(str, Enum):
    en = "en"
    fr = "fr"


@app.command()
def analyze(
    name: Annotated[AnalysisName, typer.Argument(help="Which analysis to run, or all.")],
    top: Annotated[int, typer.Option(help="Rows of the ranked analyses to show and store.", min=1)] = 10,
    cluster: Annotated[Optional[list[str]], typer.Option("--cluster", help="Only these clusters (name or id); repeatable.")] = None,
    type_: Annotated[Optional[list[str]], typer.Option("--type", help="Only these stakeholder types; repeatable.")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the reasons.")] = Lang.en,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    write_back_: Annotated[bool, typer.Option("--write-back", help="Store the results in the graph (replacing the previous run's) for Cypher.")] = False,
) -> None:
    """Find partnership gaps, coverage gaps, brokers, overlaps, duplicated structures or communities."""
    from api.analyses import ANALYSES, run_analysis, write_back
    from maillage.model import NODE_TYPES

    for t in type_ or []:
        if t not in NODE_TYPES:
            raise InputError(f"--type {t!r} is not a stakeholder type; choose from: {', '.join(NODE_TYPES)}")
    names = ANALYSES if name == AnalysisName.all else (name.value,)
    with _store() as store:
        # Analyses never read provenance; leaving it out saves a third of the memory at scale.
        G = store.snapshot(clusters=cluster or None, types=type_ or None, provenance=False)
        if G.number_of_nodes() == 0:
            raise InputError("The graph (or the part asked for) is empty: load data first with `maillage load`.")
        for analysis_name in names:
            df = run_analysis(analysis_name, G, top=top, lang=lang.value)
            if len(names) > 1 and fmt == OutputFormat.table:
                console.rule(analysis_name)
            _emit(df, fmt)
            if write_back_:
                run_id = write_back(store, analysis_name, df, {"top": top, "clusters": cluster or [], "types": type_ or [], "lang": lang.value})
                err_console.print(f"{analysis_name}: {len(df)} result(s) written back (run {run_id[:8]}).", highlight=False)


# ---- the demo -------------------------------------------------------------------------
@app.command()
def demo(
    orgs: Annotated[int, typer.Option(help="Organizations in the demo ecosystem.", min=100)] = 1500,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder for the generated files.")] = Path(".maillage/demo"),
    host: Annotated[str, typer.Option(help="Interface the web view binds to.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the web view.", min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the analyses.")] = False,
) -> None:
    """Generate the demo ecosystem, load it, analyse it, write the results back and serve it."""
    import loaders
    from api.analyses import ANALYSES, run_analysis, write_back
    from loaders.sample import generate_ecosystem, write_ecosystem

    console.print(f"Generating a demo ecosystem of {orgs} organizations (seed {seed}) in {out} ...", highlight=False)
    write_ecosystem(generate_ecosystem(orgs, seed=seed), out)
    files = sorted(p for p in out.iterdir() if p.suffix == ".csv")
    with _store() as store:
        console.print(f"Store: {store.describe()}", highlight=False)
        plan = loaders.prepare_import(files, known_ids=store.existing_ids, known_organizations=store.organization_names)
        summary = store.upsert(organizations=plan.organizations, relationships=plan.relationships, source=plan.source, replace_source=True)
        _print_summary(summary)
        G = store.snapshot(provenance=False)
        for analysis_name in ANALYSES:
            df = run_analysis(analysis_name, G, top=50)
            write_back(store, analysis_name, df, {"top": 50, "demo": True})
            console.print(f"  {analysis_name}: {len(df)} result(s) written back", highlight=False)
    if not no_serve:
        serve(host=host, port=port)


# ---- sample and export ------------------------------------------------------------------
@app.command()
def sample(
    orgs: Annotated[int, typer.Option("--orgs", help="Organizations to generate.", min=100)] = 1500,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (created).")] = Path("sample"),
) -> None:
    """Write a synthetic metropolitan ecosystem in the import format, with its ground truth."""
    import time

    from loaders.sample import generate_ecosystem, write_ecosystem

    started = time.perf_counter()
    eco = generate_ecosystem(orgs, seed=seed)
    generated = time.perf_counter()
    paths = write_ecosystem(eco, out)
    truth = eco.ground_truth
    table = Table("type", "organizations", title=f"Sample ecosystem (seed {seed})")
    for t, n in eco.organizations["type"].value_counts().items():
        table.add_row(str(t), str(n))
    console.print(table)
    planted = ", ".join(f"{len(truth[k])} {k.replace('_', ' ')}" for k in
                        ("removed_partnerships", "overlapping_pairs", "duplicate_structures", "duplicate_records"))
    console.print(f"{len(eco.relationships):,} relationships; planted: {planted}.", highlight=False)
    console.print(f"Generated in {generated - started:.1f} s, written in {time.perf_counter() - generated:.1f} s: "
                  + ", ".join(str(p) for p in paths.values()), highlight=False)


class ExportFormat(str, Enum):
    graphml = "graphml"
    gexf = "gexf"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write; for csv a folder or a .zip.")],
    fmt: Annotated[Optional[ExportFormat], typer.Option("--format", "-f", help="Format (default: from the suffix of --out).")] = None,
    cluster: Annotated[Optional[list[str]], typer.Option("--cluster", help="Only these clusters (name or id); repeatable.")] = None,
    type_: Annotated[Optional[list[str]], typer.Option("--type", help="Only these stakeholder types; repeatable.")] = None,
    provenance: Annotated[bool, typer.Option("--provenance/--no-provenance", help="Write each row's source file, row and import.")] = True,
) -> None:
    """Export the graph (or a filtered part) for Gephi, Cytoscape, networkx or a spreadsheet."""
    from loaders.export import export_graph
    from maillage.model import NODE_TYPES

    for t in type_ or []:
        if t not in NODE_TYPES:
            raise InputError(f"--type {t!r} is not a stakeholder type; choose from: {', '.join(NODE_TYPES)}")
    with _store() as store:
        G = store.snapshot(clusters=cluster or None, types=type_ or None)
    path = export_graph(G, out, fmt.value if fmt else None, provenance=provenance)
    n_orgs = sum(1 for _, d in G.nodes(data=True) if d.get("type") != "cluster")
    console.print(f"Wrote {n_orgs:,} organizations and {G.number_of_edges():,} relationships to {path}.", highlight=False)


# ---- maintenance ----------------------------------------------------------------------
@app.command()
def reset(yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False) -> None:
    """Delete every node and relationship of the graph."""
    with _store() as store:
        if not yes:
            typer.confirm(f"Delete everything in {store.describe()}?", abort=True)
        store.clear()
        console.print("The graph is empty.")


def main() -> None:
    """Entry point: run the app and turn maillage's errors into a message and an exit code."""
    try:
        app()
    except MaillageError as err:
        err_console.print(Text("Error: ", style="bold red") + Text(str(err)), highlight=False, soft_wrap=True)
        sys.exit(2 if isinstance(err, InputError) else 1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
