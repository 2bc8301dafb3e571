"""Exports: every format re-imports into networkx (and the tabular ones into maillage) with
the same nodes, edges and attributes, and no spreadsheet cell is left as a live formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import networkx as nx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import loaders
import loaders.export as export_module
from loaders.export import (
    EXPORT_FORMATS,
    export_graph,
    organizations_frame,
    read_export,
    relationships_frame,
    safe_cell,
    safe_frame,
)
from loaders.sample import ecosystem_graph, generate_ecosystem
from maillage.errors import InputError
from tests.conftest import make_org, make_rel

FORMULA = '=HYPERLINK("http://x","y")'
# (format, file name) of every way to export.
TARGETS = [("graphml", "g.graphml"), ("gexf", "g.gexf"), ("json", "g.json"), ("csv", "g.zip"),
           ("csv", "folder"), ("xlsx", "g.xlsx")]


def make_graph(**overrides) -> nx.MultiDiGraph:
    """A small snapshot with every kind of value: lists, dates, numbers, booleans, missing
    values, provenance, a cluster with PART_OF, parallel edges, and hostile text."""
    prov = {"source": "members.csv", "row": 2, "importId": "imp-1", "importedAt": "2025-03-01T10:00:00+00:00"}
    G = nx.MultiDiGraph()
    G.add_node("org-1", id="org-1", name="Aéro Boréal inc.", type="company", sectors=["avionique", "usinage"],
               clusters=["Aérospatiale"], region="Montréal", mandate="Conçoit des pièces, en «série»;\nœuvre à Laval.",
               employees=12, revenue=1.5, exporter=True, contentHash="abc", **prov)
    G.add_node("org-2", id="org-2", name=FORMULA, type="institution", sectors=[], clusters=["Aérospatiale"],
               mandate="\tTab first", **prov)
    G.add_node("org-3", id="org-3", name="2020", type="association", sectors=["mode"], clusters=[],
               region=None, note="-1 point", **prov)
    G.add_node("aerospatiale", id="aerospatiale", name="Aérospatiale", type="cluster")
    G.add_edge("org-1", "org-2", key="PARTNERS_WITH", type="PARTNERS_WITH", weight=0.75,
               since=dt.date(2019, 4, 1), **prov)
    G.add_edge("org-1", "org-2", key="FUNDS", type="FUNDS", weight=2.0, until=dt.date(2024, 12, 31), **prov)
    G.add_edge("org-2", "org-1", key="MEMBER_OF", type="MEMBER_OF", **prov)
    G.add_edge("org-3", "org-2", key="PARTICIPATES_IN", type="PARTICIPATES_IN", role="@chair", label="x",
               start=2020, **prov)
    for n in ("org-1", "org-2"):
        G.add_edge(n, "aerospatiale", key="PART_OF", type="PART_OF", derived=True, **prov)
    for n, attrs in overrides.items():
        G.nodes[n].update(attrs)
    return G


def without_internals(G: nx.MultiDiGraph) -> tuple[dict, dict]:
    """Nodes and edges with their attributes, minus the store's content hash (not exported)
    and missing values (exports leave them out, as the stores do)."""
    def keep(d):
        return {k: v for k, v in d.items() if k != "contentHash" and v is not None}

    return ({n: keep(d) for n, d in G.nodes(data=True)},
            {(u, v, k): keep(d) for u, v, k, d in G.edges(keys=True, data=True)})


# ---- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "name"), TARGETS)
def test_every_format_round_trips_nodes_edges_and_attributes(tmp_path, fmt, name):
    G = make_graph()
    back = read_export(export_graph(G, tmp_path / name, fmt), fmt)
    assert without_internals(back) == without_internals(G)


@pytest.mark.parametrize(("fmt", "name"), TARGETS)
def test_a_generated_ecosystem_round_trips(tmp_path, fmt, name):
    G = ecosystem_graph(generate_ecosystem(120, seed=9))
    back = read_export(export_graph(G, tmp_path / name, fmt), fmt)
    assert without_internals(back) == without_internals(G)


@pytest.mark.parametrize(("fmt", "name"), TARGETS)
def test_a_store_snapshot_round_trips(tmp_path, memory_store, fmt, name):
    memory_store.upsert(
        organizations=[make_org(id="a", extra={"employees": 40, "website": "https://a.example"}),
                       make_org(id="b", name="Collège Nord", type="institution", clusters=("Aérospatiale", "Logistique"))],
        relationships=[make_rel(source="a", target="b", since=dt.date(2021, 5, 17)),
                       make_rel(source="b", target="a", type="FUNDS", weight=None)],
        source="members.csv",
    )
    S = memory_store.snapshot()
    back = read_export(export_graph(S, tmp_path / name, fmt), fmt)
    assert without_internals(back) == without_internals(S)


def test_networkx_reads_graphml_with_export_names(tmp_path):
    H = nx.read_graphml(export_graph(make_graph(), tmp_path / "g.graphml"), force_multigraph=True)
    assert H.number_of_nodes() == 4 and H.number_of_edges() == 6
    assert H.nodes["org-1"]["sectors"] == "avionique|usinage"
    assert H.nodes["org-1"]["employees"] == 12 and H.nodes["org-1"]["exporter"] is True
    assert H.nodes["org-1"]["label"] == "Aéro Boréal inc."
    edge = next(d for *_, d in H.edges(data=True) if d["relationship"] == "PARTNERS_WITH")
    assert edge == {"relationship": "PARTNERS_WITH", "weight": 0.75, "since": "2019-04-01",
                    "provenanceSource": "members.csv", "provenanceRow": 2, "provenanceImportId": "imp-1",
                    "provenanceImportedAt": "2025-03-01T10:00:00+00:00"}


def test_networkx_reads_gexf_with_edge_keys(tmp_path):
    H = nx.read_gexf(export_graph(make_graph(), tmp_path / "g.gexf"))
    assert H.number_of_nodes() == 4 and H.number_of_edges() == 6
    assert H.nodes["org-2"]["name"] == FORMULA and H.nodes["org-2"]["label"] == FORMULA
    assert H.edges["org-1", "org-2", "FUNDS"]["until"] == "2024-12-31"


def test_networkx_reads_node_link_json(tmp_path):
    data = json.loads(export_graph(make_graph(), tmp_path / "g.json").read_text(encoding="utf-8"))
    H = nx.node_link_graph(data, edges="edges")
    # The rows of the import format: clusters live in each organization's list.
    assert set(H.nodes) == {"org-1", "org-2", "org-3"} and H.number_of_edges() == 4
    assert H.nodes["org-1"]["sectors"] == ["avionique", "usinage"]
    assert {(e["source"], e["target"], e["relationship"]) for e in data["edges"]} >= {("org-1", "org-2", "FUNDS")}


@pytest.mark.parametrize(("fmt", "name"), [("csv", "folder"), ("xlsx", "g.xlsx"), ("json", "g.json")])
def test_tabular_exports_reimport_through_the_loaders(tmp_path, fmt, name):
    G = make_graph()
    path = export_graph(G, tmp_path / name, fmt, provenance=False)
    plan = loaders.prepare_import([path])
    orgs = {r.id: r for r in plan.organizations}
    assert set(orgs) == {"org-1", "org-2", "org-3"}
    assert orgs["org-1"].sectors == ("avionique", "usinage") and orgs["org-1"].clusters == ("Aérospatiale",)
    assert orgs["org-1"].mandate == G.nodes["org-1"]["mandate"]
    rels = {(r.source, r.type, r.target): r for r in plan.relationships}
    assert set(rels) == {(u, k, v) for u, v, k in G.edges(keys=True) if k != "PART_OF"}
    assert rels["org-1", "PARTNERS_WITH", "org-2"].since == dt.date(2019, 4, 1)
    assert rels["org-1", "PARTNERS_WITH", "org-2"].weight == pytest.approx(0.75)


# ---- formulas ----------------------------------------------------------------------------------
def test_formula_cells_are_inert_in_csv(tmp_path):
    folder = export_graph(make_graph(), tmp_path / "out", "csv")
    with (folder / "nodes.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["org-2"]["name"] == "'" + FORMULA
    assert rows["org-2"]["mandate"] == "'\tTab first"
    assert rows["org-3"]["note"] == "'-1 point"
    with (folder / "edges.csv").open(encoding="utf-8-sig", newline="") as fh:
        roles = [r["role"] for r in csv.DictReader(fh) if r.get("role")]
    assert roles == ["'@chair"]


def test_formula_cells_are_inert_in_a_zip_of_csv(tmp_path):
    with zipfile.ZipFile(export_graph(make_graph(), tmp_path / "g.zip")) as zf:
        text = zf.read("nodes.csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells


def test_formula_cells_are_strings_in_xlsx(tmp_path):
    wb = load_workbook(export_graph(make_graph(), tmp_path / "g.xlsx"))
    assert wb.sheetnames == ["Organizations", "Relationships"]
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    name = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert name.data_type == "s" and name.value == "'" + FORMULA
    numbers = {c.value for c in cells if c.data_type == "n"}
    assert {12, 1.5, 0.75, 2.0} <= numbers  # numbers stay numbers


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "＝1"])
def test_safe_cell_neutralises_formula_triggers(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Aéro Nord", "", "1-2", "a=b", -3, 2.5, None, True])
def test_safe_cell_leaves_other_values_alone(value):
    assert safe_cell(value) == value


def test_safe_frame_neutralises_text_cells_and_headers():
    import pandas as pd

    df = pd.DataFrame({"=cmd": ["=1+1", "ok", None], "n": [-1, 2, 3]})
    out = safe_frame(df)
    assert list(out.columns) == ["'=cmd", "n"]
    assert out["'=cmd"].tolist()[:2] == ["'=1+1", "ok"] and out["n"].tolist() == [-1, 2, 3]
    assert df.columns[0] == "=cmd"  # the input is not changed


# ---- names and layout ----------------------------------------------------------------------------
def test_edge_provenance_does_not_collide_with_edge_ends():
    frame = relationships_frame(make_graph())
    assert list(frame.columns[:6]) == ["source", "target", "relationship", "weight", "since", "until"]
    assert set(frame["source"]) <= {"org-1", "org-2", "org-3"}
    assert set(frame["provenanceSource"]) == {"members.csv"}
    assert "PART_OF" not in set(frame["relationship"])


def test_organization_table_lists_clusters_and_leaves_cluster_nodes_out():
    G = make_graph()
    G.remove_node("org-3")
    G.nodes["org-2"]["clusters"] = []  # its cluster only known from its PART_OF edge
    frame = organizations_frame(G, provenance=False)
    assert frame["id"].tolist() == ["org-1", "org-2"]
    assert frame["clusters"].tolist() == ["Aérospatiale", "Aérospatiale"]
    assert "contentHash" not in frame.columns and "source" not in frame.columns


def test_provenance_can_be_left_out(tmp_path):
    H = nx.read_graphml(export_graph(make_graph(), tmp_path / "g.graphml", provenance=False), force_multigraph=True)
    names = {k for _, d in H.nodes(data=True) for k in d} | {k for *_, d in H.edges(data=True) for k in d}
    assert not {n for n in names if n.startswith("provenance")}


def test_gexf_edges_have_unique_ids_and_no_bad_direction(tmp_path):
    root = ET.parse(export_graph(make_graph(), tmp_path / "g.gexf")).getroot()
    edges = [el for el in root.iter() if el.tag.endswith("}edge")]
    assert len(edges) == 6 and len({e.get("id") for e in edges}) == 6
    # GEXF reserves an edge's "type" for its direction: the relationship must not land there.
    assert {e.get("type") for e in edges} <= {None, "directed", "undirected", "mutual"}


def test_graphml_edges_have_unique_ids(tmp_path):
    root = ET.parse(export_graph(make_graph(), tmp_path / "g.graphml")).getroot()
    ids = [el.get("id") for el in root.iter() if el.tag.endswith("}edge")]
    assert len(ids) == 6 == len(set(ids))


def test_format_is_taken_from_the_suffix(tmp_path):
    assert read_export(export_graph(make_graph(), tmp_path / "x.gexf")).number_of_edges() == 6
    assert (export_graph(make_graph(), tmp_path / "plain") / "nodes.csv").exists()


def test_unknown_formats_are_refused(tmp_path):
    with pytest.raises(InputError, match="graphml, gexf, csv, json, xlsx"):
        export_graph(make_graph(), tmp_path / "g.out", "pdf")
    with pytest.raises(InputError, match="--format"):
        export_graph(make_graph(), tmp_path / "g.pdf")
    assert EXPORT_FORMATS == ("graphml", "gexf", "csv", "json", "xlsx")


def test_xlsx_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "_XLSX_MAX_ROWS", 3)
    with pytest.raises(InputError, match="export to csv"):
        export_graph(make_graph(), tmp_path / "g.xlsx")
    assert not (tmp_path / "g.xlsx").exists()


def test_any_networkx_graph_can_be_exported(tmp_path):
    G = nx.karate_club_graph()  # undirected, integer nodes, no types
    back = read_export(export_graph(G, tmp_path / "k.graphml"))
    assert back.number_of_nodes() == 34 and back.number_of_edges() == G.number_of_edges()
    assert back.nodes["0"]["club"] == "Mr. Hi"


# ---- command line ------------------------------------------------------------------------------------
def test_export_command_writes_a_filtered_graph(tmp_path, monkeypatch):
    from api.cli import app
    from graph.memory_store import MemoryStore
    from maillage.settings import get_settings

    MemoryStore(tmp_path / "graph.json").upsert(
        organizations=[make_org(id="a"), make_org(id="b", clusters=("Logistique",))],
        relationships=[make_rel(source="a", target="b")], source="m.csv")
    monkeypatch.setenv("MAILLAGE_STORE", "memory")
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        out = tmp_path / "aero.gexf"
        result = CliRunner().invoke(app, ["export", "--format", "gexf", "--out", str(out), "--cluster", "Aérospatiale"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    H = read_export(out)
    assert {n for n, d in H.nodes(data=True) if d["type"] != "cluster"} == {"a"}
