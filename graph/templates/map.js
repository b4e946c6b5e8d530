/* statetech relationship map: the page logic around vis-network.
 *
 * Safety: every value from the data is put into the page with textContent or as a DOM property, never as HTML; links
 * are made only for http(s) URLs. The data arrives as JSON in a non-executable script element.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("statetech-data").textContent);
  var entities = data.entities;
  var relationships = data.relationships;
  var sources = data.sources;
  var settings = data.settings;
  var FADED_OPACITY = 0.15;
  var FADED_LABEL = "rgba(40, 40, 40, 0.2)";
  var LABEL_COLOUR = data.options.nodes.font.color;
  var EDGE_LABEL = data.options.edges.font.color;

  var mapElement = document.getElementById("map");
  var details = document.getElementById("details");
  var statusElement = document.getElementById("layout-status");
  var physicsToggle = document.getElementById("toggle-physics");
  var highlightToggle = document.getElementById("toggle-highlight");

  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var edgeColour = {};
  data.edges.forEach(function (edge) { edgeColour[edge.id] = edge.color; });

  var options = data.options;
  var network = new vis.Network(mapElement, { nodes: nodes, edges: edges }, options);

  var api = {
    network: network,
    nodes: nodes,
    edges: edges,
    ready: false,
    focusNode: focusNode,
    search: search,
    visibleNodeIds: visibleNodeIds,
    savePng: savePng
  };
  window.statetechMap = api;

  // ---- small DOM helpers (text only) ---------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(value) {
    return typeof value === "string" && /^https?:\/\/[^\s]+$/i.test(value) ? value : null;
  }

  function link(url, text) {
    var href = safeUrl(url);
    if (!href) { return el("span", null, text); }
    var a = el("a", null, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function formatValue(key, value) {
    if (Array.isArray(value)) { return value.map(function (v) { return formatValue(key, v); }).join(", "); }
    if (typeof value === "number" && /_usd$/.test(key)) {
      return "$" + value.toLocaleString("en-US", { maximumFractionDigits: 2 });
    }
    if (typeof value === "number") { return value.toLocaleString("en-US"); }
    if (value !== null && typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  // Outlines on a 20x20 grid, shared by the legend swatches (SVG) and the PNG legend (canvas).
  var SHAPE_POINTS = {
    diamond: [[10, 1], [19, 10], [10, 19], [1, 10]],
    triangle: [[10, 2], [19, 18], [1, 18]],
    triangleDown: [[1, 2], [19, 2], [10, 18]],
    star: [[10, 1], [12.6, 7], [19, 7.4], [14, 11.6], [15.6, 18], [10, 14.5], [4.4, 18], [6, 11.6], [1, 7.4],
           [7.4, 7]],
    hexagon: [[5, 2], [15, 2], [19, 10], [15, 18], [5, 18], [1, 10]],
    square: [[2, 2], [18, 2], [18, 18], [2, 18]],
    box: [[2, 2], [18, 2], [18, 18], [2, 18]]
  };

  function swatch(shape, colour) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    var shapeElement;
    var points = SHAPE_POINTS;
    if (shape === "line") {
      shapeElement = document.createElementNS(ns, "line");
      shapeElement.setAttribute("x1", "1"); shapeElement.setAttribute("y1", "10");
      shapeElement.setAttribute("x2", "19"); shapeElement.setAttribute("y2", "10");
      shapeElement.setAttribute("stroke", colour);
      shapeElement.setAttribute("stroke-width", "4");
    } else if (points[shape]) {
      shapeElement = document.createElementNS(ns, "polygon");
      shapeElement.setAttribute("points", points[shape].map(function (p) { return p.join(","); }).join(" "));
    } else {
      shapeElement = document.createElementNS(ns, "circle");
      shapeElement.setAttribute("cx", "10"); shapeElement.setAttribute("cy", "10"); shapeElement.setAttribute("r", "8");
    }
    if (shape !== "line") { shapeElement.setAttribute("fill", colour); }
    svg.appendChild(shapeElement);
    return svg;
  }

  // ---- legend and filters ---------------------------------------------------------------------------------------

  var hiddenKinds = {};
  var hiddenTypes = {};

  function buildFilters() {
    var kindList = document.getElementById("filter-kinds");
    data.kinds.forEach(function (item) {
      kindList.appendChild(filterItem(item.kind, item.count, swatch(item.shape, item.colour), hiddenKinds, "kind"));
    });
    var typeList = document.getElementById("filter-types");
    data.types.forEach(function (item) {
      var entry = filterItem(item.type, item.count, swatch("line", item.colour), hiddenTypes, "type");
      if (item.description) { entry.title = item.description; }
      typeList.appendChild(entry);
    });
  }

  function filterItem(name, count, icon, hiddenSet, role) {
    var li = el("li");
    var label = el("label");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.value = name;
    box.setAttribute("data-filter", role);
    box.addEventListener("change", function () {
      if (box.checked) { delete hiddenSet[name]; } else { hiddenSet[name] = true; }
      applyFilters();
    });
    label.appendChild(box);
    label.appendChild(icon);
    label.appendChild(el("span", "filter-name", name));
    label.appendChild(el("span", "filter-count", count.toLocaleString("en-US")));
    li.appendChild(label);
    return li;
  }

  function nodeHidden(id) {
    var entity = entities[id];
    return Boolean(entity && hiddenKinds[entity.kind]);
  }

  function applyFilters() {
    var nodeUpdates = [];
    nodes.forEach(function (node) {
      var hidden = nodeHidden(node.id);
      if (Boolean(node.hidden) !== hidden) { nodeUpdates.push({ id: node.id, hidden: hidden }); }
    });
    nodes.update(nodeUpdates);
    var edgeUpdates = [];
    edges.forEach(function (edge) {
      var rel = relationships[edge.id];
      var hidden = Boolean(hiddenTypes[rel.type]) || nodeHidden(edge.from) || nodeHidden(edge.to);
      if (Boolean(edge.hidden) !== hidden) { edgeUpdates.push({ id: edge.id, hidden: hidden }); }
    });
    edges.update(edgeUpdates);
    updateCounts();
  }

  function visibleNodeIds() {
    return nodes.getIds({ filter: function (node) { return !node.hidden; } });
  }

  function updateCounts() {
    var shown = visibleNodeIds().length;
    var shownEdges = edges.getIds({ filter: function (edge) { return !edge.hidden; } }).length;
    document.getElementById("shown-count").textContent =
      shown.toLocaleString("en-US") + " of " + nodes.length.toLocaleString("en-US") + " nodes, " +
      shownEdges.toLocaleString("en-US") + " of " + edges.length.toLocaleString("en-US") + " relationships shown";
  }

  // ---- details panel ----------------------------------------------------------------------------------------------

  var pinned = null;

  function propertyList(props) {
    var keys = Object.keys(props).sort();
    if (!keys.length) { return null; }
    var dl = el("dl", "properties");
    keys.forEach(function (key) {
      dl.appendChild(el("dt", null, key.replace(/_/g, " ")));
      var dd = el("dd");
      var value = props[key];
      if ((key === "website" || key === "url" || key === "archive_url") && safeUrl(value)) {
        dd.appendChild(link(value, value));
      } else {
        dd.textContent = formatValue(key, value);
      }
      dl.appendChild(dd);
    });
    return dl;
  }

  function sourceList(ids) {
    var wrapper = el("section", "sources");
    wrapper.appendChild(el("h3", null, "Sources (" + ids.length + ")"));
    if (!ids.length) {
      wrapper.appendChild(el("p", "warning", "No source is cited for this record."));
      return wrapper;
    }
    var ol = el("ol");
    ids.forEach(function (id) {
      var li = el("li");
      var source = sources[id];
      if (!source) {
        li.appendChild(el("span", null, id + " (not in the graph)"));
      } else {
        li.appendChild(link(source.url, source.title || id));
        var meta = [source.publisher, source.published].filter(Boolean).join(", ");
        if (meta) { li.appendChild(el("span", "source-meta", " (" + meta + ")")); }
        if (safeUrl(source.archive_url)) {
          li.appendChild(document.createTextNode(" "));
          li.appendChild(link(source.archive_url, "archived copy"));
        }
        if (source.excerpt) { li.appendChild(el("blockquote", null, source.excerpt)); }
      }
      ol.appendChild(li);
    });
    wrapper.appendChild(ol);
    return wrapper;
  }

  function showNode(id) {
    var entity = entities[id];
    if (!entity) { return; }
    clear(details);
    var badge = el("p", "kind-badge");
    badge.appendChild(swatch(kindStyle(entity.kind).shape, kindStyle(entity.kind).colour));
    badge.appendChild(el("span", null, entity.kind));
    details.appendChild(badge);
    details.appendChild(el("h2", "entity-name", entity.name));
    details.appendChild(el("p", "entity-id", id));
    if (entity.truncated) {
      details.appendChild(el("p", "warning", entity.truncated.toLocaleString("en-US") +
        " neighbours left out of this map to keep it responsive."));
    }
    var props = propertyList(entity.props);
    if (props) { details.appendChild(props); }
    details.appendChild(sourceList(entity.sources));
    var connected = network.getConnectedEdges(id);
    if (connected.length) {
      var section = el("section", "connections");
      section.appendChild(el("h3", null, "Relationships (" + connected.length + ")"));
      var ul = el("ul");
      connected.slice(0, 60).forEach(function (edgeId) {
        var rel = relationships[edgeId];
        var otherId = rel.from === id ? rel.to : rel.from;
        var other = entities[otherId];
        var li = el("li");
        li.appendChild(el("span", "rel-type", rel.from === id ? rel.type + " \u2192 " : "\u2190 " + rel.type + " "));
        var button = el("button", "link-button", other ? other.name : otherId);
        button.type = "button";
        button.addEventListener("click", function () { focusNode(otherId); });
        li.appendChild(button);
        ul.appendChild(li);
      });
      if (connected.length > 60) { ul.appendChild(el("li", null, "\u2026 and " + (connected.length - 60) + " more")); }
      section.appendChild(ul);
      details.appendChild(section);
    }
  }

  function showEdge(id) {
    var rel = relationships[id];
    if (!rel) { return; }
    clear(details);
    var badge = el("p", "kind-badge");
    badge.appendChild(swatch("line", edgeColour[id]));
    badge.appendChild(el("span", null, "Relationship"));
    details.appendChild(badge);
    var heading = el("h2", "entity-name");
    heading.appendChild(el("span", null, (entities[rel.from] || { name: rel.from }).name));
    heading.appendChild(el("span", "rel-type", " " + rel.type + " \u2192 "));
    heading.appendChild(el("span", null, (entities[rel.to] || { name: rel.to }).name));
    details.appendChild(heading);
    var description = (typeStyles[rel.type] || {}).description;
    if (description) { details.appendChild(el("p", "rel-description", description)); }
    details.appendChild(el("p", "entity-id", id));
    var props = propertyList(rel.props);
    if (props) { details.appendChild(props); }
    details.appendChild(sourceList(rel.sources));
  }

  function showPlaceholder() {
    clear(details);
    details.appendChild(el("p", "placeholder",
      "Hover over or click a node or relationship to see its properties and sources."));
  }

  function showPinned() {
    if (pinned && pinned.kind === "node") { showNode(pinned.id); }
    else if (pinned && pinned.kind === "edge") { showEdge(pinned.id); }
    else { showPlaceholder(); }
  }

  var kindStyles = {};
  data.kinds.forEach(function (item) { kindStyles[item.kind] = item; });
  var typeStyles = {};
  data.types.forEach(function (item) { typeStyles[item.type] = item; });
  function kindStyle(kind) { return kindStyles[kind] || { shape: "dot", colour: "#888888" }; }

  // ---- neighbourhood highlight ----------------------------------------------------------------------------------

  var highlighted = false;

  function edgeColours(id, opacity) {
    var colour = edgeColour[id];
    return { color: colour, highlight: colour, hover: colour, opacity: opacity };
  }

  function highlight(id) {
    if (!highlightToggle.checked) { return; }
    var keep = {};
    keep[id] = true;
    network.getConnectedNodes(id).forEach(function (n) { keep[n] = true; });
    var keepEdges = {};
    network.getConnectedEdges(id).forEach(function (e) { keepEdges[e] = true; });
    nodes.update(nodes.map(function (node) {
      var on = Boolean(keep[node.id]);
      return { id: node.id, opacity: on ? 1 : FADED_OPACITY, font: { color: on ? LABEL_COLOUR : FADED_LABEL } };
    }));
    edges.update(edges.map(function (edge) {
      var on = Boolean(keepEdges[edge.id]);
      return { id: edge.id, color: edgeColours(edge.id, on ? 1 : FADED_OPACITY),
               font: { color: on ? EDGE_LABEL : FADED_LABEL } };
    }));
    highlighted = true;
  }

  function unhighlight() {
    if (!highlighted) { return; }
    nodes.update(nodes.map(function (node) {
      return { id: node.id, opacity: 1, font: { color: LABEL_COLOUR } };
    }));
    edges.update(edges.map(function (edge) {
      return { id: edge.id, color: edgeColours(edge.id, 1), font: { color: EDGE_LABEL } };
    }));
    highlighted = false;
  }

  highlightToggle.addEventListener("change", function () {
    if (!highlightToggle.checked) { unhighlight(); }
    else if (pinned && pinned.kind === "node") { highlight(pinned.id); }
  });

  // ---- interaction ----------------------------------------------------------------------------------------------

  network.on("hoverNode", function (event) { showNode(event.node); });
  network.on("blurNode", showPinned);
  network.on("hoverEdge", function (event) { showEdge(event.edge); });
  network.on("blurEdge", showPinned);
  network.on("click", function (event) {
    if (event.nodes.length) {
      pinned = { kind: "node", id: event.nodes[0] };
      showNode(pinned.id);
      highlight(pinned.id);
    } else if (event.edges.length) {
      pinned = { kind: "edge", id: event.edges[0] };
      unhighlight();
      showEdge(pinned.id);
    } else {
      pinned = null;
      unhighlight();
      showPlaceholder();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      pinned = null;
      network.unselectAll();
      unhighlight();
      showPlaceholder();
    }
  });

  // ---- search ---------------------------------------------------------------------------------------------------

  var searchIndex = Object.keys(entities).map(function (id) {
    var entity = entities[id];
    var names = [entity.name].concat(entity.props.aliases || []);
    return { id: id, name: entity.name, keys: names.map(function (n) { return String(n).toLowerCase(); }) };
  });

  function search(text) {
    var query = String(text || "").trim().toLowerCase();
    if (!query) { return []; }
    var found = [];
    searchIndex.forEach(function (item) {
      var rank = null;
      if (item.id.toLowerCase() === query || item.keys.indexOf(query) >= 0) { rank = 0; }
      else if (item.keys.some(function (k) { return k.indexOf(query) === 0; })) { rank = 1; }
      else if (item.keys.some(function (k) { return k.indexOf(query) >= 0; }) ||
               item.id.toLowerCase().indexOf(query) >= 0) { rank = 2; }
      if (rank !== null) { found.push({ id: item.id, name: item.name, rank: rank }); }
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1); });
    return found;
  }

  function focusNode(id) {
    if (!entities[id]) { return false; }
    var entity = entities[id];
    if (hiddenKinds[entity.kind]) {
      delete hiddenKinds[entity.kind];
      var box = document.querySelector('input[data-filter="kind"][value="' + CSS.escape(entity.kind) + '"]');
      if (box) { box.checked = true; }
      applyFilters();
    }
    pinned = { kind: "node", id: id };
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 1.1), animation: { duration: 400, easingFunction: "easeInOutQuad" } });
    showNode(id);
    highlight(id);
    return true;
  }

  var searchForm = document.getElementById("search");
  var searchInput = document.getElementById("search-input");
  var searchResults = document.getElementById("search-results");
  var searchStatus = document.getElementById("search-status");

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clear(searchResults);
    var found = search(searchInput.value);
    if (!found.length) {
      searchStatus.textContent = "No node matches \u201c" + searchInput.value.trim() + "\u201d.";
      return;
    }
    searchStatus.textContent = found.length === 1 ? "1 match" : found.length.toLocaleString("en-US") + " matches";
    found.slice(0, 25).forEach(function (item) {
      var li = el("li");
      var button = el("button", "link-button", item.name);
      button.type = "button";
      button.title = item.id;
      button.addEventListener("click", function () { focusNode(item.id); });
      li.appendChild(button);
      searchResults.appendChild(li);
    });
    focusNode(found[0].id);
  });

  if (settings.searchList) {
    var datalist = document.getElementById("search-names");
    var seen = {};
    searchIndex.forEach(function (item) {
      if (seen[item.name]) { return; }
      seen[item.name] = true;
      var option = el("option");
      option.value = item.name;
      datalist.appendChild(option);
    });
  }

  // ---- physics and layout -----------------------------------------------------------------------------------------

  physicsToggle.addEventListener("change", function () {
    network.setOptions({ physics: { enabled: physicsToggle.checked } });
  });

  function markReady() {
    if (api.ready) { return; }
    api.ready = true;
    statusElement.hidden = true;
    document.body.setAttribute("data-ready", "true");
  }

  network.on("stabilizationProgress", function (progress) {
    var percent = Math.round(100 * progress.iterations / progress.total);
    statusElement.textContent = "Laying out the map\u2026 " + percent + "%";
  });

  network.once("stabilizationIterationsDone", function () {
    if (settings.freezeAfterLayout) {
      network.setOptions({ physics: { enabled: false } });
      physicsToggle.checked = false;
    }
    markReady();
  });

  if (!data.nodes.length) {
    markReady();
  }

  // Solid background, so a saved PNG is not transparent.
  network.on("beforeDrawing", function (ctx) {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.restore();
  });

  // ---- save as PNG ------------------------------------------------------------------------------------------------

  function savePng() {
    var canvas = mapElement.querySelector("canvas");
    var ratio = window.devicePixelRatio || 1;
    var header = Math.round(56 * ratio);
    var footer = Math.round(36 * ratio);
    var out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height + header + footer;
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = "#111111";
    ctx.font = "600 " + Math.round(18 * ratio) + "px system-ui, sans-serif";
    ctx.fillText(settings.title, 12 * ratio, 24 * ratio, out.width - 24 * ratio);
    ctx.fillStyle = "#555555";
    ctx.font = Math.round(12 * ratio) + "px system-ui, sans-serif";
    ctx.fillText(settings.dateline, 12 * ratio, 44 * ratio, out.width - 24 * ratio);
    ctx.drawImage(canvas, 0, header);
    var x = 12 * ratio;
    var y = header + canvas.height + 22 * ratio;
    ctx.font = Math.round(12 * ratio) + "px system-ui, sans-serif";
    data.kinds.forEach(function (item) {
      if (hiddenKinds[item.kind]) { return; }
      ctx.fillStyle = item.colour;
      ctx.beginPath();
      var outline = SHAPE_POINTS[item.shape];
      if (outline) {
        outline.forEach(function (p, i) {
          var px = x + p[0] * 0.6 * ratio;
          var py = y - 10 * ratio + p[1] * 0.6 * ratio;
          if (i === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
        });
        ctx.closePath();
      } else {
        ctx.arc(x + 6 * ratio, y - 4 * ratio, 5 * ratio, 0, 2 * Math.PI);
      }
      ctx.fill();
      ctx.fillStyle = "#333333";
      ctx.fillText(item.kind, x + 14 * ratio, y);
      x += ctx.measureText(item.kind).width + 30 * ratio;
    });
    out.toBlob(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = url;
      a.download = settings.fileStem + ".png";
      document.body.appendChild(a);
      a.click();
      document.body.removeChild(a);
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }, "image/png");
  }

  document.getElementById("save-png").addEventListener("click", savePng);
  document.getElementById("fit-view").addEventListener("click", function () { network.fit({ animation: true }); });

  buildFilters();
  updateCounts();
  showPlaceholder();
})();
