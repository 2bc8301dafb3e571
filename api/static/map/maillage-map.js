/*
 * maillage network maps: draws each [data-maillage-map] element of the page with vis-network.
 *
 * The data come from the element's <script type="application/json" class="mm-data"> (written
 * by api/maps.py, MapView.json_script), so the page needs no inline script. Positions are
 * computed on the server and physics is off: the map is drawn once, at once.
 *
 * Text stays text: names, reasons and any imported value reach the page only through
 * textContent (tooltips are DOM elements we build, search results are buttons we fill);
 * labels are painted on the canvas. Nothing here uses innerHTML.
 *
 * Large maps (above 1,500 links the server sends plain links as data.links, pairs of indices
 * into data.nodes): such links are not vis-network edges but one canvas path stroked in
 * vis-network's "beforeDrawing" hook, under
 * the nodes and in network coordinates, so they follow zoom, pan and dragged nodes. Setting
 * up 20,000 vis-network edges takes about a second; stroking one path, milliseconds. The
 * links of selected nodes are stroked again, darker. Suggestions and overlaps stay edges.
 *
 * For tests and benchmarks: window.maillageMapReady becomes true and window.maillageMapReadyAt
 * holds performance.now() (milliseconds since navigation start) after the first drawing; the
 * section gets data-ready="true" (and data-links: the plain links drawn, either way) and
 * fires a "maillage:map-ready" event; window.maillageMaps maps each section's id to its
 * vis.Network.
 */
