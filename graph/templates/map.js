/* statetech relationship map: the page logic around vis-network, shared by the offline map file and the explorer.
 *
 * Safety: every value from the data is put into the page with textContent or as a DOM property, never as HTML; links
 * are made only for http(s) URLs. The data arrives as JSON in a non-executable script element. Lookups by id go
 * through objects without a prototype, so ids such as "__proto__" or "toString" are ordinary keys.
 *
 * The page may be a whole offline file or one part of an explorer page: everything it touches is inside
 * #statetech-map (plus the optional #map-dateline heading line of the offline page).
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("statetech-data").textContent);
  var settings = data.settings || {};
  var styles = data.styles || { kinds: {}, types: {}, kindOrder: [], typeOrder: [] };
  var live = settings.live || null;
  var FADED_OPACITY = 0.15;
  var FADED_LABEL = "rgba(40, 40, 40, 0.2)";
  var LABEL_COLOUR = data.options.nodes.font.color;
  var EDGE_LABEL = data.options.edges.font.color;
  var BASE_FONT = data.options.nodes.font.size;
  var MAX_DRAWN = settings.maxDrawn || 3000;
  var EXPAND_PAGE = settings.expandPage || 40;
  var MIN_LABEL_PX = settings.minLabelPx || 11;
  var CONFIDENCE = settings.confidenceLevels || ["confirmed", "reported", "alleged"];
  // How each confidence level looks: an alleged record must never look like a confirmed one.
  var EDGE_LOOK = {
    confirmed: { opacity: 1, dashes: false },
    reported: { opacity: 0.5, dashes: false },
    alleged: { opacity: 0.85, dashes: [6, 5] }
  };
  var NODE_LOOK = {
    confirmed: { opacity: 1, borderDashes: false },
    reported: { opacity: 0.6, borderDashes: false },
    alleged: { opacity: 0.85, borderDashes: [4, 3] }
  };

  function dict(source) {
    var out = Object.create(null);
    if (source) { Object.keys(source).forEach(function (key) { out[key] = source[key]; }); }
    return out;
  }
  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  // vis-network keeps nodes and edges in plain objects keyed by id, so an id such as "__proto__" or "toString"
  // would break it. Inside the page every id is a key: the id itself, or for those names (and anything starting
  // with the marker) the id behind an invisible marker. Ids are shown, saved and sent to the server as they are.
  var MARK = "\u2063";
  function key(id) {
    id = String(id);
    return (id in Object.prototype || id.charAt(0) === MARK) ? MARK + id : id;
  }
  function realId(k) { k = String(k); return k.charAt(0) === MARK ? k.slice(1) : k; }
  function keyed(source) {
    var out = Object.create(null);
    if (source) { Object.keys(source).forEach(function (id) { out[key(id)] = source[id]; }); }
    return out;
  }
  function keyedRelationships(source) {
    var out = Object.create(null);
    if (source) {
      Object.keys(source).forEach(function (id) {
        out[key(id)] = Object.assign({}, source[id], { from: key(source[id].from), to: key(source[id].to) });
      });
    }
    return out;
  }
  function keyedItems(items) {
    return (items || []).map(function (item) {
      var copy = Object.assign({}, item, { id: key(item.id) });
      if (item.from !== undefined) { copy.from = key(item.from); copy.to = key(item.to); }
      return copy;
    });
  }
  // a fragment from map_fragment (the server's expand answer, or the neighbours kept in this file) in page keys
  function keyedFragment(fragment) {
    return { nodes: keyedItems(fragment.nodes), edges: keyedItems(fragment.edges), entities: keyed(fragment.entities),
             relationships: keyedRelationships(fragment.relationships), sources: dict(fragment.sources) };
  }

  data.nodes = keyedItems(data.nodes);
  data.edges = keyedItems(data.edges);
  if (settings.focus) { settings.focus = key(settings.focus); }
  var entities = keyed(data.entities);
  var relationships = keyedRelationships(data.relationships);
  var sources = dict(data.sources);
  var kindStyles = dict(styles.kinds);
  var typeStyles = dict(styles.types);
  var reserve = data.reserve ? keyedFragment(data.reserve) : null;
  var reserveHubs = Object.create(null);
  if (data.reserve) {
    Object.keys(data.reserve.hubs).forEach(function (hub) { reserveHubs[key(hub)] = data.reserve.hubs[hub].map(key); });
  }
  var reserveNodes = Object.create(null);
  var reserveEdgesByNode = Object.create(null);
  if (reserve) {
    reserve.nodes.forEach(function (node) { reserveNodes[node.id] = node; });
    reserve.edges.forEach(function (edge) {
      [edge.from, edge.to].forEach(function (end) {
        if (has(reserveNodes, end)) { (reserveEdgesByNode[end] = reserveEdgesByNode[end] || []).push(edge); }
      });
    });
  }
  var reserveEntities = reserve ? reserve.entities : Object.create(null);
  var reserveRelationships = reserve ? reserve.relationships : Object.create(null);

  var root = document.getElementById("statetech-map") || document.body;
  var mapElement = document.getElementById("map");
  var details = document.getElementById("details");
  var statusElement = document.getElementById("layout-status");
  var physicsToggle = document.getElementById("toggle-physics");
  var highlightToggle = document.getElementById("toggle-highlight");
  var messageElement = document.getElementById("map-message");
  var datelineElement = document.getElementById("map-dateline");

  // ---- per-item looks -------------------------------------------------------------------------------------------

  var edgeColour = Object.create(null);
  var edgeOpacity = Object.create(null);
  var nodeOpacity = Object.create(null);
  var labelSize = Object.create(null);
  var faded = Object.create(null);

  function confidenceOf(record) {
    var level = record && record.props ? record.props.confidence : null;
    return CONFIDENCE.indexOf(level) >= 0 ? level : "alleged";
  }

  function styleEdge(item) {
    var look = EDGE_LOOK[item.confidence] || EDGE_LOOK.alleged;
    if (typeof item.color === "string") { edgeColour[item.id] = item.color; }
    edgeOpacity[item.id] = look.opacity;
    // a plain colour string (blended towards white for lighter looks) and dashes only where needed: per-edge
    // option objects make vis-network's setup of thousands of edges several times slower
    item.color = blend(edgeColour[item.id] || "#999999", look.opacity);
    if (look.dashes) { item.dashes = look.dashes; }
    return item;
  }

  function blend(colour, opacity) {
    var match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
    if (!match || opacity >= 1) { return colour; }
    return "#" + [match[1], match[2], match[3]].map(function (hex) {
      var value = Math.round(parseInt(hex, 16) * opacity + 255 * (1 - opacity));
      return (value < 16 ? "0" : "") + value.toString(16);
    }).join("");
  }

  function styleNode(item) {
    var look = NODE_LOOK[item.confidence] || NODE_LOOK.alleged;
    nodeOpacity[item.id] = look.opacity;
    if (look.opacity < 1) { item.opacity = look.opacity; }
    if (look.borderDashes) {
      item.shapeProperties = { borderDashes: look.borderDashes };
      if (!item.borderWidth) { item.borderWidth = 2.5; }
    }
    item.label = labelFor(item.id, item.label);
    // no per-node font until a label is placed: thousands of per-node fonts slow the first draw
    return item;
  }

  function edgeColours(id, opacity) {
    var colour = edgeColour[id] || "#999999";
    return { color: colour, highlight: colour, hover: colour, opacity: opacity };
  }

  function shortName(text) {
    var clean = String(text).split(/\s+/).filter(Boolean).join(" ");
    return clean.length <= 28 ? clean : clean.slice(0, 27) + "\u2026";
  }

  function labelFor(id, fallback) {
    var entity = has(entities, id) ? entities[id] : (has(reserveEntities, id) ? reserveEntities[id] : null);
    if (!entity) { return fallback; }
    var left = leftOut(id);
    return shortName(entity.name) + (left ? "\n(+" + left.toLocaleString("en-US") + " not shown)" : "");
  }

  function leftOut(id) {
    var entity = has(entities, id) ? entities[id] : null;
    return entity ? entity.truncated || 0 : 0;
  }

  data.nodes.forEach(styleNode);
  data.edges.forEach(styleEdge);

  // A view in the offline file's own URL (#view=...) or rendered by the server (settings.view) holds the layout:
  // physics stays off so nothing moves away from where it was saved.
  var startView = settings.view || null;
  var hashViewError = null;
  if (!live && /^#view=/.test(window.location.hash)) {
    try { startView = decodeView(window.location.hash.slice(6)); }
    catch (error) { hashViewError = error.message; }
  }

  var options = data.options;
  if (startView) { options.physics.enabled = false; }
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(mapElement, { nodes: nodes, edges: edges }, options);

  // For scripts and tests: ids in and out are the data's own ids.
  var api = {
    network: network,
    nodes: nodes,
    edges: edges,
    ready: false,
    focusNode: function (id) { return focusNode(key(id)); },
    search: function (text) {
      return search(text).map(function (item) { return { id: realId(item.id), name: item.name, rank: item.rank }; });
    },
    visibleNodeIds: function () { return visibleNodeIds().map(realId); },
    nodeIds: function () { return nodes.getIds().map(realId); },
    savePng: savePng,
    fit: function () { network.fit({ animation: false }); keepLabelsLegible(true); },
    expand: function (id) { return expand(key(id)); },
    currentView: currentView,
    encodeView: encodeView,
    applyView: applyView
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

  // A link to one of the explorer's own pages (live mode): same site, http(s) only.
  function pageLink(base, id, text) {
    var url;
    try { url = new URL(base + encodeURIComponent(id), window.location.href); } catch (error) { return null; }
    if (!/^https?:$/.test(url.protocol)) { return null; }
    var a = el("a", null, text);
    a.href = url.href;
    return a;
  }

  function button(text, className, onClick) {
    var b = el("button", className || "link-button", text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function number(n) { return Number(n).toLocaleString("en-US"); }
  function plural(n, noun) { return number(n) + " " + noun + (n === 1 ? "" : "s"); }

  function formatValue(key, value) {
    if (Array.isArray(value)) { return value.map(function (v) { return formatValue(key, v); }).join(", "); }
    if (typeof value === "number" && /_usd$/.test(key)) {
      return "$" + value.toLocaleString("en-US", { maximumFractionDigits: 2 });
    }
    if (typeof value === "number") { return value.toLocaleString("en-US"); }
    if (value !== null && typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  function showMessage(text) {
    if (!messageElement) { return; }
    messageElement.textContent = text || "";
    messageElement.hidden = !text;
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

  function swatch(shape, colour, look) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    var shapeElement;
    if (shape === "line") {
      shapeElement = document.createElementNS(ns, "line");
      shapeElement.setAttribute("x1", "1"); shapeElement.setAttribute("y1", "10");
      shapeElement.setAttribute("x2", "19"); shapeElement.setAttribute("y2", "10");
      shapeElement.setAttribute("stroke", colour);
      shapeElement.setAttribute("stroke-width", "3");
      if (look && look.dashes) { shapeElement.setAttribute("stroke-dasharray", "4 3"); }
      if (look) { shapeElement.setAttribute("stroke-opacity", String(look.opacity)); }
    } else if (SHAPE_POINTS[shape]) {
      shapeElement = document.createElementNS(ns, "polygon");
      shapeElement.setAttribute("points", SHAPE_POINTS[shape].map(function (p) { return p.join(","); }).join(" "));
    } else {
      shapeElement = document.createElementNS(ns, "circle");
      shapeElement.setAttribute("cx", "10"); shapeElement.setAttribute("cy", "10"); shapeElement.setAttribute("r", "8");
    }
    if (shape !== "line") { shapeElement.setAttribute("fill", colour); }
    svg.appendChild(shapeElement);
    return svg;
  }

  function kindStyle(kind) { return has(kindStyles, kind) ? kindStyles[kind] : { shape: "dot", colour: "#888888" }; }
  function typeStyle(type) { return has(typeStyles, type) ? typeStyles[type] : { colour: "#999999", description: "" }; }

  // ---- filters: kinds, relationship types, confidence, dates ------------------------------------------------------

  var hiddenKinds = Object.create(null);
  var hiddenTypes = Object.create(null);
  var hiddenConfidence = Object.create(null);
  var dateWindow = { since: null, until: null };
  var DATE_RE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;

  function lowerDate(date) { return date.length >= 10 ? date.slice(0, 10) : date + "-01-01".slice(date.length - 4); }
  function upperDate(date) {
    if (date.length >= 10) { return date.slice(0, 10); }
    if (date.length === 7) {
      var days = new Date(Date.UTC(+date.slice(0, 4), +date.slice(5, 7), 0)).getUTCDate();
      return date + "-" + String(days).padStart(2, "0");
    }
    return date + "-12-31";
  }

  // The same rule as the Python selection (Filters.keeps_dates): records overlapping the window stay, undated ones
  // too; a start without an end runs on, except events and as_of readings, which happen on their date.
  function keepsDates(props, isEvent) {
    if (!dateWindow.since && !dateWindow.until) { return true; }
    props = props || {};
    var start = props.start_date || props.as_of || null;
    var end = props.end_date || null;
    if (!start && !end) { return true; }
    if (!end && (isEvent || !props.start_date)) { end = start; }
    if (dateWindow.since && end && upperDate(String(end)) < lowerDate(dateWindow.since)) { return false; }
    if (dateWindow.until && start && lowerDate(String(start)) > upperDate(dateWindow.until)) { return false; }
    return true;
  }

  function nodeHidden(id) {
    if (id === settings.focus) { return false; }
    var entity = has(entities, id) ? entities[id] : null;
    if (!entity) { return false; }
    return Boolean(hiddenKinds[entity.kind] || hiddenConfidence[confidenceOf(entity)] ||
                   !keepsDates(entity.props, entity.kind === "EmployeeAction"));
  }

  function edgeHidden(edge) {
    var rel = has(relationships, edge.id) ? relationships[edge.id] : null;
    if (!rel) { return nodeHidden(edge.from) || nodeHidden(edge.to); }
    return Boolean(hiddenTypes[rel.type] || hiddenConfidence[confidenceOf(rel)] || !keepsDates(rel.props, false) ||
                   nodeHidden(edge.from) || nodeHidden(edge.to));
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
      var hidden = edgeHidden(edge);
      if (Boolean(edge.hidden) !== hidden) { edgeUpdates.push({ id: edge.id, hidden: hidden }); }
    });
    edges.update(edgeUpdates);
    updateCounts();
  }

  function filterItem(name, count, icon, hiddenSet, role, label) {
    var li = el("li");
    var labelElement = el("label");
    var box = el("input");
    box.type = "checkbox";
    box.checked = !hiddenSet[name];
    box.value = name;
    box.setAttribute("data-filter", role);
    box.addEventListener("change", function () {
      if (box.checked) { delete hiddenSet[name]; } else { hiddenSet[name] = true; }
      applyFilters();
    });
    labelElement.appendChild(box);
    labelElement.appendChild(icon);
    labelElement.appendChild(el("span", "filter-name", label || name));
    labelElement.appendChild(el("span", "filter-count", number(count)));
    li.appendChild(labelElement);
    return li;
  }

  function inOrder(counts, order) {
    var names = Object.keys(counts);
    names.sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      ia = ia < 0 ? order.length : ia; ib = ib < 0 ? order.length : ib;
      return ia - ib || (a < b ? -1 : a > b ? 1 : 0);
    });
    return names;
  }

  // The legend counts what is drawn on the map (after hub capping and expansions), whatever the filters hide.
  function buildLegend() {
    var kindCounts = Object.create(null), typeCounts = Object.create(null), levelCounts = Object.create(null);
    nodes.forEach(function (node) {
      var entity = entities[node.id];
      if (!entity) { return; }
      kindCounts[entity.kind] = (kindCounts[entity.kind] || 0) + 1;
      var level = confidenceOf(entity);
      levelCounts[level] = (levelCounts[level] || 0) + 1;
    });
    edges.forEach(function (edge) {
      var rel = relationships[edge.id];
      if (!rel) { return; }
      typeCounts[rel.type] = (typeCounts[rel.type] || 0) + 1;
      var level = confidenceOf(rel);
      levelCounts[level] = (levelCounts[level] || 0) + 1;
    });
    var kindList = document.getElementById("filter-kinds");
    clear(kindList);
    inOrder(kindCounts, styles.kindOrder).forEach(function (kind) {
      var style = kindStyle(kind);
      kindList.appendChild(filterItem(kind, kindCounts[kind], swatch(style.shape, style.colour), hiddenKinds, "kind"));
    });
    var typeList = document.getElementById("filter-types");
    clear(typeList);
    inOrder(typeCounts, styles.typeOrder).forEach(function (type) {
      var style = typeStyle(type);
      var entry = filterItem(type, typeCounts[type], swatch("line", style.colour), hiddenTypes, "type");
      if (style.description) { entry.title = style.description; }
      typeList.appendChild(entry);
    });
    var levelList = document.getElementById("filter-confidence");
    if (levelList) {
      clear(levelList);
      CONFIDENCE.forEach(function (level) {
        var entry = filterItem(level, levelCounts[level] || 0, swatch("line", "#333333", EDGE_LOOK[level]),
                               hiddenConfidence, "confidence");
        entry.title = { confirmed: "primary source: solid", reported: "reputable press: lighter",
                        alleged: "advocates' claims or leaks: dashed" }[level] || "";
        levelList.appendChild(entry);
      });
    }
  }

  function visibleNodeIds() {
    return nodes.getIds({ filter: function (node) { return !node.hidden; } });
  }

  function updateCounts() {
    var shown = visibleNodeIds().length;
    var shownEdges = edges.getIds({ filter: function (edge) { return !edge.hidden; } }).length;
    document.getElementById("shown-count").textContent =
      number(shown) + " of " + number(nodes.length) + " nodes, " +
      number(shownEdges) + " of " + number(edges.length) + " relationships shown";
    if (datelineElement && settings.dataDate) {
      var cited = Object.create(null);
      var citedCount = 0;
      function cite(ids) {
        (ids || []).forEach(function (sid) { if (!cited[sid]) { cited[sid] = true; citedCount++; } });
      }
      nodes.forEach(function (node) { if (entities[node.id]) { cite(entities[node.id].sources); } });
      edges.forEach(function (edge) { if (relationships[edge.id]) { cite(relationships[edge.id].sources); } });
      var left = 0, hubs = 0;
      nodes.forEach(function (node) { var n = leftOut(node.id); if (n) { left += n; hubs++; } });
      var text = "Data as of " + settings.dataDate + " \u00b7 " + plural(nodes.length, "node") + " \u00b7 " +
        plural(edges.length, "relationship") + " \u00b7 " + plural(citedCount, "source");
      if (left) { text += " \u00b7 " + plural(left, "more neighbour") + " of " + plural(hubs, "hub") + " not drawn"; }
      datelineElement.textContent = text;
    }
  }

  var dateForm = document.getElementById("date-filter");
  var sinceInput = document.getElementById("date-since");
  var untilInput = document.getElementById("date-until");
  var dateStatus = document.getElementById("date-status");
  if (dateForm) {
    dateForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var since = sinceInput.value.trim(), until = untilInput.value.trim();
      if ((since && !DATE_RE.test(since)) || (until && !DATE_RE.test(until))) {
        dateStatus.textContent = "Write dates as YYYY, YYYY-MM or YYYY-MM-DD.";
        return;
      }
      if (since && until && lowerDate(since) > upperDate(until)) {
        dateStatus.textContent = "\u201cFrom\u201d is after \u201cTo\u201d; swap them.";
        return;
      }
      dateWindow.since = since || null;
      dateWindow.until = until || null;
      dateStatus.textContent = since || until ? "Showing records dated " + (since || "\u2026") + " to " +
        (until || "\u2026") + " (undated records stay)." : "";
      applyFilters();
    });
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
    ids = ids || [];
    var wrapper = el("section", "sources");
    wrapper.appendChild(el("h3", null, "Sources (" + ids.length + ")"));
    if (!ids.length) {
      wrapper.appendChild(el("p", "warning", "No source is cited for this record."));
      return wrapper;
    }
    var ol = el("ol");
    ids.forEach(function (id) {
      var li = el("li");
      var source = has(sources, id) ? sources[id] : null;
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
        if (live && live.sourceUrl) {
          var page = pageLink(live.sourceUrl, id, "source page");
          if (page) { li.appendChild(document.createTextNode(" ")); li.appendChild(page); }
        }
        if (source.excerpt) { li.appendChild(el("blockquote", null, source.excerpt)); }
      }
      ol.appendChild(li);
    });
    wrapper.appendChild(ol);
    return wrapper;
  }

  function confidenceBadge(record) {
    var level = confidenceOf(record);
    return el("span", "confidence-badge " + level, level);
  }

  function expandBox(id) {
    var box = el("div", "expand");
    var left = leftOut(id);
    if (live) {
      var state = liveState[id];
      if (state && state.remaining === 0) { return null; }
      var more = state ? state.remaining : left;
      // a hub's expansion pages its relationships (the server says so in "unit"): its count is of relationships
      var unit = state && state.unit === "relationships" ? " relationships not drawn yet (a hub: drawn in storage order)."
                                                         : " neighbours not drawn yet.";
      box.appendChild(el("p", null, more ? number(more) + unit : "Draw this node's neighbours from the graph."));
      box.appendChild(button(more && state ? number(Math.min(more, EXPAND_PAGE)) + " more" : "Expand", "expand-button",
        function () { expand(id); }));
      return box;
    }
    var kept = has(reserveHubs, id) ? reserveHubs[id].length : 0;
    if (!left) { return null; }
    if (kept) {
      box.appendChild(el("p", null, number(left) + " neighbours not drawn; " + number(kept) +
        " of them are in this file."));
      box.appendChild(button("Expand: draw " + number(Math.min(kept, EXPAND_PAGE)) + " more", "expand-button",
        function () { expand(id); }));
    }
    if (left > kept) {
      box.appendChild(el("p", "warning", number(left - kept) + " more are not in this file; open this entity in " +
        "'statetech serve' or draw a smaller map around it to see them."));
    }
    return box;
  }

  function showNode(id) {
    if (!has(entities, id)) { return; }
    var entity = entities[id];
    clear(details);
    var badge = el("p", "kind-badge");
    badge.appendChild(swatch(kindStyle(entity.kind).shape, kindStyle(entity.kind).colour));
    badge.appendChild(el("span", null, entity.kind));
    badge.appendChild(confidenceBadge(entity));
    details.appendChild(badge);
    details.appendChild(el("h2", "entity-name", entity.name));
    details.appendChild(el("p", "entity-id", realId(id)));
    if (live && live.entityUrl) {
      var page = pageLink(live.entityUrl, realId(id), "Open the entity page");
      if (page) { var p = el("p", "page-links"); p.appendChild(page); details.appendChild(p); }
    }
    var box = expandBox(id);
    if (box) { details.appendChild(box); }
    var props = propertyList(entity.props);
    if (props) { details.appendChild(props); }
    details.appendChild(sourceList(entity.sources));
    var connected = network.getConnectedEdges(id);
    if (connected.length) {
      var section = el("section", "connections");
      section.appendChild(el("h3", null, "Relationships (" + connected.length + ")"));
      section.appendChild(el("p", "placeholder", "Click a relationship for its sources."));
      var ul = el("ul", "rel-list");
      connected.slice(0, 60).forEach(function (edgeId) {
        var rel = relationships[edgeId];
        if (!rel) { return; }
        var otherId = rel.from === id ? rel.to : rel.from;
        var other = has(entities, otherId) ? entities[otherId] : null;
        var li = el("li");
        var relButton = button(rel.from === id ? rel.type + " \u2192" : "\u2190 " + rel.type, "link-button rel-button",
          function () { pinEdge(edgeId); });
        relButton.setAttribute("data-edge", realId(edgeId));
        li.appendChild(relButton);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(button(other ? other.name : otherId, "link-button", function () { focusNode(otherId); }));
        if (confidenceOf(rel) !== "confirmed") { li.appendChild(confidenceBadge(rel)); }
        ul.appendChild(li);
      });
      if (connected.length > 60) { ul.appendChild(el("li", null, "\u2026 and " + (connected.length - 60) + " more")); }
      section.appendChild(ul);
      details.appendChild(section);
    }
  }

  function showEdge(id) {
    if (!has(relationships, id)) { return; }
    var rel = relationships[id];
    clear(details);
    var badge = el("p", "kind-badge");
    badge.appendChild(swatch("line", edgeColour[id] || "#999999", EDGE_LOOK[confidenceOf(rel)]));
    badge.appendChild(el("span", null, "Relationship"));
    badge.appendChild(confidenceBadge(rel));
    details.appendChild(badge);
    var heading = el("h2", "entity-name");
    heading.appendChild(el("span", null, has(entities, rel.from) ? entities[rel.from].name : rel.from));
    heading.appendChild(el("span", "rel-type", " " + rel.type + " \u2192 "));
    heading.appendChild(el("span", null, has(entities, rel.to) ? entities[rel.to].name : rel.to));
    details.appendChild(heading);
    var description = typeStyle(rel.type).description;
    if (description) { details.appendChild(el("p", "rel-description", description)); }
    details.appendChild(el("p", "entity-id", realId(id)));
    var props = propertyList(rel.props);
    if (props) { details.appendChild(props); }
    details.appendChild(sourceList(rel.sources));
    var back = el("p", "page-links");
    [rel.from, rel.to].forEach(function (end) {
      if (!has(entities, end)) { return; }
      back.appendChild(button(entities[end].name, "link-button", function () { focusNode(end); }));
      back.appendChild(document.createTextNode(" "));
    });
    details.appendChild(back);
  }

  function pinEdge(id) {
    pinned = { kind: "edge", id: id };
    network.selectEdges([id]);
    unhighlight();
    showEdge(id);
  }

  function showPlaceholder() {
    clear(details);
    details.appendChild(el("p", "placeholder",
      "Hover over or click a node or relationship to see its properties and sources." +
      (live || reserve ? " Double-click a node to expand it." : "")));
  }

  function showPinned() {
    if (pinned && pinned.kind === "node") { showNode(pinned.id); }
    else if (pinned && pinned.kind === "edge") { showEdge(pinned.id); }
    else { showPlaceholder(); }
  }

  // ---- neighbourhood highlight ----------------------------------------------------------------------------------

  var highlighted = false;

  function nodeFont(id) {
    return { size: labelSize[id] || BASE_FONT, color: faded[id] ? FADED_LABEL : LABEL_COLOUR };
  }

  function highlight(id) {
    if (!highlightToggle.checked) { return; }
    var keep = Object.create(null);
    keep[id] = true;
    network.getConnectedNodes(id).forEach(function (n) { keep[n] = true; });
    var keepEdges = Object.create(null);
    network.getConnectedEdges(id).forEach(function (e) { keepEdges[e] = true; });
    nodes.update(nodes.map(function (node) {
      var on = Boolean(keep[node.id]);
      faded[node.id] = !on;
      return { id: node.id, opacity: on ? nodeOpacity[node.id] : FADED_OPACITY, font: nodeFont(node.id) };
    }));
    edges.update(edges.map(function (edge) {
      var on = Boolean(keepEdges[edge.id]);
      return { id: edge.id, color: edgeColours(edge.id, on ? edgeOpacity[edge.id] : FADED_OPACITY),
               font: { color: on ? EDGE_LABEL : FADED_LABEL } };
    }));
    highlighted = true;
  }

  function unhighlight() {
    if (!highlighted) { return; }
    nodes.update(nodes.map(function (node) {
      faded[node.id] = false;
      return { id: node.id, opacity: nodeOpacity[node.id], font: nodeFont(node.id) };
    }));
    edges.update(edges.map(function (edge) {
      return { id: edge.id, color: edgeColours(edge.id, edgeOpacity[edge.id]), font: { color: EDGE_LABEL } };
    }));
    highlighted = false;
  }

  highlightToggle.addEventListener("change", function () {
    if (!highlightToggle.checked) { unhighlight(); }
    else if (pinned && pinned.kind === "node") { highlight(pinned.id); }
  });

  // ---- legible labels -------------------------------------------------------------------------------------------

  // vis draws a label at its font size times the zoom, so on a fitted map of a hundred nodes every label is a few
  // pixels high, and where they are drawn they pile on each other. Instead, as in a printed map, labels are placed
  // in order of importance (the focus, then the best-connected nodes) wherever they fit on screen without touching
  // one already placed; those are drawn at MIN_LABEL_PX whatever the zoom, the rest are not drawn until zooming in
  // makes room for them (every name is in the details panel on hover).
  var labelOrder = [];
  function chooseLegible() {
    var all = nodes.get({ fields: ["id", "value"] });
    all.sort(function (a, b) {
      var fa = a.id === settings.focus ? 1 : 0, fb = b.id === settings.focus ? 1 : 0;
      return fb - fa || (b.value || 0) - (a.value || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
    labelOrder = all.map(function (node) { return node.id; });
  }

  var HIDDEN_LABEL_PX = 6;  // under the draw threshold: vis skips the label
  var DRAW_THRESHOLD = data.options.nodes.scaling.label.drawThreshold;
  var labelScale = null;
  function keepLabelsLegible(force) {
    var scale = network.getScale();
    if (!(scale > 0)) { return; }
    if (!force && labelScale !== null && Math.abs(scale - labelScale) / labelScale < 0.05) { return; }
    labelScale = scale;
    var width = mapElement.clientWidth, height = mapElement.clientHeight;
    var placed = [];
    var updates = [];
    var body = network.body.nodes;
    labelOrder.forEach(function (id) {
      var item = body[id];
      var node = nodes.get(id);
      if (!item || !node) { return; }
      var wanted = labelSize[id] || null;
      if (!node.hidden) {
        var p = network.canvasToDOM({ x: item.x, y: item.y });
        var lines = String(node.label || "").split("\n");
        var longest = 0;
        lines.forEach(function (line) { longest = Math.max(longest, line.length); });
        var w = longest * MIN_LABEL_PX * 0.6 + 6;
        var h = lines.length * MIN_LABEL_PX * 1.25;
        var top = p.y + (item.options.size || 10) * scale + 2;
        var box = [p.x - w / 2, top, p.x + w / 2, top + h];
        var onScreen = box[0] >= 0 && box[2] <= width && box[1] >= 0 && box[3] <= height;
        var free = onScreen && placed.every(function (other) {
          return box[2] < other[0] || box[0] > other[2] || box[3] < other[1] || box[1] > other[3];
        });
        if (free) {
          placed.push(box);
          wanted = Math.max(1, Math.round(MIN_LABEL_PX / scale * 10) / 10);
        } else {
          // vis leaves out labels under its draw threshold by itself; only when zoomed in far enough to draw the
          // default size does a label that did not fit need shrinking out of sight
          wanted = BASE_FONT * scale >= DRAW_THRESHOLD - 1 ? HIDDEN_LABEL_PX / scale : null;
        }
      }
      if ((labelSize[id] || null) !== wanted) {
        labelSize[id] = wanted;
        updates.push({ id: id, font: nodeFont(id) });
      }
    });
    if (updates.length) { nodes.update(updates); }
  }

  var labelTimer = null;
  function relabelSoon() {
    if (labelTimer !== null) { window.clearTimeout(labelTimer); }
    labelTimer = window.setTimeout(function () { labelTimer = null; keepLabelsLegible(true); }, 120);
  }
  network.on("zoom", relabelSoon);
  network.on("dragEnd", relabelSoon);
  network.on("animationFinished", relabelSoon);
  network.on("resize", relabelSoon);
  network.on("stabilized", relabelSoon);  // physics has moved the nodes under their labels

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
  network.on("doubleClick", function (event) {
    if (event.nodes.length) { expand(event.nodes[0]); }
  });

  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      pinned = null;
      network.unselectAll();
      unhighlight();
      showPlaceholder();
    }
  });

  // ---- expanding hubs: from the file (offline) or from the explorer (live) ---------------------------------------

  var liveState = Object.create(null);

  // Where new neighbours go: a ring around the node they hang from, outside whatever is already near it.
  function placeAround(anchorId, ids) {
    var centre = network.getPositions([anchorId])[anchorId] || { x: 0, y: 0 };
    var radius = 90 + 6 * Math.sqrt(ids.length) * 10;
    var offset = Math.random() * Math.PI * 2;
    return ids.map(function (id, i) {
      var angle = offset + 2 * Math.PI * i / ids.length;
      var ring = radius + (i % 3) * 30;
      return { id: id, x: centre.x + ring * Math.cos(angle), y: centre.y + ring * Math.sin(angle) };
    });
  }

  // Adds a fragment (graph.maps.map_fragment's format) to the map; false, with a message, past the hard cap.
  function mergeFragment(fragment, anchorId) {
    var newNodes = (fragment.nodes || []).filter(function (node) { return !nodes.get(node.id); });
    if (nodes.length + newNodes.length > MAX_DRAWN) {
      showMessage("Drawing " + number(newNodes.length) + " more nodes would put " +
        number(nodes.length + newNodes.length) + " on this map, past its limit of " + number(MAX_DRAWN) +
        " (a browser slows down beyond it). Save the view, or start a new map from a narrower selection.");
      return false;
    }
    showMessage("");
    // records of nodes already drawn stay as they are (their left-out counts are the page's own)
    Object.keys(fragment.entities || {}).forEach(function (id) {
      if (!has(entities, id) || !nodes.get(id)) { entities[id] = fragment.entities[id]; }
    });
    Object.keys(fragment.relationships || {}).forEach(function (id) { relationships[id] = fragment.relationships[id]; });
    Object.keys(fragment.sources || {}).forEach(function (id) { sources[id] = fragment.sources[id]; });
    var placed = Object.create(null);
    if (anchorId) {
      placeAround(anchorId, newNodes.map(function (node) { return node.id; })).forEach(function (p) {
        placed[p.id] = p;
      });
    }
    var items = newNodes.map(function (node) {
      var item = styleNode(Object.assign({}, node));
      if (placed[item.id]) { item.x = placed[item.id].x; item.y = placed[item.id].y; }
      return item;
    });
    nodes.add(items);
    var newEdges = (fragment.edges || []).filter(function (edge) {
      return !edges.get(edge.id) && nodes.get(edge.from) && nodes.get(edge.to);
    }).map(function (edge) { return styleEdge(Object.assign({}, edge)); });
    edges.add(newEdges);
    if (anchorId) { nodes.update({ id: anchorId, label: labelFor(anchorId) }); }
    chooseLegible();
    buildLegend();
    applyFilters();
    keepLabelsLegible(true);
    return true;
  }

  function expand(id) {
    if (!has(entities, id)) { return Promise.resolve(false); }
    return live ? expandLive(id) : Promise.resolve(expandFromFile(id));
  }

  function expandFromFile(id) {
    var waiting = has(reserveHubs, id) ? reserveHubs[id] : [];
    if (!waiting.length) {
      showMessage(leftOut(id) ? "The rest of this hub's neighbours are not in this file; open it in 'statetech serve'."
                              : "");
      return false;
    }
    var page = waiting.slice(0, EXPAND_PAGE);
    var fragment = { nodes: [], edges: [], entities: {}, relationships: {}, sources: {} };
    page.forEach(function (nodeId) {
      fragment.nodes.push(reserveNodes[nodeId]);
      fragment.entities[nodeId] = reserveEntities[nodeId];
      (reserveEdgesByNode[nodeId] || []).forEach(function (edge) {
        fragment.edges.push(edge);
        fragment.relationships[edge.id] = reserveRelationships[edge.id];
      });
    });
    entities[id].truncated = Math.max(0, (entities[id].truncated || 0) - page.length);
    if (!mergeFragment(fragment, id)) {
      entities[id].truncated += page.length;
      return false;
    }
    reserveHubs[id] = waiting.slice(page.length);
    showNode(id);
    return true;
  }

  function selectedNames(order, hidden) {
    return order.filter(function (name) { return !hidden[name]; }).join(",");
  }

  function expandLive(id) {
    var state = liveState[id] || { offset: 0, remaining: null };
    if (nodes.length + 1 > MAX_DRAWN) {
      showMessage("This map already has " + number(nodes.length) + " nodes, its limit; start a new map from a " +
                  "narrower selection.");
      return Promise.resolve(false);
    }
    var limit = Math.min(EXPAND_PAGE, MAX_DRAWN - nodes.length);
    var url = new URL(live.expandUrl, window.location.href);
    url.searchParams.set("id", realId(id));
    url.searchParams.set("offset", String(state.offset));
    url.searchParams.set("limit", String(limit));
    url.searchParams.set("kinds", selectedNames(styles.kindOrder, hiddenKinds));
    url.searchParams.set("types", selectedNames(styles.typeOrder, hiddenTypes));
    statusElement.hidden = false;
    statusElement.textContent = "Fetching neighbours\u2026";
    return fetch(url.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var problem = body && body.error;
            if (problem && typeof problem === "object") { problem = problem.message || problem.title; }
            throw new Error(typeof problem === "string" && problem ? problem : "the server answered " + response.status);
          }
          return body;
        });
      })
      .then(function (body) {
        statusElement.hidden = true;
        if (!mergeFragment(keyedFragment(body), id)) { return false; }
        liveState[id] = { offset: (body.offset || 0) + (body.limit || limit), remaining: body.remaining || 0,
                          unit: body.unit || "neighbours" };
        entities[id].truncated = body.remaining || 0;
        nodes.update({ id: id, label: labelFor(id) });
        updateCounts();
        if (pinned && pinned.id === id) { showNode(id); }
        return true;
      })
      .catch(function (error) {
        statusElement.hidden = true;
        showMessage("Could not expand: " + error.message);
        return false;
      });
  }

  // ---- search ---------------------------------------------------------------------------------------------------

  function searchIndex() {
    return Object.keys(entities).filter(function (id) { return nodes.get(id); }).map(function (id) {
      var entity = entities[id];
      var aliases = Array.isArray(entity.props.aliases) ? entity.props.aliases : [];
      var names = [entity.name].concat(aliases);
      return { id: id, name: entity.name, keys: names.map(function (n) { return String(n).toLowerCase(); }) };
    });
  }

  function search(text) {
    var query = String(text || "").trim().toLowerCase();
    if (!query) { return []; }
    var found = [];
    searchIndex().forEach(function (item) {
      var rank = null;
      var plainId = realId(item.id).toLowerCase();
      if (plainId === query || item.keys.indexOf(query) >= 0) { rank = 0; }
      else if (item.keys.some(function (k) { return k.indexOf(query) === 0; })) { rank = 1; }
      else if (item.keys.some(function (k) { return k.indexOf(query) >= 0; }) ||
               plainId.indexOf(query) >= 0) { rank = 2; }
      if (rank !== null) { found.push({ id: item.id, name: item.name, rank: rank }); }
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1); });
    return found;
  }

  function focusNode(id) {
    if (!has(entities, id) || !nodes.get(id)) { return false; }
    var entity = entities[id];
    if (hiddenKinds[entity.kind] || hiddenConfidence[confidenceOf(entity)]) {
      delete hiddenKinds[entity.kind];
      delete hiddenConfidence[confidenceOf(entity)];
      buildLegend();
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
    searchStatus.textContent = found.length === 1 ? "1 match" : number(found.length) + " matches";
    found.slice(0, 25).forEach(function (item) {
      var li = el("li");
      var b = button(item.name, "link-button", function () { focusNode(item.id); });
      b.title = item.id;
      li.appendChild(b);
      searchResults.appendChild(li);
    });
    focusNode(found[0].id);
  });

  if (settings.searchList) {
    var datalist = document.getElementById("search-names");
    var seen = Object.create(null);
    searchIndex().forEach(function (item) {
      if (seen[item.name]) { return; }
      seen[item.name] = true;
      var option = el("option");
      option.value = item.name;
      datalist.appendChild(option);
    });
  }

  // ---- saved views ----------------------------------------------------------------------------------------------

  function currentView() {
    var positions = network.getPositions();
    var rounded = {};
    Object.keys(positions).forEach(function (id) {
      rounded[realId(id)] = [Math.round(positions[id].x * 10) / 10, Math.round(positions[id].y * 10) / 10];
    });
    var shown = CONFIDENCE.filter(function (level) { return !hiddenConfidence[level]; });
    return {
      version: settings.version || 1,
      title: settings.title || null,
      focus: settings.focus ? realId(settings.focus) : null,
      nodes: nodes.getIds().map(realId),
      positions: rounded,
      filters: {
        hiddenKinds: Object.keys(hiddenKinds), hiddenTypes: Object.keys(hiddenTypes),
        confidence: shown.length === CONFIDENCE.length ? [] : shown,
        since: dateWindow.since, until: dateWindow.until
      }
    };
  }

  // base64url of the UTF-8 JSON, as graph/views.py encode_view writes it
  function encodeView(view) {
    var bytes = new TextEncoder().encode(JSON.stringify(view));
    var binary = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeView(code) {
    var view;
    try {
      var text = code.replace(/-/g, "+").replace(/_/g, "/");
      var binary = atob(text + "===".slice((text.length + 3) % 4));
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
      view = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      throw new Error("The view in this link is cut short or damaged; copy the whole link again.");
    }
    if (!view || typeof view !== "object" || view.version !== (settings.version || 1) || !Array.isArray(view.nodes)) {
      throw new Error("The view in this link is not one this map can read (format version " +
                      String(view && view.version) + ").");
    }
    if (view.nodes.length > MAX_DRAWN) {
      throw new Error("The view in this link has " + number(view.nodes.length) + " nodes, more than a map draws (" +
                      number(MAX_DRAWN) + ").");
    }
    return view;
  }

  function listOf(value) { return Array.isArray(value) ? value.filter(function (v) { return typeof v === "string"; }) : []; }

  // Draws exactly the view's nodes (those this file has), where the view put them, with its filters on.
  function applyView(view) {
    var wanted = Object.create(null);
    listOf(view.nodes).forEach(function (id) { wanted[key(id)] = true; });
    var missing = 0;
    var revealByHub = Object.create(null);
    Object.keys(wanted).forEach(function (id) {
      if (nodes.get(id)) { return; }
      if (has(reserveNodes, id)) {
        var hub = null;
        Object.keys(reserveHubs).forEach(function (h) { if (reserveHubs[h].indexOf(id) >= 0) { hub = h; } });
        if (hub) { (revealByHub[hub] = revealByHub[hub] || []).push(id); return; }
      }
      missing++;
    });
    Object.keys(revealByHub).forEach(function (hub) {
      var ids = revealByHub[hub];
      var fragment = { nodes: [], edges: [], entities: {}, relationships: {}, sources: {} };
      ids.forEach(function (nodeId) {
        fragment.nodes.push(reserveNodes[nodeId]);
        fragment.entities[nodeId] = reserveEntities[nodeId];
        (reserveEdgesByNode[nodeId] || []).forEach(function (edge) {
          fragment.edges.push(edge);
          fragment.relationships[edge.id] = reserveRelationships[edge.id];
        });
      });
      reserveHubs[hub] = reserveHubs[hub].filter(function (n) { return ids.indexOf(n) < 0; });
      entities[hub].truncated = Math.max(0, (entities[hub].truncated || 0) - ids.length);
      mergeFragment(fragment, hub);
      nodes.update({ id: hub, label: labelFor(hub) });
    });
    var drop = nodes.getIds({ filter: function (node) { return !wanted[node.id]; } });
    if (drop.length) {
      var dropSet = Object.create(null);
      drop.forEach(function (id) { dropSet[id] = true; });
      edges.remove(edges.getIds({ filter: function (edge) { return dropSet[edge.from] || dropSet[edge.to]; } }));
      nodes.remove(drop);
    }
    var positions = view.positions && typeof view.positions === "object" ? view.positions : {};
    var moves = [];
    Object.keys(positions).forEach(function (plain) {
      var id = key(plain);
      var xy = positions[plain];
      if (nodes.get(id) && Array.isArray(xy) && isFinite(xy[0]) && isFinite(xy[1])) {
        moves.push({ id: id, x: Number(xy[0]), y: Number(xy[1]) });
      }
    });
    network.setOptions({ physics: { enabled: false } });
    physicsToggle.checked = false;
    nodes.update(moves);
    var filters = view.filters && typeof view.filters === "object" ? view.filters : {};
    [hiddenKinds, hiddenTypes, hiddenConfidence].forEach(function (set) {
      Object.keys(set).forEach(function (key) { delete set[key]; });
    });
    listOf(filters.hiddenKinds).forEach(function (kind) { hiddenKinds[kind] = true; });
    listOf(filters.hiddenTypes).forEach(function (type) { hiddenTypes[type] = true; });
    var shown = listOf(filters.confidence);
    if (shown.length) { CONFIDENCE.forEach(function (level) { if (shown.indexOf(level) < 0) { hiddenConfidence[level] = true; } }); }
    dateWindow.since = typeof filters.since === "string" && DATE_RE.test(filters.since) ? filters.since : null;
    dateWindow.until = typeof filters.until === "string" && DATE_RE.test(filters.until) ? filters.until : null;
    if (sinceInput) { sinceInput.value = dateWindow.since || ""; untilInput.value = dateWindow.until || ""; }
    chooseLegible();
    buildLegend();
    applyFilters();
    network.fit({ animation: false });
    keepLabelsLegible(true);
    if (missing) {
      showMessage(number(missing) + " node" + (missing === 1 ? "" : "s") + " of this view are not in this map.");
    }
  }

  function download(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    root.appendChild(a);
    a.click();
    root.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  document.getElementById("save-view").addEventListener("click", function () {
    var text = JSON.stringify(currentView(), null, 1) + "\n";
    download(new Blob([text], { type: "application/json" }), (settings.fileStem || "statetech-map") + "-view.json");
  });

  document.getElementById("copy-link").addEventListener("click", function () {
    var code = encodeView(currentView());
    var url;
    if (live && live.viewUrl) {
      var target = new URL(live.viewUrl, window.location.href);
      target.search = "?view=" + code;
      url = target.href;
    } else {
      url = window.location.href.split("#")[0] + "#view=" + code;
    }
    var box = document.getElementById("view-link");
    box.value = url;
    document.getElementById("view-link-label").hidden = false;
    box.focus();
    box.select();
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(url).catch(function () {}); }
  });

  // ---- physics and layout -----------------------------------------------------------------------------------------

  physicsToggle.addEventListener("change", function () {
    network.setOptions({ physics: { enabled: physicsToggle.checked } });
  });

  function markReady() {
    if (api.ready) { return; }
    api.ready = true;
    statusElement.hidden = true;
    keepLabelsLegible();
    root.setAttribute("data-ready", "true");
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
    ctx.fillText(datelineElement ? datelineElement.textContent : settings.dateline, 12 * ratio, 44 * ratio,
                 out.width - 24 * ratio);
    ctx.drawImage(canvas, 0, header);
    var x = 12 * ratio;
    var y = header + canvas.height + 22 * ratio;
    ctx.font = Math.round(12 * ratio) + "px system-ui, sans-serif";
    var drawnKinds = Object.create(null);
    nodes.forEach(function (node) { if (!node.hidden && entities[node.id]) { drawnKinds[entities[node.id].kind] = true; } });
    inOrder(drawnKinds, styles.kindOrder).forEach(function (kind) {
      var style = kindStyle(kind);
      ctx.fillStyle = style.colour;
      ctx.beginPath();
      var outline = SHAPE_POINTS[style.shape];
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
      ctx.fillText(kind, x + 14 * ratio, y);
      x += ctx.measureText(kind).width + 30 * ratio;
    });
    ctx.fillStyle = "#555555";
    ctx.fillText("solid: confirmed \u00b7 light: reported \u00b7 dashed: alleged", x + 10 * ratio, y);
    out.toBlob(function (blob) { download(blob, (settings.fileStem || "statetech-map") + ".png"); }, "image/png");
  }

  document.getElementById("save-png").addEventListener("click", savePng);
  document.getElementById("fit-view").addEventListener("click", function () { network.fit({ animation: true }); });

  chooseLegible();
  buildLegend();
  applyFilters();
  showPlaceholder();
  if (hashViewError) { showMessage(hashViewError); }
  if (startView) { applyView(startView); }
  if (!data.nodes.length) {
    markReady();
  } else if (!network.physics.options.enabled) {
    // Laid out in advance: nothing to wait for but the first frame.
    // labels are placed before the first frame, so the first frame is the finished map
    network.fit({ animation: false });
    keepLabelsLegible(true);
    network.once("afterDrawing", function () { window.requestAnimationFrame(markReady); });
    network.redraw();
  }
})();