(function () {
  "use strict";

  // The keys vis-network draws with; everything else (url, search, kind...) stays with us,
  // so that no extra key can change how vis-network behaves (it scales nodes by "value").
  var NODE_KEYS = ["id", "label", "x", "y", "size", "color", "borderWidth"];
  var EDGE_KEYS = ["id", "from", "to", "color", "dashes", "width"];
  var RESULTS_SHOWN = 10;

  // The same folding as api/maps.py's fold(): no accents, lower case ("Montréal" -> "montreal").
  function fold(text) {
    return String(text).replace(/Œ/g, "Oe").replace(/œ/g, "oe")
      .normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  }

  function pick(source, keys) {
    var out = {};
    for (var i = 0; i < keys.length; i++) {
      if (source[keys[i]] !== undefined && source[keys[i]] !== null) out[keys[i]] = source[keys[i]];
    }
    return out;
  }

  function tooltip(text) {
    var el = document.createElement("div");
    el.className = "mm-tooltip";
    el.textContent = text;
    return el;
  }

  // Only same-site paths are followed: a value can never become a javascript: or foreign URL.
  function safePath(url) {
    if (typeof url !== "string" || url.charAt(0) !== "/") return null;
    var second = url.charAt(1);
    return second === "/" || second === "\\" ? null : url;
  }

  function paintLinks(network, links, options) {
    var colour = (options.edges && options.edges.color && options.edges.color.color) || "#b8b8b8";
    var from = links.map(function (pair) { return pair[0]; });
    var to = links.map(function (pair) { return pair[1]; });

    function stroke(ctx, positions, keep) {
      ctx.beginPath();
      for (var i = 0; i < from.length; i++) {
        if (keep && !keep.has(from[i]) && !keep.has(to[i])) continue;
        var a = positions[from[i]];
        var b = positions[to[i]];
        if (!a || !b) continue;
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
      }
      ctx.stroke();
    }

    network.on("beforeDrawing", function (ctx) {
      var positions = network.getPositions();
      // vis-network keeps an edge at least 0.3 px wide on screen however far one zooms out.
      var width = Math.max(1, 0.3 / network.getScale());
      ctx.save();
      ctx.lineWidth = width;
      ctx.strokeStyle = colour;
      stroke(ctx, positions, null);
      var selected = network.getSelectedNodes();
      if (selected.length) {
        ctx.lineWidth = 2 * width;
        ctx.strokeStyle = "#4d4d4d";
        stroke(ctx, positions, new Set(selected));
      }
      ctx.restore();
    });
  }

  function init(root) {
    if (root.dataset.mmStarted) return;
    root.dataset.mmStarted = "true";
    var dataElement = root.querySelector("script.mm-data");
    var canvas = root.querySelector(".mm-canvas");
    if (!dataElement || !canvas || typeof vis === "undefined") return;
    // Marks (performance.getEntriesByType("mark")) tell where the time to first draw goes.
    performance.mark("maillage-map-start");
    var data = JSON.parse(dataElement.textContent);

    var byId = new Map();
    var visNodes = data.nodes.map(function (n) {
      byId.set(n.id, n);
      var v = pick(n, NODE_KEYS);
      if (n.title) v.title = tooltip(n.title);
      return v;
    });
    var edgesByKind = {};
    var visEdges = [];
    var painted = (data.links || []).map(function (pair) {
      return [data.nodes[pair[0]].id, data.nodes[pair[1]].id];
    });
    data.edges.forEach(function (e) {
      var v = pick(e, EDGE_KEYS);
      if (e.title) v.title = tooltip(e.title);
      (edgesByKind[e.kind] = edgesByKind[e.kind] || []).push(e.id);
      visEdges.push(v);
    });
    performance.mark("maillage-map-data");
    var nodes = new vis.DataSet(visNodes);
    var edges = new vis.DataSet(visEdges);
    var network = new vis.Network(canvas, { nodes: nodes, edges: edges }, data.options);
    performance.mark("maillage-map-network");
    window.maillageMaps = window.maillageMaps || {};
    window.maillageMaps[root.id] = network;
    root.dataset.links = String(painted.length + (edgesByKind.link || []).length);
    if (painted.length) paintLinks(network, painted, data.options);

    network.once("afterDrawing", function () {
      performance.mark("maillage-map-drawn");
      window.maillageMapReadyAt = performance.now();
      window.maillageMapReady = true;
      root.dataset.ready = "true";
      if (data.highlight && data.highlight.length) network.selectNodes(data.highlight);
      root.dispatchEvent(new CustomEvent("maillage:map-ready", {
        bubbles: true,
        detail: { nodes: visNodes.length, edges: visEdges.length, at: window.maillageMapReadyAt },
      }));
    });

    network.on("click", function (params) {
      if (!params.nodes || !params.nodes.length) return;
      var node = byId.get(params.nodes[0]);
      var path = node && safePath(node.url);
      if (path) window.location.assign(path);
    });

    root.querySelectorAll("input[data-edge-kind]").forEach(function (box) {
      box.addEventListener("change", function () {
        var ids = edgesByKind[box.dataset.edgeKind] || [];
        edges.update(ids.map(function (id) { return { id: id, hidden: !box.checked }; }));
      });
    });

    var form = root.querySelector(".mm-search");
    if (!form) return;
    var input = form.querySelector(".mm-search-input");
    var results = form.querySelector(".mm-results");
    var noMatch = form.querySelector(".mm-no-match");

    function matches(query) {
      var q = fold(query).trim();
      var found = [];
      if (!q) return found;
      for (var i = 0; i < data.nodes.length && found.length < RESULTS_SHOWN; i++) {
        var n = data.nodes[i];
        if (n.search && n.search.indexOf(q) !== -1) found.push(n);
      }
      return found;
    }

    function focusNode(id) {
      network.selectNodes([id]);
      network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: { duration: 300 } });
      root.dataset.focused = String(id);
    }

    function show(found, query) {
      results.textContent = "";
      noMatch.hidden = !(query.trim() && found.length === 0);
      found.forEach(function (n) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "mm-result";
        button.textContent = n.name || n.label || String(n.id);
        button.addEventListener("click", function () { focusNode(n.id); });
        item.appendChild(button);
        results.appendChild(item);
      });
    }

    input.addEventListener("input", function () { show(matches(input.value), input.value); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var found = matches(input.value);
      show(found, input.value);
      if (found.length) focusNode(found[0].id);
    });
  }

  function start() {
    document.querySelectorAll("[data-maillage-map]").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
